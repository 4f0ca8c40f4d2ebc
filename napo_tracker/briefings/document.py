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
from markupsafe import Markup, escape
from pypdf import PdfReader
from sqlalchemy import select

from ..charts import bar_chart_svg, line_chart_svg, svg_data_uri
from ..evidence.models import EvidenceItem, Metric, Visibility
from ..evidence.services import format_value
from ..extensions import db
from ..pdf import html_to_pdf
from ..testimonies.models import Testimony
from .markdown import cited_references, render_markdown
from .models import MAX_TESTIMONIES, Briefing, BriefingSection, BriefingStatus, SectionKind

QUESTIONS_HEADING = "Questions you may wish to ask"
SOURCES_HEADING = "Sources"


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


def chart_items(section: BriefingSection) -> list[EvidenceItem]:
    """The evidence a section's chart draws: the metric's figures for the regions since the date."""
    if not section.chart_metric_code:
        return []
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
    if not section.briefing.may_cite_internal:
        stmt = stmt.where(EvidenceItem.visibility == Visibility.PUBLIC.value)
    return list(db.session.scalars(stmt.limit(500)))


def chosen_testimonies(briefing: Briefing) -> list[Testimony]:
    """The testimonies the briefing quotes, in its order (a deleted one drops out)."""
    if not briefing.testimonies:
        return []
    ids = [link.testimony_id for link in briefing.testimonies][:MAX_TESTIMONIES]
    by_id = {t.id: t for t in db.session.scalars(select(Testimony).where(Testimony.id.in_(ids)))}
    return [by_id[i] for i in ids if i in by_id]


@dataclass
class Citations:
    """Numbers evidence in order of first citation; the sources list is built from it."""

    items_by_reference: dict[str, EvidenceItem]
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
            return f'<span class="figure">{escape(format_value(self.items_by_reference[reference]))}</span>{mark}'
        return mark


# ---------------------------------------------------------------------------- charts


def _chart(section: BriefingSection, citations: Citations) -> dict[str, Any] | None:
    items = chart_items(section)
    if not items:
        return None
    metric = items[0].metric
    assert metric is not None  # chart_items joins on the metric
    series: dict[str, list[tuple[date, Decimal]]] = {}
    for item in items:
        if item.value is None:  # chart_items draws figures only; a statement has no point to plot
            continue
        label = item.region.name if item.region is not None else "National"
        series.setdefault(label, []).append((item.as_of, Decimal(item.value)))
        citations.items_by_reference.setdefault(item.reference, item)
        citations.number_for(item.reference)
    svg = _draw_chart(
        metric.label,
        metric.unit,
        tuple((label, tuple(points)) for label, points in series.items()),
        tuple(metric.thresholds),
    )
    numbers = sorted({citations.numbers[item.reference] for item in items})
    # The chart module draws the SVG from our own figures and escapes every label it writes.
    return {
        "svg": Markup(svg),
        "data_uri": svg_data_uri(svg),
        "alt": f"Chart: {metric.label} by region",
        "sources": numbers,
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


def _testimony_view(testimony: Testimony) -> dict[str, str]:
    facts = [
        testimony.grade_label if testimony.grade else None,
        testimony.region.name if testimony.region is not None else None,
    ]
    return {
        "text": testimony.public_text or "",
        "attribution": ", ".join(str(f) for f in facts if f),
        "reference": testimony.reference,
    }


def _source_line(item: EvidenceItem) -> str:
    parts = [item.source_title or "", item.source_publisher or ""]
    if item.source_date:
        parts.append(_long_date(item.source_date) if isinstance(item.source_date, date) else str(item.source_date))
    text = ", ".join(p for p in parts if p) or "Source not recorded"
    return f"{text}. Figure as of {_long_date(item.as_of)} ({item.reference})."


def _long_date(on: date) -> str:
    return f"{on.day} {on:%B %Y}"


def briefing_document(briefing: Briefing) -> dict[str, Any]:
    """Every value the briefing's templates need, as plain values (no live ORM objects)."""
    citations = Citations(evidence_by_reference(all_cited_references(briefing)))
    testimonies = [_testimony_view(t) for t in chosen_testimonies(briefing)]
    sections: list[dict[str, Any]] = []
    placed_testimonies = False
    for section in sorted(briefing.sections, key=lambda s: s.position):
        view: dict[str, Any] = {
            "heading": section.heading or section.kind_label,
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
        "is_draft": briefing.status != BriefingStatus.PUBLISHED,
    }


# ---------------------------------------------------------------------------- rendering


def render_briefing_html(briefing: Briefing, document: dict[str, Any] | None = None) -> str:
    """The final HTML of the PDF: the same document partial the preview page shows."""
    return render_template("briefings/pdf/briefing.html", doc=document or briefing_document(briefing), for_pdf=True)


def render_briefing_pdf(briefing: Briefing) -> bytes:
    """The briefing as it stands now, as a PDF (raises ``pdf.PDFRenderError`` past the renderer's limits)."""
    return html_to_pdf(render_briefing_html(briefing))


def count_pdf_pages(pdf: bytes) -> int:
    """How many pages a PDF has, read by a PDF library rather than guessed from its bytes."""
    return len(PdfReader(io.BytesIO(pdf)).pages)
