"""Hand-over: one rep's open cases and notices to a colleague of the same region, all or
nothing, version-checked and audited; every rep's caseload on one page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.cases.models import Case, CaseEntry
from napo_tracker.cases.services import change_status
from napo_tracker.extensions import db
from napo_tracker.kernel.errors import ConflictError
from napo_tracker.notices.handover import HandOverError, caseloads, hand_over, rep_caseload
from napo_tracker.notices.models import ForeseeabilityNotice
from tests import factories
from tests.helpers import form_tokens


@pytest.fixture
def team(world):
    """Two more London reps; the London rep holds two open cases, a closed one and a notice."""
    colleague = factories.make_user("rep", [world.london], email="colleague@example.org", display_name="Colleague")
    cases = [factories.make_case(world.london_rep, world.london, title=f"Case {n}") for n in range(3)]
    for case in cases:
        case.assigned_rep_id = world.london_rep.id
    db.session.commit()
    change_status(world.london_rep, cases[2], "resolved", outcome="Sorted.")
    db.session.commit()
    notice = factories.make_notice(world.london_rep, world.london)
    return colleague, cases, notice


def versions(*records):
    return {record.reference: record.version for record in records}


def test_some_cases_and_notices_are_handed_over_with_their_timeline_and_audit(world, team):
    colleague, cases, notice = team
    moved = hand_over(
        world.london_rep, world.london_rep.id, colleague.id, cases=versions(cases[0]), notices=versions(notice)
    )
    db.session.commit()
    assert moved == ([cases[0].reference], [notice.reference])
    assert db.session.get_one(Case, cases[0].id).assigned_rep_id == colleague.id
    assert db.session.get_one(Case, cases[1].id).assigned_rep_id == world.london_rep.id
    assert db.session.get_one(ForeseeabilityNotice, notice.id).assigned_rep_id == colleague.id
    entry = db.session.scalars(
        select(CaseEntry).where(CaseEntry.case_id == cases[0].id, CaseEntry.kind == "assignment")
    ).all()
    assert entry and "Colleague" in entry[-1].body
    step = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.CASES_HANDED_OVER.value)).one()
    assert cases[0].reference in str(step.details) and notice.reference in str(step.details)


def test_the_caseload_lists_open_work_only_and_the_colleagues_who_may_take_it(world, team):
    colleague, cases, notice = team
    load = rep_caseload(world.london_rep, world.london_rep.id)
    assert [c.reference for c in load.cases] == [cases[0].reference, cases[1].reference]
    assert [n.reference for n in load.notices] == [notice.reference]
    assert load.colleagues == [colleague]
    lines = {line.rep.id: (line.cases, line.notices) for line in caseloads(world.official)}
    assert lines[world.london_rep.id] == (2, 1) and lines[colleague.id] == (0, 0)
    assert world.london_rep.id not in {line.rep.id for line in caseloads(world.wales_rep)}


def test_a_rep_outside_the_region_is_refused_and_nothing_moves(world, team):
    _colleague, cases, _notice = team
    with pytest.raises(HandOverError, match="is not a rep of London"):
        hand_over(world.official, world.london_rep.id, world.wales_rep.id, cases=versions(*cases[:2]), notices={})
    db.session.rollback()
    assert {db.session.get_one(Case, c.id).assigned_rep_id for c in cases[:2]} == {world.london_rep.id}


def test_a_record_changed_since_the_page_was_opened_refuses_the_step(world, team):
    colleague, cases, _notice = team
    seen = versions(cases[0], cases[1])
    cases[1].title = "Changed by someone"
    db.session.commit()
    with pytest.raises(ConflictError):
        hand_over(world.london_rep, world.london_rep.id, colleague.id, cases=seen, notices={})
    db.session.rollback()
    assert db.session.get_one(Case, cases[0].id).assigned_rep_id == world.london_rep.id


def test_closed_work_nothing_chosen_and_the_same_rep_are_refused(world, team):
    colleague, cases, _notice = team
    with pytest.raises(HandOverError, match="no longer an open case"):
        hand_over(world.london_rep, world.london_rep.id, colleague.id, cases=versions(cases[2]), notices={})
    with pytest.raises(HandOverError, match="at least one"):
        hand_over(world.london_rep, world.london_rep.id, colleague.id, cases={}, notices={})
    with pytest.raises(HandOverError, match="another rep"):
        hand_over(world.london_rep, world.london_rep.id, world.london_rep.id, cases=versions(cases[0]), notices={})


def test_the_pages(client, login_as, world, team):
    colleague, cases, notice = team
    login_as(world.london_rep)
    assert b"Colleague" in client.get("/notices/caseloads/").data
    page = client.get(f"/notices/caseloads/{world.london_rep.id}")
    assert page.status_code == 200 and cases[1].reference.encode() in page.data
    tokens = form_tokens(page.data)
    done = client.post(
        f"/notices/caseloads/{world.london_rep.id}",
        data={**tokens, "everything": "y", "to_rep_id": str(colleague.id)},
    )
    assert done.status_code == 302
    assert {db.session.get_one(Case, c.id).assigned_rep_id for c in cases[:2]} == {colleague.id}
    assert db.session.get_one(ForeseeabilityNotice, notice.id).assigned_rep_id == colleague.id
    # A stale page: its items were handed over meanwhile.
    again = client.post(
        f"/notices/caseloads/{world.london_rep.id}",
        data={**tokens, "items": f"case:{cases[0].reference}:{cases[0].version - 1}", "to_rep_id": str(colleague.id)},
    )
    assert again.status_code == 400
    # Crafted: a rep of another region as the taker.
    crafted = client.post(
        f"/notices/caseloads/{colleague.id}",
        data={**tokens, "everything": "y", "to_rep_id": str(world.wales_rep.id)},
    )
    assert crafted.status_code == 400
    login_as(world.wales_rep)
    assert client.get(f"/notices/caseloads/{world.london_rep.id}").status_code == 404
