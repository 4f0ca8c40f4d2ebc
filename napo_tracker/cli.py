"""Commands that belong to no single domain. Domain commands live on each blueprint's
``bp.cli`` (``flask users …``, ``flask evidence …``, ``flask notices …``, ``flask briefings …``)."""

from __future__ import annotations

from flask import Flask

from .demo import demo_cli


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo_cli)
