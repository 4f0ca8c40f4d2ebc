"""The migrated schema and the models agree, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from napo_tracker.extensions import db
from napo_tracker.search.models import is_modelled

# What the database keeps for search (FTS5 tables, a tsvector column) is not a model.
OPTIONS = {"compare_type": True, "include_name": is_modelled}


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=OPTIONS)
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_reach_a_single_head(app):
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate

    config = app.extensions["migrate"].migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
    assert isinstance(app.extensions["migrate"].migrate, Migrate)


def test_every_revision_walks_down_and_back_up(app):
    """Each revision's downgrade undoes its upgrade, on every backend, down to an empty
    database, and the schema built again from there still equals the models."""
    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    config = app.extensions["migrate"].migrate.get_config()
    revisions = [script.revision for script in ScriptDirectory.from_config(config).walk_revisions()]
    assert len(revisions) >= 6
    for _revision in revisions:  # newest first: down one, up again, down for good
        downgrade(revision="-1")
        upgrade(revision="+1")
        downgrade(revision="-1")
    db.engine.dispose()
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    db.engine.dispose()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=OPTIONS)
        assert compare_metadata(context, db.metadata) == []
