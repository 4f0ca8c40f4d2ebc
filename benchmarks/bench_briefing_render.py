"""Benchmark: rendering a 10-page briefing with its charts drawn, and downloading a published one.

    python -m benchmarks.bench_briefing_render [--runs 7] [--downloads 200]

Builds a fresh migrated SQLite database with the demo data, then a briefing of at least ten
PDF pages through the briefing service: the demo briefing's sections, and free sections of
text, each with a chart of a metric across regions. In the same run, interleaved (app, bare,
app, bare, …):

1. the render through the app — the chart cache emptied first, so every chart is drawn with
   matplotlib, then plain values, Jinja, and the safe renderer's forked child with its URL
   fetcher and limits — against a bare in-process WeasyPrint render of the same final HTML
   (charts already in it). Reported: min / median / max of the per-pair ratio (target ≤ 1.2),
   and the charts' own drawing time;
2. the download of the published demo PDF through the app (GET /briefings/<ref>.pdf as an
   official) with every render function replaced by one that fails: median (target < 10 ms).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date

from benchmarks.common import fmt, interleaved, ratios, spread, write_result

PAGES = 10
PARAGRAPH = (
    "Members in this PDU report caseloads far beyond the workload management tool's capacity: "
    "officers at 130 to 150 per cent, trainees holding cases above their grade, and senior "
    "probation officers managing teams of fourteen. Sickness absence has risen each quarter, "
    "and unallocated cases are held in a duty tray that no one owns. "
)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def long_briefing(official, metric_code: str, region_ids: list[int]):
    """A briefing of at least PAGES pages: free sections of text, each with a chart."""
    from napo_tracker.briefings import services as svc
    from napo_tracker.briefings.document import count_pdf_pages, render_briefing_pdf
    from napo_tracker.briefings.models import Audience, SectionKind

    briefing = svc.create_briefing(
        official,
        title="Workload across the regions: the long version",
        subtitle="For the render benchmark",
        audience=Audience.MPS,
        dated_on=date(2026, 12, 2),
        signatory_name="A National Official",
        signatory_title="National Official",
    )
    pages, number = 0, 0
    while pages < PAGES:
        for _ in range(3):
            number += 1
            section = svc.add_section(
                official,
                briefing,
                kind=SectionKind.FREE,
                heading=f"Region report {number}",
                body="\n\n".join(PARAGRAPH * 2 for _ in range(4)),
            )
            svc.set_section_chart(
                official, section, metric_code=metric_code, region_ids=region_ids[: 3 + number % 6], since_on=None
            )
        pages = count_pdf_pages(render_briefing_pdf(briefing))
    return briefing, pages, number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--downloads", type=int, default=200)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from napo_tracker import cache, create_app
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
    from napo_tracker.regions.models import Region
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
            official = user_by_email("official@demo.napo-tracker.test")
            assert official is not None
            region_ids = list(db.session.scalars(db.select(Region.id).order_by(Region.name)))
            long, pages, sections = long_briefing(official, "wmt_percent_avg", region_ids)
            db.session.commit()

            import logging

            from weasyprint import HTML

            # The app's renderer logs WeasyPrint's errors only; the bare render does the same, so
            # neither pays for writing hundreds of warning lines.
            logging.getLogger("weasyprint").setLevel(logging.ERROR)
            html = svc.render_briefing_html(long)
            charts = html.count("<svg")
            HTML(string=html, base_url=PDF_BASE_URL).write_pdf()  # warm fonts and caches for both
            svc.render_briefing_pdf(long)

            def through_the_app() -> None:
                cache.clear_local()  # every chart drawn again, as for new figures
                svc.render_briefing_pdf(long)

            def bare() -> None:
                HTML(string=html, base_url=PDF_BASE_URL).write_pdf()

            app_times, bare_times = interleaved(through_the_app, bare, args.runs)
            render = ratios(app_times, bare_times)

            def draw_only() -> None:
                cache.clear_local()
                svc.render_briefing_html(long)

            def html_only() -> None:
                svc.render_briefing_html(long)  # charts from the cache

            drawn, cached = interleaved(draw_only, html_only, args.runs)
            drawing_ms = [(d - c) * 1000 for d, c in zip(drawn, cached, strict=True)]
            print(
                f"{pages}-page briefing ({sections} sections, {charts} charts): through the app "
                f"{fmt(spread(app_times), ' ms', 1000, 0)}, bare WeasyPrint {fmt(spread(bare_times), ' ms', 1000, 0)} "
                f"(min / median / max of {args.runs}, interleaved)\n"
                f"  ratio app / bare {fmt(render)} (target ≤ 1.2) -> {'met' if render['median'] <= 1.2 else 'NOT met'}"
                "\n"
                f"  drawing its {charts} charts: {fmt(spread(drawing_ms), ' ms', places=0)}"
            )

            reference = briefing.reference
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
        download_ms = _median_ms(samples)
        p95_ms = _median_ms(sorted(samples)[int(len(samples) * 0.95) :])
        print(
            f"download of the published PDF ({len(expected):,} bytes): median {download_ms:.2f} ms, "
            f"95th percentile {p95_ms:.2f} ms over {args.downloads} requests, no render (target < 10 ms)"
        )
        write_result(
            "briefing_render",
            {
                "pages": pages,
                "charts": charts,
                "runs": args.runs,
                "app_ms": spread([t * 1000 for t in app_times]),
                "bare_ms": spread([t * 1000 for t in bare_times]),
                "ratio": render,
                "drawing_ms": spread(drawing_ms),
                "download_median_ms": round(download_ms, 2),
                "download_p95_ms": round(p95_ms, 2),
            },
        )


if __name__ == "__main__":
    main()
