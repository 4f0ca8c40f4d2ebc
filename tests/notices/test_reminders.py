"""`flask notices remind`: a real SMTP server on localhost receives the reminders."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from napo_tracker.extensions import db
from napo_tracker.notices import services
from napo_tracker.notices.models import NoticeReminder
from napo_tracker.notices.reminders import MailError, send_reminders

from .. import mailbox

# Served Mon 2 March 2026: due Mon 16 March. On 12 March it is due soon; on 20 March overdue.
SERVED_ON = date(2026, 3, 2)


@pytest.fixture
def smtp_server():
    """Start an aiosmtpd server; yields a function that starts one and returns (inbox, port)."""
    servers = []

    def _start(reply: str | None = None, refuse: str | None = None):
        inbox, controller = mailbox.start(reply, refuse)
        servers.append(controller)
        return inbox, controller.port

    yield _start
    for controller in servers:
        controller.stop()


def use_server(app, port: int) -> None:
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5, PUBLIC_BASE_URL="https://tracker.example.org"
    )


def sent_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(NoticeReminder)) or 0


def test_each_rep_gets_references_and_dates_only_and_a_second_run_sends_nothing(app, world, make_notice, smtp_server):
    due_soon = make_notice(served_on=SERVED_ON, today=SERVED_ON, served_to_name="Jo Manager")
    overdue = make_notice(served_on=date(2026, 2, 2), today=date(2026, 2, 2))
    make_notice(served_on=date(2026, 3, 11), today=date(2026, 3, 11))  # due 25 March: not yet
    make_notice()  # a draft: no clock
    wales = make_notice(user=world.wales_rep, region=world.wales, served_on=SERVED_ON, today=SERVED_ON)
    inbox, port = smtp_server()
    use_server(app, port)

    result = send_reminders(date(2026, 3, 12))
    assert (result.sent, result.notices) == (2, 3)
    assert sorted(r[0] for r in inbox.recipients) == ["rep.london@example.org", "rep.wales@example.org"]
    london = next(m for m in inbox.messages if m["To"] == "rep.london@example.org")
    body = london.get_payload(decode=True).decode()
    assert due_soon.reference in body and overdue.reference in body and wales.reference not in body
    assert "OVERDUE" in body and "due soon" in body and "Mon 16 Mar 2026" in body
    assert f"https://tracker.example.org/notices/{due_soon.reference}" in body
    for private in ("Jo Manager", "Head of PDU", "142", "58", "London PDU"):
        assert private not in body, private

    again = send_reminders(date(2026, 3, 12))
    assert again.sent == 0 and len(inbox.messages) == 2
    assert sent_rows() == 3
    # the next day they are due again
    assert send_reminders(date(2026, 3, 13)).sent == 2


def test_a_response_stops_the_reminders(app, world, make_notice, smtp_server):
    notice = make_notice(served_on=SERVED_ON, today=SERVED_ON)
    services.record_response(world.london_rep, notice, date(2026, 3, 10), "Answered.", None, on=date(2026, 3, 10))
    db.session.commit()
    inbox, port = smtp_server()
    use_server(app, port)
    assert send_reminders(date(2026, 3, 20)).sent == 0 and inbox.messages == []


def test_a_server_that_refuses_marks_nothing_as_sent(app, world, make_notice, smtp_server):
    make_notice(served_on=SERVED_ON, today=SERVED_ON)
    _inbox, port = smtp_server(reply="554 Transaction failed")
    use_server(app, port)
    with pytest.raises(MailError, match="554"):
        send_reminders(date(2026, 3, 20))
    assert sent_rows() == 0


def test_a_refusal_half_way_keeps_the_marks_of_the_e_mails_already_delivered(app, world, make_notice, smtp_server):
    london = make_notice(served_on=SERVED_ON, today=SERVED_ON)
    make_notice(user=world.wales_rep, region=world.wales, served_on=SERVED_ON, today=SERVED_ON)
    inbox, port = smtp_server(refuse="rep.wales@example.org")
    use_server(app, port)
    with pytest.raises(MailError, match="550"):
        send_reminders(date(2026, 3, 20))  # the London rep first (lower id), then Wales
    db.session.rollback()  # as the command's boundary does on the error
    assert [m["To"] for m in inbox.messages] == ["rep.london@example.org"]
    marked = db.session.execute(select(NoticeReminder.user_id, NoticeReminder.notice_id)).all()
    assert marked == [(world.london_rep.id, london.id)]
    # the next run sends only what was not delivered
    inbox.refuse = None
    assert send_reminders(date(2026, 3, 20)).sent == 1
    assert [m["To"] for m in inbox.messages] == ["rep.london@example.org", "rep.wales@example.org"]


def test_remind_command_with_no_server_listening_exits_non_zero(app, world, make_notice):
    make_notice(served_on=SERVED_ON, today=SERVED_ON)
    use_server(app, mailbox.free_port())  # nothing listens there
    result = app.test_cli_runner().invoke(args=["notices", "remind", "--date", "2026-03-20"])
    assert result.exit_code != 0
    assert "could not connect to the mail server" in result.output
    assert "not marked as sent" in result.output
    assert sent_rows() == 0


def test_remind_command_dry_run_and_development_outbox(app, world, make_notice, tmp_path):
    notice = make_notice(served_on=SERVED_ON, today=SERVED_ON)
    app.config.update(MAIL_SERVER=None, MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["notices", "remind", "--dry-run", "--date", "2026-03-20"])
    assert dry.exit_code == 0, dry.output
    assert f"would remind rep.london@example.org: {notice.reference}" in dry.output
    assert sent_rows() == 0 and not (tmp_path / "outbox").exists()
    real = runner.invoke(args=["notices", "remind", "--date", "2026-03-20"])
    assert real.exit_code == 0, real.output
    assert "Sent 1 reminder" in real.output
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1 and notice.reference in files[0].read_text()
    assert "No reminders" in runner.invoke(args=["notices", "remind", "--date", "2026-03-20"]).output
