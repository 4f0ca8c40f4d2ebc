"""A briefing as a document: what it cites, draws and quotes, as the plain values its templates read.

The composer's preview, the PDF and the checks before publishing all read a briefing through
here, so the evidence a check looks at is the evidence the PDF prints. Nothing here changes
the database.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from markupsafe import Markup, escape
from pypdf import PdfReader
from sqlalchemy import select

from ..charts import bar_chart_svg, line_chart_svg, svg_data_uri, with_title
from ..evidence.models import EvidenceItem, Metric, Visibility
from ..evidence.services import citation_text, is_withheld, place_text
from ..extensions import db
from ..i18n import DOCUMENT_LANGUAGES, document_date, in_document_language
from ..kernel.labels import N_
from ..kernel.numbers import long_date, month_year
from ..pdf import html_to_pdf
from ..regions.models import Region
from ..testimonies.attribution import Attribution, shown_attributions
from ..testimonies.models import GRADE_LABELS, ServiceBand, Testimony
from .markdown import cited_references, render_markdown
from .models import MAX_TESTIMONIES, Briefing, BriefingSection, BriefingStatus, SectionKind

QUESTIONS_HEADING = N_("Questions you may wish to ask")
SOURCES_HEADING = N_("Sources")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


class FixedText:
    """The briefing's fixed words in its language, whatever language the page around it is in."""

    def __init__(self, language: str = "en"):
        self.language = language if language in DOCUMENT_LANGUAGES else "en"

    def __call__(self, message: str, **variables: Any) -> str:
        return in_document_language(self.language, message, **variables)

    def date(self, on: date) -> str:
        return document_date(on, self.language)

    def attribution(self, attribution: Attribution) -> str:
        """Who a quote is from, in words: the grade and length of service are fixed words too."""
        english = str(attribution)
        if self.language == "en" or not english:
            return english
        with force_locale("cy"):
            band = ServiceBand.label_of(attribution.service_band) if attribution.service_band else ""
            parts = [
                gettext(GRADE_LABELS[attribution.grade]) if attribution.grade in GRADE_LABELS else None,
                attribution.region,
                gettext("%(band)s in the service", band=_lower_first(gettext(band))) if band else None,
            ]
        welsh = ", ".join(part for part in parts if part)
        return welsh if self.language == "cy" else f"{welsh} / {english}"

    @property
    def html_lang(self) -> str:
        return "cy" if self.language == "cy" else "en-GB"


# ---------------------------------------------------------------------------- what it cites


def all_cited_references(briefing: Briefing) -> list[str]:
    """Every evidence reference the sections cite, in order of first appearance."""
    seen: list[str] = []
    for section in briefing.sections:
        for reference in cited_references(section.body):
            if reference not in seen:
                seen.append(reference)
    return seen


def evidence_by_reference(references: list[str]) -> dict[str, EvidenceItem]:
    """The evidence items that exist among ``references``; a missing one is simply absent."""
    if not references:
        return {}
    return {
        item.reference: item
        for item in db.session.scalars(select(EvidenceItem).where(EvidenceItem.reference.in_(references)))
    }


def chart_max_points() -> int:
    return int(current_app.config["CHART_MAX_POINTS"])


NATIONAL_SERIES = 0  # in chart_region_ids: the national figures, only when chosen


# Each region's latest figure of each grade is looked for among its newest figures: one short
# walk of the dashboard index per region, so a chart costs the same whatever the table holds.
NEWEST_PER_REGION = 50


def chart_items(section: BriefingSection) -> list[EvidenceItem]:
    """The evidence a section's chart draws, and nothing the official did not choose.

    Either the items picked for it (``chart_references``), or for the chosen regions (0 for
    the national figures; none chosen, every region but no national series) the metric's
    figures since ``chart_since_on`` (a time series), or else each one's latest figure of
    each grade on or before ``chart_on`` (the briefing's date by default). At most
    ``CHART_MAX_POINTS`` points, the newest kept; public briefings draw public evidence only;
    a withheld small number is never drawn.
    """
    limit = chart_max_points()
    if section.chart_references:
        stmt = select(EvidenceItem).where(
            EvidenceItem.reference.in_(section.chart_references[:limit]), EvidenceItem.value.is_not(None)
        )
        if not section.briefing.may_cite_internal:
            stmt = stmt.where(EvidenceItem.visibility == Visibility.PUBLIC.value)
        found = list(db.session.scalars(stmt).unique())
    elif section.chart_metric_code:
        found = _metric_chart_items(section, limit)
    else:
        return []
    newest = sorted(found, key=lambda i: (i.as_of, i.id), reverse=True)[:limit]
    return sorted((i for i in newest if not is_withheld(i)), key=lambda i: (i.as_of, i.id))


def _metric_chart_items(section: BriefingSection, limit: int) -> list[EvidenceItem]:
    briefing = section.briefing
    item = EvidenceItem
    metric_id = db.session.scalar(select(Metric.id).where(Metric.code == section.chart_metric_code))
    if metric_id is None:
        return []
    chosen = list(section.chart_region_ids or [])
    places: list[int | None] = [r for r in chosen if r != NATIONAL_SERIES]
    if not places:
        places = [] if chosen else list(db.session.scalars(select(Region.id).order_by(Region.name)))
    if NATIONAL_SERIES in chosen:
        places.append(None)
    series = bool(section.chart_since_on and chosen)
    on = briefing.dated_on if series else (section.chart_on or briefing.dated_on)
    found: list[EvidenceItem] = []
    for region_id in places:
        # Newest first along ix_evidence_items_dashboard (metric, region, date): a short walk.
        stmt = select(item).where(
            item.metric_id == metric_id,
            item.region_id == region_id if region_id is not None else item.region_id.is_(None),
            item.value.is_not(None),
            item.unit_id.is_(None),
            item.as_of <= on,
        )
        if series:
            stmt = stmt.where(item.as_of >= section.chart_since_on)
        if not briefing.may_cite_internal:
            stmt = stmt.where(item.visibility == Visibility.PUBLIC.value)
        rows = db.session.scalars(stmt.order_by(item.as_of.desc()).limit(limit if series else NEWEST_PER_REGION))
        rows_newest = sorted(rows.unique(), key=lambda i: (i.as_of, i.id), reverse=True)
        if series:
            found.extend(rows_newest)
            continue
        grades: set[str | None] = set()
        for row in rows_newest:
            if row.grade not in grades:
                grades.add(row.grade)
                found.append(row)
    return found


def chosen_testimonies(briefing: Briefing) -> list[Testimony]:
    """The testimonies the briefing quotes, in its order (a deleted one drops out)."""
    if not briefing.testimonies:
        return []
    ids = [link.testimony_id for link in briefing.testimonies][:MAX_TESTIMONIES]
    by_id = {t.id: t for t in db.session.scalars(select(Testimony).where(Testimony.id.in_(ids)))}
    return [by_id[i] for i in ids if i in by_id]


def source_key(item: EvidenceItem) -> tuple:
    """Items from the same source (its title, publisher, date and address) share one number and
    one line under Sources, whatever kind of evidence each is within it."""
    return (" ".join(item.source_title.split()).lower(), item.source_publisher, item.source_date, item.source_url)


@dataclass
class Citations:
    """Numbers the sources in order of first citation: each source once, however many of its
    figures are cited or drawn; the Sources list is built from it."""

    items_by_reference: dict[str, EvidenceItem]
    numbers: dict[tuple, int] = field(default_factory=dict)
    items_by_source: dict[tuple, list[EvidenceItem]] = field(default_factory=dict)

    def number_for(self, reference: str) -> int | None:
        item = self.items_by_reference.get(reference)
        if item is None:
            return None
        key = source_key(item)
        if key not in self.numbers:
            self.numbers[key] = len(self.numbers) + 1
        cited = self.items_by_source.setdefault(key, [])
        if item not in cited:
            cited.append(item)
        return self.numbers[key]

    @property
    def cited_references(self) -> list[str]:
        return [item.reference for items in self.items_by_source.values() for item in items]

    def cite(self, reference: str, with_value: bool) -> str:
        number = self.number_for(reference)
        if number is None:
            return ""  # unknown: the token stays as literal text and a check reports it
        mark = f'<sup class="cite"><a href="#source-{number}">[{number}]</a></sup>'
        if with_value:
            text = citation_text(self.items_by_reference[reference])
            return f'<span class="figure">{escape(text)}</span>{mark}'
        return mark


# ---------------------------------------------------------------------------- charts


def _chart(section: BriefingSection, citations: Citations) -> dict[str, Any] | None:
    items = chart_items(section)
    if not items:
        return None
    metric = items[0].metric
    assert metric is not None  # chart_items joins on the metric
    series: dict[str, list[tuple[date, Decimal]]] = {}
    numbers: set[int] = set()
    for item in items:
        if item.value is None:  # chart_items draws figures only; a statement has no point to plot
            continue
        label = item.region.name if item.region is not None else "National"
        if item.unit is not None:
            label = f"{item.unit.name} ({label})"
        if item.grade:
            label = f"{label} · {item.grade}"
        series.setdefault(label, []).append((item.as_of, Decimal(item.value)))
        citations.items_by_reference.setdefault(item.reference, item)
        number = citations.number_for(item.reference)
        if number is not None:
            numbers.add(number)
    svg = _draw_chart(
        metric.label,
        metric.unit,
        tuple((label, tuple(points)) for label, points in series.items()),
        tuple(metric.thresholds),
    )
    # The chart module draws the SVG from our own figures and escapes every label it writes.
    places = ", ".join(series)
    svg = with_title(svg, f"Chart: {metric.label}, {places}.")
    return {
        "svg": Markup(svg),
        "data_uri": svg_data_uri(svg),
        "alt": f"Chart: {metric.label}, {places}.",
        "sources": sorted(numbers),
    }


def _draw_chart(title: str, unit: str, series: tuple, thresholds: tuple = ()) -> str:
    """A line per region over time, or a bar per region for a single date. The chart module
    keeps what it drew under the figures it plots, shared by every worker (cache.py)."""
    if any(len(points) > 1 for _label, points in series):
        return line_chart_svg(title, {label: list(points) for label, points in series}, unit=unit)
    return bar_chart_svg(
        title,
        [label for label, _points in series],
        [points[-1][1] for _label, points in series],
        unit=unit,
        thresholds=thresholds,
    )


# ---------------------------------------------------------------------------- the document


def _testimony_view(testimony: Testimony, attribution: Attribution, fixed: FixedText) -> dict[str, str]:
    return {
        "text": testimony.public_text or "",
        # Only facts enough approved testimonies share: a quote must not point at its member.
        "attribution": fixed.attribution(attribution),
        "reference": testimony.reference,
    }


def source_line(items: list[EvidenceItem]) -> str:
    """One line under Sources for one source: what it is, its publisher, its date, the places
    and dates of the figures cited from it, and the references to find them by."""
    first = items[0]
    title = first.source_title or "Source not recorded"
    published = ", ".join(
        p for p in (first.source_publisher, long_date(first.source_date) if first.source_date else "") if p
    )
    places = "; ".join(dict.fromkeys(place_text(i) for i in items))
    dates = ", ".join(dict.fromkeys(month_year(i.as_of) for i in sorted(items, key=lambda i: i.as_of)))
    references = ", ".join(i.reference for i in items)
    kinds = "; ".join(dict.fromkeys(i.source_type_label for i in items))
    parts = [title, published, kinds, f"{places} ({dates})", f"Evidence {references}"]
    return ". ".join(p for p in parts if p) + "."


def briefing_document(briefing: Briefing, language: str = "en") -> dict[str, Any]:
    """Every value the briefing's templates need, as plain values (no live ORM objects);
    the fixed words in ``language`` (``DOCUMENT_LANGUAGES``)."""
    fixed = FixedText(language)
    citations = Citations(evidence_by_reference(all_cited_references(briefing)))
    chosen = chosen_testimonies(briefing)
    attributions = shown_attributions(chosen) if chosen else {}
    testimonies = [_testimony_view(t, attributions[t.id], fixed) for t in chosen]
    sections: list[dict[str, Any]] = []
    placed_testimonies = False
    for section in sorted(briefing.sections, key=lambda s: s.position):
        view: dict[str, Any] = {
            "heading": section.heading or fixed(section.kind_label),
            "kind": section.kind,
            "html": render_markdown(section.body, citations.cite),
            "chart": _chart(section, citations),
            "testimonies": [],
        }
        if section.kind == SectionKind.STAFF_TESTIMONIES and not placed_testimonies:
            view["testimonies"] = testimonies
            placed_testimonies = True
        sections.append(view)
    if testimonies and not placed_testimonies:
        sections.append(
            {
                "heading": fixed(SectionKind.STAFF_TESTIMONIES.label),
                "kind": SectionKind.STAFF_TESTIMONIES.value,
                "html": Markup(""),
                "chart": None,
                "testimonies": testimonies,
            }
        )
    sources = [
        {
            "number": number,
            "text": source_line(citations.items_by_source[key]),
            "url": citations.items_by_source[key][0].source_url or "",
        }
        for key, number in sorted(citations.numbers.items(), key=lambda kv: kv[1])
    ]
    config = current_app.config
    return {
        "reference": briefing.reference,
        "version": briefing.draft_version,
        "title": briefing.title or "Untitled briefing",
        "subtitle": briefing.subtitle,
        "audience": fixed(briefing.audience_label),
        "dated_on": fixed.date(briefing.dated_on),
        "union_name": config["UNION_NAME"],
        "union_full_name": config["UNION_FULL_NAME"],
        "signatory_name": briefing.signatory_name,
        "signatory_title": briefing.signatory_title,
        "sections": sections,
        "questions_heading": fixed(QUESTIONS_HEADING),
        "questions": [q.text for q in sorted(briefing.questions, key=lambda q: q.position)],
        "sources_heading": fixed(SOURCES_HEADING),
        "sources": sources,
        "cited_references": citations.cited_references,
        "is_draft": briefing.status != BriefingStatus.PUBLISHED,
        "language": fixed.language,
        "html_lang": fixed.html_lang,
        "words": {
            "version": fixed(N_("version %(number)s"), number=briefing.draft_version),
            "for_audience": fixed(N_("for %(audience)s"), audience=briefing.audience_label),
            "no_sections": fixed(N_("This briefing has no sections yet.")),
        },
    }


# ---------------------------------------------------------------------------- rendering


def render_briefing_html(briefing: Briefing, document: dict[str, Any] | None = None, language: str = "en") -> str:
    """The final HTML of the PDF: the same document partial the preview page shows."""
    return render_template(
        "briefings/pdf/briefing.html", doc=document or briefing_document(briefing, language), for_pdf=True
    )


def render_briefing_pdf(briefing: Briefing, language: str = "en") -> bytes:
    """The briefing as it stands now, as a PDF (raises ``pdf.PDFRenderError`` past the renderer's limits)."""
    return html_to_pdf(render_briefing_html(briefing, language=language))


def count_pdf_pages(pdf: bytes) -> int:
    """How many pages a PDF has, read by a PDF library rather than guessed from its bytes."""
    return len(PdfReader(io.BytesIO(pdf)).pages)


def section_preview(briefing: Briefing, body: str) -> Markup:
    """A section's text as the PDF would print it (citations numbered within the section alone)."""
    citations = Citations(evidence_by_reference(cited_references(body)))
    return render_markdown(body, citations.cite)
