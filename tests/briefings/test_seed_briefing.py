"""The union's 2022 briefing "Workloads and Staffing in Probation" (seed 000), rebuilt from the
seeds' figures: every figure cited, no uncited number left, the checks pass (`flask briefings
check`), and the PDF cites as the original does ("192% (London, one PDU, …)"), tagged for
screen readers (PDF/UA-1: language, title, headings, lists, the chart's alternative text)."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

from pypdf import PdfReader

from napo_tracker.briefings import services as svc
from napo_tracker.briefings.checks import run_checks
from napo_tracker.evidence.services import allow_small_number
from napo_tracker.extensions import db
from tests.factories import import_seed_figures, make_briefing, make_testimony

TESTIMONIES = (
    "I am leaving the Service end of March after 21 years. I am passionate about what I do and there are "
    "aspects of my job that I love, but I cannot continue to look after myself in these circumstances any "
    "longer. I have seen so many people leave including new qualified Staff as they just burn out rapidly and "
    "the support is not there, they cannot see it getting better.",
    "Staffing is a serious concern & it's always jam tomorrow with PQiP's coming soon but they cannot be "
    "expected to hold the organisation together & don't actually solve the problem.",
)

QUESTIONS = (
    "Whilst HMPPS is currently going through a large recruitment drive, what steps are being taken to address "
    "the issues of retention for probation, and what are the target staffing numbers for each region?",
    "What assurances can the Minister give that public protection and rehabilitation will not be jeopardised "
    "as a result of the workloads and staffing crisis in probation?",
    "Will the Minister order a full staffing review to identify how many vacancies there are and in what regions?",
)


def _build(world):
    figures = import_seed_figures(world.official)
    ref = {key: item.reference for key, item in figures.items()}
    # One person's figure at one unit: cited, as the union did, by an official's audited decision.
    for key in (("wmt_percent", "118"), ("wmt_percent", "170")):
        allow_small_number(
            world.official, figures[key], "Reported to the union by the member, who agreed to its publication."
        )
    briefing = make_briefing(
        world.official,
        title="Workloads and Staffing in Probation",
        subtitle="A briefing by Napo",
        dated_on=date(2023, 3, 1),
        signatory_name="Tania Bassett",
        signatory_title="National Official",
    )
    sections = [
        (
            "introduction",
            "Introduction",
            "Since the welcome reunification of the service in June 2021, it has become very apparent that there "
            "is now a staffing crisis resulting in dangerously high caseloads. This briefing highlights a few key "
            "examples of the impact this is having on staff and public protection.",
        ),
        (
            "regional_evidence",
            "London",
            f"In one Probation Delivery Unit (PDU) alone there are approximately [={ref['unallocated_cases', '650']}] "
            "unallocated cases.\n\n"
            f"On average, staff in this PDU are on [={ref['wmt_percent_avg', '192']}] of the workload management "
            "tool.\n\n"
            f"A newly qualified officer (NQO) was on [={ref['wmt_percent', '118']}] just 2 days after qualifying, "
            "when NQOs should be on a protected caseload for the first year of service.",
        ),
        (
            "regional_evidence",
            "East Midlands",
            "An anonymous letter from a Probation Officer in this region said that they were on "
            f"[={ref['wmt_percent', '130']}] of the workload management tool. Napo is already aware of one Serious "
            f"Further Offence (SFO) in this region. [{ref['wmt_percent', '130']}]",
        ),
        (
            "regional_evidence",
            "Staffordshire and West Midlands",
            f"It is now becoming normal for practitioners to have caseloads of 130-150% [{ref['wmt_percent', '170']}]. "
            f"There is also some evidence to suggest some colleagues have [={ref['wmt_percent', '170']}] against "
            "the WMT.",
        ),
        (
            "regional_evidence",
            "Wales",
            f"Napo has seen evidence that staff are on over [={ref['wmt_percent', '150']}].",
        ),
        (
            "regional_evidence",
            "Warwickshire and West Mercia",
            "Staff have submitted Foreseeability Notices to managers due to excessive workloads. Caseloads "
            f"fluctuate between 135% and 145% on the WMT. [{ref['wmt_percent_avg', '140']}]",
        ),
        (
            "risks",
            "Risks",
            "In the 2000's there were two very prominent SFOs, and in both excessively high caseloads were found "
            "to be a significant factor in the failings in risk management.",
        ),
        ("staff_testimonies", "Staff Personal Testimonies", ""),
        (
            "what_next",
            "What Next?",
            "Napo is demanding a full staffing review, with regional vacancies identified and published.",
        ),
    ]
    for kind, heading, body in sections:
        svc.add_section(world.official, briefing, kind=kind, heading=heading, body=body)
    risks = next(s for s in briefing.sections if s.kind == "risks")
    svc.set_section_chart(
        world.official,
        risks,
        metric_code=None,
        region_ids=[],
        since_on=None,
        references=[ref["wmt_percent_avg", "192"], ref["wmt_percent_avg", "140"]],
    )
    quoted = [make_testimony(text, mps=True, approved_by=world.official) for text in TESTIMONIES]
    svc.set_testimonies(world.official, briefing, [t.id for t in quoted])
    for text in QUESTIONS:
        svc.add_question(world.official, briefing, text=text)
    db.session.commit()
    return briefing


def test_the_seeds_briefing_is_rebuilt_with_every_figure_cited(app, world):
    briefing = _build(world)
    checks = run_checks(briefing)
    assert not [c.message for c in checks if c.is_blocking]
    assert not [c.message for c in checks if "is not cited" in c.message]

    result = app.test_cli_runner().invoke(args=["briefings", "check", briefing.reference])
    assert result.exit_code == 0, result.output

    version = svc.publish(world.official, briefing)
    db.session.commit()
    reader = PdfReader(io.BytesIO(version.pdf))
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    for citation in (
        "approximately 650 (London, one PDU, January 2023)[1] unallocated cases",
        "192% (London, one PDU, January 2023)[1]",
        "118% (NQO, London, one PDU, January 2023)[1] just 2 days after qualifying",
        "130% (PO, East Midlands, January 2023)[1]",
        "170% (West Midlands, one PDU, January 2023)[1]",
        "150% (Wales, January 2023)[1]",
    ):
        assert citation in text, (citation, text[text.index("London") : text.index("Risks")])
    # One source, listed once, however many of its figures are cited or drawn.
    sources = text[text.rindex("Sources") :]
    assert sources.count("Napo briefing, Workloads and Staffing in Probation") == 1
    assert "Union survey; Member report" in sources
    assert "London, one PDU; East Midlands; West Midlands, one PDU; Wales (January 2023)" in sources
    assert "I am leaving the Service end of March after 21 years." in text

    root: Any = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB" and root["/MarkInfo"]["/Marked"]
    assert reader.metadata is not None and reader.metadata.title == "Workloads and Staffing in Probation"
    tags = _structure(root["/StructTreeRoot"].get_object())
    names = [name for name, _alt in tags]
    assert "/H1" in names and names.count("/H2") >= len(briefing.sections)
    assert "/L" in names and "/LI" in names  # the numbered questions
    [chart] = [alt for name, alt in tags if name == "/Figure"]
    assert chart.startswith("Chart: Average WMT %")


def test_a_number_left_uncited_blocks_a_briefing_to_mps_until_it_is_marked(app, world, client, login_as):
    briefing = _build(world)
    what_next = next(s for s in briefing.sections if s.kind == "what_next")
    svc.update_section(
        world.official,
        what_next,
        kind="what_next",
        heading="What Next?",
        body="9,999 vacancies were reported in 2023. It took us 3 weeks to find out.",
    )
    db.session.commit()
    uncited = [c for c in run_checks(briefing) if "is not cited" in c.message]
    assert [c.message.split(" is not cited")[0] for c in uncited] == ["“What Next?”: 9,999", "“What Next?”: 3"]
    assert all(c.is_blocking for c in uncited)  # 2023 is a year: left alone
    result = app.test_cli_runner().invoke(args=["briefings", "check", briefing.reference])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert "BLOCKING: “What Next?”: 9,999 is not cited, in “9,999 vacancies were reported in 2023.”." in lines[0]
    with __import__("pytest").raises(svc.BriefingError, match="cannot be published"):
        svc.publish(world.official, briefing)

    login_as(world.official)
    page = client.get(f"/briefings/{briefing.reference}")
    assert "Not a statistic" in page.text
    for check in uncited:
        response = client.post(
            f"/briefings/{briefing.reference}/sections/{check.section_id}/numbers/{check.number_key}",
            data={"csrf_token": _csrf(client, briefing.reference), "expected_version": briefing.version},
        )
        assert response.status_code == 302
        db.session.refresh(briefing)
    assert not [c for c in run_checks(briefing) if "is not cited" in c.message]
    assert app.test_cli_runner().invoke(args=["briefings", "check", briefing.reference]).exit_code == 0
    assert app.test_cli_runner().invoke(args=["briefings", "check", "BRF999-99"]).exit_code != 0


def _csrf(client, reference: str) -> str:
    page = client.get(f"/briefings/{reference}").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _structure(node: Any, found: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """(tag, alternative text) of every element of a PDF's structure tree, in order."""
    found = [] if found is None else found
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, dict):
        if "/S" in node:
            found.append((str(node["/S"]), str(node.get("/Alt", ""))))
        kids: Any = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids]:
            _structure(kid, found)
    return found
