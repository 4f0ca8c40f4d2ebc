"""The rules of briefings, through the services and the real database."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from werkzeug.exceptions import NotFound

from napo_tracker.audit.models import AuditEvent
from napo_tracker.briefings import services as svc
from napo_tracker.briefings.checks import run_checks
from napo_tracker.briefings.document import count_pdf_pages, render_briefing_pdf
from napo_tracker.briefings.models import Briefing, BriefingVersion
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today

from .conftest import make_evidence, make_testimony, saved


def test_references_are_numbered_per_year(world):
    first = svc.create_briefing(world.official, title="A", dated_on=date(2026, 3, 1))
    second = svc.create_briefing(world.official, title="B", dated_on=date(2026, 9, 1))
    other_year = svc.create_briefing(world.official, title="C", dated_on=date(2027, 1, 5))
    db.session.commit()
    assert [first.reference, second.reference, other_year.reference] == ["BRF1-26", "BRF2-26", "BRF1-27"]
    assert db.session.query(AuditEvent).filter_by(action="briefing:created").count() == 3


def test_sections_are_added_reordered_and_removed(world, briefing):
    official = world.official
    a = svc.add_section(official, briefing, kind="introduction", body="one")
    b = svc.add_section(official, briefing, kind="risks", body="two")
    c = svc.add_section(official, briefing, kind="what_next", body="three")
    assert a.heading == "Introduction"
    svc.move_section(official, c, "up")
    assert [s.kind for s in briefing.sections] == ["introduction", "what_next", "risks"]
    svc.move_section(official, a, "up")  # already first: no change
    svc.remove_section(official, b)
    db.session.commit()
    db.session.expire_all()
    assert [(s.position, s.kind) for s in briefing.sections] == [(1, "introduction"), (2, "what_next")]


def test_section_size_and_nesting_are_bounded(world, briefing):
    with pytest.raises(svc.BriefingError, match="at most 20,000"):
        svc.add_section(world.official, briefing, kind="free", body="x" * (svc.MAX_SECTION_CHARS + 1))
    deep = "\n".join("  " * i + "- level" for i in range(60))
    deep_markers = "- " * 400 + "bottom"
    for body in (deep, deep_markers, "> " * 400 + "quote"):
        with pytest.raises(svc.BriefingError, match="nested at most"):
            svc.add_section(world.official, briefing, kind="free", body=body)
    db.session.rollback()
    assert saved(Briefing, briefing.id).sections == []


def test_a_stale_page_is_told_not_overwritten(world, briefing):
    stale = briefing.version
    svc.add_section(world.official, briefing, kind="free", body="first writer", expected_version=stale)
    db.session.commit()
    with pytest.raises(svc.BriefingConflict, match="Someone else changed"):
        svc.add_section(world.official, briefing, kind="free", body="second writer", expected_version=stale)


def test_citations_are_numbered_in_order_with_sources(app, world, full_briefing):
    doc = svc.briefing_document(full_briefing)
    item, statement = full_briefing.test_item, full_briefing.test_statement
    assert doc["cited_references"][:2] == [item.reference, statement.reference]
    regional = doc["sections"][1]["html"]
    assert "192%" in regional and "[1]" in regional and "[2]" in regional
    assert "<h3>London</h3>" in regional
    assert [s["number"] for s in doc["sources"]] == list(range(1, len(doc["sources"]) + 1))
    assert "London PDU workload return" in doc["sources"][0]["text"]
    assert doc["questions"] == [
        "What are the target staffing numbers for each region?",
        "Will the Minister order a full staffing review?",
    ]
    assert doc["sections"][3]["testimonies"][0]["text"].startswith("After twenty years")
    assert doc["sections"][2]["chart"]["svg"].startswith("<svg")


def test_internal_evidence_cannot_be_cited_to_a_public_audience(world, briefing):
    internal = make_evidence(world.official, region=world.london, visibility="internal", value="130")
    section = svc.add_section(world.official, briefing, kind="free", body="")
    db.session.commit()
    with pytest.raises(svc.BriefingError, match="internal-only"):
        svc.cite_evidence(world.official, section, internal)
    db.session.rollback()
    assert internal not in svc.evidence_for_picker(briefing)
    # typed in by hand, it blocks publishing
    svc.update_section(world.official, section, kind="free", heading="", body=f"Figure [={internal.reference}]")
    assert any(c.is_blocking and "internal-only" in c.message for c in run_checks(briefing))
    # a members' briefing may cite it
    members = svc.create_briefing(world.official, title="For members", audience="members")
    own = svc.add_section(world.official, members, kind="free", body="")
    svc.cite_evidence(world.official, own, internal)
    assert f"[={internal.reference}]" in own.body
    assert internal in svc.evidence_for_picker(members)


def test_testimonies_need_consent_for_the_audience(world, briefing):
    mps_only = make_testimony(world.official, mps=True, press=False)
    press_only = make_testimony(world.official, mps=False, press=True)
    unapproved = make_testimony(world.official, approve=False)
    quotable = svc.quotable_for_briefing(briefing)
    assert mps_only in quotable and press_only not in quotable and unapproved not in quotable
    with pytest.raises(svc.BriefingError, match="may not be quoted"):
        svc.set_testimonies(world.official, briefing, [press_only.id])
    db.session.rollback()
    svc.set_testimonies(world.official, briefing, [mps_only.id])
    db.session.commit()
    # members' briefings need press consent; the employer is never given members' words
    members = svc.create_briefing(world.official, title="Members", audience="members")
    assert svc.quotable_for_briefing(members) == [press_only]
    employer = svc.create_briefing(world.official, title="Employer", audience="employer")
    assert svc.quotable_for_briefing(employer) == []


def test_five_thousand_testimonies_are_refused_quickly(world, briefing):
    with pytest.raises(svc.BriefingError, match="at most 30 testimonies; you chose 5,000"):
        svc.set_testimonies(world.official, briefing, list(range(1, 5001)))


def test_withdrawal_after_choosing_blocks_publishing(world, full_briefing):
    from napo_tracker.testimonies import services as tsvc

    assert not [c for c in run_checks(full_briefing) if c.is_blocking]
    tsvc.withdraw(full_briefing.test_testimony)
    db.session.commit()
    blocking = [c for c in run_checks(full_briefing) if c.is_blocking]
    assert [c.fix_endpoint for c in blocking] == ["briefings.testimony_picker"]
    assert "withdrawn" in blocking[0].message
    # and it is no longer quoted, even in a preview
    doc = svc.briefing_document(full_briefing)
    assert all("After twenty years" not in (q["text"] or "") for s in doc["sections"] for q in s["testimonies"])
    with pytest.raises(svc.BriefingError, match="cannot be published"):
        svc.publish(world.official, full_briefing)


def test_checks_block_and_warn_with_links(world):
    empty = svc.create_briefing(world.official, title="", audience="press")
    messages = {c.message: c for c in run_checks(empty)}
    assert {
        "The briefing has no title.",
        "Nobody signs the briefing: add the signatory's name.",
        "The briefing has no sections yet.",
    } <= set(messages)
    assert all(c.is_blocking for c in messages.values() if "no title" in c.message or "sections" in c.message)
    warning = next(c for c in run_checks(empty) if "no questions" in c.message)
    assert not warning.is_blocking and warning.fix_endpoint == "briefings.questions"

    small = make_evidence(
        world.official, region=world.london, unit=world.london.units[0], value="150", reporter_count=2
    )
    old = make_evidence(
        world.official, region=world.wales, value="140", as_of=today() - timedelta(days=800), is_verified=False
    )
    section = svc.add_section(
        world.official, empty, kind="free", body=f"[={small.reference}] and [={old.reference}] and [=EV-9999]"
    )
    found = run_checks(empty)
    text = " | ".join(f"{c.severity}:{c.message}" for c in found)
    assert f"blocking:{small.reference} in “{section.heading}” is withheld: it rests on 2 people's report" in text
    assert "To cite it: record it for the region rather than the unit" in text
    assert "blocking:“Free section” cites EV-9999, which is not in the evidence." in text
    assert f"warning:{old.reference} in “{section.heading}” has not been verified." in text
    assert "more than twelve months before the briefing" in text
    assert found[0].is_blocking and not found[-1].is_blocking  # blocking first


def test_publish_freezes_and_editing_starts_version_two(world, full_briefing):
    version = svc.publish(world.official, full_briefing)
    db.session.commit()
    frozen_pdf, frozen_sha = version.pdf, version.sha256
    assert full_briefing.status == "published" and version.number == 1 and version.page_count >= 1
    assert frozen_pdf.startswith(b"%PDF") and len(frozen_sha) == 64
    assert full_briefing.test_item.reference in version.cited_references
    bank_question = full_briefing.questions[0].question
    assert bank_question.times_used == 1 and bank_question.last_used_on == today()

    svc.update_section(
        world.official,
        full_briefing.sections[0],
        kind="introduction",
        heading="Introduction",
        body="Rewritten after publishing.",
    )
    db.session.commit()
    assert full_briefing.status == "draft" and full_briefing.draft_version == 2
    db.session.expire_all()
    stored = db.session.scalar(db.select(BriefingVersion).where(BriefingVersion.number == 1))
    assert stored.pdf == frozen_pdf and stored.sha256 == frozen_sha
    import hashlib

    assert hashlib.sha256(stored.pdf).hexdigest() == frozen_sha

    second = svc.publish(world.official, full_briefing)
    db.session.commit()
    assert second.number == 2 and second.sha256 != frozen_sha
    svc.withdraw(world.official, full_briefing, reason="superseded")
    db.session.commit()
    assert full_briefing.status == "withdrawn" and len(full_briefing.published_versions) == 2
    with pytest.raises(svc.BriefingError, match="withdrawn"):
        svc.add_section(world.official, full_briefing, kind="free", body="more")
    actions = [e.action for e in db.session.query(AuditEvent).filter_by(target_ref=full_briefing.reference)]
    assert actions.count("briefing:published") == 2 and "briefing:withdrawn" in actions


def test_regional_section_is_generated_from_the_latest_evidence(world, briefing):
    older = make_evidence(world.official, region=world.london, value="150", as_of=today() - timedelta(days=90))
    newer = make_evidence(world.official, region=world.london, value="192", as_of=today() - timedelta(days=10))
    said = make_evidence(
        world.official,
        region=world.wales,
        value=None,
        metric_code=None,
        statement="Officers on over 150 % of the tool.",
    )
    hidden = make_evidence(world.official, region=world.wales, value="170", visibility="internal")
    ancient = make_evidence(world.official, region=world.wales, value="90", as_of=date(2014, 5, 14))
    section, left_out = svc.generate_regional_section(world.official, briefing, [world.london.id, world.wales.id])
    assert section.kind == "regional_evidence"
    assert ancient.reference not in section.body  # the twelve months before the briefing, by default
    assert any("Wales: 1 item dated outside" in line for line in left_out), left_out
    chosen, _ = svc.generate_regional_section(
        world.official, briefing, [world.wales.id], date_from=date(2014, 1, 1), date_to=date(2014, 12, 31)
    )
    assert f"[={ancient.reference}]" in chosen.body and said.reference not in chosen.body
    assert "# London" in section.body and "# Wales" in section.body
    assert f"[={newer.reference}]" in section.body and older.reference not in section.body
    assert f"Officers on over 150 % of the tool. [{said.reference}]" in section.body
    assert hidden.reference not in section.body
    with pytest.raises(svc.BriefingError, match="Choose at least one region"):
        svc.generate_regional_section(world.official, briefing, [])


def test_only_officials_and_admins_work_on_briefings(world, briefing):
    rep = world.london_rep
    with pytest.raises(svc.NotAllowed, match="Only national officials and admins") as refused:
        svc.create_briefing(rep, title="A rep's own briefing")
    assert refused.value.status_code == 403
    for change in (
        lambda: svc.add_section(rep, briefing, kind="free", body="from a rep"),
        lambda: svc.create_question(rep, text="Why is the caseload so high?", topics=""),
        lambda: svc.publish(rep, briefing),
        lambda: svc.withdraw(rep, briefing),
    ):
        with pytest.raises(svc.NotAllowed):
            change()
    db.session.rollback()
    with pytest.raises(svc.NotAllowed):
        svc.get_briefing_for(rep, briefing.reference)
    assert svc.get_briefing_for(world.admin, f" {briefing.reference.lower()} ") == briefing
    for missing in ("BRF99-26", "BRF1-26%00", "9" * 5000):
        with pytest.raises(NotFound):
            svc.get_briefing_for(world.official, missing)
    assert saved(Briefing, briefing.id).sections == [] and db.session.query(Briefing).count() == 1


def test_pages_are_counted_by_reading_the_pdf(app, world, full_briefing):
    pdf = render_briefing_pdf(full_briefing)
    assert count_pdf_pages(pdf) == len(PdfReader(io.BytesIO(pdf)).pages) >= 1
