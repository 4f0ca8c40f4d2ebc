"""Benchmark: a briefing's page count and render time do not grow with the evidence table.

    .venv/bin/python -m benchmarks.bench_briefing_scale [--sizes 10000 1000000] [--runs 3]

Builds a fresh migrated SQLite database with the demo regions, the seeds' figures and a
briefing for MPs that cites them, drafts a regional section, and draws two charts (each
region's latest average WMT %, and three regions' figures over time), then for each size
fills the evidence table up to that many items (public, verified average WMT % and vacancy
figures for every region over twelve years, inserted in bulk) and renders the briefing
(document, HTML and PDF through the safe renderer): the page count and the median time.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHUNK = 20_000


def _fill(target: int, start_id: int) -> None:
    """Bulk rows until the evidence table holds ``target`` items."""
    from sqlalchemy import func, insert, select

    from napo_tracker.evidence.models import EvidenceItem, Metric
    from napo_tracker.extensions import db
    from napo_tracker.kernel.clock import utcnow
    from napo_tracker.regions.models import Region

    have = db.session.scalar(select(func.count()).select_from(EvidenceItem)) or 0
    regions = list(db.session.scalars(select(Region.id)))
    metrics = list(db.session.scalars(select(Metric.id).where(Metric.code.in_(("wmt_percent_avg", "vacancies")))))
    rng = random.Random(target)
    now = utcnow()
    number = start_id + have
    while have < target:
        rows = []
        for _ in range(min(CHUNK, target - have)):
            number += 1
            as_of = date(2014, 1, 1) + timedelta(days=rng.randrange(0, 12 * 365))
            rows.append(
                {
                    "reference": f"EV-{number:07d}",
                    "region_id": rng.choice(regions),
                    "metric_id": rng.choice(metrics),
                    "value": f"{rng.randint(80, 190)}.{rng.randint(0, 99):02d}",
                    "value_places": 2,
                    "as_of": as_of,
                    "source_type": "rep_survey",
                    "source_title": f"Generated monthly survey {number % 500}",
                    "source_publisher": "",
                    "source_url": "",
                    "visibility": "public",
                    "is_verified": True,
                    "fingerprint": hashlib.sha256(str(number).encode()).hexdigest(),
                    "created_at": now,
                    "version": 1,
                }
            )
        db.session.execute(insert(EvidenceItem), rows)
        have += len(rows)
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from flask_migrate import upgrade
    from pypdf import PdfReader

    from napo_tracker import create_app
    from napo_tracker.accounts.services import create_user
    from napo_tracker.briefings import services as svc
    from napo_tracker.briefings.document import render_briefing_html
    from napo_tracker.evidence.importer import ImportOptions, import_csv
    from napo_tracker.evidence.models import EvidenceItem
    from napo_tracker.extensions import db
    from napo_tracker.pdf import html_to_pdf
    from napo_tracker.regions import demo as regions_demo
    from napo_tracker.regions.models import region_by_name

    seeds = Path(__file__).resolve().parent.parent / "napo_tracker" / "evidence" / "demo_data" / "seed-figures.csv"
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            "development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/bench.sqlite", INSTANCE_FILES_DIR=f"{tmp}/files"
        )
        with app.app_context():
            upgrade()
            regions_demo.load(lambda *_: None)
            official = create_user(
                None,
                email="official@bench.test",
                display_name="Bench Official",
                password="a long bench passphrase, nobody guesses 9",
                role="official",
            )
            with seeds.open("rb") as stream:
                import_csv(None, stream, options=ImportOptions(visibility="public", is_verified=True))
            db.session.commit()
            cited = {i.value.normalize(): i.reference for i in db.session.scalars(db.select(EvidenceItem)) if i.value}
            briefing = svc.create_briefing(
                official,
                title="Workloads and Staffing in Probation",
                dated_on=date(2026, 11, 30),
                signatory_name="A National Official",
            )
            body = (
                f"In one PDU there are approximately [={cited[650]}] unallocated cases; staff there average "
                f"[={cited[192]}] of the workload management tool."
            )
            svc.add_section(official, briefing, kind="introduction", heading="London", body=body)
            chosen = [r.id for r in (region_by_name(n) for n in ("London", "Wales", "East Midlands")) if r]
            svc.generate_regional_section(official, briefing, chosen, date_from=date(2022, 1, 1))
            latest = svc.add_section(official, briefing, kind="risks", heading="Risks", body="Each region's latest.")
            svc.set_section_chart(official, latest, metric_code="wmt_percent_avg", region_ids=[], since_on=None)
            trend = svc.add_section(official, briefing, kind="free", heading="Over time", body="Three regions.")
            svc.set_section_chart(
                official, trend, metric_code="wmt_percent_avg", region_ids=chosen, since_on=date(2014, 1, 1)
            )
            db.session.commit()
            print(f"{'items':>10} {'pages':>6} {'render (median)':>16}  (document + HTML + PDF)")
            for size in args.sizes:
                _fill(size, 100_000)
                db.session.expire_all()
                timings, pages = [], 0
                for _ in range(args.runs):
                    started = time.perf_counter()
                    pdf = html_to_pdf(render_briefing_html(briefing))
                    timings.append(time.perf_counter() - started)
                    pages = len(PdfReader(io.BytesIO(pdf)).pages)
                print(f"{size:>10,} {pages:>6} {statistics.median(timings) * 1000:>13.0f} ms", flush=True)


if __name__ == "__main__":
    main()
