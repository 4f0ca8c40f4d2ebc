"""Every write a role must not make is refused twice: at the route (test_access.py: 403 and
nothing changed) and at the service behind it, called here directly with that role's user.

``SERVICE_CALLS`` names the service each write route calls. It is checked against the access
table: a write route that refuses some role must have its service here, or this suite fails.
Each entry is also called by a role that may make the write, which must succeed, so a refusal
here is the role check and not a bad argument.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from napo_tracker.accounts import services as accounts
from napo_tracker.accounts import two_factor
from napo_tracker.accounts.models import User
from napo_tracker.api import services as api
from napo_tracker.api.models import ApiToken
from napo_tracker.briefings import services as briefings
from napo_tracker.briefings.checks import unmarked_numbers
from napo_tracker.briefings.models import Briefing, BriefingQuestion, BriefingSection, Question
from napo_tracker.cases import services as cases
from napo_tracker.cases.models import Member
from napo_tracker.evidence import services as evidence
from napo_tracker.evidence.models import EvidenceItem, ImportBatch, Metric, metric_by_code
from napo_tracker.extensions import db
from napo_tracker.kernel import clock
from napo_tracker.kernel.errors import DomainError
from napo_tracker.privacy import services as privacy
from napo_tracker.privacy.models import SubjectAccessRequest
from napo_tracker.regions import services as regions
from napo_tracker.regions.models import Region, Unit
from napo_tracker.testimonies import services as testimonies
from napo_tracker.testimonies.models import Testimony

from ..factories import PASSWORD, Scene
from .probe import changed_tables, snapshot
from .routes import ACCESS, FORBIDDEN, OK, ROLES, Role


class Records:
    """The scene's records, loaded for a service call."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene

    def user(self, ident: int) -> User:
        return _get(User, ident)

    @property
    def london(self) -> Region:
        return _get(Region, self.scene.london_id)

    @property
    def briefing(self) -> Briefing:
        return db.session.scalars(select(Briefing).where(Briefing.reference == self.scene.briefing)).one()

    def evidence(self, reference: str) -> EvidenceItem:
        return db.session.scalars(select(EvidenceItem).where(EvidenceItem.reference == reference)).one()

    def testimony(self, reference: str) -> Testimony:
        return db.session.scalars(select(Testimony).where(Testimony.reference == reference)).one()


def _get(model: Any, ident: int) -> Any:
    record = db.session.get(model, ident)
    assert record is not None
    return record


def _someone_else(actor: User, scene: Scene) -> int:
    return scene.rep_b_id if actor.id == scene.rep_a_id else scene.rep_a_id


def _evidence_fields(item: EvidenceItem, **changes: Any) -> dict[str, Any]:
    return {name: getattr(item, name) for name in evidence.ITEM_FIELDS} | changes


Call = Callable[[Any, Records], object]


@dataclass(frozen=True)
class ServiceCall:
    run: Call
    # Done first by an official, whoever calls: puts the record in a state the write applies to.
    setup: Callable[[Records], object] | None = None


def _draft(r: Records) -> None:
    """The scene's briefing is published: an official's edit starts its next draft."""
    briefings.add_section(r.user(r.scene.official_id), r.briefing, kind="free", heading="Next", body="More.")


def _section(r: Records) -> BriefingSection:
    return _get(BriefingSection, r.scene.section_id)


def _uncited_number(r: Records) -> None:
    """A number in the section's text that cites nothing: the checks list it, to be marked."""
    official = r.user(r.scene.official_id)
    section = _section(r)
    briefings.update_section(official, section, kind=section.kind, heading=section.heading, body="It took 14 days.")


def _quoted_withdrawn(r: Records) -> None:
    """The member behind the published briefing's quote withdraws it: a correction is due."""
    testimonies.withdraw(r.testimony(r.scene.testimony_a))


def _batch(r: Records) -> ImportBatch:
    return db.session.scalars(select(ImportBatch).where(ImportBatch.reference == r.scene.batch)).one()


def _metric(code: str) -> Metric:
    found = metric_by_code(code)
    assert found is not None
    return found


def _access_request(r: Records) -> SubjectAccessRequest:
    reference = r.scene.access_request
    return db.session.scalars(select(SubjectAccessRequest).where(SubjectAccessRequest.reference == reference)).one()


def _exported(r: Records) -> None:
    privacy.export_for_request(r.user(r.scene.admin_id), _access_request(r))


S = ServiceCall
SERVICE_CALLS: dict[str, ServiceCall] = {
    "accounts.user_create": S(
        lambda a, r: accounts.create_user(
            a, email="new.rep@example.org", display_name="New Rep", role="rep", password=PASSWORD, regions=[r.london]
        )
    ),
    "accounts.user_edit": S(
        lambda a, r: accounts.update_user(
            a, r.user(r.scene.rep_a_id), display_name="Renamed", role="admin", regions=[], is_active=True
        )
    ),
    # someone else's: turning off one's own is the owner's page, with a code
    "accounts.user_two_factor_reset": S(lambda a, r: two_factor.turn_off(a, r.user(_someone_else(a, r.scene)))),
    "regions.create": S(lambda a, r: regions.create_region(a, "Scotland")),
    "regions.detail": S(lambda a, r: regions.rename_region(a, r.london, "Greater London")),
    "regions.unit_edit": S(lambda a, r: regions.update_unit(a, _get(Unit, r.scene.unit_id), "Renamed PDU", "pdu")),
    "testimonies.approve": S(
        lambda a, r: testimonies.approve(
            a, r.testimony(r.scene.testimony_b), "My caseload doubled and nobody covers leave in my office."
        )
    ),
    "testimonies.reject": S(lambda a, r: testimonies.reject(a, r.testimony(r.scene.testimony_b), "Off topic.")),
    "testimonies.ask": S(lambda a, r: testimonies.ask_follow_up(a, r.testimony(r.scene.testimony_b), "Which office?")),
    "testimonies.tag": S(lambda a, r: testimonies.tag_topics(a, r.testimony(r.scene.testimony_b), ["risk"])),
    "cases.member_new": S(
        lambda a, r: cases.create_member(
            a,
            region_id=r.scene.london_id,
            unit_id=None,
            name="Cai Example",
            membership_number=None,
            email=None,
            phone=None,
            grade=None,
        )
    ),
    "cases.member_edit": S(
        lambda a, r: cases.update_member(
            a,
            _get(Member, r.scene.member_a_id),
            unit_id=None,
            name="Ada Renamed",
            membership_number=None,
            email=None,
            phone=None,
            grade=None,
        )
    ),
    "evidence.edit": S(
        lambda a, r: evidence.update_evidence(
            a,
            (item := r.evidence(r.scene.evidence_a)),
            None,
            **_evidence_fields(item, statement="Corrected by hand."),
        )
    ),
    "evidence.verify": S(lambda a, r: evidence.verify_evidence(a, r.evidence(r.scene.evidence_b))),
    "evidence.metrics": S(
        lambda a, r: evidence.create_metric(a, code="court_backlog", label="Court backlog", unit="count")
    ),
    "api_tokens.index": S(lambda a, r: api.create_token(a, "phone")),
    "api_tokens.revoke": S(lambda a, r: api.revoke_token(a, _get(ApiToken, r.scene.api_token_id))),
    # briefings
    "briefings.new": S(
        lambda a, r: briefings.create_briefing(
            a,
            title="Unallocated cases",
            subtitle="",
            audience="press",
            dated_on=None,
            signatory_name="",
            signatory_title="",
        )
    ),
    "briefings.edit": S(
        lambda a, r: briefings.update_briefing(
            a,
            r.briefing,
            title="A new title",
            subtitle="",
            audience="mps",
            dated_on=date(2026, 2, 1),
            signatory_name="",
            signatory_title="",
        )
    ),
    "briefings.section_new": S(lambda a, r: briefings.add_section(a, r.briefing, kind="free", heading="More")),
    "briefings.section_edit": S(
        lambda a, r: briefings.update_section(
            a, _get(BriefingSection, r.scene.section_id), kind="introduction", heading="Intro", body="Changed."
        )
    ),
    "briefings.section_move": S(
        lambda a, r: briefings.move_section(a, _get(BriefingSection, r.scene.section_id), "down")
    ),
    "briefings.section_remove": S(lambda a, r: briefings.remove_section(a, _get(BriefingSection, r.scene.section_id))),
    "briefings.section_chart": S(
        lambda a, r: briefings.set_section_chart(
            a, _get(BriefingSection, r.scene.section_id), metric_code="wmt_percent_avg", region_ids=[], since_on=None
        )
    ),
    "briefings.evidence_picker": S(
        lambda a, r: briefings.cite_evidence_by_reference(
            a, r.briefing, section_id=r.scene.section_id, reference=r.scene.evidence_national
        )
    ),
    "briefings.regional": S(lambda a, r: briefings.generate_regional_section(a, r.briefing, [r.scene.london_id])),
    "briefings.testimony_picker": S(lambda a, r: briefings.set_testimonies(a, r.briefing, [])),
    "briefings.questions": S(lambda a, r: briefings.add_question(a, r.briefing, text="Will the Minister act?")),
    "briefings.question_reword": S(
        lambda a, r: briefings.reword_question(a, _get(BriefingQuestion, r.scene.question_item_id), "Reworded?")
    ),
    "briefings.question_move": S(
        lambda a, r: briefings.move_question(a, _get(BriefingQuestion, r.scene.question_item_id), "up")
    ),
    "briefings.question_remove": S(
        lambda a, r: briefings.remove_question(a, _get(BriefingQuestion, r.scene.question_item_id))
    ),
    "briefings.question_bank": S(lambda a, r: briefings.create_question(a, text="How many?", topics="staffing")),
    "briefings.question_edit": S(
        lambda a, r: briefings.update_question(
            a, _get(Question, r.scene.bank_question_id), text="How many, exactly?", topics="staffing"
        )
    ),
    "briefings.publish": S(lambda a, r: briefings.publish(a, r.briefing), setup=_draft),
    "briefings.correct": S(lambda a, r: briefings.request_corrected(a, r.briefing), setup=_quoted_withdrawn),
    "briefings.number_mark": S(
        lambda a, r: briefings.mark_not_statistic(a, (s := _section(r)), unmarked_numbers(s)[0].key),
        setup=_uncited_number,
    ),
    "briefings.testimony_move": S(lambda a, r: briefings.move_testimony(a, r.briefing.testimonies[0], "up")),
    # evidence: small numbers, import batches and metrics
    "evidence.allow": S(
        lambda a, r: evidence.allow_small_number(a, r.evidence(r.scene.evidence_a), "Published by the region itself.")
    ),
    "evidence.allow_withdraw": S(
        lambda a, r: evidence.withdraw_small_number_override(a, r.evidence(r.scene.evidence_a))
    ),
    "evidence.batch_verify": S(lambda a, r: evidence.verify_batch(a, _batch(r))),
    "evidence.batch_revert": S(lambda a, r: evidence.revert_batch(a, _batch(r))),
    "evidence.metric_edit": S(
        lambda a, r: evidence.update_metric(
            a, (m := _metric("wmt_percent_avg")), code=m.code, label="Average WMT", unit=m.unit, levels=m.level_values
        )
    ),
    # members' data protection: an admin's work
    "privacy.request_new": S(
        lambda a, r: privacy.record_request(
            a, _get(Member, r.scene.member_b_id), received_on=clock.today(), received_via="email"
        )
    ),
    "privacy.request_export": S(lambda a, r: privacy.ask_for_export(a, _access_request(r))),
    "privacy.request_answered": S(
        lambda a, r: privacy.mark_answered(a, _access_request(r), clock.today()), setup=_exported
    ),
    "privacy.erase": S(lambda a, r: privacy.erase(a, _get(Member, r.scene.member_b_id), account=None)),
    "briefings.withdraw": S(lambda a, r: briefings.withdraw(a, r.briefing)),
}


def _refusing_writes() -> list[tuple[str, Role]]:
    """(endpoint, role) for every write route and every role it refuses with 403."""
    found = []
    for endpoint, methods in ACCESS.items():
        policy = methods.get("POST")
        if policy is None:
            continue
        found += [(endpoint, role) for role in ROLES if policy.outcome(role) is FORBIDDEN]
    return sorted(found)


def test_every_write_route_that_refuses_a_role_names_its_service():
    endpoints = {endpoint for endpoint, _role in _refusing_writes()}
    assert not endpoints - SERVICE_CALLS.keys(), (
        f"write routes with no service in SERVICE_CALLS: {sorted(endpoints - SERVICE_CALLS.keys())}"
    )
    assert not SERVICE_CALLS.keys() - endpoints, (
        f"not write routes that refuse anyone: {SERVICE_CALLS.keys() - endpoints}"
    )


def _actor(scene: Scene, role: Role) -> User:
    ident = {"rep_a": scene.rep_a_id, "rep_b": scene.rep_b_id, "official": scene.official_id, "admin": scene.admin_id}
    return _get(User, ident[role])


@pytest.mark.parametrize("endpoint, role", _refusing_writes())
def test_the_service_refuses_the_role_the_route_refuses(app, scene, endpoint, role):
    call, records = SERVICE_CALLS[endpoint], Records(scene)
    if call.setup is not None:
        call.setup(records)
        db.session.commit()
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        call.run(_actor(scene, role), records)
        db.session.flush()
    assert refused.value.status_code == 403, f"{endpoint} as {role}: {refused.value.message}"
    db.session.rollback()
    assert not changed_tables(before, snapshot())


@pytest.mark.parametrize("endpoint", sorted(SERVICE_CALLS))
def test_the_same_call_by_a_role_the_route_allows_succeeds(app, scene, endpoint):
    call, records = SERVICE_CALLS[endpoint], Records(scene)
    if call.setup is not None:
        call.setup(records)
    policy = ACCESS[endpoint]["POST"]
    role = next(role for role in ROLES if role != "anonymous" and policy.outcome(role) is OK)
    call.run(_actor(scene, role), records)
    db.session.flush()
