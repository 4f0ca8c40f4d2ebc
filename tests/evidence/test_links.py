"""Evidence links to the case, notice or testimony it came from, within what the user may see."""

from __future__ import annotations

from decimal import Decimal

import pytest

from napo_tracker.cases.services import create_case
from napo_tracker.evidence.services import EvidenceError, link_references, resolve_links
from napo_tracker.extensions import db
from napo_tracker.notices import services as notice_services
from napo_tracker.notices.services import NoticeDetails

TESTIMONY_TEXT = "My caseload went from forty to sixty-five cases in three months and nobody covers leave."


@pytest.fixture
def london_records(world):
    details = NoticeDetails(
        kind="individual",
        region_id=world.london.id,
        unit_id=None,
        served_to_name="Jo Manager",
        served_to_role="Head of PDU",
        wmt_percent=Decimal("142.5"),
    )
    case = create_case(
        world.london_rep,
        region_id=world.london.id,
        category="excessive_workload",
        title="NQO on 118 %",
        description="No protected caseload.",
    )
    notice = notice_services.create_notice(world.london_rep, details)
    db.session.commit()
    return case, notice


def test_an_item_links_to_its_case_notice_and_testimony(world, london_records):
    from napo_tracker.testimonies.services import submit_testimony

    case, notice = london_records
    testimony, _code = submit_testimony(
        text=TESTIMONY_TEXT,
        region_id=world.london.id,
        grade=None,
        service_band=None,
        topics=[],
        has_mps_consent=True,
        has_press_consent=False,
    )
    db.session.commit()
    links = resolve_links(
        world.official,
        case_reference=case.reference.lower(),
        notice_reference=notice.reference,
        testimony_reference=testimony.reference,
    )
    assert links == {"case_id": case.id, "notice_id": notice.id, "testimony_id": testimony.id}


def test_a_rep_of_another_region_cannot_link_to_london_records(world, london_records):
    case, notice = london_records
    with pytest.raises(EvidenceError, match="No case"):
        resolve_links(world.wales_rep, case_reference=case.reference)
    with pytest.raises(EvidenceError, match="No notice"):
        resolve_links(world.wales_rep, notice_reference=notice.reference)
    assert resolve_links(world.london_rep, case_reference=case.reference)["case_id"] == case.id


def test_link_references_name_the_linked_records(world, london_records, items):
    case, notice = london_records
    item = items["london"]
    item.case_id, item.notice_id = case.id, notice.id
    db.session.commit()
    references = link_references(item)
    assert references["case_reference"] == case.reference
    assert references["notice_reference"] == notice.reference
