"""SVG charts drawn server-side with matplotlib, shared by pages and PDFs.

Drawing takes tens of milliseconds, so each chart is kept (``cache.py``) under a hash of what
it plots and of this file: the same figures are drawn once, by whichever worker first needs
them, and different figures can never be served an old chart.

Pages show them as ``<img src="{{ svg_data_uri(svg) }}">`` (the page CSP forbids the
inline style attributes matplotlib writes; an image is isolated from that); PDFs embed
the SVG text inline, so it stays vector. No XML prolog, no external references.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .cache import cached
from .kernel.numbers import UNIT_SUFFIX, format_figure

BAR_COLOUR = "#3b5b92"
BAND_COLOURS = ("#e0a800", "#d9730d", "#b42318")  # the 1st, 2nd and 3rd threshold
LINE_COLOURS = (
    "#3b5b92",
    "#b42318",
    "#2f7d32",
    "#8e44ad",
    "#d9730d",
    "#00838f",
    "#6d4c41",
    "#c2185b",
    "#455a64",
    "#7cb342",
    "#5e35b1",
    "#f9a825",
    "#000000",
)
RC: dict[Any, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "napo-tracker",
    "font.family": "DejaVu Sans",
    "font.size": 9,
}
_LOCK = threading.Lock()  # matplotlib's rc and font caches are not thread-safe
_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)  # RDF namespaces only: nothing to show
# A change to how charts are drawn (this file, or matplotlib) makes new keys.
DRAWING = (hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16], matplotlib.__version__)


def _suffix(unit: str) -> str:
    return UNIT_SUFFIX.get(unit, "").strip()


def _plain(text: str) -> str:
    """Text shown as typed: matplotlib would read $…$ as mathematics."""
    return str(text).replace("$", r"\$")


def _whole(values: list[Decimal | None] | list[Decimal]) -> bool:
    """Every value a whole number (counts of people, cases, notices): the axis then ticks whole
    numbers only, never 0.5 of a notice."""
    return all(value == value.to_integral_value() for value in values if value is not None)


def _to_svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    return _METADATA.sub("", _PROLOG.sub("", buffer.getvalue(), count=1), count=1)


def _to_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, metadata={"Software": None}, bbox_inches="tight")
    return buffer.getvalue()


def bar_chart_svg(
    title: str,
    labels: list[str],
    values: list[Decimal | None],
    *,
    unit: str = "",
    thresholds: tuple | list = (),
    places: list[int | None] | None = None,
) -> str:
    """Horizontal bars, one per label; a missing value (None, e.g. withheld) draws no bar."""
    inputs = (DRAWING, title, tuple(labels), tuple(values), unit, tuple(thresholds), tuple(places or ()))
    return cached("bar-chart", inputs, lambda: _draw_bar_chart(title, labels, values, unit, thresholds, places))


def _draw_bar_chart(
    title: str,
    labels: list[str],
    values: list[Decimal | None],
    unit: str,
    thresholds: tuple | list,
    places: list[int | None] | None,
) -> str:
    with _LOCK, matplotlib.rc_context(RC):
        return _to_svg(_bar_figure(title, labels, values, unit, thresholds, places))


def bar_chart_png(
    title: str,
    labels: list[str],
    values: list[Decimal | None],
    *,
    unit: str = "",
    thresholds: tuple | list = (),
    places: list[int | None] | None = None,
) -> bytes:
    """The same bars as a PNG picture (for a press release)."""
    with _LOCK, matplotlib.rc_context(RC):
        return _to_png(_bar_figure(title, labels, values, unit, thresholds, places))


def _bar_figure(
    title: str,
    labels: list[str],
    values: list[Decimal | None],
    unit: str,
    thresholds: tuple | list,
    places: list[int | None] | None,
) -> Figure:
    height = 1.2 + 0.38 * max(len(labels), 1)
    figure = Figure(figsize=(7, height))
    axes = figure.subplots()
    positions = list(range(len(labels)))
    numbers = [float(v) if v is not None else 0.0 for v in values]
    bars = axes.barh(positions, numbers, color=BAR_COLOUR, height=0.6)
    shown_places = places if places is not None else [None] * len(values)
    for bar, value, value_places in zip(bars, values, shown_places, strict=True):
        text = "withheld" if value is None else format_figure(value, unit, value_places)
        axes.annotate(
            text,
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    for threshold, colour in zip(thresholds, BAND_COLOURS, strict=False):
        axes.axvline(
            float(threshold),
            color=colour,
            linestyle="--",
            linewidth=1,
            label=format_figure(threshold, unit),
        )
    axes.set_yticks(positions, [_plain(label) for label in labels])
    axes.invert_yaxis()
    axes.set_title(_plain(title), loc="left", fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    if numbers:
        axes.set_xlim(0, max(numbers + [float(t) for t in thresholds] + [1]) * 1.18)
    if _whole(values) and all(Decimal(str(t)) == int(t) for t in thresholds):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if thresholds:
        axes.legend(loc="lower right", fontsize=7, frameon=False)
    return figure


def line_chart_svg(title: str, series: dict[str, list[tuple[date, Decimal]]], *, unit: str = "") -> str:
    """One line per series (a region), the sources' own dates along the bottom."""
    inputs = (DRAWING, title, tuple((name, tuple(points)) for name, points in series.items()), unit)
    return cached("line-chart", inputs, lambda: _draw_line_chart(title, series, unit))


def _draw_line_chart(title: str, series: dict[str, list[tuple[date, Decimal]]], unit: str) -> str:
    with _LOCK, matplotlib.rc_context(RC):
        return _to_svg(_line_figure(title, series, unit))


def line_chart_png(title: str, series: dict[str, list[tuple[date, Decimal]]], *, unit: str = "") -> bytes:
    with _LOCK, matplotlib.rc_context(RC):
        return _to_png(_line_figure(title, series, unit))


def _line_figure(title: str, series: dict[str, list[tuple[date, Decimal]]], unit: str) -> Figure:
    figure = Figure(figsize=(7, 3.6))
    axes = figure.subplots()
    for index, (name, points) in enumerate(series.items()):
        if not points:
            continue
        xs = [p[0] for p in points]
        ys = [float(p[1]) for p in points]
        axes.plot(
            xs,  # type: ignore[arg-type]  # matplotlib converts dates itself; its types omit them
            ys,
            marker="o",
            markersize=2.5,
            linewidth=1.4,
            label=_plain(name),
            color=LINE_COLOURS[index % len(LINE_COLOURS)],
        )
    axes.set_title(_plain(title), loc="left", fontsize=10)
    if unit:
        axes.set_ylabel(_suffix(unit).strip() or unit)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", linewidth=0.4, alpha=0.6)
    if _whole([point[1] for points in series.values() for point in points]):
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    # The sources' own dates on the axis, when there are few enough to read.
    dates = sorted({point[0] for points in series.values() for point in points})
    if 0 < len(dates) <= 12:
        axes.set_xticks(dates, [f"{day.day} {day:%b %Y}" for day in dates])  # type: ignore[arg-type]
    figure.autofmt_xdate()
    if any(series.values()):
        axes.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def with_title(svg: str, title: str) -> str:
    """The chart with a <title>: a tagged PDF takes it as the chart's alternative text."""
    start = svg.find(">", svg.find("<svg")) + 1
    return svg[:start] + f"<title>{html.escape(title)}</title>" + svg[start:]
