"""Fields a form does not offer change nothing when posted anyway (region, role, owner,
status, reference, verification…), and ids of another region's records posted into the fields
a form does offer are refused, with nothing written.

Each form is read from its page and sent back as a browser would, with the extra fields added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from napo_tracker.accounts.models import User
from napo_tracker.api.models import ApiToken
from napo_tracker.briefings.models import Briefing
from napo_tracker.cases.models import Case, Member
from napo_tracker.evidence.models import EvidenceItem
from napo_tracker.extensions import db
from napo_tracker.notices.models import ForeseeabilityNotice
from napo_tracker.testimonies.models import Testimony

from ..factories import PASSWORD, Scene
from .forms import form_data
from .probe import changed_tables, snapshot
from .routes import Role


def _case(s: Scene) -> Case:
    return db.session.scalars(select(Case).where(Case.reference == s.case_a)).one()


def _notice(s: Scene) -> ForeseeabilityNotice:
    return db.session.scalars(select(ForeseeabilityNotice).where(ForeseeabilityNotice.reference == s.notice_a)).one()


def _newest(model: Any) -> Any:
    return db.session.scalars(select(model).order_by(model.id.desc()).limit(1)).one()


def _user(ident: int) -> User:
    user = db.session.get(User, ident)
    assert user is not None
    return user


@dataclass
class Attempt:
    role: Role
    url: Callable[[Scene], str]
    changes: Callable[[Scene], dict[str, Any]]
    extras: Callable[[Scene], dict[str, Any]]
    check: Callable[[Scene], None]
    status: int = 302
    action: Callable[[Scene], str] | None = None
    form_url: Callable[[Scene], str] | None = None
    notes: list[str] = field(default_factory=list)


def _case_check(s: Scene) -> None:
    case = _case(s)
    assert (case.reference, case.status, case.region_id) == (s.case_a, "open", s.london_id)
    assert case.created_by_id == s.rep_a_id and case.title == "Unsafe caseload, checked again"


def _evidence_check(s: Scene) -> None:
    item = _newest(EvidenceItem)
    assert item.source_title == "Branch survey, December"
    assert not item.is_verified and item.verified_by_id is None
    assert item.created_by_id == s.rep_a_id and item.reference != "EV-99999"


def _testimony_check(s: Scene) -> None:
    testimony = _newest(Testimony)
    assert testimony.status == "submitted" and testimony.public_text is None
    assert testimony.decided_on is None and testimony.reference != "TST-HACKED"


def _notice_check(s: Scene) -> None:
    notice = _notice(s)
    assert notice.reference == s.notice_a and notice.status in ("served", "escalated")
    assert notice.served_to_name == "Jo Manager (acting)" and notice.region_id == s.london_id


def _briefing_check(s: Scene) -> None:
    briefing = _newest(Briefing)
    assert briefing.title == "Court backlogs" and briefing.status == "draft"
    assert briefing.reference != "BRF99-99"


def _token_check(s: Scene) -> None:
    token = _newest(ApiToken)
    assert token.name == "tablet" and token.user_id == s.official_id


def _password_check(s: Scene) -> None:
    user = _user(s.rep_a_id)
    assert user.role == "rep" and [r.id for r in user.regions] == [s.london_id] and user.is_active
    assert user.email == "rep.london@example.org"


def _user_edit_check(s: Scene) -> None:
    user = _user(s.rep_a_id)
    assert user.display_name == "Rep of London" and user.email == "rep.london@example.org"


ATTEMPTS: dict[str, Attempt] = {
    "a rep's case: status, reference, owner and region by hand": Attempt(
        role="rep_a",
        url=lambda s: f"/cases/{s.case_a}/edit",
        changes=lambda s: {"title": "Unsafe caseload, checked again"},
        extras=lambda s: {
            "status": "closed",
            "reference": "CASE-2000-0001",
            "created_by_id": str(s.admin_id),
            "id": "1",
            "outcome": "won",
        },
        check=_case_check,
    ),
    "a rep's evidence: verified, by whom, by whom made": Attempt(
        role="rep_a",
        url=lambda s: "/evidence/new",
        changes=lambda s: {
            "region_id": str(s.london_id),
            "value": "",
            "statement": "Two officers left in one month.",
            "as_of": "2026-01-15",
            "source_type": "rep_survey",
            "source_title": "Branch survey, December",
        },
        extras=lambda s: {
            "is_verified": "y",
            "verified_by_id": str(s.official_id),
            "created_by_id": str(s.official_id),
            "reference": "EV-99999",
            "fingerprint": "0" * 64,
        },
        check=_evidence_check,
    ),
    "a member's testimony: approved, with a public text": Attempt(
        role="anonymous",
        url=lambda s: "/testimony",
        changes=lambda s: {"text": "My caseload doubled this year and nobody covers leave in my team."},
        extras=lambda s: {
            "status": "approved",
            "public_text": "Quote me",
            "reference": "TST-HACKED",
            "decided_on": "2026-01-01",
            "receipt_hash": "0" * 64,
        },
        check=_testimony_check,
    ),
    "a rep's notice: status and reference by hand": Attempt(
        role="rep_a",
        url=lambda s: f"/notices/{s.notice_a}/edit",
        changes=lambda s: {"served_to_name": "Jo Manager (acting)"},
        extras=lambda s: {
            "status": "resolved",
            "reference": "FN-2000-0001",
            "created_by_id": str(s.admin_id),
            "letter_sha256": "0" * 64,
        },
        check=_notice_check,
    ),
    "an official's briefing: published at birth, reference chosen": Attempt(
        role="official",
        url=lambda s: "/briefings/new",
        changes=lambda s: {"title": "Court backlogs"},
        extras=lambda s: {"status": "published", "reference": "BRF99-99", "author_id": str(s.admin_id)},
        check=_briefing_check,
    ),
    "an official's API token: someone else's": Attempt(
        role="official",
        url=lambda s: "/evidence/api-tokens",
        changes=lambda s: {"name": "tablet"},
        extras=lambda s: {"user_id": str(s.admin_id), "token_hash": "0" * 64},
        check=_token_check,
        status=200,
    ),
    "a rep's password change: a role and regions besides": Attempt(
        role="rep_a",
        url=lambda s: "/account/password",
        changes=lambda s: {
            "current_password": PASSWORD,
            "new_password": "velvet orbit lantern 472",
            "confirm": "velvet orbit lantern 472",
        },
        extras=lambda s: {"role": "admin", "regions": str(s.wales_id), "is_active": "", "email": "x@example.org"},
        check=_password_check,
    ),
    "an admin's edit of a user: the e-mail and password besides": Attempt(
        role="admin",
        url=lambda s: f"/admin/users/{s.rep_a_id}",
        changes=lambda s: {"display_name": "Rep of London"},
        extras=lambda s: {"email": "taken.over@example.org", "password_hash": "x", "password": "x" * 20},
        check=_user_edit_check,
    ),
}


@pytest.mark.parametrize("name", sorted(ATTEMPTS))
def test_fields_a_form_does_not_offer_change_nothing(app, scene, visitor, name):
    attempt = ATTEMPTS[name]
    visitor.become(attempt.role)
    url = attempt.url(scene)
    page = visitor.client.get(url)
    assert page.status_code == 200, f"{name}: {url} answered {page.status_code}"
    data = form_data(page.data, url)
    for key, value in attempt.changes(scene).items():
        data.setlist(key, [value])
    extras = attempt.extras(scene)
    assert not set(extras) & set(data), f"{name}: the form offers {set(extras) & set(data)}"
    for key, value in extras.items():
        data.setlist(key, [value])
    response = visitor.client.post(url, data=data)
    assert response.status_code == attempt.status, f"{name}: {response.status_code}\n{response.get_data(as_text=True)}"
    db.session.expire_all()
    attempt.check(scene)


# ---------------------------------------------------------------------------- offered fields, other region's ids


@dataclass
class OutOfScope:
    url: Callable[[Scene], str]
    fields: Callable[[Scene], dict[str, Any]]


def _wales_rep(s: Scene) -> int:
    return s.rep_b_id


OUT_OF_SCOPE: dict[str, OutOfScope] = {
    "a case moved to region B": OutOfScope(lambda s: f"/cases/{s.case_a}/edit", lambda s: {"region_id": s.wales_id}),
    "a case given region B's member": OutOfScope(
        lambda s: f"/cases/{s.case_a}/edit", lambda s: {"member_id": s.member_b_id}
    ),
    "a case assigned to region B's rep": OutOfScope(
        lambda s: f"/cases/{s.case_a}/edit", lambda s: {"assigned_rep_id": _wales_rep(s)}
    ),
    "a new case in region B": OutOfScope(lambda s: "/cases/new", lambda s: {"region_id": s.wales_id, "title": "X"}),
    "a notice moved to region B": OutOfScope(
        lambda s: f"/notices/{s.notice_a}/edit", lambda s: {"region_id": s.wales_id}
    ),
    "a notice assigned to region B's rep": OutOfScope(
        lambda s: f"/notices/{s.notice_a}/edit", lambda s: {"assigned_rep_id": _wales_rep(s)}
    ),
    "a notice linked to region B's case": OutOfScope(
        lambda s: f"/notices/{s.notice_a}/edit", lambda s: {"case_reference": s.case_b}
    ),
    "a notice naming region B's member": OutOfScope(
        lambda s: f"/notices/{s.notice_a}/edit", lambda s: {"member_id": s.member_b_id}
    ),
    "evidence for region B": OutOfScope(
        lambda s: "/evidence/new",
        lambda s: {
            "region_id": s.wales_id,
            "statement": "Region B's figure.",
            "as_of": "2026-01-15",
            "source_type": "rep_survey",
            "source_title": "Elsewhere",
        },
    ),
    "evidence linked to region B's case": OutOfScope(
        lambda s: "/evidence/new",
        lambda s: {
            "region_id": s.london_id,
            "statement": "Linked across.",
            "as_of": "2026-01-15",
            "source_type": "rep_survey",
            "source_title": "Across",
            "case_reference": s.case_b,
        },
    ),
    "a member recorded in region B": OutOfScope(
        lambda s: "/cases/members/new", lambda s: {"region_id": s.wales_id, "name": "Someone Else"}
    ),
}


@pytest.mark.parametrize("name", sorted(OUT_OF_SCOPE))
def test_another_regions_ids_in_offered_fields_are_refused(app, scene, visitor, name):
    attempt = OUT_OF_SCOPE[name]
    visitor.become("rep_a")
    url = attempt.url(scene)
    page = visitor.client.get(url)
    assert page.status_code == 200
    data = form_data(page.data, url)
    for key, value in attempt.fields(scene).items():
        data.setlist(key, [str(value)])
    before = snapshot()
    response = visitor.client.post(url, data=data)
    assert response.status_code == 400, f"{name}: {response.status_code}"
    assert not changed_tables(before, snapshot()), name
    assert db.session.scalar(select(func.count()).select_from(Member)) == 2
