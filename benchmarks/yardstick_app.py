"""The fair yardstick for a logged-in page: a bare Flask + Flask-Login app that reads its
session cookie, loads one user from the same database with one query, and renders a Jinja
template of the same size as the page it is compared with. Nothing else: no CSRF, no rate
limit, no security headers, no panels. Served the same way as napo-tracker (gunicorn).

    NAPO_DATABASE_URL=… YARDSTICK_BYTES=12000 gunicorn -w 2 benchmarks.yardstick_app:app

``GET /start/<user id>`` logs that user in (benchmark only: it checks nothing) and sets the
cookie; ``GET /`` is the page measured.
"""

from __future__ import annotations

import os
import secrets

from flask import Flask, render_template_string
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from sqlalchemy import create_engine, text

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Home</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><nav><a href="/">Home</a> <span>{{ user.display_name }} ({{ user.role }})</span></nav>
<main><h1>Welcome, {{ user.display_name }}</h1>
{% for n in range(lines) %}<p class="line">Line {{ n }} for {{ user.email }}: {{ filler }}</p>
{% endfor %}</main></body></html>
"""
FILLER = "workload figures & notices <due soon>"


class User(UserMixin):
    def __init__(self, row) -> None:
        self.id, self.email, self.display_name, self.role = row


def create_app() -> Flask:
    app = Flask(__name__)
    app.secret_key = os.environ.get("NAPO_SECRET_KEY") or secrets.token_urlsafe(32)
    engine = create_engine(os.environ["NAPO_DATABASE_URL"])
    target = int(os.environ.get("YARDSTICK_BYTES", "10000"))
    # Lines enough for the rendered page to weigh what the compared page weighs.
    per_line = len('<p class="line">Line 00 for someone@example.org: ') + len(FILLER) + 30
    lines = max(1, (target - 400) // per_line)
    login_manager = LoginManager(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT id, email, display_name, role FROM users WHERE id = :id"), {"id": int(user_id)}
            ).first()
        return User(row) if row is not None else None

    @app.get("/start/<int:user_id>")
    def start(user_id: int):
        user = load_user(str(user_id))
        assert user is not None
        login_user(user)
        return "started"

    @app.get("/")
    @login_required
    def home():
        return render_template_string(TEMPLATE, user=current_user, lines=lines, filler=FILLER)

    return app


app = create_app()
