"""Who a quote is attributed to: never few enough people to point at one.

A quoted testimony is attributed with the coarse facts its member chose to give (grade,
region, years in the service), but only with as many of them as at least
``TESTIMONY_ATTRIBUTION_MIN_SHARED`` (k) approved testimonies share. Where fewer share them,
facts are left out, the length of service first, then the region, then the grade, until the
rest is shared widely enough, or nothing is said at all: "a PSO in Wales with over 20 years"
may be one person, "a PSO in Wales" a dozen.

``shown_attribution`` is the one place this is decided. Briefing previews and PDFs, the
officials' testimony pages and the CSV export all print what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..regions.models import Region
from .models import GRADE_LABELS, ServiceBand, Testimony, TestimonyStatus

FACTS = ("grade", "region_id", "service_band")
# Every way to describe a member, most precise first: the first one shared by at least k
# approved testimonies is shown.
DESCRIPTIONS: tuple[tuple[str, ...], ...] = (
    ("grade", "region_id", "service_band"),
    ("grade", "region_id"),
    ("grade", "service_band"),
    ("region_id", "service_band"),
    ("grade",),
    ("region_id",),
    ("service_band",),
    (),
)


@dataclass(frozen=True)
class Attribution:
    """The facts a quote is printed with; None where a fact is left out (or was never given)."""

    grade: str | None = None
    region: str | None = None
    service_band: str | None = None

    def __str__(self) -> str:
        parts = [
            GRADE_LABELS.get(self.grade) if self.grade else None,
            self.region,
            _band_words(self.service_band) if self.service_band else None,
        ]
        return ", ".join(p for p in parts if p)


def _band_words(band: str) -> str:
    label = ServiceBand.label_of(band)
    return f"{label[:1].lower()}{label[1:]} in the service"


class SharedFacts:
    """How many approved testimonies give each combination of facts, counted once for a page."""

    def __init__(self, minimum: int | None = None) -> None:
        self.minimum = int(current_app.config["TESTIMONY_ATTRIBUTION_MIN_SHARED"]) if minimum is None else minimum
        rows = db.session.execute(
            select(Testimony.grade, Testimony.region_id, Testimony.service_band, func.count())
            .where(Testimony.status == TestimonyStatus.APPROVED.value)
            .group_by(Testimony.grade, Testimony.region_id, Testimony.service_band)
        ).all()
        self.groups = [(dict(zip(FACTS, row[:3], strict=True)), int(row[3])) for row in rows]
        self.region_names: dict[int, str] = {
            rid: name for rid, name in db.session.execute(select(Region.id, Region.name))
        }

    def sharing(self, facts: dict[str, object]) -> int:
        """Approved testimonies that give every one of ``facts`` (whatever else they give)."""
        return sum(count for group, count in self.groups if all(group[k] == v for k, v in facts.items()))


def shown_attribution(testimony: Testimony, shared: SharedFacts | None = None) -> Attribution:
    """The facts ``testimony`` is quoted with: the most precise description of its member that at
    least k approved testimonies share (``shared``: the counts, when a page shows many quotes)."""
    shared = shared or SharedFacts()
    given = {fact: getattr(testimony, fact) for fact in FACTS}
    for description in DESCRIPTIONS:
        facts = {fact: given[fact] for fact in description}
        if any(value is None for value in facts.values()):
            continue  # a fact the member did not give cannot be shown
        if not facts or shared.sharing(facts) >= shared.minimum:
            region_id = facts.get("region_id")
            return Attribution(
                grade=testimony.grade if "grade" in facts else None,
                region=shared.region_names.get(region_id) if isinstance(region_id, int) else None,
                service_band=testimony.service_band if "service_band" in facts else None,
            )
    return Attribution()


def shown_attributions(testimonies: Iterable[Testimony]) -> dict[int, Attribution]:
    """``shown_attribution`` of each testimony, by id, with the counts read once."""
    shared = SharedFacts()
    return {t.id: shown_attribution(t, shared) for t in testimonies}
