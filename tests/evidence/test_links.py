"""Evidence links to the case, notice or testimony it came from, within what the user may see."""

from __future__ import annotations

import pytest

from napo_tracker.evidence.services import EvidenceError, link_references, resolve_links
from napo_tracker.extensions import db

from ..factories import make_case, make_notice, make_testimony


@pytest.fixture
def london_records(world):
    case = make_case(world.london_rep, world.london, title="NQO on 118 %", description="No protected caseload.")
    notice = make_notice(world.london_rep, world.london)
    return case, notice


def test_an_item_links_to_its_case_notice_and_testimony(world, london_records):
    case, notice = london_records
    testimony = make_testimony(region=world.london, mps=True)
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
