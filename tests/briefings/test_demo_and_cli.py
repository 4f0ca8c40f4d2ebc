"""The demo briefing (with a PNG of each page saved as a test artifact) and the CLI."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from napo_tracker.briefings import demo as briefings_demo
from napo_tracker.briefings import services as svc
from napo_tracker.briefings.models import Briefing, Question
from napo_tracker.extensions import db

from ..conftest import ARTIFACTS, unavailable


def _load_demo():
    from napo_tracker.accounts import demo as accounts_demo
    from napo_tracker.evidence import demo as evidence_demo
    from napo_tracker.regions import demo as regions_demo
    from napo_tracker.testimonies import demo as testimonies_demo

    for loader in (
        regions_demo.load,
        accounts_demo.load,
        testimonies_demo.load,
        evidence_demo.load,
        briefings_demo.load,
    ):
        loader(lambda *_: None)
    db.session.commit()


# The demo is the same on both databases (tests/test_demo.py loads it on each); its pictures are made once.
@pytest.mark.sqlite_only
def test_the_demo_briefing_follows_seed_000_and_is_saved_as_pngs(app, tmp_path):
    _load_demo()
    _load_demo()  # idempotent: nothing is added twice
    assert db.session.query(Briefing).count() == 1
    assert db.session.query(Question).count() == len(briefings_demo.QUESTION_BANK)
    briefing = db.session.scalar(db.select(Briefing))
    assert briefing.status == "published"
    assert [s.kind for s in briefing.sections] == [
        "introduction",
        "regional_evidence",
        "risks",
        "recruitment_retention",
        "staff_testimonies",
        "what_next",
    ]
    assert len(briefing.testimonies) == 3 and len(briefing.questions) == 7
    version = briefing.latest_published
    reader = PdfReader(io.BytesIO(version.pdf))
    assert len(reader.pages) == version.page_count
    text = " ".join(p.extract_text(extraction_mode="layout") for p in reader.pages)
    assert "Questions you may wish to ask" in text and "Nia National-Official" in text
    assert "192 %" in text or "192%" in text

    if shutil.which("pdftoppm") is None:
        unavailable("pdftoppm is not installed (make test installs poppler-utils)")
    ARTIFACTS.mkdir(exist_ok=True)
    pdf_path = tmp_path / "demo.pdf"
    pdf_path.write_bytes(version.pdf)
    prefix = ARTIFACTS / "demo-briefing-page"
    for old in ARTIFACTS.glob("demo-briefing-page*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf_path), str(prefix)], check=True, timeout=60)
    assert len(list(ARTIFACTS.glob("demo-briefing-page*.png"))) == version.page_count


def test_cli_lists_and_renders(app, world, full_briefing, tmp_path):
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["briefings", "list"])
    assert listed.exit_code == 0
    assert listed.output.strip() == f"{full_briefing.reference}\tdraft\tWorkloads and staffing in probation"

    refused = runner.invoke(
        args=["briefings", "render", full_briefing.reference, "-o", str(tmp_path / "x.pdf"), "--published"]
    )
    assert refused.exit_code != 0 and "has not been published yet" in refused.output
    missing = runner.invoke(args=["briefings", "render", "BRF404-26", "-o", str(tmp_path / "x.pdf")])
    assert missing.exit_code != 0 and "no briefing" in missing.output

    version = svc.publish(world.official, full_briefing)
    db.session.commit()
    out = tmp_path / "published.pdf"
    published = runner.invoke(
        args=["briefings", "render", full_briefing.reference.lower(), "-o", str(out), "--published"]
    )
    assert published.exit_code == 0, published.output
    assert out.read_bytes() == version.pdf and version.sha256 in published.output

    draft = tmp_path / "draft.pdf"
    rendered = runner.invoke(args=["briefings", "render", full_briefing.reference, "-o", str(draft)])
    assert rendered.exit_code == 0, rendered.output
    assert draft.read_bytes().startswith(b"%PDF") and "Wrote" in rendered.output
