"""Notice rules through the services, on the real database: service, response, escalation, letter."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from napo_tracker.audit.models import AuditEvent
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today
from napo_tracker.kernel.errors import ConflictError, DomainError
from napo_tracker.notices import services
from napo_tracker.notices.models import ForeseeabilityNotice, NoticeEscalation
from napo_tracker.notices.services import NoticeError

from ..factories import notice_details as details_for


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_new_notice_is_a_draft_with_a_union_reference(world, make_notice):
    notice = make_notice()
    assert notice.reference == f"FN-{today().year}-0001"
    assert notice.status == "draft" and notice.response_due_on is None
    assert notice.assigned_rep_id == world.london_rep.id
    assert make_notice().reference.endswith("-0002")
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_ref == notice.reference)).all()
    assert actions == ["notice:created"]


def test_serving_stores_the_due_date_in_working_days_and_freezes_the_letter(world, make_notice):
    notice = make_notice()
    services.serve_notice(world.london_rep, notice, date(2026, 12, 21), on=date(2026, 12, 21))
    db.session.commit()
    assert notice.status == "served"
    assert notice.response_due_on == date(2027, 1, 7)  # across Christmas and New Year
    assert notice.letter_pdf.startswith(b"%PDF")
    assert notice.letter_sha256 == hashlib.sha256(notice.letter_pdf).hexdigest()


def test_the_letter_shows_the_figures_concerns_and_due_date(world, make_notice):
    notice = make_notice(
        served_on=date(2026, 3, 2), today=date(2026, 3, 3), kind="collective", signatory_count=9, caseload=61
    )
    text = pdf_text(notice.letter_pdf)
    assert "Jo Manager" in text and "Head of PDU" in text and "London PDU" in text
    assert "142.5 %" in text
    assert "61 cases" in text
    assert "9" in text and "Staff signing this notice" in text
    assert "Caseload beyond capacity" in text and "No cover for leave or sickness" in text
    assert "Monday 16 March 2026" in text  # 10 working days after Monday 2 March
    assert notice.reference in text
    assert len(PdfReader(io.BytesIO(notice.letter_pdf)).pages) <= 2


def test_the_frozen_letter_is_unchanged_after_the_notice_is_edited(world, make_notice):
    notice = make_notice(served_on=date(2026, 3, 2), today=date(2026, 3, 3), letter_wording="My own words.")
    frozen, digest = notice.letter_pdf, notice.letter_sha256
    services.update_notice(
        world.london_rep,
        notice,
        details_for(
            world.london, wmt_percent=Decimal("199"), served_to_name="Someone Else", letter_wording="Different words."
        ),
    )
    db.session.commit()
    db.session.expire_all()
    again = db.session.get_one(ForeseeabilityNotice, notice.id)
    assert again.wmt_percent == Decimal("199.0")
    assert again.letter_pdf == frozen and again.letter_sha256 == digest
    assert services.letter_for_download(world.london_rep, again) == frozen
    text = pdf_text(frozen)
    assert "My own words." in text and "Different words." not in text and "199" not in text


def test_a_draft_letter_follows_the_latest_wording(world, make_notice):
    notice = make_notice(letter_wording="First attempt at the wording.")
    assert "First attempt" in pdf_text(services.letter_for_download(world.london_rep, notice))
    assert notice.letter_pdf is None and notice.letter_sha256 is None


BAD_DETAILS: list[tuple[dict[str, Any], str]] = [
    ({"wmt_percent": Decimal("400.5")}, "wmt_percent"),
    ({"wmt_percent": Decimal("-1")}, "wmt_percent"),
    ({"kind": "collective", "signatory_count": 0}, "signatory_count"),
    ({"kind": "collective", "signatory_count": -3}, "signatory_count"),
    ({"kind": "collective", "signatory_count": None}, "signatory_count"),
    ({"caseload": -1}, "caseload"),
    ({"concerns": ["made_up"]}, "concerns"),
]


def test_bad_details_are_refused_and_nothing_is_written(world):
    for overrides, field in BAD_DETAILS:
        with pytest.raises(NoticeError) as raised:
            services.create_notice(world.london_rep, details_for(world.london, **overrides))
        assert raised.value.field == field, overrides
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ForeseeabilityNotice)) == 0


def test_a_rep_cannot_create_a_notice_in_another_region_or_a_unit_elsewhere(world):
    with pytest.raises(NoticeError, match="your regions"):
        services.create_notice(world.london_rep, details_for(world.wales))
    wales_unit = world.wales.units[0]
    with pytest.raises(NoticeError, match="not in the chosen region"):
        services.create_notice(world.official, details_for(world.london, unit_id=wales_unit.id))


def test_served_date_in_the_future_is_refused(world, make_notice):
    notice = make_notice()
    with pytest.raises(NoticeError, match="future"):
        services.serve_notice(world.london_rep, notice, date(2026, 3, 5), on=date(2026, 3, 4))
    assert notice.status == "draft" and notice.letter_pdf is None


def test_a_response_stops_the_clock_and_cannot_precede_service(world, make_notice):
    draft = make_notice()
    with pytest.raises(NoticeError, match="once the notice has been served"):
        services.record_response(world.london_rep, draft, date(2026, 3, 3), "Too early", None, on=date(2026, 3, 4))
    notice = make_notice(served_on=date(2026, 3, 2), today=date(2026, 3, 2))
    assert services.deadline_state(notice, date(2026, 3, 17)) == "overdue"
    with pytest.raises(NoticeError, match="before the notice was served"):
        services.record_response(world.london_rep, notice, date(2026, 3, 1), "x", None, on=date(2026, 3, 20))
    with pytest.raises(NoticeError, match="future"):
        services.record_response(world.london_rep, notice, date(2026, 3, 21), "x", None, on=date(2026, 3, 20))
    services.record_response(
        world.london_rep, notice, date(2026, 3, 18), "Two cases reallocated.", "partly_reduced", on=date(2026, 3, 20)
    )
    db.session.commit()
    assert notice.status == "responded" and notice.outcome == "partly_reduced"
    assert services.deadline_state(notice, date(2026, 4, 30)) is None


def test_deadline_states_due_soon_and_overdue(world, make_notice):
    notice = make_notice(served_on=date(2026, 3, 2), today=date(2026, 3, 2))  # due Mon 16 March
    assert services.deadline_state(notice, date(2026, 3, 9)) is None
    assert services.deadline_state(notice, date(2026, 3, 11)) == "due_soon"  # Thu, Fri, Mon: 3 working days
    assert services.deadline_state(notice, date(2026, 3, 16)) == "due_soon"
    assert services.deadline_state(notice, date(2026, 3, 17)) == "overdue"


def test_the_escalation_ladder_climbs_with_a_due_date_per_step(world, make_notice):
    notice = make_notice(served_on=date(2026, 3, 2), today=date(2026, 3, 2))
    with pytest.raises(NoticeError, match="above"):
        services.escalate_notice(world.london_rep, notice, "sideways", date(2026, 3, 17), on=date(2026, 3, 17))
    step = services.escalate_notice(
        world.london_rep, notice, "senior_manager", date(2026, 3, 17), "No reply to the notice.", on=date(2026, 3, 17)
    )
    db.session.commit()
    assert step.due_on == date(2026, 3, 31)
    assert notice.status == "escalated"
    assert services.active_due_on(notice) == date(2026, 3, 31)
    assert services.next_escalation_steps(notice) == ["health_safety_committee", "grievance"]
    with pytest.raises(NoticeError):
        services.escalate_notice(world.london_rep, notice, "line_manager", date(2026, 3, 18), on=date(2026, 3, 18))
    services.escalate_notice(world.london_rep, notice, "grievance", date(2026, 4, 1), on=date(2026, 4, 1))
    db.session.commit()
    assert notice.outcome == "grievance_lodged"
    assert db.session.scalar(select(func.count()).select_from(NoticeEscalation)) == 2
    services.resolve_notice(world.london_rep, notice, "workload_reduced")
    assert notice.status == "resolved"


def test_a_draft_cannot_be_resolved_or_escalated(world, make_notice):
    notice = make_notice()
    with pytest.raises(NoticeError):
        services.resolve_notice(world.london_rep, notice, "no_action")
    with pytest.raises(NoticeError):
        services.escalate_notice(world.london_rep, notice, "line_manager", date(2026, 3, 2), on=date(2026, 3, 2))


def test_a_stale_edit_is_refused(world, make_notice):
    notice = make_notice()
    with pytest.raises(services.StaleNotice) as raised:
        services.update_notice(world.london_rep, notice, details_for(world.london), expected_version=notice.version - 1)
    assert isinstance(raised.value, ConflictError) and raised.value.status_code == 409
    assert "Someone else changed this notice" in raised.value.message


def test_notice_errors_are_domain_errors():
    assert issubclass(NoticeError, DomainError) and NoticeError("x").status_code == 400


def test_figures_by_region_and_month(world, make_notice):
    make_notice(served_on=date(2026, 3, 2), today=date(2026, 3, 2))
    second = make_notice(served_on=date(2026, 3, 9), today=date(2026, 3, 9))
    services.record_response(
        world.london_rep, second, date(2026, 3, 10), "ok", "workload_reduced", on=date(2026, 3, 10)
    )
    make_notice(user=world.wales_rep, region=world.wales, served_on=date(2026, 4, 1), today=date(2026, 4, 1))
    make_notice()  # a draft is never counted
    db.session.commit()
    rows = services.notices_served_by_region_month()
    assert [(r.month, r.region, r.served, r.outcomes) for r in rows] == [
        ("2026-03", "London", 2, {"awaiting": 1, "workload_reduced": 1}),
        ("2026-04", "Wales", 1, {"awaiting": 1}),
    ]
    assert [r.region for r in services.notices_served_by_region_month({world.wales.id})] == ["Wales"]
    series = services.served_by_month_series(rows)
    assert series["London"] == [(date(2026, 3, 1), Decimal(2)), (date(2026, 4, 1), Decimal(0))]
    assert series["Wales"] == [(date(2026, 3, 1), Decimal(0)), (date(2026, 4, 1), Decimal(1))]
    december = [services.MonthFigures("Wales", "2026-12", 1), services.MonthFigures("Wales", "2027-02", 1)]
    assert [m for m, _ in services.served_by_month_series(december)["Wales"]] == [
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]


def test_notices_are_scoped_to_the_users_regions(world, make_notice):
    london = make_notice()
    wales = make_notice(user=world.wales_rep, region=world.wales)
    seen = lambda user: set(db.session.scalars(services.notices_for(user)))  # noqa: E731
    assert seen(world.london_rep) == {london}
    assert seen(world.wales_rep) == {wales}
    assert seen(world.official) == {london, wales}
    from werkzeug.exceptions import NotFound

    with pytest.raises(NotFound):
        services.get_notice_for(world.wales_rep, london.reference)
    assert services.get_notice_for(world.official, london.reference.lower()) == london


def test_list_filters_run_in_sql(world, make_notice):
    on = today()
    overdue = make_notice(served_on=on - timedelta(days=40))
    fresh = make_notice(served_on=on)
    draft = make_notice()
    pick = lambda **kw: list(db.session.scalars(services.notices_for(world.london_rep, services.NoticeFilters(**kw))))  # noqa: E731
    assert pick(due="overdue") == [overdue]
    assert fresh not in pick(due="due_soon")
    assert pick(status="draft") == [draft]
    assert pick()[0] == overdue  # soonest due first, drafts last
    assert pick()[-1] == draft


def _member_and_case(world, region, name="A Member"):
    from napo_tracker.cases.models import CaseCategory
    from napo_tracker.cases.services import create_case, create_member

    rep = world.london_rep if region is world.london else world.wales_rep
    member = create_member(
        rep, region_id=region.id, unit_id=None, name=name, membership_number=None, email=None, phone=None, grade=None
    )
    case = create_case(
        rep, region_id=region.id, category=CaseCategory.EXCESSIVE_WORKLOAD.value, title="Workload", member_id=member.id
    )
    db.session.commit()
    return member, case


def test_links_to_a_case_and_its_member_stay_inside_the_region(world):
    member, case = _member_and_case(world, world.london)
    other_member, other_case = _member_and_case(world, world.wales, "Someone in Wales")
    notice = services.create_notice(world.london_rep, details_for(world.london, case_reference=case.reference.lower()))
    assert notice.case == case and notice.member == member  # the case's member by default
    with pytest.raises(NoticeError, match="no case with that reference") as raised:
        services.create_notice(world.official, details_for(world.london, case_reference=other_case.reference))
    assert raised.value.field == "case_reference"
    with pytest.raises(NoticeError, match="region"):
        services.create_notice(world.official, details_for(world.london, member_id=other_member.id))
    team = services.create_notice(
        world.london_rep, details_for(world.london, kind="collective", signatory_count=4, named_member_ids=[member.id])
    )
    assert team.named_members == [member] and team.member_id is None
    with pytest.raises(NoticeError, match="More members are named"):
        services.create_notice(
            world.london_rep,
            details_for(world.london, kind="collective", signatory_count=1, named_member_ids=[member.id, 999]),
        )


def test_the_deadlines_panel_lists_running_clocks_soonest_first_in_one_query(world, make_notice):
    """Overdue and due-soon notices, an escalated one by its current step's date; the first few
    and how many there are, read in one statement (the home page's panel)."""
    from napo_tracker.notices.services import attention_needed

    on = date(2026, 3, 20)
    overdue = make_notice(served_on=date(2026, 2, 2), today=date(2026, 2, 2))  # due 16 Feb
    soon = make_notice(served_on=date(2026, 3, 9), today=date(2026, 3, 9))  # due 23 March
    make_notice(served_on=date(2026, 3, 19), today=date(2026, 3, 19))  # due 2 April: not yet
    make_notice()  # a draft: no clock
    escalated = make_notice(served_on=date(2026, 1, 5), today=date(2026, 1, 5))
    services.escalate_notice(world.london_rep, escalated, "senior_manager", date(2026, 3, 11), on=date(2026, 3, 11))
    db.session.commit()  # its step is due 25 March: due soon, although its response is long overdue
    lines, total = attention_needed(world.london_rep, on=on, limit=10)
    assert [(line.reference, line.deadline_state) for line in lines] == [
        (overdue.reference, "overdue"),
        (soon.reference, "due_soon"),
        (escalated.reference, "due_soon"),
    ]
    assert total == 3 and lines[2].active_due_on == date(2026, 3, 25) and lines[0].place == "London PDU"
    first, total = attention_needed(world.london_rep, on=on, limit=1)
    assert [line.reference for line in first] == [overdue.reference] and total == 3
    assert attention_needed(world.wales_rep, on=on) == ([], 0)  # another region's rep sees none
    lines, _ = attention_needed(world.official, on=on)
    assert len(lines) == 3  # officials see every region's
