"""The entry point gunicorn serves: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app``."""

from napo_tracker import create_app

app = create_app()
