"""Demo evidence: the seeds' figures, imported through the real importer, and a year of
generated monthly figures per region so the trend charts have something to show.

Idempotent: the importer recognises rows already imported and adds nothing.
"""

from __future__ import annotations

import calendar
import csv
import io
import random
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from ..extensions import db
from ..regions.demo import REGIONS
from .importer import HEADER, ImportOptions, ImportReport, import_csv
from .models import EvidenceItem, Visibility
from .services import ensure_standard_metrics

SEED_FILE = Path(__file__).resolve().parent / "demo_data" / "seed-figures.csv"
GENERATED_SOURCE = "Demo data: monthly rep survey of workloads (generated, not real figures)"
LAST_MONTH = date(2026, 10, 31)


def _month_ends(count: int) -> list[date]:
    ends = []
    year, month = LAST_MONTH.year, LAST_MONTH.month
    for _ in range(count):
        ends.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(ends))


def generated_rows(months: int = 12) -> list[list[str]]:
    """Plausible monthly figures per region: deterministic (a seeded random generator)."""
    rng = random.Random(2026)
    rows = []
    for region in REGIONS:
        wmt = Decimal(rng.randint(108, 135))
        unallocated = rng.randint(20, 240)
        vacancies = Decimal(rng.randint(900, 4500)) / 100
        for as_of in _month_ends(months):
            wmt = max(Decimal(95), min(Decimal(175), wmt + Decimal(rng.randint(-40, 50)) / 10))
            over_100 = min(Decimal(95), max(Decimal(20), (wmt - 60) + Decimal(rng.randint(-5, 5))))
            over_120 = max(Decimal(2), (over_100 - 30) / 2 + Decimal(rng.randint(-3, 3)))
            over_150 = max(Decimal(0), (over_120 - 12) / 3 + Decimal(rng.randint(0, 2)))
            unallocated = max(0, unallocated + rng.randint(-25, 30))
            vacancies = max(Decimal("2.5"), vacancies + Decimal(rng.randint(-150, 180)) / 100)
            caseload = rng.randint(34, 62)
            for metric, value in (
                ("wmt_percent_avg", wmt),
                ("staff_over_100_pct", over_100),
                ("staff_over_120_pct", over_120),
                ("staff_over_150_pct", over_150),
                ("unallocated_cases", unallocated),
                ("vacancies", vacancies),
                ("caseload", caseload),
            ):
                rows.append(
                    [
                        region,
                        "",
                        metric,
                        f"{Decimal(value).quantize(Decimal('0.01')).normalize():f}",
                        as_of.isoformat(),
                        "",
                        "rep survey",
                        GENERATED_SOURCE,
                        "",
                    ]
                )
    return rows


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def load(echo: Callable[[str], object]) -> None:
    """Add the seeds' figures and the generated months that are missing."""
    ensure_standard_metrics(None)
    # The seeds are published briefings and inspections: checked, and citable.
    public = ImportOptions(visibility=Visibility.PUBLIC.value, is_verified=True)
    with SEED_FILE.open("rb") as stream:
        seeds = import_csv(None, stream, filename=SEED_FILE.name, options=public)
    _raise_unless_ok(seeds)
    monthly = import_csv(None, io.BytesIO(_csv_bytes(generated_rows())), filename="generated-monthly.csv")
    _raise_unless_ok(monthly)
    db.session.flush()
    total = len(db.session.scalars(select(EvidenceItem.id)).all())
    echo(f"  evidence: {seeds.added} seed figures and {monthly.added} monthly figures added ({total} in all)")


def _raise_unless_ok(report: ImportReport) -> None:
    if not report.is_ok:
        details = "; ".join(f"line {e.line}: {e.reason}" for e in report.errors[:5])
        raise RuntimeError(f"demo evidence did not import: {report.summary()} {details}")
