"""The one transaction boundary: what a request, a form and a command keep, and the files
that follow their records in and out."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from flask import abort, flash
from flask_wtf import FlaskForm
from sqlalchemy import insert, select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from wtforms import StringField

from napo_tracker import storage
from napo_tracker.extensions import db
from napo_tracker.kernel.errors import Change, ConflictError, DomainError, check_version
from napo_tracker.kernel.transaction import (
    after_commit,
    command_transaction,
    errors_on,
    keep_writes,
    on_rollback,
    transactional,
    write_independently,
)
from napo_tracker.regions.models import Region


def _regions() -> set[str]:
    return set(db.session.scalars(select(Region.name)))


def _files(app) -> list[Path]:
    folder = Path(app.config["INSTANCE_FILES_DIR"])
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def routes(app, world, login_as):
    """A few views that write a region and then end in each way a view can end."""

    def add(name: str) -> None:
        db.session.add(Region(name=name))
        db.session.flush()

    def ok():
        add("Kept by a 200")
        return "ok"

    def redirected():
        add("Kept by a redirect")
        flash("done")
        return "", 302, {"Location": "/"}

    def refused():
        add("Dropped by a 400")
        return "no", 400

    def kept_refusal():
        add("Kept by keep_writes")
        keep_writes()
        return "no", 400

    def crashed():
        add("Dropped by an exception")
        raise RuntimeError("boom")

    def aborted():
        add("Dropped by abort")
        abort(404)

    def domain():
        add("Dropped by a domain error")
        raise DomainError("That breaks a rule.")

    def conflict():
        add("Dropped by a conflict")
        raise ConflictError()

    def stale():
        add("Dropped by a stale write")
        raise StaleDataError("version mismatch")

    def orphan_file():
        storage.save(b"a file whose record never lands")
        add("Dropped with its file")
        raise DomainError("Refused after the file was written.")

    for view in (ok, redirected, refused, kept_refusal, crashed, aborted, domain, conflict, stale, orphan_file):
        app.add_url_rule(f"/test-boundary/{view.__name__}", view.__name__, view, methods=["POST"])
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer a crash with the 500 page, as in production
    login_as(world.admin)
    return add


@pytest.mark.parametrize(
    "view, status, kept",
    [
        ("ok", 200, "Kept by a 200"),
        ("redirected", 302, "Kept by a redirect"),
        ("kept_refusal", 400, "Kept by keep_writes"),
        ("refused", 400, None),
        ("crashed", 500, None),
        ("aborted", 404, None),
        ("domain", 400, None),
        ("conflict", 409, None),
        ("stale", 409, None),
    ],
)
def test_a_request_commits_once_when_it_succeeds_and_rolls_back_when_it_fails(
    client, routes, view, status, kept, csrf_off
):
    before = _regions()
    response = client.post(f"/test-boundary/{view}")
    assert response.status_code == status
    db.session.expire_all()
    assert _regions() - before == ({kept} if kept else set())


def test_a_domain_error_no_form_catches_is_a_page_with_its_message(client, routes, csrf_off):
    response = client.post("/test-boundary/domain")
    assert response.status_code == 400 and "That breaks a rule." in response.text
    stale = client.post("/test-boundary/stale")
    assert stale.status_code == 409 and "Someone else changed this" in stale.text


def test_a_file_written_for_a_request_that_fails_is_removed(app, client, routes, csrf_off):
    assert client.post("/test-boundary/orphan_file").status_code == 400
    assert _files(app) == []
    db.session.expire_all()
    assert "Dropped with its file" not in _regions()


@pytest.fixture
def csrf_off(app):
    app.config["WTF_CSRF_ENABLED"] = False


# ---------------------------------------------------------------- forms


class NameForm(FlaskForm):
    name = StringField()
    town = StringField()


def _form() -> NameForm:
    return NameForm(formdata=MultiDict({"name": "x", "town": "y"}), meta={"csrf": False})


def test_errors_on_rolls_back_and_puts_the_message_on_its_field(app, world):
    with app.test_request_context():
        form = _form()
        with errors_on(form, "name") as outcome:
            db.session.add(Region(name="Half-written"))
            db.session.flush()
            raise DomainError("No such town.", "town")
        assert outcome.error is not None and outcome.conflict is None and outcome.status_code == 400
        assert list(form.town.errors) == ["No such town."] and not form.name.errors
        assert "Half-written" not in _regions()


def test_errors_on_falls_back_to_the_default_field_then_to_the_whole_form(app):
    with app.test_request_context():
        form = _form()
        with errors_on(form, "name"):
            raise DomainError("Not like that.", "no_such_field")
        assert form.name.errors == ["Not like that."]
        form = _form()
        with errors_on(form):
            raise DomainError("Not at all.")
        assert form.form_errors == ["Not at all."]


def test_errors_on_reports_a_conflict_with_what_changed(app):
    with app.test_request_context():
        form = _form()
        change = Change("name", "Name", "saved", "yours")
        with errors_on(form) as outcome:
            raise ConflictError(changes=[change])
        assert outcome.conflict is not None and outcome.conflict.changes == [change] and outcome.status_code == 409
        form = _form()
        with errors_on(form) as outcome:
            raise StaleDataError("saved meanwhile")
        assert outcome.conflict is not None and outcome.status_code == 409


def test_errors_on_lets_other_errors_through(app):
    with app.test_request_context(), pytest.raises(KeyError), errors_on(_form()):
        raise KeyError("not a refusal: a bug")


def test_nothing_caught_means_no_outcome(app):
    with app.test_request_context():
        form = _form()
        with errors_on(form) as outcome:
            pass
        assert outcome.error is None and not form.errors


def test_check_version_refuses_a_change_made_from_another_version():
    class Record:
        version = 3

    check_version(Record(), 3)
    check_version(Record(), None)  # not known: not checked
    with pytest.raises(ConflictError) as caught:
        check_version(Record(), 2, changes=lambda: [Change("a", "A", "1", "2")])
    assert caught.value.status_code == 409 and caught.value.changes[0].field == "a"


# ---------------------------------------------------------------- commands


@click.command("add-region")
@click.argument("name")
@transactional
def add_region_command(name: str) -> None:
    db.session.add(Region(name=name))
    db.session.flush()
    if name == "refused":
        raise DomainError("That region is refused.")
    if name == "crash":
        raise RuntimeError("boom")


def test_a_command_commits_once_at_the_end_or_not_at_all(app):
    runner = CliRunner()
    assert runner.invoke(add_region_command, ["Northumbria"]).exit_code == 0
    refused = runner.invoke(add_region_command, ["refused"])
    assert refused.exit_code == 1 and "That region is refused." in refused.output
    crashed = runner.invoke(add_region_command, ["crash"])
    assert crashed.exit_code == 1 and isinstance(crashed.exception, RuntimeError)
    db.session.expire_all()
    assert {"Northumbria"} <= _regions() and not {"refused", "crash"} & _regions()


def test_a_command_that_exits_non_zero_keeps_nothing(app):
    with pytest.raises(click.exceptions.Exit), command_transaction():
        db.session.add(Region(name="Exited"))
        db.session.flush()
        raise click.exceptions.Exit(2)
    assert "Exited" not in _regions()


# ---------------------------------------------------------------- clean-up hooks


def test_clean_ups_run_on_the_outcome_they_were_registered_for(app):
    ran: list[str] = []
    on_rollback(lambda: ran.append("rollback 1"))
    after_commit(lambda: ran.append("commit 1"))
    db.session.commit()
    assert ran == ["commit 1"]
    on_rollback(lambda: ran.append("rollback 2"))
    after_commit(lambda: ran.append("commit 2"))
    db.session.rollback()
    assert ran == ["commit 1", "rollback 2"]
    db.session.commit()  # nothing left over from either
    assert ran == ["commit 1", "rollback 2"]


def test_a_savepoint_rolled_back_leaves_the_decision_to_the_outer_transaction(app):
    ran: list[str] = []
    db.session.add(Region(name="Outer"))
    on_rollback(lambda: ran.append("outer rolled back"))
    savepoint = db.session.begin_nested()
    db.session.add(Region(name="Inner"))
    savepoint.rollback()
    assert ran == []
    db.session.commit()
    assert ran == [] and "Outer" in _regions() and "Inner" not in _regions()


def test_a_stored_file_follows_its_transaction(app):
    kept = storage.save(b"kept")
    db.session.commit()
    dropped = storage.save(b"dropped")
    db.session.rollback()
    names = [path.name for path in _files(app)]
    assert kept.stored_name in names and dropped.stored_name not in names
    storage.delete_after_commit(kept.stored_name)
    db.session.rollback()  # the deletion of its record did not happen: the file stays
    assert kept.stored_name in [path.name for path in _files(app)]
    storage.delete_after_commit(kept.stored_name)
    db.session.commit()
    assert _files(app) == []


def test_a_failing_clean_up_does_not_hide_the_commit(app, caplog):
    def broken() -> None:
        raise OSError("disk gone")

    after_commit(broken)
    db.session.add(Region(name="Committed anyway"))
    db.session.commit()
    assert "Committed anyway" in _regions()
    assert "transaction clean-up failed" in caplog.text


# ---------------------------------------------------------------- writes that outlive their transaction


def _write_region(name: str):
    def write(connection) -> None:
        connection.execute(insert(Region), [{"name": name}])

    return write


def test_an_independent_write_stands_whether_the_transaction_commits_or_rolls_back(app):
    db.session.add(Region(name="Rolled back"))
    write_independently(_write_region("Written after a rollback"))
    db.session.rollback()
    assert _regions() == {"Written after a rollback"}

    db.session.add(Region(name="Committed"))
    write_independently(_write_region("Written after a commit"))
    db.session.commit()
    assert _regions() == {"Written after a rollback", "Committed", "Written after a commit"}
    db.session.commit()  # written once: nothing is left registered
    assert len(_regions()) == 3


def test_a_savepoint_rolled_back_does_not_write_the_independent_entries_early(app):
    savepoint = db.session.begin_nested()
    write_independently(_write_region("Written when the outer one ends"))
    savepoint.rollback()
    assert _regions() == set()
    db.session.rollback()
    assert _regions() == {"Written when the outer one ends"}


def test_an_independent_write_survives_an_error_page(app, client, routes, csrf_off):
    def refused_but_noted():
        routes("Dropped with the request")
        write_independently(_write_region("Noted although refused"))
        abort(404)

    app.add_url_rule("/test-boundary/noted", "noted", refused_but_noted, methods=["POST"])
    assert client.post("/test-boundary/noted").status_code == 404
    assert _regions() == {"London", "Wales", "Noted although refused"}


def test_a_failing_independent_write_is_logged_and_hides_nothing(app, caplog):
    def broken(connection) -> None:
        raise OSError("disk gone")

    write_independently(broken)
    db.session.add(Region(name="Committed anyway"))
    db.session.commit()
    assert "Committed anyway" in _regions()
    assert "an independent write failed" in caplog.text
