"""The stable commands of the design exist, and every group explains itself in --help."""

from __future__ import annotations

import pytest

from napo_tracker import create_app

STABLE_COMMANDS = [
    ("users", "create"),
    ("demo", "load"),
    ("evidence", "import"),
    ("briefings", "render"),
    ("briefings", "list"),
    ("briefings", "check"),
    ("evidence", "batches"),
    ("notices", "remind"),
    ("testimonies", "purge"),
    ("keys", "generate"),
    ("keys", "rotate"),
    ("jobs", "worker"),
    ("jobs", "scheduler"),
    ("briefings", "notify"),
    ("retention", "apply"),
    ("members", "export"),
    ("members", "erase"),
    ("members", "remind"),
    ("backup", "create"),
    ("backup", "restore"),
]


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'unused.sqlite'}"
    return create_app("testing", SQLALCHEMY_DATABASE_URI=url).test_cli_runner()


@pytest.mark.parametrize("group, command", STABLE_COMMANDS)
def test_stable_commands_have_help(runner, group, command):
    group_help = runner.invoke(args=[group, "--help"])
    assert group_help.exit_code == 0
    assert command in group_help.output
    # the group's first line says what it is for, not just "Usage"
    assert group_help.output.split("\n\n")[1].strip()
    result = runner.invoke(args=[group, command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.split("\n\n")[1].strip()) > 10
