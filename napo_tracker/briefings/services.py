"""The rules of briefings: composing, citing, quoting, rendering, publishing and withdrawing.

Every function that changes something takes the acting user, flushes, writes an audit entry
and leaves the commit to its caller.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from flask import current_app, render_template
from markupsafe import Markup, escape
from sqlalchemy import Select, func, select

from ..audit.models import AuditAction, record
from ..extensions import db
from ..pdf import html_to_pdf
from ..references import insert_with_reference, next_numbered_reference
from .markdown import MAX_NESTING, cited_references, nesting_depth, render_markdown
from .models import (
    Audience,
    Briefing,
    BriefingQuestion,
    BriefingSection,
    BriefingStatus,
    BriefingTestimony,
    BriefingVersion,
    Question,
    SectionKind,
    utcnow,
)

MAX_SECTION_CHARS = 20_000
MAX_SECTIONS = 40
MAX_QUESTIONS = 30
MAX_TESTIMONIES = 30
MAX_CHART_REGIONS = 12
QUESTIONS_HEADING = "Questions you may wish to ask"
SOURCES_HEADING = "Sources"

# Whose consent a quotation needs, by audience. A members' briefing is circulated widely and
# can reach anyone, so it needs the widest consent (press). The employer never sees a member's
# words: that is the one reader who could identify them and act against them.
CONSENT_FOR_AUDIENCE: dict[str, str | None] = {
    Audience.MPS.value: "mps",
    Audience.PRESS.value: "press",
    Audience.MEMBERS.value: "press",
    Audience.EMPLOYER.value: None,
}
# Audiences outside the union: internal-only evidence may not be cited to them.
PUBLIC_AUDIENCES = frozenset({Audience.MPS.value, Audience.PRESS.value, Audience.EMPLOYER.value})


class BriefingError(ValueError):
    """A change that breaks a rule of briefings; the message is shown to the user."""


class BriefingConflict(BriefingError):
    """Someone else changed the briefing since the page was loaded."""


# ---------------------------------------------------------------------------- loading


REFERENCE_PATTERN = re.compile(r"BRF[1-9][0-9]{0,5}-[0-9]{2}")


def get_briefing_or_404(reference: str) -> Briefing:
    """Load a briefing by its reference; anything not shaped like one never reaches the database."""
    from flask import abort

    reference = reference.strip().upper()
    if not REFERENCE_PATTERN.fullmatch(reference):
        abort(404)
    briefing = db.session.scalar(select(Briefing).where(Briefing.reference == reference))
    if briefing is None:
        abort(404)
    return briefing


def briefings_list() -> list[Briefing]:
    return list(db.session.scalars(select(Briefing).order_by(Briefing.year.desc(), Briefing.number.desc())))


# ---------------------------------------------------------------------------- briefings


def _two_digit_year(on: date) -> int:
    return on.year % 100


def create_briefing(
    actor,
    *,
    title: str,
    subtitle: str = "",
    audience: str = Audience.MPS.value,
    dated_on: date | None = None,
    signatory_name: str = "",
    signatory_title: str = "",
) -> Briefing:
    """A new draft, numbered per year: BRF1-26, BRF2-26, … (the year of its date)."""
    Audience(audience)
    dated_on = dated_on or date.today()
    yy = _two_digit_year(dated_on)
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
            dated_on=dated_on,
            author_id=getattr(actor, "id", None),
            signatory_name=signatory_name.strip(),
            signatory_title=signatory_title.strip(),
        )

    briefing = insert_with_reference(lambda: next_numbered_reference(Briefing.reference, "BRF", suffix, width=1), build)
    record(actor, AuditAction.BRIEFING_CREATED, briefing, audience=audience)
    return briefing


def check_version(briefing: Briefing, expected_version: int | None) -> None:
    """Refuse a change made from a page that is older than the briefing."""
    if expected_version is not None and expected_version != briefing.version:
        raise BriefingConflict(
            f"Someone else changed {briefing.reference} while you were editing. "
            "Reload the page to see their changes, then make yours again."
        )


def _start_editing(actor, briefing: Briefing) -> None:
    """Editing a published briefing starts the next version; the published one stays frozen."""
    if briefing.status == BriefingStatus.WITHDRAWN.value:
        raise BriefingError(f"{briefing.reference} has been withdrawn and can no longer be changed.")
    if briefing.status == BriefingStatus.PUBLISHED.value:
        briefing.status = BriefingStatus.DRAFT.value
        briefing.draft_version = (briefing.latest_published.number if briefing.latest_published else 0) + 1
        record(actor, AuditAction.BRIEFING_CHANGED, briefing, started_version=briefing.draft_version)


def _touch(briefing: Briefing) -> None:
    briefing.version += 1
    briefing.updated_at = utcnow()


def update_briefing(
    actor,
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
    check_version(briefing, expected_version)
    Audience(audience)
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
    """The size and shape limits a section body must keep (also used by the form)."""
    if len(body) > MAX_SECTION_CHARS:
        raise BriefingError(
            f"This section is {len(body):,} characters long; a section may be at most "
            f"{MAX_SECTION_CHARS:,}. Split it into several sections."
        )
    if nesting_depth(body) > MAX_NESTING:
        raise BriefingError(f"Lists and quotes may be nested at most {MAX_NESTING} levels deep.")


def add_section(
    actor, briefing: Briefing, *, kind: str, heading: str = "", body: str = "", expected_version: int | None = None
) -> BriefingSection:
    check_version(briefing, expected_version)
    kind = SectionKind(kind).value
    validate_section_body(body)
    if len(briefing.sections) >= MAX_SECTIONS:
        raise BriefingError(f"A briefing may have at most {MAX_SECTIONS} sections.")
    _start_editing(actor, briefing)
    section = BriefingSection(
        kind=kind,
        heading=(heading.strip() or SectionKind(kind).label),
        body=body,
        position=len(briefing.sections) + 1,
        chart_region_ids=[],
    )
    briefing.sections.append(section)
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, section_added=kind)
    return section


def get_section_or_404(briefing: Briefing, section_id: int) -> BriefingSection:
    from flask import abort

    section = next((s for s in briefing.sections if s.id == section_id), None)
    if section is None:
        abort(404)
    return section


def update_section(
    actor, section: BriefingSection, *, kind: str, heading: str, body: str, expected_version: int | None = None
) -> BriefingSection:
    briefing = section.briefing
    check_version(briefing, expected_version)
    validate_section_body(body)
    _start_editing(actor, briefing)
    section.kind = SectionKind(kind).value
    section.heading = heading.strip() or SectionKind(kind).label
    section.body = body
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, section_changed=section.id)
    return section


def _renumber(items: list) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


def move_section(actor, section: BriefingSection, direction: str) -> None:
    briefing = section.briefing
    _start_editing(actor, briefing)
    _move(briefing.sections, section, direction)
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, section_moved=section.id, direction=direction)


def _move(items: list, item, direction: str) -> None:
    ordered = sorted(items, key=lambda i: i.position)
    index = ordered.index(item)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    _renumber(ordered)
    items.sort(key=lambda i: i.position)  # the loaded collection follows the new order at once


def remove_section(actor, section: BriefingSection) -> None:
    briefing = section.briefing
    _start_editing(actor, briefing)
    briefing.sections.remove(section)
    _renumber(sorted(briefing.sections, key=lambda s: s.position))
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, section_removed=section.kind)


def set_section_chart(
    actor, section: BriefingSection, *, metric_code: str | None, region_ids: list[int], since_on: date | None
) -> BriefingSection:
    """A chart block under the section: one metric across up to 12 regions since a date."""
    briefing = section.briefing
    if len(region_ids) > MAX_CHART_REGIONS:
        raise BriefingError(f"A chart can compare at most {MAX_CHART_REGIONS} regions.")
    if metric_code:
        from ..evidence.models import Metric

        if db.session.scalar(select(Metric.id).where(Metric.code == metric_code)) is None:
            raise BriefingError("Choose a metric from the list.")
    _start_editing(actor, briefing)
    section.chart_metric_code = metric_code or None
    section.chart_region_ids = list(region_ids) if metric_code else []
    section.chart_since_on = since_on if metric_code else None
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, section_chart=metric_code or "removed")
    return section


# ---------------------------------------------------------------------------- evidence


def may_cite_internal(audience: str) -> bool:
    return audience not in PUBLIC_AUDIENCES


def evidence_for_picker(
    briefing: Briefing,
    *,
    region_id: int | None = None,
    metric_code: str | None = None,
    since_on: date | None = None,
    verified_only: bool = False,
    limit: int = 100,
) -> list:
    """Evidence an official may cite in this briefing (no internal-only items in a public one)."""
    from ..evidence.models import EvidenceItem, Metric

    stmt = select(EvidenceItem).order_by(EvidenceItem.as_of.desc(), EvidenceItem.id.desc()).limit(limit)
    if not may_cite_internal(briefing.audience):
        stmt = stmt.where(EvidenceItem.visibility == "public")
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


def evidence_sentence(item) -> str:
    """The Markdown line the picker inserts for one item: its words and a citation token. A
    figure is printed from the evidence at render time ([=EV-…]), so it can never drift."""
    if item.statement:
        return f"{item.where}: {item.statement.strip()} [{item.reference}]"
    label = item.metric.label if item.metric is not None else "Figure"
    return f"{item.where}: {label} [={item.reference}]"


def cite_evidence(actor, section: BriefingSection, item) -> BriefingSection:
    """Add a figure to the end of a section as a cited line."""
    briefing = section.briefing
    if item.visibility != "public" and not may_cite_internal(briefing.audience):
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


def regional_evidence_markdown(briefing: Briefing, region_ids: list[int]) -> str:
    """One heading per region with its latest figure for each metric and its statements."""
    from ..evidence.models import EvidenceItem
    from ..regions.models import Region

    lines: list[str] = []
    regions = db.session.scalars(select(Region).where(Region.id.in_(region_ids)).order_by(Region.name)).all()
    for region in regions:
        stmt = (
            select(EvidenceItem)
            .where(EvidenceItem.region_id == region.id)
            .order_by(EvidenceItem.as_of.desc(), EvidenceItem.id.desc())
        )
        if not may_cite_internal(briefing.audience):
            stmt = stmt.where(EvidenceItem.visibility == "public")
        latest: dict[Any, Any] = {}
        statements = []
        for item in db.session.scalars(stmt.limit(200)):
            if _reveals_few(item):
                continue  # a figure from one or two people could identify them: never drafted in
            if item.value is not None and item.metric_id is not None:
                latest.setdefault((item.metric_id, item.unit_id, item.grade), item)
            elif item.statement:
                statements.append(item)
        if not latest and not statements:
            continue
        lines.append(f"# {region.name}\n")
        for item in list(latest.values())[:12] + statements[:6]:
            lines.append("- " + _regional_line(item))
        lines.append("")
    return "\n".join(lines).strip()


def _reveals_few(item) -> bool:
    from ..evidence.services import reveals_fewer_than_three

    return reveals_fewer_than_three(item)


def _regional_line(item) -> str:
    """A statement keeps its own words and takes a reference mark; a bare figure prints its value."""
    if item.statement:
        return f"{item.statement.strip()} [{item.reference}]"
    where = f" ({item.unit.name})" if getattr(item, "unit", None) is not None else ""
    return f"{item.metric.label}{where}: [={item.reference}]"


def generate_regional_section(actor, briefing: Briefing, region_ids: list[int]) -> BriefingSection:
    """A regional evidence section drafted from the chosen regions' latest evidence, then editable."""
    if not region_ids:
        raise BriefingError("Choose at least one region.")
    body = regional_evidence_markdown(briefing, region_ids)
    if not body:
        raise BriefingError("None of the chosen regions has evidence this briefing may cite yet.")
    return add_section(
        actor, briefing, kind=SectionKind.REGIONAL_EVIDENCE.value, heading="Evidence from the regions", body=body
    )


# ---------------------------------------------------------------------------- testimonies


def consent_audience(audience: str) -> str | None:
    return CONSENT_FOR_AUDIENCE.get(audience)


def quotable_for_briefing(briefing: Briefing, limit: int = 200) -> list:
    """Testimonies the consent rules allow for this briefing's audience, newest first."""
    consent = consent_audience(briefing.audience)
    if consent is None:
        return []
    from ..testimonies.services import quotable_testimonies

    stmt = quotable_testimonies(consent).limit(limit)
    return list(db.session.scalars(stmt))


def set_testimonies(actor, briefing: Briefing, testimony_ids: list[int]) -> None:
    """Choose the testimonies quoted, in order; only those quotable to this audience, at most 30."""
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
    _start_editing(actor, briefing)
    briefing.testimonies.clear()
    db.session.flush()
    for position, testimony_id in enumerate(ids, start=1):
        briefing.testimonies.append(BriefingTestimony(testimony_id=testimony_id, position=position))
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, testimonies=len(ids))


def chosen_testimonies(briefing: Briefing) -> list:
    if not briefing.testimonies:
        return []
    from ..testimonies.models import Testimony

    ids = [link.testimony_id for link in briefing.testimonies][:MAX_TESTIMONIES]
    by_id = {t.id: t for t in db.session.scalars(select(Testimony).where(Testimony.id.in_(ids)))}
    return [by_id[i] for i in ids if i in by_id]


# ---------------------------------------------------------------------------- questions


def active_questions(topic: str | None = None) -> list[Question]:
    stmt = select(Question).where(Question.is_archived.is_(False)).order_by(Question.times_used.desc(), Question.id)
    questions = list(db.session.scalars(stmt))
    if topic:
        questions = [q for q in questions if topic in (q.topics or [])]
    return questions


def clean_topics(raw: str | list[str]) -> list[str]:
    items = raw if isinstance(raw, list) else re.split(r"[,;\n]", raw or "")
    return list(dict.fromkeys(t.strip().lower() for t in items if t.strip()))[:10]


def create_question(actor, *, text: str, topics: list[str] | str) -> Question:
    question = Question(text=text.strip(), topics=clean_topics(topics), created_by_id=getattr(actor, "id", None))
    db.session.add(question)
    db.session.flush()
    record(actor, AuditAction.QUESTION_CREATED, ("questions", question.id), topics=question.topics)
    return question


def update_question(
    actor, question: Question, *, text: str, topics: list[str] | str, is_archived: bool = False
) -> Question:
    question.text = text.strip()
    question.topics = clean_topics(topics)
    question.is_archived = is_archived
    db.session.flush()
    record(actor, AuditAction.QUESTION_CHANGED, ("questions", question.id), archived=is_archived)
    return question


def add_question(actor, briefing: Briefing, *, question: Question | None = None, text: str = "") -> BriefingQuestion:
    """Add a bank question (its text copied, so it can be reworded here) or one of the briefing's own."""
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


def get_briefing_question_or_404(briefing: Briefing, item_id: int) -> BriefingQuestion:
    from flask import abort

    item = next((q for q in briefing.questions if q.id == item_id), None)
    if item is None:
        abort(404)
    return item


def reword_question(actor, item: BriefingQuestion, text: str, *, expected_version: int | None = None) -> None:
    """Change this briefing's wording of a question; the bank's text stays as it was."""
    briefing = item.briefing
    check_version(briefing, expected_version)
    if not text.strip():
        raise BriefingError("Write the question.")
    _start_editing(actor, briefing)
    item.text = text.strip()
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, question_reworded=item.id)


def move_question(actor, item: BriefingQuestion, direction: str) -> None:
    briefing = item.briefing
    _start_editing(actor, briefing)
    _move(briefing.questions, item, direction)
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, question_moved=item.id, direction=direction)


def remove_question(actor, item: BriefingQuestion) -> None:
    briefing = item.briefing
    _start_editing(actor, briefing)
    briefing.questions.remove(item)
    _renumber(sorted(briefing.questions, key=lambda q: q.position))
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_CHANGED, briefing, question_removed=item.id)


# ---------------------------------------------------------------------------- the document


@dataclass
class Citations:
    """Numbers evidence in order of first citation; the sources list is built from it."""

    items_by_reference: dict[str, Any]
    numbers: dict[str, int] = field(default_factory=dict)

    def number_for(self, reference: str) -> int | None:
        if reference not in self.items_by_reference:
            return None
        if reference not in self.numbers:
            self.numbers[reference] = len(self.numbers) + 1
        return self.numbers[reference]

    def cite(self, reference: str, with_value: bool) -> str:
        number = self.number_for(reference)
        if number is None:
            return ""  # unknown: the token stays as literal text and a check reports it
        mark = f'<sup class="cite"><a href="#source-{number}">[{number}]</a></sup>'
        if with_value:
            from ..evidence.services import format_value

            return f'<span class="figure">{escape(format_value(self.items_by_reference[reference]))}</span>{mark}'
        return mark


def _evidence_by_reference(references: list[str]) -> dict[str, Any]:
    if not references:
        return {}
    from ..evidence.models import EvidenceItem

    return {
        item.reference: item
        for item in db.session.scalars(select(EvidenceItem).where(EvidenceItem.reference.in_(references)))
    }


def all_cited_references(briefing: Briefing) -> list[str]:
    seen: list[str] = []
    for section in briefing.sections:
        for reference in cited_references(section.body):
            if reference not in seen:
                seen.append(reference)
    return seen


def chart_items(section: BriefingSection) -> list:
    """The evidence a section's chart draws: the metric's figures for the regions since the date."""
    if not section.chart_metric_code:
        return []
    from ..evidence.models import EvidenceItem, Metric

    stmt = (
        select(EvidenceItem)
        .join(Metric, EvidenceItem.metric_id == Metric.id)
        .where(Metric.code == section.chart_metric_code, EvidenceItem.value.is_not(None))
        .order_by(EvidenceItem.as_of, EvidenceItem.id)
    )
    if section.chart_region_ids:
        stmt = stmt.where(EvidenceItem.region_id.in_(section.chart_region_ids))
    if section.chart_since_on:
        stmt = stmt.where(EvidenceItem.as_of >= section.chart_since_on)
    if not may_cite_internal(section.briefing.audience):
        stmt = stmt.where(EvidenceItem.visibility == "public")
    return list(db.session.scalars(stmt.limit(500)))


def _chart(section: BriefingSection, citations: Citations) -> dict | None:
    items = chart_items(section)
    if not items:
        return None
    from ..charts import svg_data_uri

    metric = items[0].metric
    unit = metric.unit
    series: dict[str, list[tuple[date, Decimal]]] = {}
    for item in items:
        label = item.region.name if item.region is not None else "National"
        series.setdefault(label, []).append((item.as_of, Decimal(item.value)))
        citations.items_by_reference.setdefault(item.reference, item)
        citations.number_for(item.reference)
    svg = _draw_chart(
        metric.label, unit, tuple((label, tuple(points)) for label, points in series.items()), tuple(metric.thresholds)
    )
    numbers = sorted({citations.numbers[item.reference] for item in items})
    # The chart module draws the SVG from our own figures and escapes every label it writes.
    return {
        "svg": Markup(svg),
        "data_uri": svg_data_uri(svg),
        "alt": f"Chart: {metric.label} by region",
        "sources": numbers,
    }


@lru_cache(maxsize=64)
def _draw_chart(title: str, unit: str, series: tuple, thresholds: tuple = ()) -> str:
    """Drawing is the slow part of a chart; the same figures always draw the same SVG."""
    from ..charts import bar_chart_svg, line_chart_svg

    if any(len(points) > 1 for _label, points in series):
        return line_chart_svg(title, {label: list(points) for label, points in series}, unit=unit)
    return bar_chart_svg(
        title,
        [label for label, _points in series],
        [points[-1][1] for _label, points in series],
        unit=unit,
        thresholds=thresholds,
    )


def _testimony_view(testimony) -> dict:
    facts = [
        testimony.grade_label if testimony.grade else None,
        testimony.region.name if testimony.region is not None else None,
    ]
    facts = [f for f in facts if f]
    return {
        "text": testimony.public_text or "",
        "attribution": ", ".join(str(f) for f in facts),
        "reference": testimony.reference,
    }


def _source_line(item) -> str:
    parts = [item.source_title or "", item.source_publisher or ""]
    if item.source_date:
        parts.append(_long_date(item.source_date) if isinstance(item.source_date, date) else str(item.source_date))
    text = ", ".join(p for p in parts if p) or "Source not recorded"
    return f"{text}. Figure as of {_long_date(item.as_of)} ({item.reference})."


def _long_date(on: date) -> str:
    return f"{on.day} {on:%B %Y}"


def briefing_document(briefing: Briefing) -> dict:
    """Every value the briefing's templates need, as plain values (no live ORM objects)."""
    citations = Citations(_evidence_by_reference(all_cited_references(briefing)))
    testimonies = [_testimony_view(t) for t in chosen_testimonies(briefing)]
    sections = []
    placed_testimonies = False
    for section in sorted(briefing.sections, key=lambda s: s.position):
        view = {
            "heading": section.heading or section.kind_label,
            "kind": section.kind,
            "html": render_markdown(section.body, citations.cite),
            "chart": _chart(section, citations),
            "testimonies": [],
        }
        if section.kind == SectionKind.STAFF_TESTIMONIES.value and not placed_testimonies:
            view["testimonies"] = testimonies
            placed_testimonies = True
        sections.append(view)
    if testimonies and not placed_testimonies:
        sections.append(
            {
                "heading": SectionKind.STAFF_TESTIMONIES.label,
                "kind": SectionKind.STAFF_TESTIMONIES.value,
                "html": Markup(""),
                "chart": None,
                "testimonies": testimonies,
            }
        )
    sources = [
        {
            "number": number,
            "text": _source_line(citations.items_by_reference[reference]),
            "url": citations.items_by_reference[reference].source_url or "",
        }
        for reference, number in sorted(citations.numbers.items(), key=lambda kv: kv[1])
    ]
    config = current_app.config
    return {
        "reference": briefing.reference,
        "version": briefing.draft_version,
        "title": briefing.title or "Untitled briefing",
        "subtitle": briefing.subtitle,
        "audience": briefing.audience_label,
        "dated_on": _long_date(briefing.dated_on),
        "union_name": config["UNION_NAME"],
        "union_full_name": config["UNION_FULL_NAME"],
        "signatory_name": briefing.signatory_name,
        "signatory_title": briefing.signatory_title,
        "sections": sections,
        "questions_heading": QUESTIONS_HEADING,
        "questions": [q.text for q in sorted(briefing.questions, key=lambda q: q.position)],
        "sources_heading": SOURCES_HEADING,
        "sources": sources,
        "cited_references": list(citations.numbers),
        "is_draft": briefing.status != BriefingStatus.PUBLISHED.value,
    }


def render_briefing_html(briefing: Briefing, document: dict | None = None) -> str:
    """The final HTML of the PDF: the same document partial the preview page shows."""
    return render_template("briefings/pdf/briefing.html", doc=document or briefing_document(briefing), for_pdf=True)


def render_briefing_pdf(briefing: Briefing) -> bytes:
    return html_to_pdf(render_briefing_html(briefing))


_PAGES_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b")
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def count_pdf_pages(pdf: bytes) -> int:
    """Pages in a PDF we made: the /Count of its page tree, which WeasyPrint may put inside a
    compressed object stream."""
    import zlib

    chunks = [pdf]
    for match in _STREAM.finditer(pdf):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    counts = [int(a or b) for chunk in chunks for a, b in _PAGES_COUNT.findall(chunk)]
    return max(counts, default=0)


# ---------------------------------------------------------------------------- publishing


def publish(actor, briefing: Briefing, *, expected_version: int | None = None) -> BriefingVersion:
    """Freeze the draft: store its PDF bytes, HTML and SHA-256. Blocking checks refuse it."""
    from .checks import blocking

    check_version(briefing, expected_version)
    if briefing.status != BriefingStatus.DRAFT.value:
        raise BriefingError(f"{briefing.reference} is {briefing.status}; only a draft can be published.")
    problems = blocking(briefing)
    if problems:
        raise BriefingError("This briefing cannot be published yet: " + "; ".join(p.message for p in problems))
    document = briefing_document(briefing)
    html = render_briefing_html(briefing, document)
    pdf = html_to_pdf(html)
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
        published_by_id=getattr(actor, "id", None),
        published_at=utcnow(),
    )
    briefing.published_versions.append(version)
    briefing.status = BriefingStatus.PUBLISHED.value
    briefing.draft_version = number
    today = date.today()
    for item in briefing.questions:
        if item.question is not None:
            item.question.times_used += 1
            item.question.last_used_on = today
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_PUBLISHED, briefing, version=number, sha256=version.sha256)
    return version


def withdraw(actor, briefing: Briefing, *, reason: str = "") -> Briefing:
    """Mark a briefing withdrawn; nothing is deleted and its versions stay downloadable."""
    if briefing.status == BriefingStatus.WITHDRAWN.value:
        raise BriefingError(f"{briefing.reference} is already withdrawn.")
    briefing.status = BriefingStatus.WITHDRAWN.value
    briefing.withdrawn_at = datetime.now(UTC)
    briefing.withdrawn_by_id = getattr(actor, "id", None)
    _touch(briefing)
    db.session.flush()
    record(actor, AuditAction.BRIEFING_WITHDRAWN, briefing, reason=reason[:200] or None)
    return briefing


def get_version_or_404(briefing: Briefing, number: int | None = None) -> BriefingVersion:
    from flask import abort

    versions = briefing.published_versions
    version = versions[-1] if number is None and versions else next((v for v in versions if v.number == number), None)
    if version is None:
        abort(404)
    return version


def question_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Question)) or 0


def quotable_select(audience: str) -> Select | None:
    consent = consent_audience(audience)
    if consent is None:
        return None
    from ..testimonies.services import quotable_testimonies

    return quotable_testimonies(consent)


def blocking_checks(briefing: Briefing) -> list:
    from .checks import blocking

    return blocking(briefing)
