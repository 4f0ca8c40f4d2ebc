"""`flask retention apply`: the schedule's periods, applied in one transaction, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from napo_tracker.accounts.models import User
from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.cases.models import Case, CaseAttachment, Member
from napo_tracker.cases.services import add_entry
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import add_months, today
from napo_tracker.notices.models import ForeseeabilityNotice
from napo_tracker.privacy import retention
from napo_tracker.testimonies.models import Testimony
from napo_tracker.testimonies.services import approve
from tests.factories import World, make_attachment, make_case, make_member, make_notice, make_testimony, make_user
from tests.files import pdf_bytes
from tests.helpers import count


def _moment(on: date) -> datetime:
    return datetime.combine(on, time(12), tzinfo=UTC)


SEVEN_YEARS_AGO = add_months(today(), -12 * 7)
FIVE_YEARS_AGO = add_months(today(), -12 * 5)


def _closed_long_ago(case: Case, on: date = SEVEN_YEARS_AGO) -> None:
    """Backdate a case: closed on ``on``, last changed then, its timeline and files as old."""
    case.status, case.opened_on, case.resolved_on, case.closed_on = "closed", on, on, on
    case.updated_at = case.created_at = _moment(on)
    for entry in case.entries:
        entry.happened_on, entry.created_at = on, _moment(on)
    for attachment in case.attachments:
        attachment.uploaded_at = _moment(on)


@dataclass
class Estate:
    old_case: Case
    busy_old_case: Case
    live_case: Case
    talked_about: Case
    recent_closed: Case
    alone: Member
    busy: Member
    old_notice: ForeseeabilityNotice
    recent_notice: ForeseeabilityNotice
    old_testimony: Testimony
    fresh_testimony: Testimony
    idle: User
    attachment: CaseAttachment


def make_estate(world: World) -> Estate:
    rep = world.london_rep
    alone = make_member(rep, world.london, name="Alone Member", membership_number="A1")
    busy = make_member(rep, world.london, name="Busy Member", membership_number="B1")
    old_case = make_case(rep, world.london, member_id=alone.id, description="Long settled.")
    attachment = make_attachment(rep, old_case, pdf_bytes(), "old.pdf")
    busy_old_case = make_case(rep, world.london, member_id=busy.id)
    live_case = make_case(rep, world.london, member_id=busy.id)
    talked_about = make_case(rep, world.london)
    recent_closed = make_case(rep, world.london)
    for case in (old_case, busy_old_case, talked_about):
        _closed_long_ago(case)
    _closed_long_ago(recent_closed, FIVE_YEARS_AGO)
    alone.created_at = busy.created_at = _moment(SEVEN_YEARS_AGO)
    db.session.commit()
    add_entry(rep, talked_about, kind="note", happened_on=today(), body="Asked about again.")  # activity: kept

    old_notice = make_notice(rep, world.london, member_id=alone.id)
    recent_notice = make_notice(rep, world.london)
    for notice, on in ((old_notice, SEVEN_YEARS_AGO), (recent_notice, FIVE_YEARS_AGO)):
        notice.status, notice.served_on, notice.response_received_on, notice.outcome = "resolved", on, on, "no_action"
        notice.updated_at = _moment(on)

    old_testimony = make_testimony("The original words of a testimony decided long ago.")
    fresh_testimony = make_testimony("The original words of a testimony decided last week.")
    approve(world.official, old_testimony, "A public version of the old testimony.", today=today() - timedelta(days=40))
    approve(
        world.official, fresh_testimony, "A public version of the fresh testimony.", today=today() - timedelta(days=7)
    )

    idle = make_user("rep", [world.london], email="idle@example.org")
    idle.created_at = idle.last_login_at = _moment(today() - timedelta(days=400))
    db.session.add_all(
        [
            AuditEvent(action="test:ancient", actor_label="x", occurred_at=_moment(add_months(today(), -12 * 8))),
            AuditEvent(action="test:kept", actor_label="x", occurred_at=_moment(add_months(today(), -12 * 6))),
        ]
    )
    db.session.commit()
    return Estate(
        old_case,
        busy_old_case,
        live_case,
        talked_about,
        recent_closed,
        alone,
        busy,
        old_notice,
        recent_notice,
        old_testimony,
        fresh_testimony,
        idle,
        attachment,
    )


def _files(app) -> set[str]:
    folder = Path(app.config["INSTANCE_FILES_DIR"])
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def test_a_dry_run_prints_what_is_due_and_changes_nothing(app, world, cli):
    estate = make_estate(world)
    before = count(AuditEvent)
    result = cli("retention", "apply", "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Retention schedule: closed_cases 6 years; testimony_originals 30 days" in out
    assert f"closed cases to anonymise (last active on {add_months(today(), -72):%Y-%m-%d} or before): 2" in out
    assert estate.old_case.reference in out and estate.busy_old_case.reference in out
    assert "members left with no case or notice, to erase" in out and estate.alone.pseudonym in out
    assert "resolved notices to anonymise" in out and estate.old_notice.reference in out
    assert "testimony originals to erase" in out and estate.old_testimony.reference in out
    assert "idle accounts to deactivate" in out and "idle@example.org" in out
    assert "audit entries to delete" in out
    assert "Dry run: nothing changed." in out
    db.session.expire_all()
    assert estate.old_case.anonymised_on is None and count(AuditEvent) == before


def test_the_schedule_is_applied_once_and_a_record_with_recent_activity_is_kept(app, world, cli):
    estate = make_estate(world)
    stored = estate.attachment.stored_name
    result = cli("retention", "apply")
    assert result.exit_code == 0, result.output
    db.session.expire_all()

    assert estate.old_case.anonymised_on == today() and estate.old_case.member_id is None
    assert estate.busy_old_case.anonymised_on == today()
    for kept in (estate.live_case, estate.talked_about, estate.recent_closed):
        assert kept.anonymised_on is None
    assert stored not in _files(app) and count(CaseAttachment) == 0
    assert estate.alone.erased_on == today() and estate.alone.name == ""
    assert estate.busy.erased_on is None and estate.busy.name == "Busy Member"  # still has a live case
    assert estate.old_notice.anonymised_on == today() and estate.old_notice.member_id is None
    assert estate.recent_notice.anonymised_on is None
    assert (
        estate.old_testimony.original_text is None
        and estate.old_testimony.public_text == "A public version of the old testimony."
    )
    assert estate.fresh_testimony.original_text is not None
    assert not estate.idle.is_active and world.london_rep.is_active and world.admin.is_active
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert "test:ancient" not in actions and "test:kept" in actions

    summary = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.RETENTION_APPLIED.value)
    ).one()
    assert summary.details["closed_cases_to_anonymise"] == 2
    assert summary.details["audit_entries_to_delete"] == 1
    assert summary.details["attachments_deleted"] == 1

    again = cli("retention", "apply")
    assert again.exit_code == 0 and "Nothing is due." in again.output
    assert count(AuditEvent, AuditEvent.action == AuditAction.RETENTION_APPLIED.value) == 1


def test_a_run_that_fails_half_way_keeps_every_record_and_every_file(app, world):
    estate = make_estate(world)
    stored = estate.attachment.stored_name
    plan = retention.plan()
    retention.apply(plan)
    db.session.rollback()  # as the command's boundary does when anything goes wrong
    db.session.expire_all()
    assert stored in _files(app)
    assert estate.old_case.anonymised_on is None and estate.alone.name == "Alone Member"
    assert count(AuditEvent, AuditEvent.action == "test:ancient") == 1


def test_the_last_admin_is_never_deactivated(app, world):
    for user in db.session.scalars(select(User)):
        user.created_at = user.last_login_at = _moment(today() - timedelta(days=800))
    db.session.commit()
    plan = retention.plan()
    idle = {user.id for user in plan.by_rule("idle accounts to deactivate").records}
    assert world.admin.id not in idle and world.london_rep.id in idle


def test_a_shorter_schedule_takes_effect(app, world, cli):
    estate = make_estate(world)
    from napo_tracker.schedule import EXTENSION, parse_schedule

    app.extensions[EXTENSION] = parse_schedule(dict(app.config["RETENTION_SCHEDULE"], closed_cases="4 years"))
    plan = retention.plan()
    assert estate.recent_closed in plan.by_rule("closed cases to anonymise").records


def test_the_nightly_job_applies_the_schedule_like_the_command(app, world):
    from napo_tracker.jobs.services import enqueue

    estate = make_estate(world)
    enqueue("privacy.retention")
    db.session.commit()  # without Redis, the job runs in this process once the request commits
    db.session.expire_all()
    assert estate.old_case.anonymised_on == today() and estate.alone.erased_on == today()
    assert count(AuditEvent, AuditEvent.action == AuditAction.RETENTION_APPLIED.value) == 1
