"""No duplicate records: every form that creates one carries a one-time token, and a form sent
twice makes one record and sends the repeat to the first result.

The routes come from the URL map: every POST route is either a form that creates a record
(tested here, each sent twice) or named below with why it makes nothing new, so a new route
fails this file until it is one or the other.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from napo_tracker.accounts.models import User
from napo_tracker.api.models import ApiToken
from napo_tracker.briefings.models import Briefing, BriefingQuestion, BriefingSection, Question
from napo_tracker.cases import views as case_views
from napo_tracker.cases.models import Case, CaseAttachment, CaseDeadline, CaseEntry, DeadlineType, Member
from napo_tracker.evidence import views as evidence_views
from napo_tracker.evidence.models import EvidenceItem, Metric
from napo_tracker.extensions import db
from napo_tracker.kernel import clock
from napo_tracker.letters.models import LetterTemplate, SentLetter
from napo_tracker.notices.models import ForeseeabilityNotice, NoticeEscalation
from napo_tracker.privacy.models import SubjectAccessRequest
from napo_tracker.regions.models import Region, Unit
from napo_tracker.submissions import KEEP_DAYS, UsedSubmission
from napo_tracker.testimonies.models import FollowUp, Testimony

from . import factories
from .files import pdf_bytes
from .helpers import at_once, form_tokens, postgresql_only, same_browser, slowed, submission_token_from

# POST routes that make no new record, and why a second copy of one is harmless.
NOT_CREATING = {
    "accounts.login": "signs in (a second sign-in is a second device, as it should be)",
    "accounts.logout": "ends the session",
    "accounts.password": "changes a password",
    "accounts.sessions": "ends sessions",
    "accounts.end_one_session": "ends a session",
    "accounts.user_edit": "edits an account",
    "accounts.forgot": "sends a reset link (asking again replaces the earlier link)",
    "accounts.reset": "sets a password through a single-use link",
    "accounts.second_factor": "completes a sign-in (a code is accepted once)",
    "accounts.two_factor_page": "turns two-factor sign-in on (once on, the page only shows it)",
    "accounts.two_factor_off": "turns two-factor sign-in off",
    "accounts.new_recovery_codes": "replaces the recovery codes (the old ones stop working)",
    "accounts.user_two_factor_reset": "resets someone's two-factor sign-in",
    "briefings.edit": "edits a briefing (its version refuses a stale copy)",
    "briefings.evidence_picker": "cites evidence in a section (versioned)",
    "briefings.question_reword": "rewords a question (versioned)",
    "briefings.question_move": "moves a question (versioned)",
    "briefings.question_remove": "removes a question (versioned)",
    "briefings.section_edit": "edits a section (versioned)",
    "briefings.section_chart": "sets a section's chart (versioned)",
    "briefings.section_move": "moves a section (versioned)",
    "briefings.section_remove": "removes a section (versioned)",
    "briefings.testimony_picker": "chooses the testimonies quoted (versioned)",
    "briefings.testimony_move": "moves a quoted testimony (versioned)",
    "briefings.number_mark": "marks a number in a section as not a statistic (versioned)",
    "briefings.withdraw": "withdraws a briefing (versioned)",
    "briefings.question_edit": "edits a bank question",
    "cases.edit": "edits a case (versioned)",
    "cases.status": "moves a case (a second identical move is refused by the status rules)",
    "cases.delete_upload": "removes an attachment",
    "cases.member_edit": "edits a member",
    "evidence.edit": "edits an item (versioned)",
    "evidence.verify": "marks an item verified",
    "evidence.allow": "lets a small number be cited (one override an item; a second replaces it)",
    "evidence.allow_withdraw": "withdraws that override",
    "evidence.metric_edit": "edits a metric",
    "evidence.batch_verify": "verifies an import's items",
    "evidence.batch_revert": "reverts an import (refused once reverted)",
    "api_tokens.revoke": "revokes a token",
    "notices.edit": "edits a notice (versioned)",
    "notices.serve": "serves a draft (a served notice cannot be served again)",
    "notices.respond": "records the response (refused once recorded)",
    "notices.resolve": "resolves a notice (refused once resolved)",
    "notices.calendar": "makes or replaces the one calendar address a user has",
    "letters.template_edit": "edits a letter template (versioned)",
    "notices.caseload": "hands cases and notices over (versioned: a second copy finds them moved and is refused)",
    "regions.unit_edit": "edits a unit",
    "testimonies.approve": "approves (versioned)",
    "testimonies.reject": "rejects (versioned)",
    "testimonies.tag": "sets the topics",
    "testimonies.status": "the member's answer (once per question) or withdrawal",
    "briefings.correct": "publishes a corrected version through the publishing job (refused once corrected)",
    "privacy.request_export": "a download (a second makes the same export again, audited)",
    "privacy.request_answered": "marks a request answered (refused once answered)",
    "privacy.erase": "erases a member (refused once erased)",
    "cases.deadline_type_edit": "edits a deadline type",
    "cases.deadline_met": "marks a deadline met (refused once met)",
    "notifications.read": "marks one of one's own notifications read",
    "notifications.read_all": "marks one's own notifications read",
    "notifications.settings": "keeps one's e-mail choices (one row a person, replaced)",
}
# Publishing renders a PDF: sent twice, it is tested with the briefing fixtures
# (tests/briefings/test_views.py::test_publishing_twice_freezes_one_version).
TESTED_ELSEWHERE = {"briefings.publish"}


@dataclass
class Made:
    """The records a create form needs, made for one test."""

    world: factories.World
    # Made only for the forms that need them (``CreateForm.needs``).
    case: Any = None
    briefing: Any = None
    notice: Any = None
    testimony: Any = None
    member: Any = None
    deadline_type: Any = None
    letter_template: Any = None


@dataclass(frozen=True)
class CreateForm:
    endpoint: str
    user: str  # which of the world's people sends it
    page: Callable[[Made], str]
    data: Callable[[Made], dict[str, Any]]
    model: Any  # what a second copy must not add to
    url: Callable[[Made], str] | None = None  # where it posts, when not to its page
    prefix: str = ""
    needs: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.endpoint


def _today() -> str:
    return clock.today().isoformat()


CREATE_FORMS = [
    CreateForm(
        "accounts.user_create",
        "admin",
        lambda m: "/admin/users/new",
        lambda m: {
            "email": "new.official@example.org",
            "display_name": "New Official",
            "role": "official",
            "password": "quarry-violet-anchor-1977",
        },
        User,
    ),
    CreateForm(
        "briefings.new",
        "official",
        lambda m: "/briefings/new",
        lambda m: {"title": "Caseloads", "audience": "mps", "dated_on": _today()},
        Briefing,
    ),
    CreateForm(
        "briefings.section_new",
        "official",
        lambda m: f"/briefings/{m.briefing.reference}",
        lambda m: {"kind": "free", "heading": "More", "body": "Text.", "expected_version": m.briefing.version},
        BriefingSection,
        url=lambda m: f"/briefings/{m.briefing.reference}/sections",
        needs=("briefing",),
    ),
    CreateForm(
        "briefings.regional",
        "official",
        lambda m: f"/briefings/{m.briefing.reference}/regional",
        lambda m: {"region_ids": [str(m.world.london.id)], "expected_version": m.briefing.version},
        BriefingSection,
        needs=("briefing", "public evidence"),
    ),
    CreateForm(
        "briefings.questions",
        "official",
        lambda m: f"/briefings/{m.briefing.reference}/questions",
        lambda m: {"text": "Will the Minister act?", "expected_version": m.briefing.version},
        BriefingQuestion,
        needs=("briefing",),
    ),
    CreateForm(
        "briefings.question_bank",
        "official",
        lambda m: "/briefings/questions",
        lambda m: {"text": "What are the staffing numbers?", "topics": "staffing"},
        Question,
    ),
    CreateForm(
        "privacy.request_new",
        "admin",
        lambda m: "/admin/privacy/requests/new",
        lambda m: {"member": m.member.pseudonym, "received_on": _today(), "received_via": "letter"},
        SubjectAccessRequest,
        needs=("member",),
    ),
    CreateForm(
        "cases.new",
        "london_rep",
        lambda m: "/cases/new",
        lambda m: {"region_id": str(m.world.london.id), "category": "pay", "title": "Unpaid", "priority": "normal"},
        Case,
    ),
    CreateForm(
        "cases.member_new",
        "london_rep",
        lambda m: "/cases/members/new",
        lambda m: {"region_id": str(m.world.london.id), "name": "Ann Member"},
        Member,
    ),
    CreateForm(
        "cases.members_import",
        "london_rep",
        lambda m: "/cases/members/import",
        lambda m: {
            "file": (io.BytesIO(b"membership_number,name,region,unit,grade,email\nN-77,Ann,London,,,\n"), "m.csv")
        },
        Member,
    ),
    CreateForm(
        "letters.template_new",
        "admin",
        lambda m: "/letters/templates/new",
        lambda m: {"name": "Grievance", "kind": "grievance", "subject": "", "body": "About {{ case.reference }}."},
        LetterTemplate,
    ),
    CreateForm(
        "letters.case_letters",
        "london_rep",
        lambda m: f"/letters/cases/{m.case.reference}?template_id={m.letter_template.id}",
        lambda m: {"template_id": str(m.letter_template.id)},
        SentLetter,
        url=lambda m: f"/letters/cases/{m.case.reference}",
        needs=("case", "letter template"),
    ),
    CreateForm(
        "cases.timeline",
        "london_rep",
        lambda m: f"/cases/{m.case.reference}",
        lambda m: {"kind": "meeting", "happened_on": _today(), "body": "Met the SPO."},
        CaseEntry,
        url=lambda m: f"/cases/{m.case.reference}/timeline",
        needs=("case",),
    ),
    CreateForm(
        "cases.upload",
        "london_rep",
        lambda m: f"/cases/{m.case.reference}",
        lambda m: {"file": (io.BytesIO(pdf_bytes()), "letter.pdf")},
        CaseAttachment,
        url=lambda m: f"/cases/{m.case.reference}/attachments",
        needs=("case",),
    ),
    CreateForm(
        "cases.deadline_types",
        "admin",
        lambda m: "/cases/deadline-types",
        lambda m: {"name": "Hearing", "rule": "calendar_days", "amount": "14", "remind_days_before": "3"},
        DeadlineType,
    ),
    CreateForm(
        "cases.deadline_new",
        "london_rep",
        lambda m: f"/cases/{m.case.reference}/deadlines/new",
        lambda m: {"deadline_type_id": str(m.deadline_type.id), "starts_on": _today()},
        CaseDeadline,
        needs=("case", "deadline type"),
    ),
    CreateForm(
        "evidence.create",
        "official",
        lambda m: "/evidence/new",
        lambda m: {
            "region_id": str(m.world.wales.id),
            "metric_id": str(db.session.scalar(select(Metric.id).where(Metric.code == "staff_in_post"))),
            "value": "24.4",
            "as_of": "2024-03-31",
            "source_type": "management_data",
            "source_title": "FOI reply",
            "visibility": "internal",
        },
        EvidenceItem,
    ),
    CreateForm(
        "evidence.metrics",
        "admin",
        lambda m: "/evidence/metrics",
        lambda m: {"code": "court_backlog", "label": "Court report backlog", "unit": "count"},
        Metric,
    ),
    CreateForm(
        "evidence.upload",
        "official",
        lambda m: "/evidence/import",
        lambda m: {
            "file": (
                io.BytesIO(
                    b"region,unit,metric,value,as_of,grade,source,source_ref,statement\r\n"
                    b"London,,caseload,41,2024-01-31,,rep survey,Survey,\r\n"
                ),
                "figures.csv",
            )
        },
        EvidenceItem,
    ),
    CreateForm("api_tokens.index", "official", lambda m: "/evidence/api-tokens", lambda m: {"name": "Sheet"}, ApiToken),
    CreateForm(
        "notices.new",
        "london_rep",
        lambda m: "/notices/new",
        lambda m: {
            "kind": "individual",
            "signatory_count": "1",
            "region_id": str(m.world.london.id),
            "served_to_name": "Jo Manager",
            "served_to_role": "Head of PDU",
            "wmt_percent": "138",
            "caseload": "55",
            "concerns": ["caseload_beyond_capacity"],
            "assigned_rep_id": "0",
        },
        ForeseeabilityNotice,
    ),
    CreateForm(
        "notices.escalate",
        "london_rep",
        lambda m: f"/notices/{m.notice.reference}",
        lambda m: {"step": "line_manager", "raised_on": _today(), "note": ""},
        NoticeEscalation,
        url=lambda m: f"/notices/{m.notice.reference}/escalate",
        prefix="escalate-",
        needs=("notice",),
    ),
    CreateForm(
        "regions.create",
        "admin",
        lambda m: "/regions/",
        lambda m: {"name": "Kent"},
        Region,
        url=lambda m: "/regions/new",
    ),
    CreateForm(
        "regions.detail",
        "admin",
        lambda m: f"/regions/{m.world.london.id}",
        lambda m: {"name": "Croydon PDU", "kind": "pdu"},
        Unit,
        prefix="unit-",
    ),
    CreateForm(
        "testimonies.submit",
        "london_rep",  # logged in or not, the token is tied to no account
        lambda m: "/testimony",
        lambda m: {
            "text": "My caseload keeps growing and nobody covers leave.",
            "region": "",
            "grade": "",
            "service_band": "",
        },
        Testimony,
    ),
    CreateForm(
        "testimonies.ask",
        "official",
        lambda m: f"/testimonies/{m.testimony.reference}",
        lambda m: {"question": "Is this still happening?", "submit": "y"},
        FollowUp,
        url=lambda m: f"/testimonies/{m.testimony.reference}/question",
        prefix="ask-",
        needs=("testimony",),
    ),
]


def _count(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _make(world: factories.World, needs: tuple[str, ...]) -> Made:
    made = Made(world)
    if "case" in needs:
        made.case = factories.make_case(world.london_rep, world.london)
    if "briefing" in needs:
        made.briefing = factories.make_briefing(world.official)
    if "public evidence" in needs:
        factories.make_evidence(
            world.official,
            region=world.london,
            visibility="public",
            is_verified=True,
            as_of=clock.today() - timedelta(days=30),  # inside the regional drafter's period
        )
    if "notice" in needs:
        made.notice = factories.make_served_notice(world.london_rep, world.london, clock.today() - timedelta(days=20))
    if "testimony" in needs:
        made.testimony = factories.make_testimony()
    if "member" in needs:
        made.member = factories.make_member(world.london_rep, world.london)
    if "deadline type" in needs:
        made.deadline_type = factories.make_deadline_type(world.admin)
    if "letter template" in needs:
        made.letter_template = factories.make_letter_template(world.admin)
    db.session.commit()
    return made


def _post(client, form: CreateForm, made: Made, tokens: dict[str, str]):
    data = {**tokens, **{f"{form.prefix}{k}": v for k, v in form.data(made).items()}}
    url = (form.url or form.page)(made)
    return client.post(url, data=data, content_type="multipart/form-data")


def test_every_post_route_is_a_create_form_or_says_why_it_makes_nothing(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    creating = {form.endpoint for form in CREATE_FORMS} | TESTED_ELSEWHERE
    assert posts == creating | set(NOT_CREATING)
    assert not creating & set(NOT_CREATING)


@pytest.mark.parametrize("form", CREATE_FORMS, ids=str)
def test_a_create_form_sent_twice_makes_one_record_and_repeats_lead_to_the_first(
    client, login_as, world, form: CreateForm
):
    made = _make(world, form.needs)
    login_as(getattr(world, form.user))
    page = client.get(form.page(made))
    assert page.status_code == 200
    tokens = form_tokens(page.data, form.prefix)
    assert f"{form.prefix}submission_token" in tokens, f"{form.endpoint}'s form carries no one-time token"
    before = _count(form.model)

    first = _post(client, form, made, tokens)
    assert first.status_code in (200, 302), first.get_data(as_text=True).split("<main")[-1][:3000]
    assert _count(form.model) == before + 1
    second = _post(client, form, made, tokens)
    assert second.status_code == 303, (second.status_code, second.get_data(as_text=True).split("<main")[-1][:1500])
    assert _count(form.model) == before + 1
    if first.status_code == 302:
        assert second.location == first.location
    else:  # the first answer was a page of its own (a new API token, shown once): back to the form
        assert second.location == form.page(made)
    assert "sent twice" in client.get(second.location).get_data(as_text=True)


def test_a_form_without_its_token_is_refused_and_makes_nothing(client, login_as, world):
    login_as(world.london_rep)
    page = client.get("/cases/new").data
    data = {"region_id": str(world.london.id), "category": "pay", "title": "Unpaid", "priority": "normal"}
    for token in (None, "", "short", "x" * 32 + "!", "<script>" * 4):
        tokens = form_tokens(page)
        tokens.pop("submission_token")
        if token is not None:
            tokens["submission_token"] = token
        response = client.post("/cases/new", data={**tokens, **data})
        assert response.status_code == 400 and "This form is out of date" in response.get_data(as_text=True)
    assert _count(Case) == 0


def test_a_form_refused_by_its_service_may_be_sent_again(client, login_as, world):
    """A refusal rolls the claim back with everything else: the same token then makes the record."""
    login_as(world.london_rep)
    tokens = form_tokens(client.get("/cases/new").data)
    data = {"region_id": str(world.london.id), "category": "pay", "priority": "normal"}
    refused = client.post("/cases/new", data={**tokens, **data, "title": ""})
    assert refused.status_code == 400 and _count(UsedSubmission) == 0
    # The page shown again carries a fresh token, never the one sent.
    assert submission_token_from(refused.data) not in (None, tokens["submission_token"])
    made = client.post("/cases/new", data={**tokens, **data, "title": "Unpaid"})
    assert made.status_code == 302 and _count(Case) == 1


def test_a_token_works_for_its_sender_only(client, login_as, world):
    login_as(world.london_rep)
    tokens = form_tokens(client.get("/cases/new").data)
    data = {"region_id": str(world.london.id), "category": "pay", "title": "Unpaid", "priority": "normal"}
    assert client.post("/cases/new", data={**tokens, **data}).status_code == 302
    login_as(factories.make_user("rep", [world.london]))
    replayed = client.post("/cases/new", data={**tokens, **data})
    assert replayed.status_code == 303 and replayed.location == "/cases/new"  # not to the other rep's case
    assert "already sent" in client.get("/cases/new").get_data(as_text=True)
    assert _count(Case) == 1


def test_a_dry_run_may_be_repeated_and_then_imported_with_the_same_page(client, login_as, world):
    login_as(world.official)
    tokens = form_tokens(client.get("/evidence/import").data)
    csv = (
        b"region,unit,metric,value,as_of,grade,source,source_ref,statement\r\n"
        + b"London,,caseload,41,2024-01-31,,rep survey,S,\r\n"
    )

    def send(**extra: str):
        return client.post(
            "/evidence/import",
            data={**tokens, "file": (io.BytesIO(csv), "f.csv"), **extra},
            content_type="multipart/form-data",
        )

    assert send(dry_run="y").status_code == 200
    assert send(dry_run="y").status_code == 200
    assert _count(EvidenceItem) == 0
    assert send().status_code == 302 and _count(EvidenceItem) == 1


def test_the_testimony_token_names_no_account_and_keeps_the_day_only(client, login_as, world, backend):
    login_as(world.london_rep)
    tokens = form_tokens(client.get("/testimony").data)
    data = {"text": "My caseload keeps growing and nobody covers leave.", "region": "", "grade": "", "service_band": ""}
    assert client.post("/testimony", data={**tokens, **data}).status_code == 302
    used = db.session.scalars(select(UsedSubmission)).one()
    assert used.user_id is None and used.result_url == "/testimony/receipt" and used.used_on == clock.today()
    if backend == "sqlite":  # rows are kept in the random token's order, with no insertion order to read
        with pytest.raises(OperationalError, match="no such column: rowid"):
            db.session.execute(text("SELECT rowid FROM used_submissions"))
        db.session.rollback()
    # The repeat goes to the receipt page: the code is there if the first answer never arrived.
    repeat = client.post("/testimony", data={**tokens, **data})
    assert repeat.status_code == 303 and repeat.location == "/testimony/receipt"
    receipt = client.get("/testimony/receipt").get_data(as_text=True)
    assert "sent twice, and is kept once" in receipt and 'id="receipt-code"' in receipt
    assert _count(Testimony) == 1


def test_used_tokens_are_forgotten_after_some_days(client, login_as, world):
    old = UsedSubmission(token="a" * 32, user_id=None, used_on=clock.today() - timedelta(days=KEEP_DAYS + 1))
    kept = UsedSubmission(token="b" * 32, user_id=None, used_on=clock.today() - timedelta(days=KEEP_DAYS))
    db.session.add_all([old, kept])
    db.session.commit()
    login_as(world.london_rep)
    tokens = form_tokens(client.get("/cases/members/new").data)
    client.post("/cases/members/new", data={**tokens, "region_id": str(world.london.id), "name": "Ann Member"})
    assert set(db.session.scalars(select(UsedSubmission.token))) == {"b" * 32, tokens["submission_token"]}


# ---------------------------------------------------------------- at the same moment


def test_two_identical_new_case_posts_at_once_make_one_case(app, backend, world, monkeypatch):
    postgresql_only(backend)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a failure is a 500 to count, as in production
    clients, open_page = same_browser(app, world.london_rep, 2)
    tokens = form_tokens(open_page("/cases/new"))
    data = {**tokens, "region_id": str(world.london.id), "category": "pay", "title": "Unpaid", "priority": "normal"}
    slowed(monkeypatch, case_views, "create_case")
    results = at_once([lambda c: c.post("/cases/new", data=data)] * 2, clients)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [302, 303], results
    assert _count(Case) == 1
    case_url = f"/cases/{db.session.scalars(select(Case.reference)).one()}"
    assert {r.location for r in results} == {case_url}


def test_two_identical_evidence_posts_at_once_give_one_item_and_no_error(app, backend, world, monkeypatch):
    postgresql_only(backend)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    clients, open_page = same_browser(app, world.official, 4)
    staff_in_post = db.session.scalar(select(Metric.id).where(Metric.code == "staff_in_post"))
    figure = {
        "region_id": str(world.wales.id),
        "metric_id": str(staff_in_post),
        "value": "24.4",
        "as_of": "2024-03-31",
        "source_type": "management_data",
        "source_title": "FOI reply",
        "visibility": "internal",
    }
    # Two copies of one form, and the same figure from two other forms (written two ways).
    same, other_a, other_b = (form_tokens(open_page("/evidence/new")) for _ in range(3))
    sends = [
        lambda c: c.post("/evidence/new", data={**same, **figure}),
        lambda c: c.post("/evidence/new", data={**same, **figure}),
        lambda c: c.post("/evidence/new", data={**other_a, **figure, "value": "24.40"}),
        lambda c: c.post("/evidence/new", data={**other_b, **figure}),
    ]
    slowed(monkeypatch, evidence_views, "create_evidence")
    results = at_once(sends, clients)
    statuses = [r.status_code for r in results]
    assert 500 not in statuses and statuses.count(302) == 1, statuses
    assert _count(EvidenceItem) == 1
    reference = db.session.scalars(select(EvidenceItem.reference)).one()
    for result in results:
        if result.status_code == 400:  # another form with the same figure: told where it is
            assert f"already recorded as {reference}" in result.get_data(as_text=True)
        else:
            assert result.location == f"/evidence/{reference}"
