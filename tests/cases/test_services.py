"""Casework rules, called directly: the status machine, validation, references, versions."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, event, func, insert, select
from sqlalchemy.orm.exc import StaleDataError

from napo_tracker import storage
from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.cases import services
from napo_tracker.cases.models import Case, CaseAttachment, CaseEntry, CaseStatus
from napo_tracker.cases.services import (
    TRANSITIONS,
    CaseError,
    EditConflict,
    IdentityHidden,
    add_attachment,
    case_list_query,
    change_status,
    check_transition,
    create_case,
    delete_attachment,
    may_see_identity,
    update_case,
    update_member,
)
from napo_tracker.extensions import db
from napo_tracker.kernel import clock
from napo_tracker.kernel.errors import Change, ConflictError, DomainError
from tests import factories
from tests.files import pdf_bytes, stored_files


def test_references_count_up_per_year(make_case):
    first, second = make_case(), make_case()
    year = clock.today().year
    assert (first.reference, second.reference) == (f"CASE-{year}-0001", f"CASE-{year}-0002")
    old = make_case(opened_on=date(2025, 3, 1))
    assert old.reference == "CASE-2025-0001"


def test_creating_a_case_writes_its_timeline_and_audit(world, make_case):
    rep = world.london_rep
    case = make_case(assigned_rep_id=rep.id)
    kinds = [entry.kind for entry in case.entries]
    assert sorted(kinds) == ["assignment", "status"]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_ref == case.reference)).all()
    assert AuditAction.CASE_CREATED in actions


BAD_VALUES: list[tuple[dict[str, Any], str]] = [
    ({"wmt_percent": -5}, "wmt_percent"),
    ({"wmt_percent": 10**9}, "wmt_percent"),
    ({"caseload": 501}, "caseload"),
    ({"category": "made_up"}, "category"),
    ({"priority": "whenever"}, "priority"),
    ({"next_action_on": date(1900, 1, 1)}, "next_action_on"),
]


def test_bad_values_are_refused_by_the_service_too(world):
    for fields, field in BAD_VALUES:
        values = {"category": "pay", "title": "t"} | fields
        with pytest.raises(CaseError) as error:
            create_case(world.london_rep, region_id=world.london.id, **values)
        assert error.value.field == field
        db.session.rollback()
    assert db.session.scalar(select(Case.id)) is None


def test_a_rep_cannot_log_a_case_in_another_region(world):
    with pytest.raises(CaseError, match="your regions"):
        create_case(world.london_rep, region_id=world.wales.id, category="pay", title="t")


def test_a_case_is_assigned_only_to_a_rep_of_its_region(world):
    with pytest.raises(CaseError, match="own region"):
        create_case(
            world.london_rep, region_id=world.london.id, category="pay", title="t", assigned_rep_id=world.wales_rep.id
        )
    with pytest.raises(CaseError, match="own region"):  # an official is not a rep
        create_case(
            world.admin, region_id=world.london.id, category="pay", title="t", assigned_rep_id=world.official.id
        )


def test_the_member_must_belong_to_the_case_region(world, make_member):
    welsh = make_member(actor=world.wales_rep, region=world.wales)
    with pytest.raises(CaseError, match="member"):
        create_case(world.admin, region_id=world.london.id, category="pay", title="t", member_id=welsh.id)


def test_the_status_machine(world, make_case):
    case = make_case()
    with pytest.raises(CaseError, match="cannot move to closed"):
        change_status(world.london_rep, case, "closed")
    with pytest.raises(CaseError, match="outcome"):
        change_status(world.london_rep, case, "resolved")
    for status in ("in_progress", "escalated"):
        change_status(world.london_rep, case, status)
    change_status(world.london_rep, case, "resolved", outcome="Caseload cut to 95 %.")
    change_status(world.london_rep, case, "closed")
    assert case.closed_on == clock.today()
    change_status(world.london_rep, case, "reopened", note="Cases piled up again.")
    change_status(world.london_rep, case, "in_progress")
    db.session.commit()
    status_entries = [e for e in case.entries if e.kind == "status"]
    assert len(status_entries) == 7  # opened + six moves
    assert "Outcome: Caseload cut to 95 %." in "".join(e.body for e in status_entries)


def test_casework_refusals_are_domain_errors_with_their_field(world, make_member):
    with pytest.raises(DomainError) as refused:
        create_case(world.london_rep, region_id=world.london.id, category="pay", title="t", wmt_percent=999)
    assert isinstance(refused.value, CaseError) and refused.value.status_code == 400
    assert (refused.value.field, refused.value.message) == ("wmt_percent", "WMT must be between 0 and 400 %.")
    member = make_member()
    with pytest.raises(IdentityHidden) as hidden:  # officials see pseudonyms only
        update_member(
            world.official,
            member,
            unit_id=None,
            name="Someone",
            membership_number=None,
            email=None,
            phone=None,
            grade=None,
        )
    assert hidden.value.status_code == 403


def test_every_status_has_somewhere_to_go_and_unknown_ones_are_refused():
    assert set(TRANSITIONS) == set(CaseStatus)
    with pytest.raises(CaseError, match="not a case status"):
        check_transition("open", "deleted")


def test_reassignment_writes_a_timeline_entry(world, make_case):
    other_rep = factories.make_user("rep", [world.london], display_name="Second Rep")
    case = make_case(assigned_rep_id=world.london_rep.id)
    changed = update_case(world.london_rep, case, expected_version=case.version, assigned_rep_id=other_rep.id)
    db.session.commit()
    assert changed == ["assigned_rep_id"]
    assert case.entries[0].kind == "assignment" and "Second Rep" in case.entries[0].body


def test_a_stale_version_is_refused_with_what_changed(world, make_case):
    case = make_case(title="First title")
    seen = case.version
    update_case(world.london_rep, case, expected_version=seen, title="Second title")
    db.session.commit()
    with pytest.raises(EditConflict) as conflict:
        update_case(world.london_rep, case, expected_version=seen, title="My title")
    assert [(c.field, c.saved, c.yours) for c in conflict.value.changes] == [("title", "Second title", "My title")]
    assert isinstance(conflict.value, ConflictError) and conflict.value.status_code == 409
    assert conflict.value.changes == [Change("title", "Title", "Second title", "My title")]


def test_two_sessions_saving_the_same_version_collide(app, world, make_case):
    """The version column guards the gap between reading and writing as well."""
    from sqlalchemy.orm import Session

    case_id = make_case().id

    with Session(db.engine) as second:
        theirs = second.get_one(Case, case_id)
        ours = db.session.get_one(Case, case_id)
        theirs.title = "Saved first"
        second.commit()
        ours.title = "Saved second"
        with pytest.raises(StaleDataError):
            db.session.flush()
        db.session.rollback()
    assert db.session.get_one(Case, case_id).title == "Saved first"


def test_references_stay_unique_when_two_reps_save_at_once(app, world):
    region_id, rep_ids = world.london.id, [world.london_rep.id, world.admin.id]
    barrier = threading.Barrier(2)
    made, errors = [], []

    def save(user_id):
        try:
            with app.app_context():
                from napo_tracker.accounts.models import User

                user = db.session.get_one(User, user_id)
                barrier.wait(5)
                for _ in range(3):
                    case = create_case(user, region_id=region_id, category="pay", title="Same moment")
                    db.session.commit()
                    made.append(case.reference)
                db.session.remove()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=save, args=(user_id,)) for user_id in rep_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(made) == 6 and len(set(made)) == 6
    assert db.session.scalar(select(db.func.count(Case.id))) == 6


def test_identity_is_for_reps_of_the_region_and_admins(world, make_member):
    member = make_member()
    assert may_see_identity(world.london_rep, member)
    assert may_see_identity(world.admin, member)
    assert not may_see_identity(world.wales_rep, member)
    assert not may_see_identity(world.official, member)
    assert member.pseudonym == f"Member M-{member.id:04d}"


def test_lists_are_scoped_filtered_and_overdue_means_live(world, make_case):
    make_case(title="London open", next_action_on=clock.today() - timedelta(days=1))
    done = make_case(title="London done", next_action_on=clock.today() - timedelta(days=3))
    change_status(world.london_rep, done, "resolved", outcome="Sorted.")
    make_case(actor=world.wales_rep, region=world.wales, title="Welsh case", has_mappa_cases=True)
    db.session.commit()

    def titles(user, **kwargs):
        return sorted(c.title for c in db.session.scalars(case_list_query(user, **kwargs)).unique())

    assert titles(world.london_rep) == ["London done", "London open"]
    assert titles(world.official) == ["London done", "London open", "Welsh case"]
    assert titles(world.london_rep, view="overdue") == ["London open"]
    assert titles(world.official, filters={"risk": "has_mappa_cases"}) == ["Welsh case"]
    assert titles(world.official, filters={"q": "welsh"}) == ["Welsh case"]
    assert titles(world.official, filters={"q": "100%_"}) == []
    assert titles(world.london_rep, filters={"region_id": world.wales.id}) == []


def test_search_looks_inside_the_encrypted_descriptions(world, make_case):
    make_case(title="Cover", description="Off sick with STRESS since March; no cover.")
    make_case(title="Stress at work", description="Nothing here.")
    make_case(title="Travel", description="Three offices a week.")
    make_case(actor=world.wales_rep, region=world.wales, title="Welsh", description="Stress in Cardiff.")
    db.session.commit()

    def titles(user, q, **filters):
        return sorted(c.title for c in db.session.scalars(case_list_query(user, filters={"q": q, **filters})).unique())

    assert titles(world.london_rep, "stress") == ["Cover", "Stress at work"]  # description or title, any case
    assert titles(world.official, "stress") == ["Cover", "Stress at work", "Welsh"]
    assert titles(world.official, "stress", region_id=world.wales.id) == ["Welsh"]
    assert titles(world.official, "offices a") == ["Travel"]
    assert titles(world.london_rep, "Cardiff") == []  # another region's description is never searched
    assert titles(world.official, "%") == []


def test_a_search_matching_thousands_of_cases_names_them_in_the_sql(world, make_case):
    """The matching cases go back to the database as numbers written into the statement: more
    of them than a database takes as parameters (SQLite: 32,766) still works."""
    case = make_case(description="Workload far over the WMT.")
    row = {c.key: getattr(case, c.key) for c in Case.__table__.columns if c.key not in ("id", "reference")}
    many = 33_000
    db.session.execute(
        insert(cast(Table, Case.__table__)), [row | {"reference": f"CASE-1999-{n:05d}"} for n in range(many)]
    )
    db.session.commit()
    parameters: list[int] = []

    def count(conn, cursor, statement, params, context, executemany) -> None:
        parameters.append(len(params or ()))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        stmt = case_list_query(world.official, filters={"q": "far over"})
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert total == many + 1 and max(parameters) < 100


def test_timeline_is_newest_first(world, make_case):
    from napo_tracker.cases.services import add_entry

    case = make_case(opened_on=date(2026, 1, 5))
    add_entry(world.london_rep, case, kind="meeting", happened_on=date(2026, 2, 1), body="Met the SPO.")
    add_entry(world.london_rep, case, kind="call", happened_on=date(2026, 1, 10), body="Called the member.")
    db.session.commit()
    db.session.expire_all()
    entries = db.session.scalars(select(CaseEntry).where(CaseEntry.case_id == case.id)).all()
    assert len(entries) == 3
    assert [e.kind for e in db.session.get_one(Case, case.id).entries] == ["meeting", "call", "status"]


def test_a_case_rolled_back_after_creation_leaves_nothing(world):
    """The reference is allocated in a savepoint; rolling the request back must still undo it."""
    create_case(world.london_rep, region_id=world.london.id, category="pay", title="Never saved")
    db.session.rollback()
    assert db.session.scalar(select(Case.id)) is None
    assert db.session.scalar(select(CaseEntry.id)) is None


def _fail_the_audit_write(monkeypatch):
    """The services write their audit entry after their flush: failing it fails them half-way."""

    def refuse(*args, **kwargs):
        raise RuntimeError("the audit log could not be written")

    monkeypatch.setattr(services, "record", refuse)


def test_an_upload_failing_half_way_leaves_no_row_and_no_file_once_rolled_back(app, world, make_case, monkeypatch):
    case = make_case()
    _fail_the_audit_write(monkeypatch)
    with pytest.raises(RuntimeError):
        add_attachment(world.london_rep, case, filename="letter.pdf", data=pdf_bytes())
    # Half-way: the row was flushed and the file written before the error.
    assert db.session.scalar(select(CaseAttachment.id)) is not None and len(stored_files(app)) == 1
    db.session.rollback()
    assert db.session.scalar(select(CaseAttachment.id)) is None
    assert stored_files(app) == []


def test_an_attachment_deletion_removes_the_file_only_once_committed(app, world, make_case):
    case = make_case()
    attachment = factories.make_attachment(world.london_rep, case, pdf_bytes())
    attachment_id, path = attachment.id, storage.path_for(attachment.stored_name)

    delete_attachment(world.london_rep, case, attachment)
    assert path.exists()  # not before the commit
    db.session.rollback()
    assert path.exists() and db.session.get(CaseAttachment, attachment_id) is not None

    attachment = db.session.get_one(CaseAttachment, attachment_id)
    delete_attachment(world.london_rep, case, attachment)
    db.session.commit()
    assert not path.exists() and db.session.get(CaseAttachment, attachment_id) is None
