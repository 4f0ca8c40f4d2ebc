"""`flask demo load`: the seeds' regions, units and one user per role; idempotent; never in production."""

from __future__ import annotations

from sqlalchemy import select

from config import TestingConfig
from napo_tracker import create_app
from napo_tracker.accounts.demo import DEMO_USERS
from napo_tracker.extensions import db
from napo_tracker.regions.demo import REGIONS
from napo_tracker.regions.models import Region, Unit

from .helpers import count, log_in


def _row_counts() -> dict[str, int]:
    return {table.name: count(table) for table in db.metadata.sorted_tables}


def test_demo_load_twice_changes_nothing(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    after_first = _row_counts()
    assert after_first["regions"] == len(REGIONS) >= 12
    assert after_first["users"] == len(DEMO_USERS)
    for email, _name, role, _regions, password in DEMO_USERS:
        assert email in first.output and password in first.output and role in first.output

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "Nothing to add" in second.output
    assert _row_counts() == after_first

    # the units the seeds name
    units = set(db.session.scalars(select(Unit.name)))
    for name in (
        "London PDU",
        "Staffordshire and West Midlands",
        "Warwickshire and West Mercia",
        "Derbyshire",
        "Gloucestershire",
        "Northampton IOM",
        "Cumbria",
        "Cambridge",
        "Avon and Somerset",
        "North Yorkshire",
        "South Yorkshire",
        "Birmingham court team",
    ):
        assert name in units
    assert count(Region, Region.name == "Wales") == 1

    # the printed credentials work, and the London rep sees London only
    email, _name, _role, _regions, password = DEMO_USERS[2]
    client = app.test_client()
    assert log_in(client, email, password).status_code == 302
    page = client.get("/regions/")
    assert b"London PDU" in page.data and b"Cardiff" not in page.data


def test_demo_load_refuses_the_production_configuration(database_url, tmp_path):
    app = create_app(
        "production",
        SECRET_KEY="p" * 48,
        DATA_KEYS=TestingConfig.DATA_KEYS,  # the key the test database was built with
        SQLALCHEMY_DATABASE_URI=database_url,
        INSTANCE_FILES_DIR=str(tmp_path / "files"),
    )
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert "never loaded under the production configuration" in result.output
    with app.app_context():
        assert count(Region) == 0
        db.session.remove()
        db.engine.dispose()
