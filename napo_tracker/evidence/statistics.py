"""The figures behind the dashboards, the national figures pack and `/api/v1/statistics`.

One question, asked the same way everywhere: for a metric, a level (national, region or
unit) and a date, what is the latest figure of each place on or before that date — each
grade apart, never merged — and, for a metric whose figures add up, their exact total.
Around it: the same figures at an earlier date (the change since), and every figure in a
range (a time series on the sources' own dates, at most ``CHART_MAX_POINTS`` points).

Values stay ``Decimal`` with the places their sources gave; the small-number rule is
``services.disclosure``, applied to every figure and to any total built on one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, Subquery, func, select, union_all

from ..extensions import db
from ..kernel.clock import today
from ..kernel.errors import DomainError
from ..kernel.numbers import format_figure, long_date, month_year, plain_figure
from ..regions.models import Region
from ..regions.scoping import scope_to_regions
from .models import EvidenceItem, Level, Metric, metric_by_code
from .services import FEWER_THAN_THREE, is_withheld, is_withheld_from, place_text, visible_items

DEFAULT_METRIC = "wmt_percent_avg"


class StatisticsError(DomainError):
    """A question the figures cannot answer as asked (an unknown metric, a level it lacks)."""


@dataclass
class PlaceFigure:
    """One place's latest figure of one grade."""

    item: EvidenceItem
    value: Decimal | None  # None: withheld from this reader
    is_withheld: bool

    @property
    def region(self) -> str | None:
        return self.item.region.name if self.item.region is not None else None

    @property
    def unit(self) -> str | None:
        return self.item.unit.name if self.item.unit is not None else None

    @property
    def place(self) -> str:
        if self.item.unit is not None:
            return f"{self.item.unit.name} ({self.region})"
        return self.region or "National"

    @property
    def label(self) -> str:
        """The place, with the grade when there is one: a chart's bar or a table's row."""
        return f"{self.place} · {self.item.grade}" if self.item.grade else self.place

    @property
    def grade(self) -> str | None:
        return self.item.grade

    @property
    def as_of(self) -> date:
        return self.item.as_of

    @property
    def places(self) -> int | None:
        return self.item.value_places

    @property
    def exact(self) -> str | None:
        return None if self.value is None else plain_figure(self.value, self.places)

    def shown(self, unit: str) -> str:
        return FEWER_THAN_THREE if self.is_withheld else format_figure(self.value, unit, self.places)


@dataclass
class Total:
    """The exact sum of one grade's latest figures across the places shown."""

    grade: str | None
    value: Decimal | None  # None when a part is withheld: the total would give it away
    place_count: int
    is_withheld: bool
    places: int | None = None  # the most decimal places of its parts: 14.20 + 3.0 = 17.20

    @property
    def exact(self) -> str | None:
        return None if self.value is None else plain_figure(self.value, self.places)

    def shown(self, unit: str) -> str:
        if self.is_withheld:
            return "withheld (a part is a small number)"
        return format_figure(self.value, unit, self.places)


@dataclass
class Change:
    now: PlaceFigure
    then: PlaceFigure | None

    @property
    def difference(self) -> Decimal | None:
        if self.then is None or self.now.value is None or self.then.value is None:
            return None
        return self.now.value - self.then.value


@dataclass
class Snapshot:
    """The latest figure of each place (and grade) on or before ``on``."""

    metric: Metric
    level: str
    on: date
    figures: list[PlaceFigure] = field(default_factory=list)
    totals: list[Total] = field(default_factory=list)

    @property
    def sources(self) -> list[dict[str, Any]]:
        return sources_of([f.item for f in self.figures if not f.is_withheld])


@dataclass
class Series:
    """Every figure of each place in a range, on the dates the sources gave."""

    lines: dict[str, list[tuple[date, Decimal]]]
    point_count: int
    left_out: int  # points beyond CHART_MAX_POINTS, not drawn
    withheld: int


def chart_max_points() -> int:
    return int(current_app.config["CHART_MAX_POINTS"])


def metric_for(code: str | None, level: str | None = None) -> Metric:
    """The metric asked for, refusing an unknown code or a level it is not kept at."""
    metric = metric_by_code(code or "") if code else None
    if metric is None:
        raise StatisticsError(f"unknown metric {(code or '')[:40]!r}; see /api/v1/metrics for the codes")
    if level is not None:
        if not Level.has_value(level):
            raise StatisticsError("level must be national, region or unit")
        if not metric.has_level(level):
            kept = ", ".join(metric.level_values)
            raise StatisticsError(f"{metric.code} has no {level} figures: it is kept at {kept} level only")
    return metric


def _level_filter(stmt: Select, level: str, region_id: int | None) -> Select:
    item = EvidenceItem
    if level == Level.NATIONAL:
        return stmt.where(item.region_id.is_(None))
    stmt = stmt.where(item.region_id.is_not(None))
    stmt = stmt.where(item.unit_id.is_not(None) if level == Level.UNIT else item.unit_id.is_(None))
    if region_id is not None:
        stmt = stmt.where(item.region_id == region_id)
    return stmt


def _figure(user: Any, item: EvidenceItem) -> PlaceFigure:
    hidden = is_withheld_from(user, is_withheld(item))
    return PlaceFigure(item, None if hidden else item.value, hidden)


def _sort_key(figure: PlaceFigure) -> tuple:
    return (figure.region is not None, figure.region or "", figure.unit or "", figure.grade or "")


def latest_figures(
    user: Any,
    metric: Metric,
    *,
    on: date,
    level: str = Level.REGION.value,
    region_id: int | None = None,
    grade: str | None = None,
    places: list[Any] | None = None,
) -> Snapshot:
    """The latest figure of each place and grade on or before ``on``, and the exact totals of an
    additive metric: each place's newest row by date, then by id, read from the places index
    (never numbering every row). ``places`` (``places_of``) saves finding them again."""
    scoped = _scoped(user, metric, level, region_id, grade).where(EvidenceItem.as_of <= on)
    if places is None:
        places = places_of(user, metric, level=level, region_id=region_id, grade=grade)
    newest = _newest_by_place(scoped, places, level, 1, each=True)
    figures = sorted((_figure(user, found) for found in newest), key=_sort_key)
    snapshot = Snapshot(metric, level, on, figures)
    if metric.is_additive:
        snapshot.totals = totals_of(figures)
    return snapshot


def totals_of(figures: list[PlaceFigure]) -> list[Total]:
    """One exact total per grade (figures of different grades are never added together)."""
    by_grade: dict[str | None, list[PlaceFigure]] = {}
    for figure in figures:
        by_grade.setdefault(figure.grade, []).append(figure)
    totals = []
    for grade, parts in sorted(by_grade.items(), key=lambda kv: kv[0] or ""):
        if any(p.is_withheld for p in parts):
            totals.append(Total(grade, None, len(parts), True))
        else:
            total = sum((p.value for p in parts if p.value is not None), Decimal(0))
            places = max((p.places or 0 for p in parts), default=0)
            totals.append(Total(grade, total, len(parts), False, places))
    return totals


def changes_since(now: Snapshot, then: Snapshot) -> list[Change]:
    """Each place's figure now beside its figure at the earlier date (None where it had none)."""
    earlier = {(f.item.region_id, f.item.unit_id, f.grade): f for f in then.figures}
    return [Change(f, earlier.get((f.item.region_id, f.item.unit_id, f.grade))) for f in now.figures]


def _scoped(user: Any, metric: Metric, level: str, region_id: int | None, grade: str | None) -> Select:
    item = EvidenceItem
    scoped = _level_filter(visible_items(user), level, region_id).where(
        item.metric_id == metric.id, item.value.is_not(None)
    )
    return scoped if grade is None else scoped.where(func.coalesce(item.grade, "") == grade)


def places_of(
    user: Any, metric: Metric, *, level: str, region_id: int | None = None, grade: str | None = None
) -> list[Any]:
    """The places (region, unit, grade) with a figure of the metric at the level: one pass over
    the metric's entries of the places index, made once for a whole dashboard."""
    item = EvidenceItem
    found = _scoped(user, metric, level, region_id, grade).with_only_columns(
        item.region_id, item.unit_id, func.coalesce(item.grade, "").label("grade")
    )
    return list(db.session.execute(found.distinct().order_by(None)).all())


def _place_is(level: str, place: Any) -> list[ColumnElement[bool]]:
    """One place's rows, by plain equality (so both databases read one range of the index)."""
    item = EvidenceItem
    same = [func.coalesce(item.grade, "") == place.grade]
    if level == Level.UNIT:
        return [item.region_id == place.region_id, item.unit_id == place.unit_id, *same]
    if level != Level.NATIONAL:
        return [item.region_id == place.region_id, *same]
    return same


def _by_place(scoped: Select, places: list[Any], level: str, columns: list[Any], limit: int | None) -> Subquery:
    """``scoped``'s rows place by place (the newest ``limit`` of each), as one subquery."""
    item = EvidenceItem
    parts = []
    for place in places:
        part = scoped.with_only_columns(*columns).where(*_place_is(level, place))
        if limit is not None:
            # Region and unit are the same on every row of a place; naming them in the order lets
            # PostgreSQL read the index backwards where one of them IS NULL, instead of sorting.
            newest_first = (item.region_id.desc(), item.unit_id.desc(), item.as_of.desc(), item.id.desc())
            part = part.order_by(*newest_first).limit(limit)
        parts.append(part.subquery().select())
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()


# SQLite takes at most 500 parts in one UNION: places are read this many at a time.
PLACES_AT_ONCE = 200


def _chunks(places: list[Any]) -> list[list[Any]]:
    return [places[start : start + PLACES_AT_ONCE] for start in range(0, len(places), PLACES_AT_ONCE)]


def _count_by_place(scoped: Select, places: list[Any], level: str) -> int:
    """How many rows ``scoped`` holds, counted place by place: each place's rows in a date range
    are one range of the places index, where counting by date would walk every metric's rows."""
    total = 0
    for chunk in _chunks(places):
        counts = _by_place(scoped, chunk, level, [func.count(EvidenceItem.id).label("n")], None)
        total += int(db.session.scalar(select(func.sum(counts.c.n))) or 0)
    return total


def _newest_by_place(
    scoped: Select, places: list[Any], level: str, limit: int, *, each: bool = False
) -> list[EvidenceItem]:
    """The newest ``limit`` rows of ``scoped`` (of each place, with ``each``): each place's
    newest read from its range of the places index, then merged."""
    item = EvidenceItem
    found: list[tuple[int, Any]] = []
    for chunk in _chunks(places):
        merged = _by_place(scoped, chunk, level, [item.id, item.as_of], limit)
        found += [(row.id, row.as_of) for row in db.session.execute(select(merged.c.id, merged.c.as_of))]
    if not each:
        found = sorted(found, key=lambda row: (row[1], row[0]), reverse=True)[:limit]
    ids = [ident for ident, _as_of in found]
    return list(db.session.scalars(select(item).where(item.id.in_(ids))).unique()) if ids else []


def series(
    user: Any,
    metric: Metric,
    *,
    date_from: date,
    date_to: date,
    level: str = Level.REGION.value,
    region_id: int | None = None,
    grade: str | None = None,
    max_points: int | None = None,
    places: list[Any] | None = None,
) -> Series:
    """Every figure of each place in the range, on the dates the sources gave, newest kept
    when there are more than ``max_points`` (the setting ``CHART_MAX_POINTS``)."""
    limit = max_points or chart_max_points()
    item = EvidenceItem
    base = _scoped(user, metric, level, region_id, grade).where(item.as_of >= date_from, item.as_of <= date_to)
    if places is None:
        places = places_of(user, metric, level=level, region_id=region_id, grade=grade)
    count = _count_by_place(base, places, level)
    newest = _newest_by_place(base, places, level, limit)
    lines: dict[str, list[tuple[date, Decimal]]] = {}
    withheld = 0
    for found in sorted(newest, key=lambda i: (i.as_of, i.id)):
        figure = _figure(user, found)
        if figure.value is None:
            withheld += 1
            continue
        lines.setdefault(figure.label, []).append((found.as_of, figure.value))
    return Series(dict(sorted(lines.items())), len(newest) - withheld, max(count - limit, 0), withheld)


def sources_of(items: list[EvidenceItem]) -> list[dict[str, Any]]:
    """Each source once: what it is, who published it, when, the places and dates it gives
    figures for, and its reference; in the order first met."""
    found: dict[tuple, dict[str, Any]] = {}
    for item in items:
        key = (" ".join(item.source_title.split()).lower(), item.source_publisher, item.source_date, item.source_url)
        entry = found.setdefault(
            key,
            {
                "title": item.source_title or item.source_type_label,
                "type": item.source_type_label,
                "types": [],
                "publisher": item.source_publisher,
                "date": item.source_date,
                "url": item.source_url,
                "places": [],
                "dates": [],
                "references": [],
            },
        )
        if item.source_type_label not in entry["types"]:
            entry["types"].append(item.source_type_label)
        if (place := place_text(item)) not in entry["places"]:
            entry["places"].append(place)
        if (when := month_year(item.as_of)) not in entry["dates"]:
            entry["dates"].append(when)
        entry["references"].append(item.reference)
    return list(found.values())


def region_choices(user: Any) -> list[Region]:
    return list(db.session.scalars(scope_to_regions(select(Region).order_by(Region.name), Region.id, user)))


@dataclass
class DashboardView:
    """Everything one dashboard view shows, and the figures pack downloads."""

    metric: Metric
    level: str
    region: Region | None
    grade: str | None
    snapshot: Snapshot
    since: date
    changes: list[Change]
    date_from: date
    date_to: date
    series: Series

    @property
    def title(self) -> str:
        where = f"{self.region.name}, by unit" if self.region else f"by {Level.label_of(self.level).lower()}"
        grade = f", {self.grade}" if self.grade else ""
        return f"{self.metric.label} {where}{grade}, latest on {long_date(self.snapshot.on)}"

    def bar_inputs(self) -> tuple[list[str], list[Decimal | None], list[int | None]]:
        """Bars labelled with their place and the month of their figure, so an old figure
        never passes for a current one; at most CHART_MAX_POINTS of them."""
        figures = self.snapshot.figures[: chart_max_points()]
        labels = [f"{f.label} ({f.as_of:%b %Y})" for f in figures]
        return labels, [f.value for f in figures], [f.places for f in figures]

    def table_rows(self) -> list[list[Any]]:
        """The table as the CSV and XLSX give it: exact values, no units, withheld said in words."""
        rows: list[list[Any]] = []
        for f in self.snapshot.figures:
            rows.append(
                [
                    f.region or "National",
                    f.unit or "",
                    f.grade or "",
                    self.metric.code,
                    FEWER_THAN_THREE if f.is_withheld else f.exact,
                    f.places if not f.is_withheld else None,
                    f.as_of,
                    f.item.source_type_label,
                    f.item.source_title,
                    f.item.source_publisher,
                    f.item.source_date,
                    f.item.reference,
                ]
            )
        for total in self.snapshot.totals:
            rows.append(
                [
                    "Total",
                    f"{total.place_count} places",
                    total.grade or "",
                    self.metric.code,
                    "withheld" if total.is_withheld else total.exact,
                    None,
                    self.snapshot.on,
                    "",
                    "",
                    "",
                    None,
                    "",
                ]
            )
        return rows


TABLE_HEADER = [
    "region",
    "unit",
    "grade",
    "metric",
    "value",
    "decimal_places",
    "as_of",
    "source",
    "source_ref",
    "source_publisher",
    "source_date",
    "reference",
]


def dashboard_view(
    user: Any,
    metric: Metric,
    *,
    on: date,
    level: str,
    region: Region | None = None,
    grade: str | None = None,
    since: date | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> DashboardView:
    """A dashboard over any period: the latest figure per place on ``on`` (with totals for an
    additive metric), the change since ``since`` (a year earlier by default), and every figure
    from ``date_from`` to ``date_to`` (the two years up to ``on`` by default)."""
    if not metric.has_level(level):
        raise StatisticsError(f"{metric.label} has no {level} figures.")
    region_id = region.id if region is not None else None
    places = places_of(user, metric, level=level, region_id=region_id, grade=grade)
    snapshot = latest_figures(user, metric, on=on, level=level, region_id=region_id, grade=grade, places=places)
    since = since or _years_before(on, 1)
    then = latest_figures(user, metric, on=since, level=level, region_id=region_id, grade=grade, places=places)
    date_to = date_to or on
    date_from = date_from or _years_before(date_to, 2)
    line_series = series(
        user,
        metric,
        date_from=date_from,
        date_to=date_to,
        level=level,
        region_id=region_id,
        grade=grade,
        places=places,
    )
    return DashboardView(
        metric, level, region, grade, snapshot, since, changes_since(snapshot, then), date_from, date_to, line_series
    )


def _years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def figures_at_a_glance(view: DashboardView) -> dict[str, Any]:
    """The one-page PDF's plain values: the table (at most a page of rows), the totals and
    each source once."""
    unit = view.metric.unit
    rows = [
        {"place": f.label, "value": f.shown(unit), "as_of": month_year(f.as_of), "reference": f.item.reference}
        for f in view.snapshot.figures
    ]
    shown = rows[:PDF_ROWS]
    return {
        "title": view.title,
        "metric": view.metric.label,
        "description": view.metric.description,
        "on": long_date(view.snapshot.on),
        "rows": shown,
        "rows_left_out": len(rows) - len(shown),
        "totals": [
            {"grade": t.grade or "all grades", "value": t.shown(unit), "places": t.place_count}
            for t in view.snapshot.totals
        ],
        "sources": view.snapshot.sources,
        "union_name": current_app.config["UNION_NAME"],
        "made_on": long_date(today()),
    }


PDF_ROWS = 24
