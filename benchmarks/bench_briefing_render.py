"""Benchmark: rendering the demo briefing, and downloading a published one.

    .venv/bin/python -m benchmarks.bench_briefing_render [--runs 7] [--downloads 200]

Builds a fresh migrated SQLite database with the demo data (regions, users, testimonies,
evidence, the question bank and the demo briefing), then in the same run:

1. renders the demo briefing to PDF through the app (plain values, Jinja, the safe renderer's
   forked child with its URL fetcher and limits) and, from the same final HTML, through a bare
   in-process WeasyPrint call; the median of each and their ratio (target ≤ 1.2);
2. downloads the published PDF through the app (GET /briefings/<ref>.pdf as an official) with
   every render function replaced by one that fails: the median time (target < 10 ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--downloads", type=int, default=200)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from napo_tracker import create_app
    from napo_tracker.accounts import demo as accounts_demo
    from napo_tracker.accounts.models import user_by_email
    from napo_tracker.accounts.sessions import start_session
    from napo_tracker.briefings import demo as briefings_demo
    from napo_tracker.briefings import services as svc
    from napo_tracker.briefings.models import Briefing
    from napo_tracker.crypto import generate_key
    from napo_tracker.evidence import demo as evidence_demo
    from napo_tracker.extensions import db
    from napo_tracker.pdf import PDF_BASE_URL
    from napo_tracker.regions import demo as regions_demo
    from napo_tracker.testimonies import demo as testimonies_demo

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            "development",
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/bench.sqlite",
            INSTANCE_FILES_DIR=f"{tmp}/files",
            DATA_KEYS=generate_key(),
        )
        with app.app_context():
            upgrade()
            print("loading the demo data…", flush=True)
            for loader in (
                regions_demo.load,
                accounts_demo.load,
                testimonies_demo.load,
                evidence_demo.load,
                briefings_demo.load,
            ):
                loader(lambda *_: None)
            db.session.commit()
            briefing = db.session.scalar(db.select(Briefing).where(Briefing.title == briefings_demo.DEMO_TITLE))

            import logging

            from weasyprint import HTML

            # The app's renderer logs WeasyPrint's errors only; the bare render does the same, so
            # neither pays for writing hundreds of warning lines.
            logging.getLogger("weasyprint").setLevel(logging.ERROR)
            html = svc.render_briefing_html(briefing)
            HTML(string=html, base_url=PDF_BASE_URL).write_pdf()  # warm fonts and caches for both
            svc.render_briefing_pdf(briefing)
            app_times, bare_times = [], []
            for _ in range(args.runs):  # interleaved, so load on the machine hits both alike
                started = time.perf_counter()
                svc.render_briefing_pdf(briefing)
                app_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                HTML(string=html, base_url=PDF_BASE_URL).write_pdf()
                bare_times.append(time.perf_counter() - started)
            app_ms, bare_ms = _median_ms(app_times), _median_ms(bare_times)
            print(
                f"demo briefing {briefing.reference}: through the app {app_ms:.0f} ms, bare WeasyPrint "
                f"{bare_ms:.0f} ms (medians of {args.runs}); ratio {app_ms / bare_ms:.2f} (target ≤ 1.2)"
            )

            reference = briefing.reference
            official = user_by_email("official@demo.napo-tracker.test")
            assert official is not None
            user_id = f"{official.id}:{start_session(official)}"
            db.session.commit()
            stored = briefing.latest_published
            expected = stored.pdf

        def refuse(*_args, **_kwargs):
            raise AssertionError("a published briefing was rendered again")

        import napo_tracker.pdf as pdf_module

        pdf_module.html_to_pdf = refuse
        svc.html_to_pdf = refuse
        svc.render_briefing_html = refuse
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = user_id
            session["_fresh"] = True
        url = f"/briefings/{reference}.pdf"
        assert client.get(url).data == expected
        samples = []
        for _ in range(args.downloads):
            started = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200
        print(
            f"download of the published PDF ({len(expected):,} bytes): median {_median_ms(samples):.2f} ms, "
            f"95th percentile {_median_ms(sorted(samples)[int(len(samples) * 0.95) :]):.2f} ms over "
            f"{args.downloads} requests, no render (target < 10 ms)"
        )


if __name__ == "__main__":
    main()
