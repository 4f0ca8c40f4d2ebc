"""The entry point gunicorn serves: ``gunicorn wsgi:app``."""

from napo_tracker import create_app

app = create_app()
