"""Subject access requests: recorded by admins, answered within one calendar month, with reminders."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from napo_tracker import storage
from napo_tracker.audit.models import AuditEvent
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today
from napo_tracker.privacy import services as svc
from napo_tracker.privacy.erasure import PrivacyError
from napo_tracker.privacy.models import SubjectAccessRequest
from tests.helpers import count, csrf_from, submit

from .test_erasure import make_records


def test_the_deadline_is_one_calendar_month_from_receipt():
    assert svc.due_on_for(date(2026, 3, 5)) == date(2026, 4, 5)
    assert svc.due_on_for(date(2026, 1, 31)) == date(2026, 2, 28)
    assert svc.due_on_for(date(2027, 12, 31)) == date(2028, 1, 31)


def test_an_admin_records_a_request_exports_it_and_marks_it_answered(app, world, client, login_as):
    records = make_records(world)
    login_as(world.admin)
    received = today() - timedelta(days=3)
    made = submit(
        client,
        "/admin/privacy/requests/new",
        {"member": "N12345", "received_on": received.isoformat(), "received_via": "email"},
    )
    assert made.status_code == 302
    request = db.session.scalars(select(SubjectAccessRequest)).one()
    assert request.reference == f"SAR-{received.year}-0001" and request.member_id == records.ada.id
    assert request.due_on == svc.due_on_for(received)

    listing = client.get("/admin/privacy/requests")
    assert request.reference in listing.text and records.ada.pseudonym in listing.text
    page = client.get(made.headers["Location"])
    assert page.status_code == 200 and f"{request.due_on:%-d %B %Y}" in page.text

    too_soon = client.post(
        f"/admin/privacy/requests/{request.reference}/answered",
        data={"csrf_token": csrf_from(page.text), "answered_on": today().isoformat()},
    )
    assert too_soon.status_code == 400 and "Make the export first" in too_soon.text

    assert client.get(f"/admin/privacy/requests/{request.reference}/export.zip").status_code == 404  # none yet
    made = client.post(f"/admin/privacy/requests/{request.reference}/export", data={"csrf_token": csrf_from(page.text)})
    assert made.status_code == 302 and "/jobs/" in made.headers["Location"]  # made by a job (here, at once)
    job_page = client.get(made.headers["Location"])  # done: it sends the admin back to the request
    assert job_page.status_code == 302 and job_page.location.endswith(f"/admin/privacy/requests/{request.reference}")
    db.session.expire_all()
    assert request.export_file is not None
    kept = storage.path_for(request.export_file).read_bytes()
    assert b"N12345" not in kept and b"data.json" not in kept  # kept encrypted, never as a plain ZIP
    assert "Download the export (ZIP)" in client.get(f"/admin/privacy/requests/{request.reference}").text
    download = client.get(f"/admin/privacy/requests/{request.reference}/export.zip")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert download.headers["Cache-Control"] == "no-store"
    assert "attachment" in download.headers["Content-Disposition"]
    data = json.loads(zipfile.ZipFile(io.BytesIO(download.data)).read("data.json"))
    assert data["member"]["membership_number"] == "N12345"
    assert data["access_requests"][0]["reference"] == request.reference
    db.session.expire_all()
    assert request.exported_on == today()
    stored_name = request.export_file
    assert stored_name is not None

    answered = client.post(
        f"/admin/privacy/requests/{request.reference}/answered",
        data={"csrf_token": csrf_from(page.text), "answered_on": today().isoformat()},
    )
    assert answered.status_code == 302
    db.session.expire_all()
    assert request.status == "answered" and request.answered_on == today()
    # The member has their copy: the union keeps no other.
    assert request.export_file is None and not storage.path_for(stored_name).exists()
    assert client.get(f"/admin/privacy/requests/{request.reference}/export.zip").status_code == 404
    downloads = count(AuditEvent, AuditEvent.action == "access-request:export:downloaded")
    assert downloads == 1


@pytest.mark.parametrize(
    "values, says",
    [
        ({"member": "N00000"}, "No member has the membership number or pseudonym"),
        ({"member": ""}, "Give the member&#39;s membership number or pseudonym."),
        ({"received_on": (today() + timedelta(days=1)).isoformat()}, "cannot be received after today"),
        ({"received_on": "31/02/2026"}, "Not a valid date value"),
        ({"received_via": "pigeon"}, "Not a valid choice"),
    ],
)
def test_a_bad_request_form_says_why_and_records_nothing(app, world, client, login_as, values, says):
    make_records(world)
    login_as(world.admin)
    form = {"member": "N12345", "received_on": today().isoformat(), "received_via": "letter"} | values
    response = submit(client, "/admin/privacy/requests/new", form)
    assert response.status_code == 400 and says in response.text
    assert count(SubjectAccessRequest) == 0


@pytest.mark.parametrize("who", ["london_rep", "official"])
def test_only_admins_see_the_requests(app, world, client, login_as, who):
    login_as(getattr(world, who))
    assert client.get("/admin/privacy/requests").status_code == 403
    assert client.get("/admin/privacy/requests/new").status_code == 403


def test_a_missing_request_is_a_404(app, world, client, login_as):
    login_as(world.admin)
    assert client.get("/admin/privacy/requests/SAR-2026-9999").status_code == 404


def test_an_erased_member_cannot_have_a_new_request(app, world):
    records = make_records(world)
    from napo_tracker.privacy.erasure import erase_member

    erase_member(world.admin, records.ada)
    with pytest.raises(PrivacyError, match="erased"):
        svc.record_request(world.admin, records.ada, received_on=today(), received_via="letter")


# ---------------------------------------------------------------- reminders


def test_admins_are_reminded_once_a_day_content_free(app, world, cli, mail_server):
    records = make_records(world)
    due_soon = svc.record_request(
        world.admin, records.ada, received_on=today() - timedelta(days=27), received_via="rep"
    )
    overdue = svc.record_request(
        world.admin, records.bob, received_on=today() - timedelta(days=40), received_via="email"
    )
    later = svc.record_request(world.admin, records.bob, received_on=today(), received_via="letter")
    db.session.commit()

    dry = cli("members", "remind", "--dry-run")
    assert dry.exit_code == 0 and "Dry run" in dry.output and not mail_server.messages

    sent = cli("members", "remind")
    assert sent.exit_code == 0, sent.output
    assert "Reminded 1 admin(s) about 2 request(s)" in sent.output
    (body,) = mail_server.bodies_to("admin@example.org")
    assert due_soon.reference in body and overdue.reference in body and later.reference not in body
    assert "OVERDUE" in body and "https://tracker.example.org/admin/privacy/requests/" in body
    assert "Ada" not in body and "N12345" not in body and records.ada.pseudonym not in body

    again = cli("members", "remind")
    assert "No subject access request needs a reminder today" in again.output
    assert len(mail_server.messages) == 1
