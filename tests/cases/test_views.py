"""Casework pages through the real stack: scoping, bad input, conflicts, uploads, lists, export."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.cases import services, views
from napo_tracker.cases.models import Case, CaseAttachment, CaseEntry, Member
from napo_tracker.cases.services import CaseError, change_status
from napo_tracker.extensions import db
from napo_tracker.kernel import clock
from napo_tracker.kernel.errors import STALE_MESSAGE
from tests import factories
from tests.files import EML, HTML, PAGE_TEXT, jpeg_with_gps, pdf_bytes, pdf_text, stored_files
from tests.helpers import csrf_from, form_tokens, post_file, submit


def case_form(region, **overrides) -> dict:
    data = {
        "region_id": str(region.id),
        "unit_id": "",
        "member_id": "",
        "category": "excessive_workload",
        "title": "Caseload at 130 %",
        "description": "Too many cases.",
        "grade": "PO",
        "wmt_percent": "130",
        "caseload": "61",
        "priority": "high",
        "assigned_rep_id": "",
        "next_action": "Meet the SPO",
        "next_action_on": "",
        "version": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


VERSION = re.compile(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"')


def version_in(html: str) -> str:
    """The version an edit form carries in its hidden field."""
    match = VERSION.search(html)
    assert match is not None, "no version field in the form"
    return match.group(1) or match.group(2)


def token(client) -> str:
    return csrf_from(client.get("/cases/").data)


def cases_count() -> int:
    return db.session.scalars(select(func.count(Case.id))).one()


def fail_the_audit_write(monkeypatch, error: Exception) -> None:
    """The services write their audit entry after their flush: failing it fails them half-way."""

    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(services, "record", refuse)


def save_in_between(monkeypatch, name: str, **theirs) -> None:
    """Someone else saves the case (in their own session) just before the view's service writes."""
    service = getattr(views, name)

    def racing(actor, case, *args, **kwargs):
        with Session(db.engine) as other:
            saved = other.get(Case, case.id)
            for field, value in theirs.items():
                setattr(saved, field, value)
            other.commit()
        return service(actor, case, *args, **kwargs)

    monkeypatch.setattr(views, name, racing)


def audit_actions(target_ref=None) -> list[str]:
    stmt = select(AuditEvent.action).order_by(AuditEvent.id)
    if target_ref:
        stmt = stmt.where(AuditEvent.target_ref == target_ref)
    return list(db.session.scalars(stmt))


# ---------------------------------------------------------------- region isolation


def test_a_rep_of_another_region_gets_404_on_every_case_route(client, login_as, world, make_case, make_member):
    member = make_member()
    case = make_case(member_id=member.id, title="London only")
    attachment = factories.make_attachment(world.london_rep, case, pdf_bytes(), "a.pdf")
    login_as(world.wales_rep)
    csrf = token(client)
    ref = case.reference
    gets = [
        f"/cases/{ref}",
        f"/cases/{ref}/edit",
        f"/cases/{ref}/attachments/{attachment.id}",
        f"/cases/members/{member.id}",
        f"/cases/new?member={member.id}",
        "/cases/new?member=99999999999",  # past what a database integer holds: missing, not an error
        "/cases/members/99999999999",
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = {
        f"/cases/{ref}/edit": case_form(world.london, title="hijack"),
        f"/cases/{ref}/status": {"status": "in_progress"},
        f"/cases/{ref}/timeline": {"kind": "note", "happened_on": clock.today().isoformat(), "body": "x"},
        f"/cases/{ref}/attachments": {"file": (io.BytesIO(pdf_bytes()), "b.pdf")},
        f"/cases/{ref}/attachments/{attachment.id}/delete": {},
    }
    for url, data in posts.items():
        assert client.post(url, data={"csrf_token": csrf, **data}).status_code == 404, url
    listing = client.get("/cases/?view=all").get_data(as_text=True)
    assert ref not in listing and "London only" not in listing
    assert ref not in client.get("/cases/?q=London").get_data(as_text=True)
    exported = client.get("/cases/export.csv?columns=reference&columns=title").get_data(as_text=True)
    assert ref not in exported
    assert "M-" not in client.get("/cases/members/").get_data(as_text=True)
    db.session.expire_all()
    assert (
        db.session.get_one(Case, case.id).title == "London only" and db.session.get_one(Case, case.id).status == "open"
    )
    assert len(db.session.get_one(Case, case.id).attachments) == 1


# ---------------------------------------------------------------- members


def test_identity_shown_only_to_reps_of_the_region_and_audited(client, login_as, world, make_member):
    member = make_member(name="Bronwen Private", membership_number="N12345")
    login_as(world.official)
    page = client.get(f"/cases/members/{member.id}").get_data(as_text=True)
    assert member.pseudonym in page and "Bronwen Private" not in page and "N12345" not in page
    assert AuditAction.MEMBER_VIEWED not in audit_actions()
    login_as(world.london_rep)
    page = client.get(f"/cases/members/{member.id}").get_data(as_text=True)
    assert "Bronwen Private" in page and "N12345" in page and "ada@example.org" in page
    viewed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.MEMBER_VIEWED)).all()
    assert [(e.actor_label, e.target_ref) for e in viewed] == [("rep.london@example.org", member.pseudonym)]
    assert "Bronwen" not in str(viewed[0].details)


def test_recording_a_member_refuses_bad_input(client, login_as, world):
    login_as(world.london_rep)
    response = submit(client, "/cases/members/new", {"region_id": str(world.wales.id), "name": "X"})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    response = submit(client, "/cases/members/new", {"region_id": str(world.london.id), "name": "Ann\u202eX"})
    assert response.status_code == 400 and "text-direction" in response.get_data(as_text=True)
    ok = submit(
        client,
        "/cases/members/new",
        {"region_id": str(world.london.id), "name": "Ann Member", "membership_number": "77", "grade": "NQO"},
    )
    assert ok.status_code == 302
    again = submit(
        client, "/cases/members/new", {"region_id": str(world.london.id), "name": "Another", "membership_number": "77"}
    )
    assert again.status_code == 400 and "already recorded" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Member.id))) == 1
    login_as(world.official)
    assert client.get("/cases/members/new").status_code == 403


# ---------------------------------------------------------------- creating and editing


def test_a_rep_logs_a_case(client, login_as, world, london_unit, make_member):
    member = make_member()
    login_as(world.london_rep)
    assert 'name="region_id"' in client.get(f"/cases/new?member={member.id}").get_data(as_text=True)
    response = submit(
        client,
        "/cases/new",
        case_form(
            world.london,
            unit_id=str(london_unit.id),
            member_id=str(member.id),
            assigned_rep_id=str(world.london_rep.id),
            has_mappa_cases="y",
            has_evidence_consent="y",
            next_action_on="2026-12-01",
        ),
        form_url="/cases/new",
    )
    assert response.status_code == 302
    case = db.session.scalars(select(Case)).one()
    assert response.headers["Location"] == f"/cases/{case.reference}"
    assert (case.wmt_percent, case.caseload, case.has_mappa_cases, case.has_domestic_abuse_cases) == (
        130,
        61,
        True,
        False,
    )
    assert case.member_id == member.id and case.assigned_rep_id == world.london_rep.id and case.has_evidence_consent
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Holds MAPPA cases" in page and member.pseudonym in page and "Ada Example" not in page


BAD_CASE_INPUT = [
    ({"wmt_percent": "-5"}, "WMT must be between 0 and 400"),
    ({"wmt_percent": "1e9"}, "Not a valid integer"),
    ({"wmt_percent": "abc"}, "Not a valid integer"),
    ({"wmt_percent": "401"}, "WMT must be between 0 and 400"),
    ({"caseload": "501"}, "Caseload must be between 0 and 500"),
    ({"next_action_on": "1900-01-01"}, "Give a date between"),
    ({"next_action_on": "31/02/2026"}, "Not a valid date"),
    ({"category": "made_up"}, "Not a valid choice"),
    ({"priority": "whenever"}, "Not a valid choice"),
    ({"title": ""}, "Give the case a short title"),
    ({"title": "x" * 201}, "200 characters"),
    ({"title": "evil\u202etxt"}, "text-direction"),
    ({"region_id": "abc"}, "Choose one from the list."),
]


def test_bad_case_input_is_refused_next_to_the_field(client, login_as, world):
    login_as(world.london_rep)
    for overrides, message in BAD_CASE_INPUT:
        response = submit(client, "/cases/new", case_form(world.london, **overrides))
        assert response.status_code == 400, overrides
        text = response.get_data(as_text=True)
        assert message in text and "invalid-feedback" in text, overrides
    assert cases_count() == 0


def test_crafted_posts_cannot_reach_other_regions(client, login_as, world, make_member):
    welsh_member = make_member(actor=world.wales_rep, region=world.wales)
    login_as(world.london_rep)
    for overrides in (
        {"region_id": str(world.wales.id)},
        {"assigned_rep_id": str(world.wales_rep.id)},
        {"member_id": str(welsh_member.id)},
    ):
        response = submit(client, "/cases/new", case_form(world.london, **overrides))
        assert response.status_code == 400, overrides
    assert cases_count() == 0


def test_admin_assigning_across_regions_is_told_why(client, login_as, world):
    login_as(world.admin)
    response = submit(client, "/cases/new", case_form(world.london, assigned_rep_id=str(world.wales_rep.id)))
    assert response.status_code == 400
    assert "Assign the case to a rep of its own region." in response.get_data(as_text=True)
    assert cases_count() == 0


def test_edit_ignores_extra_fields_and_refuses_out_of_scope_ones(client, login_as, world, make_case):
    case = make_case()
    login_as(world.london_rep)
    url = f"/cases/{case.reference}/edit"
    response = submit(
        client,
        url,
        case_form(
            world.london,
            title="Renamed",
            version=str(case.version),
            status="closed",
            reference="CASE-1999-0001",
            created_by_id="99",
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    case = db.session.get_one(Case, case.id)
    assert (case.title, case.status, case.reference[:9]) == ("Renamed", "open", f"CASE-{clock.today().year}")
    response = submit(client, url, case_form(world.london, region_id=str(world.wales.id), version=str(case.version)))
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get_one(Case, case.id).region_id == world.london.id


def test_the_second_of_two_conflicting_saves_is_refused_with_what_changed(client, login_as, world, make_case):
    case = make_case(title="Original title", wmt_percent=120)
    login_as(world.london_rep)
    url = f"/cases/{case.reference}/edit"
    form_page = client.get(url).get_data(as_text=True)
    seen = version_in(form_page)
    first = submit(
        client, url, case_form(world.london, title="Saved by the first rep", wmt_percent="120", version=seen)
    )
    assert first.status_code == 302
    second = submit(client, url, case_form(world.london, title="Second rep's title", wmt_percent="150", version=seen))
    assert second.status_code == 409
    text = second.get_data(as_text=True)
    assert (
        "Someone else saved this case" in text and "Saved by the first rep" in text and "Second rep&#39;s title" in text
    )
    db.session.expire_all()
    saved = db.session.get_one(Case, case.id)
    assert (saved.title, saved.wmt_percent) == ("Saved by the first rep", 120)
    # Having seen the conflict, saving again is a deliberate overwrite.
    third = submit(
        client, url, case_form(world.london, title="Second rep's title", wmt_percent="150", version=version_in(text))
    )
    assert third.status_code == 302
    db.session.expire_all()
    assert db.session.get_one(Case, case.id).title == "Second rep's title"


@pytest.mark.parametrize("error", [CaseError("The audit log refused it."), RuntimeError("audit store down")])
def test_a_case_failing_half_way_through_logging_leaves_nothing(client, login_as, world, monkeypatch, error):
    login_as(world.london_rep)
    form_page = client.get("/cases/new").data
    fail_the_audit_write(monkeypatch, error)
    data = {**form_tokens(form_page), **case_form(world.london, assigned_rep_id=str(world.london_rep.id))}
    if isinstance(error, CaseError):
        response = client.post("/cases/new", data=data)
        assert response.status_code == 400 and "The audit log refused it." in response.get_data(as_text=True)
    else:
        with pytest.raises(RuntimeError):
            client.post("/cases/new", data=data)
    assert cases_count() == 0
    assert db.session.scalar(select(func.count(CaseEntry.id))) == 0


def test_a_save_that_loses_the_race_at_the_write_is_a_conflict_with_what_changed(
    client, login_as, world, make_case, monkeypatch
):
    """Both saves passed the version check; the version column refuses the second at the write."""
    case = make_case(title="Original title")
    login_as(world.london_rep)
    url = f"/cases/{case.reference}/edit"
    save_in_between(monkeypatch, "update_case", title="Saved in between")
    response = submit(client, url, case_form(world.london, title="My title", version=str(case.version)))
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "Someone else saved this case" in text and "Saved in between" in text and "My title" in text
    assert STALE_MESSAGE not in text  # the conflict box says it, once
    db.session.expire_all()
    saved = db.session.get_one(Case, case.id)
    assert saved.title == "Saved in between"
    assert version_in(text) == str(saved.version)  # saving again now overwrites, knowingly


# ---------------------------------------------------------------- status, timeline


def test_status_changes_follow_the_machine(client, login_as, world, make_case):
    case = make_case()
    login_as(world.london_rep)
    url, page = f"/cases/{case.reference}/status", f"/cases/{case.reference}"
    refused = submit(client, url, {"status": "closed"}, form_url=page)
    assert refused.status_code == 400 and "cannot move to closed" in refused.get_data(as_text=True)
    assert submit(client, url, {"status": "deleted"}, form_url=page).status_code == 400
    no_outcome = submit(client, url, {"status": "resolved", "outcome": " "}, form_url=page)
    assert no_outcome.status_code == 400 and "Say what the outcome was" in no_outcome.get_data(as_text=True)
    assert submit(client, url, {"status": "escalated", "note": "To the PDU head."}, form_url=page).status_code == 302
    assert submit(client, url, {"status": "resolved", "outcome": "Ten cases moved."}, form_url=page).status_code == 302
    db.session.expire_all()
    case = db.session.get_one(Case, case.id)
    assert (case.status, case.outcome) == ("resolved", "Ten cases moved.")
    assert audit_actions(case.reference).count(AuditAction.CASE_STATUS_CHANGED) == 2


def test_a_status_change_that_loses_the_race_is_sent_back_to_the_case(client, login_as, world, make_case, monkeypatch):
    case = make_case()
    login_as(world.london_rep)
    page = f"/cases/{case.reference}"
    save_in_between(monkeypatch, "change_status", status="escalated")
    response = submit(client, f"{page}/status", {"status": "in_progress"}, form_url=page)
    assert response.status_code == 302 and response.headers["Location"] == page
    assert "Someone else changed this case just now" in client.get(page).get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get_one(Case, case.id)
    assert saved.status == "escalated"
    assert AuditAction.CASE_STATUS_CHANGED not in audit_actions(case.reference)


def test_timeline_entries(client, login_as, world, make_case):
    case = make_case()
    login_as(world.london_rep)
    url, page = f"/cases/{case.reference}/timeline", f"/cases/{case.reference}"
    ok = submit(
        client,
        url,
        {"kind": "meeting", "happened_on": clock.today().isoformat(), "body": "Met the member and the SPO."},
        form_url=page,
    )
    assert ok.status_code == 302
    for data, message in (
        ({"kind": "note", "happened_on": "1900-01-01", "body": "x"}, "Give a date between"),
        (
            {"kind": "note", "happened_on": (clock.today() + timedelta(days=3)).isoformat(), "body": "x"},
            "Give a date between",
        ),
        ({"kind": "note", "happened_on": clock.today().isoformat(), "body": ""}, "Write what happened"),
        ({"kind": "status", "happened_on": clock.today().isoformat(), "body": "x"}, "Not a valid choice"),
    ):
        response = submit(client, url, data, form_url=page)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    detail = client.get(page).get_data(as_text=True)
    assert detail.index("Met the member and the SPO.") < detail.index("Case opened.")
    assert len(db.session.get_one(Case, case.id).entries) == 2


# ---------------------------------------------------------------- attachments


def upload(client, case, data: bytes, name: str):
    tokens = form_tokens(client.get(f"/cases/{case.reference}").data)
    return post_file(client, f"/cases/{case.reference}/attachments", data, name, **tokens)


def test_uploads_are_checked_stored_and_served_as_downloads(app, client, login_as, world, make_case):
    case = make_case()
    login_as(world.london_rep)
    assert upload(client, case, pdf_bytes(), "../../../etc/letter.pdf").status_code == 302
    assert upload(client, case, jpeg_with_gps(), "photo\u202egpj.jpg").status_code == 302
    assert upload(client, case, EML, "manager.eml").status_code == 302
    attachments = sorted(db.session.scalars(select(CaseAttachment)), key=lambda a: a.id)
    assert [a.original_name for a in attachments] == ["letter.pdf", "photogpj.jpg", "manager.eml"]
    assert all(a.stored_name in stored_files(app) and ".." not in a.stored_name for a in attachments)
    with client.get(f"/cases/{case.reference}/attachments/{attachments[0].id}") as response:
        assert response.status_code == 200 and pdf_text(response.data) == PAGE_TEXT  # rewritten, words kept
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/pdf"
    with client.get(f"/cases/{case.reference}/attachments/{attachments[1].id}") as response:
        photo = response.data
    assert b"SecretCam" not in photo and b"Exif" not in photo
    assert AuditAction.CASE_ATTACHMENT_DOWNLOADED in audit_actions(case.reference)
    # an attachment is reachable only through its own case
    other = make_case(title="Another")
    assert client.get(f"/cases/{other.reference}/attachments/{attachments[0].id}").status_code == 404
    assert (
        client.post(
            f"/cases/{other.reference}/attachments/{attachments[0].id}/delete", data={"csrf_token": token(client)}
        ).status_code
        == 404
    )
    # removing one deletes its record and, after the commit, its file
    removed = client.post(
        f"/cases/{case.reference}/attachments/{attachments[2].id}/delete", data={"csrf_token": token(client)}
    )
    assert removed.status_code == 302
    assert attachments[2].stored_name not in stored_files(app) and len(stored_files(app)) == 2
    assert AuditAction.CASE_ATTACHMENT_DELETED in audit_actions(case.reference)
    assert client.post(f"/cases/{case.reference}/attachments/{attachments[0].id}/delete").status_code == 400


def test_refused_uploads_leave_nothing_behind(app, client, login_as, world, make_case):
    case = make_case()
    login_as(world.london_rep)
    for data, name, message in (
        (HTML, "letter.pdf", "web page"),
        (b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024), "huge.pdf", "the most we accept is 10 MB"),
        (b"MZ" + bytes(100), "tool.exe", "could not recognise"),
        (b"", "empty.txt", "The file is empty"),
    ):
        response = upload(client, case, data, name)
        assert response.status_code == 400, name
        assert message in response.get_data(as_text=True), name
    assert db.session.scalar(select(func.count(CaseAttachment.id))) == 0
    assert stored_files(app) == []
    assert AuditAction.CASE_ATTACHMENT_ADDED not in audit_actions(case.reference)


@pytest.mark.parametrize("error", [CaseError("The audit log refused it.", "file"), RuntimeError("audit store down")])
def test_an_upload_failing_half_way_leaves_no_row_and_no_file(
    app, client, login_as, world, make_case, monkeypatch, error
):
    case = make_case()
    login_as(world.london_rep)
    tokens = form_tokens(client.get(f"/cases/{case.reference}").data)  # opening the page is audited too
    fail_the_audit_write(monkeypatch, error)  # after the file is written and its row flushed
    url = f"/cases/{case.reference}/attachments"
    if isinstance(error, CaseError):
        response = post_file(client, url, pdf_bytes(), "letter.pdf", **tokens)
        assert response.status_code == 400 and "The audit log refused it." in response.get_data(as_text=True)
    else:
        with pytest.raises(RuntimeError):
            post_file(client, url, pdf_bytes(), "letter.pdf", **tokens)
    assert db.session.scalar(select(func.count(CaseAttachment.id))) == 0
    assert stored_files(app) == []
    assert [entry.kind for entry in db.session.scalars(select(CaseEntry))] == ["status"]


@pytest.mark.parametrize("error", [CaseError("The audit log refused it."), RuntimeError("audit store down")])
def test_a_deletion_failing_half_way_keeps_the_row_and_the_file(
    app, client, login_as, world, make_case, monkeypatch, error
):
    case = make_case()
    attachment = factories.make_attachment(world.london_rep, case, pdf_bytes())
    attachment_id, stored_name = attachment.id, attachment.stored_name
    login_as(world.london_rep)
    csrf = token(client)
    fail_the_audit_write(monkeypatch, error)  # after the row is deleted and flushed
    url = f"/cases/{case.reference}/attachments/{attachment_id}/delete"
    if isinstance(error, CaseError):
        response = client.post(url, data={"csrf_token": csrf})
        assert response.status_code == 400 and "The audit log refused it." in response.get_data(as_text=True)
    else:
        with pytest.raises(RuntimeError):
            client.post(url, data={"csrf_token": csrf})
    db.session.expire_all()
    assert db.session.get(CaseAttachment, attachment_id) is not None
    assert stored_files(app) == [stored_name]


# ---------------------------------------------------------------- lists


def test_lists_filter_sort_and_page(client, login_as, world, make_case):
    make_case(title="Alpha workload", wmt_percent=192, has_domestic_abuse_cases=True)
    make_case(
        title="Beta cover",
        category="no_cover",
        wmt_percent=118,
        assigned_rep_id=world.london_rep.id,
        next_action_on=clock.today() - timedelta(days=2),
    )
    for n in range(26):
        make_case(title=f"Filler {n:02d}")
    login_as(world.london_rep)
    text = client.get("/cases/?category=no_cover").get_data(as_text=True)
    assert "Beta cover" in text and "Alpha workload" not in text
    text = client.get("/cases/?risk=has_domestic_abuse_cases").get_data(as_text=True)
    assert "Alpha workload" in text and "Beta cover" not in text
    text = client.get("/cases/?view=mine").get_data(as_text=True)
    assert "Beta cover" in text and "Filler" not in text
    text = client.get("/cases/?view=overdue").get_data(as_text=True)
    assert "Beta cover" in text and "overdue" in text and "Filler" not in text
    text = client.get("/cases/?q=ALPHA").get_data(as_text=True)
    assert "Alpha workload" in text and "1 case<" in text
    text = client.get("/cases/?sort=wmt_percent&direction=desc").get_data(as_text=True)
    assert text.index("Alpha workload") < text.index("Beta cover") < text.index("Filler")
    first, second = client.get("/cases/?sort=title"), client.get("/cases/?sort=title&page=2")
    assert "Page 1 of 2" in first.get_data(as_text=True) and "Filler 25" in second.get_data(as_text=True)
    for bad in (
        "sort=password_hash",
        "status=bogus",
        "region_id=abc",
        "opened_from=1900-01-01",
        "opened_from=2026-05-01&opened_to=2026-01-01",
        f"region_id={world.wales.id}",
    ):
        assert client.get(f"/cases/?{bad}").status_code == 400, bad


def test_list_statement_count_does_not_grow_with_rows(app, client, login_as, world, make_case, make_member):
    def statements(url: str) -> int:
        count = 0

        def before(*args):
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
        return count

    member = make_member()
    login_as(world.london_rep)
    urls = ["/cases/?view=all", "/cases/?view=overdue&sort=next_action_on", "/", "/cases/members/"]

    def add(n):
        for i in range(n):
            make_case(
                title=f"Case {i}",
                member_id=member.id,
                assigned_rep_id=world.london_rep.id,
                next_action_on=clock.today() - timedelta(days=1),
            )
            make_member(name=f"M {i}")

    add(5)
    few = [statements(url) for url in urls]
    add(45)
    many = [statements(url) for url in urls]
    assert few == many


# ---------------------------------------------------------------- export


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_export_the_filtered_list_with_chosen_columns(client, login_as, world, make_case, make_member):
    member = make_member(name="Dai Private", membership_number="N999")
    make_case(title='=HYPERLINK("http://evil")', member_id=member.id, category="pay")
    make_case(title="Not a pay case")
    login_as(world.london_rep)
    response = client.get("/cases/export.csv?category=pay&columns=reference&columns=title&columns=member_name")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = read_csv(response)
    assert rows[0] == ["Reference", "Title", "Member name"]
    assert len(rows) == 2 and rows[1][1].startswith("'=") and rows[1][2] == "Dai Private"
    exported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.CASES_EXPORTED)).one()
    assert exported.details["rows"] == 1 and exported.details["identifying"] is True
    # officials never get identifying columns, even by asking
    login_as(world.official)
    assert client.get("/cases/export.csv?columns=member_name").status_code == 400
    rows = read_csv(client.get("/cases/export.csv?columns=reference&columns=member"))
    assert rows[0] == ["Reference", "Member (pseudonym)"] and member.pseudonym in [r[1] for r in rows]
    assert "Dai Private" not in str(rows)


# ---------------------------------------------------------------- home page


def test_rep_home_page_panel(client, login_as, world, make_case):
    mine = make_case(
        title="Mine and late",
        assigned_rep_id=world.london_rep.id,
        next_action_on=clock.today() - timedelta(days=1),
        next_action="Chase the SPO",
    )
    done = make_case(title="Finished one", assigned_rep_id=world.london_rep.id)
    change_status(world.london_rep, done, "resolved", outcome="Done.")
    db.session.commit()
    login_as(world.london_rep)
    text = client.get("/").get_data(as_text=True)
    assert "My open cases (1)" in text and "Overdue next actions (1)" in text and "Chase the SPO" in text
    assert mine.reference in text
    login_as(world.wales_rep)
    assert mine.reference not in client.get("/").get_data(as_text=True)


def test_member_details_are_corrected_by_those_who_may_see_them(client, login_as, world, make_member):
    member = make_member(name="Old Name", membership_number="A1")
    make_member(name="Someone Else", membership_number="B2")
    url = f"/cases/members/{member.id}/edit"
    login_as(world.official)
    assert client.get(url).status_code == 403
    login_as(world.wales_rep)
    assert client.get(url).status_code == 404
    login_as(world.london_rep)
    clash = submit(client, url, {"name": "New Name", "membership_number": "B2", "region_id": str(world.wales.id)})
    assert clash.status_code == 400 and "already recorded" in clash.get_data(as_text=True)
    ok = submit(
        client, url, {"name": "New Name", "membership_number": "A1", "region_id": str(world.wales.id), "grade": "SPO"}
    )
    assert ok.status_code == 302
    db.session.expire_all()
    saved = db.session.get_one(Member, member.id)
    assert (saved.name, saved.grade, saved.region_id) == ("New Name", "SPO", world.london.id)
    changed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.MEMBER_CHANGED)).one()
    assert set(changed.details["fields"]) == {"name", "grade", "email", "phone"}  # e-mail and phone cleared
    assert "New Name" not in str(changed.details)


def test_figures_show_a_chart_and_a_table_of_my_regions(client, login_as, world, make_case):
    make_case(category="pay")
    done = make_case(category="pay", title="Settled")
    change_status(world.london_rep, done, "resolved", outcome="Back pay agreed.")
    make_case(actor=world.wales_rep, region=world.wales, category="facilities")
    db.session.commit()
    login_as(world.london_rep)
    text = client.get("/cases/figures").get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in text and "Pay" in text and "Facilities" not in text
    row = re.search(r"Pay</a></th>(.*?)</tr>", text, re.S)
    assert row is not None
    assert re.findall(r">(\d+)<", row.group(1)) == ["1", "0", "0", "1", "0", "0", "1", "2"]
    assert client.get(f"/cases/figures?region_id={world.wales.id}").status_code == 404
    login_as(world.official)
    assert "Facilities" in client.get("/cases/figures").get_data(as_text=True)
