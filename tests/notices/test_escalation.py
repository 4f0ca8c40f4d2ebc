"""Escalation that moves: the daily run over overdue notices with no response, in both modes,
with the rep, the region's officials and the branch contact told (a real SMTP server)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.cases.models import CaseEntry
from napo_tracker.extensions import db
from napo_tracker.kernel.errors import ConfigurationError
from napo_tracker.notices import services
from napo_tracker.notices.escalation import overdue_unanswered, run_escalation
from napo_tracker.notices.models import ForeseeabilityNotice, NoticeEscalation
from napo_tracker.notifications.models import Notification

from .. import factories
from ..helpers import count

SERVED_ON = date(2026, 3, 2)  # a response is due Mon 16 March
AFTER_DUE = date(2026, 3, 17)


def _messages(user) -> list[str]:
    return list(db.session.scalars(select(Notification.message).where(Notification.user_id == user.id)))


def _steps(notice: ForeseeabilityNotice) -> list[str]:
    db.session.expire_all()
    return [e.step for e in db.session.get_one(ForeseeabilityNotice, notice.id).escalations]


@pytest.fixture
def branch(world):
    world.london.branch_contact_email = "branch.london@example.org"
    db.session.commit()
    return world.london


def test_an_overdue_unanswered_notice_moves_one_rung_and_everyone_is_told(app, world, make_notice, branch, mail_server):
    case = factories.make_case(world.london_rep, world.london)
    notice = make_notice(served_on=SERVED_ON, today=SERVED_ON, case_reference=case.reference)
    not_yet = make_notice(served_on=date(2026, 3, 10), today=date(2026, 3, 10))
    answered = make_notice(served_on=SERVED_ON, today=SERVED_ON)
    services.record_response(world.london_rep, answered, date(2026, 3, 12), "", None, on=date(2026, 3, 12))
    wales = make_notice(user=world.wales_rep, region=world.wales, served_on=SERVED_ON, today=SERVED_ON)
    second_official = factories.make_user("official", email="official.two@example.org")
    inactive_official = factories.make_user("official", email="official.gone@example.org")
    inactive_official.is_active = False
    db.session.commit()

    run = run_escalation(AFTER_DUE)
    assert sorted(run.moved) == sorted([f"{notice.reference} → line_manager", f"{wales.reference} → line_manager"])
    assert run.branch_emails == 1  # Wales has no branch contact
    assert _steps(notice) == ["line_manager"] and _steps(not_yet) == [] and _steps(answered) == []
    step = db.session.scalars(select(NoticeEscalation).where(NoticeEscalation.notice_id == notice.id)).one()
    assert step.is_automatic and step.created_by_id is None and step.raised_on == AFTER_DUE

    # The rep and the officials (national: every region is theirs); not another region's rep,
    # nor an account no longer active.
    expected = f"Notice {notice.reference} escalated to line manager by the daily run, as no response came;"
    for person in (world.london_rep, second_official, world.official):
        assert any(m.startswith(expected) for m in _messages(person)), person.email
    assert not any(notice.reference in m for m in _messages(world.wales_rep))
    assert _messages(inactive_official) == []
    # On the case's timeline and in the audit log.
    entry = db.session.scalars(select(CaseEntry).where(CaseEntry.case_id == case.id, CaseEntry.kind == "notice")).one()
    assert entry.body.startswith(expected)
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.NOTICE_ESCALATED)).all()
    assert {(a.target_ref, a.details["automatic"]) for a in audit} == {
        (notice.reference, True),
        (wales.reference, True),
    }

    # E-mails: content-free, one per person, and the branch contact's.
    (branch_body,) = mail_server.bodies_to("branch.london@example.org")
    assert expected in branch_body and "Jo Manager" not in branch_body
    (rep_body,) = mail_server.bodies_to("rep.london@example.org")
    assert expected in rep_body and f"https://tracker.example.org/notices/{notice.reference}" in rep_body

    # The same day again: nothing moves twice; the new rung is due ten working days on.
    again = run_escalation(AFTER_DUE)
    assert again.moved == [] and _steps(notice) == ["line_manager"]
    later = run_escalation(date(2026, 4, 1))  # the line manager's step was due 31 March
    assert f"{notice.reference} → senior_manager" in later.moved


def test_the_ladder_is_climbed_in_order_to_the_top_and_stops(app, world, make_notice):
    notice = make_notice(served_on=date(2026, 1, 5), today=date(2026, 1, 5))
    climbed = []
    day = date(2026, 1, 20)
    for _ in range(6):
        run_escalation(day)
        climbed = _steps(notice)
        day = date.fromordinal(day.toordinal() + 20)
    assert climbed == ["line_manager", "senior_manager", "health_safety_committee", "grievance"]
    assert overdue_unanswered(date(2026, 12, 1)) == []  # at the top: flagged overdue, not moved
    assert db.session.get_one(ForeseeabilityNotice, notice.id).outcome == "grievance_lodged"


def test_in_confirm_mode_the_rep_is_asked_once_and_nothing_moves(app, world, make_notice):
    app.config["NOTICE_ESCALATION"] = "confirm"
    notice = make_notice(served_on=SERVED_ON, today=SERVED_ON)
    run = run_escalation(AFTER_DUE)
    assert run.moved == [] and run.asked == [f"{notice.reference} → line_manager"]
    assert _steps(notice) == []
    (asked,) = _messages(world.london_rep)
    assert (
        asked == f"Notice {notice.reference}: no response by Mon 16 Mar 2026. Confirm the escalation to line manager."
    )
    assert run_escalation(date(2026, 3, 18)).asked == []  # asked once per rung
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.NOTICE_ESCALATION_ASKED)).one()


def test_a_rep_who_escalates_by_hand_tells_the_officials_not_themselves(world, make_notice):
    notice = make_notice(served_on=SERVED_ON, today=SERVED_ON)
    services.escalate_notice(world.london_rep, notice, "line_manager", AFTER_DUE, on=AFTER_DUE)
    db.session.commit()
    assert _messages(world.london_rep) == []
    assert _messages(world.official) == [f"Notice {notice.reference} escalated to line manager; due Tue 31 Mar 2026."]


def test_a_wrong_setting_is_refused(app, world, make_notice):
    app.config["NOTICE_ESCALATION"] = "sometimes"
    make_notice(served_on=SERVED_ON, today=SERVED_ON)
    with pytest.raises(ConfigurationError, match="NOTICE_ESCALATION must be one of automatic, confirm"):
        run_escalation(AFTER_DUE)
    result = app.test_cli_runner().invoke(args=["notices", "escalate", "--date", "2026-03-17"])
    assert result.exit_code != 0 and count(NoticeEscalation) == 0


def test_the_escalate_command_dry_runs_and_runs(app, world, make_notice):
    notice = make_notice(served_on=SERVED_ON, today=SERVED_ON)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["notices", "escalate", "--dry-run", "--date", "2026-03-17"])
    assert dry.exit_code == 0, dry.output
    assert f"would move {notice.reference} (due 2026-03-16) to line_manager" in dry.output
    assert count(NoticeEscalation) == 0
    done = runner.invoke(args=["notices", "escalate", "--date", "2026-03-17"])
    assert done.exit_code == 0, done.output
    assert f"escalated {notice.reference} → line_manager" in done.output and count(NoticeEscalation) == 1
    assert runner.invoke(args=["notices", "escalate", "--date", "yesterday"]).exit_code == 2


def test_the_daily_runs_are_scheduled_jobs(app):
    from napo_tracker.jobs.schedule import schedule_of

    schedule = schedule_of(app)
    for name in ("cases.remind", "notices.escalate", "notifications.digest", "notifications.send"):
        assert name in schedule


def test_a_notice_that_fails_to_move_leaves_the_others_moved(app, world, make_notice, monkeypatch):
    from napo_tracker.notices import escalation

    first = make_notice(served_on=SERVED_ON, today=SERVED_ON)
    second = make_notice(served_on=SERVED_ON, today=SERVED_ON)
    real = escalation.escalate_notice

    def fails_on_the_second(actor, notice, *args, **kwargs):
        made = real(actor, notice, *args, **kwargs)
        if notice.id == second.id:
            raise RuntimeError("the database went away (test)")
        return made

    monkeypatch.setattr(escalation, "escalate_notice", fails_on_the_second)
    with pytest.raises(RuntimeError):
        run_escalation(AFTER_DUE)
    db.session.rollback()
    assert _steps(first) == ["line_manager"] and _steps(second) == []
    assert db.session.get_one(ForeseeabilityNotice, second.id).status == "served"
    monkeypatch.setattr(escalation, "escalate_notice", real)
    assert run_escalation(AFTER_DUE).moved == [f"{second.reference} → line_manager"]
