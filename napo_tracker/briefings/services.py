"""The rules of briefings: composing, citing, quoting, publishing and withdrawing.

Briefings are national: only officials and admins read or write them, and every function
here that loads or changes one says so itself, whatever page or command called it. Every
function that changes something takes the acting user, flushes, writes an audit entry and
leaves the commit to its caller. What a briefing cites, draws and quotes, and how it is
rendered, is ``document``'s business; what stops it being published is ``checks``'.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from flask import abort
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError

from ..audit.models import AuditAction, record
from ..evidence.models import EvidenceItem, Metric, Visibility
from ..evidence.services import citation_guard, disclosure, is_withheld
from ..extensions import db
from ..jobs.models import Job
from ..jobs.services import enqueue, page_path
from ..kernel.clock import today, utcnow
from ..kernel.errors import ConflictError, DomainError, check_version
from ..kernel.vocabulary import SEES_ALL_REGIONS, Role
from ..pdf import PDFRenderError, html_to_pdf
from ..references import insert_with_reference, next_numbered_reference
from ..regions.models import Region
from ..testimonies.models import Testimony
from ..testimonies.services import quotable_testimonies
from .checks import blocking, unmarked_numbers
from .document import (
    DOCUMENT_LANGUAGES,
    briefing_document,
    chart_max_points,
    chosen_testimonies,
    count_pdf_pages,
    render_briefing_html,
)
from .document import render_briefing_pdf as render_briefing_pdf  # re-exported: the render benchmark calls it here
from .markdown import MAX_NESTING, nesting_depth
from .models import (
    MAX_CHART_REGIONS,
    MAX_QUESTIONS,
    MAX_SECTION_CHARS,
    MAX_SECTIONS,
    MAX_TESTIMONIES,
    Audience,
    Briefing,
    BriefingQuestion,
    BriefingSection,
    BriefingStatus,
    BriefingTestimony,
    BriefingVersion,
    Question,
    SectionKind,
    briefing_by_reference,
    consent_audience,
    normal_reference,
)

if TYPE_CHECKING:
    from ..accounts.models import User

# Briefings are national: only those who see every region (officials and admins) use them.
BRIEFING_ROLES: frozenset[Role] = SEES_ALL_REGIONS


class BriefingError(DomainError):
    """A change that breaks a rule of briefings; the message is shown to the user."""


class BriefingConflict(BriefingError, ConflictError):
    """Someone else changed the briefing since the page was loaded."""


class NotAllowed(BriefingError):
    """Someone other than an official or an admin reached for a briefing."""

    status_code = 403


class RenderFailed(BriefingError):
    """The document could not be rendered within the renderer's limits."""


class HasRole(Protocol):
    @property
    def role(self) -> str: ...


def may_use_briefings(user: HasRole | None) -> bool:
    return getattr(user, "role", None) in BRIEFING_ROLES


def _require_briefing_role(user: HasRole | None) -> None:
    """The rule behind every page and command of briefings: officials and admins only."""
    if not may_use_briefings(user):
        raise NotAllowed("Only national officials and admins work on briefings.")


def _check_version(briefing: Briefing, expected_version: int | None) -> None:
    """Refuse a change made from a page that is older than the briefing."""
    check_version(
        briefing,
        expected_version,
        conflict=BriefingConflict,
        message=(
            f"Someone else changed {briefing.reference} while you were editing. "
            "Reload the page to see their changes, then make yours again."
        ),
    )


# ---------------------------------------------------------------------------- loading


def get_briefing_for(user: HasRole | None, reference: str) -> Briefing:
    """The one way a page opens a briefing: officials and admins only (403), by its reference
    (404 when there is none, or the text is not shaped like a reference)."""
    _require_briefing_role(user)
    briefing = briefing_by_reference(reference)
    if briefing is None:
        abort(404)
    return briefing


def get_section_or_404(briefing: Briefing, section_id: int) -> BriefingSection:
    """One of this briefing's sections (a section of another briefing is not found)."""
    section = next((s for s in briefing.sections if s.id == section_id), None)
    if section is None:
        abort(404)
    return section


def get_briefing_question_or_404(briefing: Briefing, item_id: int) -> BriefingQuestion:
    """One of the questions this briefing asks."""
    item = next((q for q in briefing.questions if q.id == item_id), None)
    if item is None:
        abort(404)
    return item


def get_question_for(user: HasRole | None, question_id: int) -> Question:
    """A question of the bank, for an official or an admin."""
    _require_briefing_role(user)
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    return question


class StoredPDF(NamedTuple):
    number: int
    sha256: str
    pdf: bytes


class VersionErased(BriefingError):
    """A published version that quoted a testimony its member withdrew: no longer served."""

    status_code = 410

    def __init__(self, briefing: Briefing, version: BriefingVersion) -> None:
        super().__init__(
            f"Version {version.number} of {briefing.reference} quoted a testimony its author has withdrawn: "
            f"its PDF is no longer served, and the stored copy was erased on {version.pdf_erased_on:%-d %B %Y}."
        )
        self.briefing = briefing
        self.version = version


def download_version(user: HasRole | None, reference: str, number: int | None = None) -> StoredPDF:
    """A published version's number, SHA-256 and stored bytes (the latest when ``number`` is None),
    in one query and without rendering anything: what was sent is what is downloaded. Every
    download is audited; a version erased after a withdrawal raises ``VersionErased``."""
    _require_briefing_role(user)
    normal = normal_reference(reference)
    if normal is None:
        abort(404)
    stmt = (
        select(BriefingVersion.id, BriefingVersion.number, BriefingVersion.sha256, BriefingVersion.pdf_erased_on)
        .join(Briefing)
        .where(Briefing.reference == normal)
        .order_by(BriefingVersion.number.desc())
        .limit(1)
    )
    if number is not None:
        stmt = stmt.where(BriefingVersion.number == number)
    row = db.session.execute(stmt).first()
    if row is None:
        abort(404)
    briefing = briefing_by_reference(normal)
    assert briefing is not None  # the version above belongs to it
    if row.pdf_erased_on is not None:
        version = db.session.get(BriefingVersion, row.id)
        assert version is not None
        raise VersionErased(briefing, version)
    pdf = db.session.scalar(select(BriefingVersion.pdf).where(BriefingVersion.id == row.id)) or b""
    record(user, AuditAction.BRIEFING_DOWNLOADED, briefing, version=row.number)
    return StoredPDF(row.number, row.sha256, pdf)


def briefings_list() -> list[Briefing]:
    """Every briefing, the newest reference first."""
    return list(db.session.scalars(select(Briefing).order_by(Briefing.year.desc(), Briefing.number.desc())))


def recent_briefings(limit: int = 5) -> list[Briefing]:
    """The briefings changed most recently, for the home page."""
    return list(db.session.scalars(select(Briefing).order_by(Briefing.updated_at.desc()).limit(limit)))


def metric_choices() -> list[tuple[str, str]]:
    """Every metric a chart or the evidence picker may use, as (code, label)."""
    return [(m.code, m.label) for m in db.session.scalars(select(Metric).order_by(Metric.label))]


# ---------------------------------------------------------------------------- briefings


def _two_digit_year(on: date) -> int:
    return on.year % 100


def _audience(audience: str) -> str:
    if not Audience.has_value(audience):
        raise BriefingError("Choose an audience from the list.", field="audience")
    return audience


def _kind(kind: str) -> SectionKind:
    if not SectionKind.has_value(kind):
        raise BriefingError("Choose a kind of section from the list.", field="kind")
    return SectionKind(kind)


def create_briefing(
    actor: User,
    *,
    title: str,
    subtitle: str = "",
    audience: str = Audience.MPS.value,
    dated_on: date | None = None,
    signatory_name: str = "",
    signatory_title: str = "",
) -> Briefing:
    """A new draft, numbered per year: BRF1-26, BRF2-26, … (the year of its date, today by default)."""
    _require_briefing_role(actor)
    _audience(audience)
    on = dated_on or today()
    yy = _two_digit_year(on)
    suffix = f"-{yy:02d}"

    def build(reference: str) -> Briefing:
        number = int(reference[3 : -len(suffix)])
        return Briefing(
            reference=reference,
            year=yy,
            number=number,
            title=title.strip(),
            subtitle=subtitle.strip(),
            audience=audience,
            dated_on=on,
            author_id=actor.id,
            signatory_name=signatory_name.strip(),
            signatory_title=signatory_title.strip(),
        )

    briefing = insert_with_reference(
        Briefing.reference, lambda: next_numbered_reference(Briefing.reference, "BRF", suffix, width=1), build
    )
    record(actor, AuditAction.BRIEFING_CREATED, briefing, audience=audience)
    return briefing


def _start_editing(actor: User, briefing: Briefing) -> None:
    """Editing a published briefing starts the next version; the published one stays frozen.
    A withdrawn briefing is never changed again."""
    _require_briefing_role(actor)
    if briefing.is_withdrawn:
        raise BriefingError(f"{briefing.reference} has been withdrawn and can no longer be changed.")
    if briefing.is_published:
        briefing.status = BriefingStatus.DRAFT.value
        briefing.draft_version = (briefing.latest_published.number if briefing.latest_published else 0) + 1
        record(actor, AuditAction.BRIEFING_CHANGED, briefing, started_version=briefing.draft_version)


def _touch(briefing: Briefing) -> None:
    briefing.version += 1
    briefing.updated_at = utcnow()


def update_briefing(
    actor: User,
    briefing: Briefing,
    *,
    expected_version: int | None = None,
    title: str,
    subtitle: str,
    audience: str,
    dated_on: date,
    signatory_name: str,
    signatory_title: str,
) -> Briefing:
    """Change the title, audience, date and signatory, from an up-to-date page only."""
    _check_version(briefing, expected_version)
    _audience(audience)
    _start_editing(actor, briefing)
    changed = []
    for name, value in (
        ("title", title.strip()),
        ("subtitle", subtitle.strip()),
        ("audience", audience),
        ("dated_on", dated_on),
        ("signatory_name", signatory_name.strip()),
        ("signatory_title", signatory_title.strip()),
    ):
        if getattr(briefing, name) != value:
            setattr(briefing, name, value)
            changed.append(name)
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, fields=changed)
    return briefing


# ---------------------------------------------------------------------------- sections


def validate_section_body(body: str) -> None:
    """The size and shape limits a section body must keep (the form checks the same)."""
    if len(body) > MAX_SECTION_CHARS:
        raise BriefingError(
            f"This section is {len(body):,} characters long; a section may be at most "
            f"{MAX_SECTION_CHARS:,}. Split it into several sections."
        )
    if nesting_depth(body) > MAX_NESTING:
        raise BriefingError(f"Lists and quotes may be nested at most {MAX_NESTING} levels deep.")


def add_section(
    actor: User,
    briefing: Briefing,
    *,
    kind: str,
    heading: str = "",
    body: str = "",
    expected_version: int | None = None,
) -> BriefingSection:
    """Add a section at the end; at most 40, each within the body's limits. An empty heading
    takes the name of the kind of section."""
    _check_version(briefing, expected_version)
    section_kind = _kind(kind)
    validate_section_body(body)
    if len(briefing.sections) >= MAX_SECTIONS:
        raise BriefingError(f"A briefing may have at most {MAX_SECTIONS} sections.")
    _start_editing(actor, briefing)
    section = BriefingSection(
        kind=section_kind.value,
        heading=(heading.strip() or section_kind.label),
        body=body,
        position=len(briefing.sections) + 1,
        chart_region_ids=[],
    )
    briefing.sections.append(section)
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, section_added=section_kind.value)
    return section


def update_section(
    actor: User,
    section: BriefingSection,
    *,
    kind: str,
    heading: str,
    body: str,
    expected_version: int | None = None,
) -> BriefingSection:
    """Rewrite a section, within the body's limits, from an up-to-date page only."""
    briefing = section.briefing
    _check_version(briefing, expected_version)
    section_kind = _kind(kind)
    validate_section_body(body)
    _start_editing(actor, briefing)
    section.kind = section_kind.value
    section.heading = heading.strip() or section_kind.label
    section.body = body
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, section_changed=section.id)
    return section


def _renumber(items: Sequence[BriefingSection | BriefingQuestion | BriefingTestimony]) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


def _move(items: list[Any], item: Any, direction: str) -> None:
    ordered = sorted(items, key=lambda i: i.position)
    index = ordered.index(item)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    _renumber(ordered)
    items.sort(key=lambda i: i.position)  # the loaded collection follows the new order at once


def move_section(actor: User, section: BriefingSection, direction: str, *, expected_version: int | None = None) -> None:
    """Swap a section with the one above or below it ("up" or "down"); the ends stay put."""
    briefing = section.briefing
    _check_version(briefing, expected_version)
    _start_editing(actor, briefing)
    _move(briefing.sections, section, direction)
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, section_moved=section.id, direction=direction)


def remove_section(actor: User, section: BriefingSection, *, expected_version: int | None = None) -> None:
    """Take a section out; the others close up."""
    briefing = section.briefing
    _check_version(briefing, expected_version)
    _start_editing(actor, briefing)
    briefing.sections.remove(section)
    _renumber(sorted(briefing.sections, key=lambda s: s.position))
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, section_removed=section.kind)


def set_section_chart(
    actor: User,
    section: BriefingSection,
    *,
    metric_code: str | None,
    region_ids: list[int],
    since_on: date | None,
    chart_on: date | None = None,
    references: list[str] | None = None,
    expected_version: int | None = None,
) -> BriefingSection:
    """A chart block under the section, of what the official chose and nothing else: the
    evidence picked by reference, or one metric for up to 12 chosen regions (0: the national
    figures), each one's latest figure on or before ``chart_on`` or, with ``since_on``, every
    figure since then. No metric and no references: no chart."""
    briefing = section.briefing
    _check_version(briefing, expected_version)
    references = list(dict.fromkeys(references or []))
    if len(region_ids) > MAX_CHART_REGIONS:
        raise BriefingError(f"A chart can compare at most {MAX_CHART_REGIONS} regions.")
    limit = chart_max_points()
    if len(references) > limit:
        raise BriefingError(f"A chart draws at most {limit} figures; you chose {len(references)}.", field="references")
    if references:
        found = set(
            db.session.scalars(
                select(EvidenceItem.reference).where(
                    EvidenceItem.reference.in_(references), EvidenceItem.value.is_not(None)
                )
            )
        )
        missing = [r for r in references if r not in found]
        if missing:
            raise BriefingError(f"No figure with the reference {', '.join(missing[:5])}.", field="references")
    if metric_code and db.session.scalar(select(Metric.id).where(Metric.code == metric_code)) is None:
        raise BriefingError("Choose a metric from the list.")
    _start_editing(actor, briefing)
    section.chart_references = references
    section.chart_metric_code = (metric_code or None) if not references else None
    section.chart_region_ids = list(region_ids) if section.chart_metric_code else []
    section.chart_since_on = since_on if section.chart_metric_code else None
    section.chart_on = chart_on if section.chart_metric_code else None
    _touch(briefing)
    db.session.flush()
    record(
        actor,
        AuditAction.BRIEFING_CHANGED,
        briefing,
        section_chart=metric_code or (f"{len(references)} figures" if references else "removed"),
    )
    return section


# ---------------------------------------------------------------------------- evidence


def evidence_for_picker(
    briefing: Briefing,
    *,
    region_id: int | None = None,
    metric_code: str | None = None,
    since_on: date | None = None,
    verified_only: bool = False,
    limit: int = 100,
) -> list[EvidenceItem]:
    """Evidence an official may cite in this briefing (no internal-only items in a public one).
    ``region_id`` 0 means national figures."""
    stmt = select(EvidenceItem).order_by(EvidenceItem.as_of.desc(), EvidenceItem.id.desc()).limit(limit)
    if not briefing.may_cite_internal:
        stmt = stmt.where(EvidenceItem.visibility == Visibility.PUBLIC.value)
    if region_id == 0:
        stmt = stmt.where(EvidenceItem.region_id.is_(None))
    elif region_id:
        stmt = stmt.where(EvidenceItem.region_id == region_id)
    if metric_code:
        stmt = stmt.join(Metric, EvidenceItem.metric_id == Metric.id).where(Metric.code == metric_code)
    if since_on:
        stmt = stmt.where(EvidenceItem.as_of >= since_on)
    if verified_only:
        stmt = stmt.where(EvidenceItem.is_verified.is_(True))
    return list(db.session.scalars(stmt))


def evidence_sentence(item: EvidenceItem) -> str:
    """The Markdown line the picker inserts for one item: its words and a citation token. A
    figure is printed from the evidence at render time ([=EV-…]), so it can never drift."""
    if item.statement:
        return f"{item.where}: {item.statement.strip()} [{item.reference}]"
    label = item.metric.label if item.metric is not None else "Figure"
    return f"{item.where}: {label} [={item.reference}]"


def cite_evidence(
    actor: User, section: BriefingSection, item: EvidenceItem, *, expected_version: int | None = None
) -> BriefingSection:
    """Add a figure to the end of a section as a cited line; internal-only evidence is never
    cited to an audience outside the union."""
    briefing = section.briefing
    _check_version(briefing, expected_version)
    if not item.is_public and not briefing.may_cite_internal:
        raise BriefingError(
            f"{item.reference} is internal-only evidence and cannot be cited to {briefing.audience_label.lower()}."
        )
    body = (section.body.rstrip() + "\n\n" if section.body.strip() else "") + "- " + evidence_sentence(item)
    validate_section_body(body)
    _start_editing(actor, briefing)
    section.body = body
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, evidence_cited=item.reference)
    return section


def cite_evidence_by_reference(
    actor: User, briefing: Briefing, *, section_id: int | None, reference: str, expected_version: int | None = None
) -> tuple[BriefingSection, EvidenceItem]:
    """The picker's citation: an evidence reference into one of this briefing's own sections."""
    item = db.session.scalar(select(EvidenceItem).where(EvidenceItem.reference == reference))
    section = next((s for s in briefing.sections if s.id == section_id), None)
    if item is None or section is None:
        raise BriefingError("Choose one of this briefing's sections and an item from the list.", field="section_id")
    cite_evidence(actor, section, item, expected_version=expected_version)
    return section, item


@dataclass
class RegionalDraft:
    """The drafted Markdown, and each item left out with the reason, for the official to read."""

    body: str
    left_out: list[str] = field(default_factory=list)


def default_regional_period(briefing: Briefing) -> tuple[date, date]:
    """The twelve months up to the briefing's date: older figures are not current evidence."""
    end = briefing.dated_on
    try:
        return end.replace(year=end.year - 1), end
    except ValueError:  # 29 February
        return end.replace(year=end.year - 1, day=28), end


def regional_evidence_markdown(
    briefing: Briefing, region_ids: list[int], date_from: date | None = None, date_to: date | None = None
) -> RegionalDraft:
    """One heading per region with its latest figure for each metric, unit and grade in the
    period (the twelve months up to the briefing by default), and its statements. Left out,
    and said so: figures outside the period, internal-only ones in a public briefing, and any
    the small-number rule withholds."""
    default_from, default_to = default_regional_period(briefing)
    date_from, date_to = date_from or default_from, date_to or default_to
    if date_from > date_to:
        raise BriefingError("The period must start on or before its end.", field="date_from")
    lines: list[str] = []
    left_out: list[str] = []
    regions = db.session.scalars(select(Region).where(Region.id.in_(region_ids)).order_by(Region.name)).all()
    for region in regions:
        stmt = (
            select(EvidenceItem)
            .where(EvidenceItem.region_id == region.id)
            .order_by(EvidenceItem.as_of.desc(), EvidenceItem.id.desc())
        )
        outside = db.session.scalar(
            select(func.count())
            .select_from(EvidenceItem)
            .where(
                EvidenceItem.region_id == region.id, or_(EvidenceItem.as_of < date_from, EvidenceItem.as_of > date_to)
            )
        )
        if outside:
            left_out.append(
                f"{region.name}: {outside:,} item{'s' if outside != 1 else ''} dated outside "
                f"{date_from:%d %B %Y} to {date_to:%d %B %Y}"
            )
        stmt = stmt.where(EvidenceItem.as_of >= date_from, EvidenceItem.as_of <= date_to)
        latest: dict[Any, EvidenceItem] = {}
        statements = []
        internal = older = 0
        for item in db.session.scalars(stmt.limit(200)):
            if not briefing.may_cite_internal and not item.is_public:
                internal += 1
                continue
            if is_withheld(item):
                left_out.append(f"{item.reference} ({region.name}): withheld, {disclosure(item).reason}")
                continue
            if item.value is not None and item.metric_id is not None:
                key = (item.metric_id, item.unit_id, item.grade)
                if key in latest:
                    older += 1
                    continue
                latest[key] = item
            elif item.statement:
                statements.append(item)
        if internal:
            left_out.append(f"{region.name}: {internal:,} internal-only, not for {briefing.audience_label}")
        if older:
            left_out.append(f"{region.name}: {older:,} older figures of measures drafted with their latest")
        if not latest and not statements:
            continue
        lines.append(f"# {region.name}\n")
        chosen = list(latest.values())[:12] + statements[:6]
        for item in chosen:
            lines.append("- " + _regional_line(item))
        for item in list(latest.values())[12:] + statements[6:]:
            left_out.append(f"{item.reference} ({region.name}): beyond the 12 figures and 6 statements drafted")
        lines.append("")
    return RegionalDraft("\n".join(lines).strip(), left_out)


def _regional_line(item: EvidenceItem) -> str:
    """A statement keeps its own words and takes a reference mark; a bare figure prints its citation."""
    if item.statement:
        return f"{item.statement.strip()} [{item.reference}]"
    label = item.metric.label if item.metric is not None else "Figure"
    return f"{label}: [={item.reference}]"


def generate_regional_section(
    actor: User,
    briefing: Briefing,
    region_ids: list[int],
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    expected_version: int | None = None,
) -> tuple[BriefingSection, list[str]]:
    """A regional evidence section drafted from the chosen regions' evidence of the period,
    then editable; returns it with what was left out and why."""
    _check_version(briefing, expected_version)
    if not region_ids:
        raise BriefingError("Choose at least one region.")
    draft = regional_evidence_markdown(briefing, region_ids, date_from, date_to)
    if not draft.body:
        raise BriefingError(
            "None of the chosen regions has evidence this briefing may cite in that period"
            + (f" (left out: {'; '.join(draft.left_out[:5])})." if draft.left_out else ".")
        )
    section = add_section(
        actor, briefing, kind=SectionKind.REGIONAL_EVIDENCE.value, heading="Evidence from the regions", body=draft.body
    )
    return section, draft.left_out


# ---------------------------------------------------------------------------- testimonies


def quotable_select(audience: str) -> Select[Testimony] | None:
    """The query of testimonies quotable to ``audience``; None where none ever is (the employer)."""
    consent = consent_audience(audience)
    if consent is None:
        return None
    return quotable_testimonies(consent)


def quotable_for_briefing(briefing: Briefing, limit: int = 200) -> list[Testimony]:
    """Testimonies the consent rules allow for this briefing's audience, newest first."""
    stmt = quotable_select(briefing.audience)
    if stmt is None:
        return []
    return list(db.session.scalars(stmt.limit(limit)))


def set_testimonies(
    actor: User, briefing: Briefing, testimony_ids: list[int], *, expected_version: int | None = None
) -> None:
    """Choose the testimonies quoted, in order; only those quotable to this audience, at most 30."""
    _check_version(briefing, expected_version)
    ids = list(dict.fromkeys(testimony_ids))
    if len(ids) > MAX_TESTIMONIES:
        raise BriefingError(f"A briefing may quote at most {MAX_TESTIMONIES} testimonies; you chose {len(ids):,}.")
    allowed = {t.id for t in quotable_for_briefing(briefing, limit=10_000)} if ids else set()
    refused = [i for i in ids if i not in allowed]
    if refused:
        raise BriefingError(
            "Some of the chosen testimonies may not be quoted to "
            f"{briefing.audience_label.lower()} (no consent, withdrawn or not approved)."
        )
    # Those already quoted keep their order; new ones follow, oldest first (as the member wrote them).
    kept = [link.testimony_id for link in sorted(briefing.testimonies, key=lambda t: t.position)]
    ids = [i for i in kept if i in ids] + sorted(i for i in ids if i not in kept)
    _start_editing(actor, briefing)
    briefing.testimonies.clear()
    db.session.flush()
    for position, testimony_id in enumerate(ids, start=1):
        briefing.testimonies.append(BriefingTestimony(testimony_id=testimony_id, position=position))
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, testimonies=len(ids))


def get_briefing_testimony_or_404(briefing: Briefing, testimony_id: int) -> BriefingTestimony:
    """One of the testimonies this briefing quotes, by the testimony's id."""
    link = next((t for t in briefing.testimonies if t.testimony_id == testimony_id), None)
    if link is None:
        abort(404)
    return link


def move_testimony(
    actor: User, link: BriefingTestimony, direction: str, *, expected_version: int | None = None
) -> None:
    """Swap a quoted testimony with the one before or after it ("up" or "down")."""
    briefing = link.briefing
    _check_version(briefing, expected_version)
    _start_editing(actor, briefing)
    _move(briefing.testimonies, link, direction)
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, testimony_moved=link.testimony_id, direction=direction)


# ---------------------------------------------------------------------------- questions


def active_questions(topic: str | None = None) -> list[Question]:
    """The bank's questions still offered, the most used first."""
    stmt = select(Question).where(Question.is_archived.is_(False)).order_by(Question.times_used.desc(), Question.id)
    questions = list(db.session.scalars(stmt))
    if topic:
        questions = [q for q in questions if topic in (q.topics or [])]
    return questions


def question_bank() -> list[Question]:
    """Every question of the bank, archived ones last."""
    return list(
        db.session.scalars(select(Question).order_by(Question.is_archived, Question.times_used.desc(), Question.id))
    )


def clean_topics(raw: str | list[str]) -> list[str]:
    """Topics in lower case, each once, at most ten."""
    items = raw if isinstance(raw, list) else re.split(r"[,;\n]", raw or "")
    return list(dict.fromkeys(t.strip().lower() for t in items if t.strip()))[:10]


def create_question(actor: User, *, text: str, topics: list[str] | str) -> Question:
    """Add a question to the bank every briefing may draw on."""
    _require_briefing_role(actor)
    question = Question(text=text.strip(), topics=clean_topics(topics), created_by_id=actor.id)
    db.session.add(question)
    db.session.flush()
    record(actor, AuditAction.QUESTION_CREATED, ("questions", question.id), topics=question.topics)
    return question


def update_question(
    actor: User, question: Question, *, text: str, topics: list[str] | str, is_archived: bool = False
) -> Question:
    """Change a bank question; an archived one is no longer offered. Briefings keep their own copy."""
    _require_briefing_role(actor)
    question.text = text.strip()
    question.topics = clean_topics(topics)
    question.is_archived = is_archived
    db.session.flush()
    record(actor, AuditAction.QUESTION_CHANGED, ("questions", question.id), archived=is_archived)
    return question


def add_question(
    actor: User,
    briefing: Briefing,
    *,
    question: Question | None = None,
    question_id: int | None = None,
    text: str = "",
    expected_version: int | None = None,
) -> BriefingQuestion:
    """Add a bank question (its text copied, so it can be reworded here) or one of the briefing's own.
    A bank question may be given as ``question`` or, as a form sends it, as ``question_id``."""
    _check_version(briefing, expected_version)
    if question is None and question_id:
        question = db.session.get(Question, question_id)
        if question is None:
            raise BriefingError("That question is not in the bank.")
    if len(briefing.questions) >= MAX_QUESTIONS:
        raise BriefingError(f"A briefing may ask at most {MAX_QUESTIONS} questions.")
    if question is not None and any(q.question_id == question.id for q in briefing.questions):
        raise BriefingError("That question is already in this briefing.")
    text = (question.text if question is not None and not text.strip() else text).strip()
    if not text:
        raise BriefingError("Write the question, or pick one from the bank.")
    _start_editing(actor, briefing)
    item = BriefingQuestion(
        question_id=question.id if question else None, text=text, position=len(briefing.questions) + 1
    )
    briefing.questions.append(item)
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, question_added=question.id if question else "own")
    return item


def reword_question(actor: User, item: BriefingQuestion, text: str, *, expected_version: int | None = None) -> None:
    """Change this briefing's wording of a question; the bank's text stays as it was."""
    briefing = item.briefing
    _check_version(briefing, expected_version)
    if not text.strip():
        raise BriefingError("Write the question.")
    _start_editing(actor, briefing)
    item.text = text.strip()
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, question_reworded=item.id)


def move_question(actor: User, item: BriefingQuestion, direction: str, *, expected_version: int | None = None) -> None:
    """Swap a question with the one above or below it ("up" or "down")."""
    briefing = item.briefing
    _check_version(briefing, expected_version)
    _start_editing(actor, briefing)
    _move(briefing.questions, item, direction)
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, question_moved=item.id, direction=direction)


def remove_question(actor: User, item: BriefingQuestion, *, expected_version: int | None = None) -> None:
    """Take a question out of this briefing; the bank keeps it."""
    briefing = item.briefing
    _check_version(briefing, expected_version)
    _start_editing(actor, briefing)
    briefing.questions.remove(item)
    _renumber(sorted(briefing.questions, key=lambda q: q.position))
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, question_removed=item.id)


# ---------------------------------------------------------------------------- numbers in the text


def mark_not_statistic(
    actor: User, section: BriefingSection, key: str, *, expected_version: int | None = None
) -> BriefingSection:
    """An official says a number in the section's text is not a statistic (a count of days in
    a story, a phone number), so it needs no citation. Only a number the checks list can be
    marked; the mark lapses when its sentence is reworded."""
    briefing = section.briefing
    _require_briefing_role(actor)
    _check_version(briefing, expected_version)
    number = next((n for n in unmarked_numbers(section) if n.key == key), None)
    if number is None:
        raise BriefingError("That number is no longer in the section, or is already marked.")
    _start_editing(actor, briefing)
    section.plain_numbers = [*(section.plain_numbers or []), key]
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, not_a_statistic=number.text, section=section.id)
    return section


@citation_guard
def published_briefings_citing(references: set[str]) -> list[str]:
    """The briefings (by reference) any published version of which cites one of ``references``:
    what was sent stays checkable, whatever became of the draft since."""
    if not references:
        return []
    stmt = select(Briefing.reference, BriefingVersion.cited_references).join(BriefingVersion.briefing)
    return sorted({ref for ref, cited in db.session.execute(stmt) if references & set(cited or [])})


# ---------------------------------------------------------------------------- rendering, publishing


def _to_pdf(html: str) -> bytes:
    try:
        return html_to_pdf(html)
    except PDFRenderError as error:  # its message is written for people
        raise RenderFailed(str(error)) from error


def render_draft_pdf(
    actor: User | None,
    briefing: Briefing,
    *,
    on_step: Callable[[], None] | None = None,
    language: str = "en",
    **details: Any,
) -> bytes:
    """The current draft as a PDF, rendered now; the audit log notes who rendered which version.
    ``actor`` None: a command run on the server. ``on_step`` is called after each of the two steps.
    ``language``: the fixed words in English, Welsh or both (``document.DOCUMENT_LANGUAGES``)."""
    if actor is not None:
        _require_briefing_role(actor)
    html = render_briefing_html(briefing, language=language)
    if on_step is not None:
        on_step()
    pdf = _to_pdf(html)
    if on_step is not None:
        on_step()
    if language != "en":
        details["language"] = language
    record(actor, AuditAction.BRIEFING_RENDERED, briefing, version=briefing.draft_version, **details)
    return pdf


def _check_publishable(actor: User, briefing: Briefing, expected_version: int | None) -> None:
    _require_briefing_role(actor)
    # Read again, and held, so that two people publishing at once make one version: the
    # second waits here for the first to finish, then finds a briefing newer than its page.
    db.session.refresh(briefing, with_for_update=True)
    _check_version(briefing, expected_version)
    if not briefing.is_draft:
        raise BriefingError(f"{briefing.reference} is {briefing.status}; only a draft can be published.")
    problems = blocking(briefing)
    if problems:
        raise BriefingError("This briefing cannot be published yet: " + "; ".join(p.message for p in problems))


def request_publish(
    actor: User, briefing: Briefing, *, expected_version: int | None = None, language: str = "en"
) -> Job:
    """Ask for the draft to be published by a background job (the PDF takes a while): refused
    at once, with the reason, on the same rules as ``publish``. Asking again before the
    briefing changes returns the same job, so one draft makes one PDF."""
    _check_publishable(actor, briefing, expected_version)
    language = language if language in DOCUMENT_LANGUAGES else "en"
    arguments: tuple[Any, ...] = (briefing.id, briefing.version) + ((language,) if language != "en" else ())
    return enqueue(
        "briefings.publish",
        *arguments,
        requested_by=actor,
        subject=briefing.reference,
        key=f"briefings.publish:{briefing.id}:{briefing.version}",
        result_url=page_path("briefings.detail", ref=briefing.reference),
    )


def publish(
    actor: User,
    briefing: Briefing,
    *,
    expected_version: int | None = None,
    on_step: Callable[[str], None] | None = None,
    language: str = "en",
) -> BriefingVersion:
    """Freeze the draft: store its PDF bytes, HTML and SHA-256, and the evidence it cites.
    Only a draft is published, and never while a check blocks it. ``on_step`` hears each
    step's name as it starts (a job's progress). ``language``: the fixed words' language."""
    step = on_step or (lambda _name: None)
    step("Checking the briefing")
    _check_publishable(actor, briefing, expected_version)
    step("Laying out the document")
    document = briefing_document(briefing, language)
    html = render_briefing_html(briefing, document)
    step("Rendering the PDF")
    pdf = _to_pdf(html)
    step("Storing the PDF")
    number = (briefing.latest_published.number if briefing.latest_published else 0) + 1
    version = BriefingVersion(
        number=number,
        title=briefing.title,
        audience=briefing.audience,
        pdf=pdf,
        html=html,
        sha256=hashlib.sha256(pdf).hexdigest(),
        page_count=count_pdf_pages(pdf),
        size_bytes=len(pdf),
        cited_references=document["cited_references"],
        published_by_id=actor.id,
        published_at=utcnow(),
    )
    version.quoted_testimonies = chosen_testimonies(briefing)
    briefing.published_versions.append(version)
    briefing.status = BriefingStatus.PUBLISHED.value
    briefing.draft_version = number
    on = today()
    for item in briefing.questions:
        if item.question is not None:
            item.question.times_used += 1
            item.question.last_used_on = on
    _touch(briefing)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # the same version number, published by someone else at the same moment
        raise BriefingConflict(
            f"Someone else published {briefing.reference} at the same moment. Reload the page to see it."
        ) from None
    record(actor, AuditAction.BRIEFING_PUBLISHED, briefing, version=number, sha256=version.sha256)
    return version


def request_corrected(actor: User, briefing: Briefing, *, expected_version: int | None = None) -> Job:
    """One step after a member withdrew a quoted testimony: take every testimony that may no
    longer be quoted out of the draft, and ask for the result to be published as the next
    version (the publishing job, ``request_publish``). Anything else that blocks publishing
    refuses it at once, and then nothing is changed."""
    _drop_unquotable(actor, briefing, expected_version)
    return request_publish(actor, briefing, expected_version=briefing.version)


def _drop_unquotable(actor: User, briefing: Briefing, expected_version: int | None) -> None:
    _require_briefing_role(actor)
    _check_version(briefing, expected_version)
    if not briefing.needs_correction:
        raise BriefingError(f"{briefing.reference} has no published version that needs correcting.")
    _start_editing(actor, briefing)
    consent = briefing.consent_needed
    quotable = {t.id for t in chosen_testimonies(briefing) if consent is not None and t.may_quote_to(consent)}
    dropped = [link for link in briefing.testimonies if link.testimony_id not in quotable]
    for link in dropped:
        briefing.testimonies.remove(link)
    _renumber_links(briefing)
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, dropped_testimonies=len(dropped), correction=True)


def _renumber_links(briefing: Briefing) -> None:
    for position, link in enumerate(sorted(briefing.testimonies, key=lambda item: item.position), start=1):
        link.position = position


def withdraw(actor: User, briefing: Briefing, *, reason: str = "", expected_version: int | None = None) -> Briefing:
    """Mark a briefing withdrawn; nothing is deleted and its versions stay downloadable."""
    _require_briefing_role(actor)
    _check_version(briefing, expected_version)
    if briefing.is_withdrawn:
        raise BriefingError(f"{briefing.reference} is already withdrawn.")
    briefing.status = BriefingStatus.WITHDRAWN.value
    briefing.withdrawn_at = utcnow()
    briefing.withdrawn_by_id = actor.id
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_WITHDRAWN, briefing, reason=reason[:200] or None)
    return briefing
