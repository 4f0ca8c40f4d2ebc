"""Fixtures for members' data protection: a command runner."""

from __future__ import annotations

import pytest


@pytest.fixture
def cli(app):
    """Run a ``flask`` command against the test app: ``cli("members", "export", …)``."""
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(args=list(args), input=input)

    return invoke
