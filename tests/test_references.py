"""The union's numbered references: next number, width, and a retried clash."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from napo_tracker.cases import services as case_services
from napo_tracker.cases.models import Case
from napo_tracker.evidence.models import EvidenceItem, Metric
from napo_tracker.extensions import db
from napo_tracker.kernel.errors import ConflictError
from napo_tracker.references import ReferenceCollision, insert_with_reference, next_numbered_reference, random_reference
from napo_tracker.regions.models import Region

from . import factories
from .helpers import submit

HEADER_LINE = b"region,unit,metric,value,as_of,grade,source,source_ref,statement\r\n"


def test_next_number_follows_the_highest_used(app):
    # Region names stand in for any reference column: the helper only reads the strings.
    for name in ("CASE-2026-0009", "CASE-2026-0010", "CASE-2025-0999", "CASE-2026-notanumber"):
        db.session.add(Region(name=name))
    db.session.flush()
    assert next_numbered_reference(Region.name, "CASE-2026-") == "CASE-2026-0011"
    assert next_numbered_reference(Region.name, "CASE-2027-") == "CASE-2027-0001"


def test_numbers_past_the_width_keep_counting(app):
    db.session.add(Region(name="FN-2026-9999"))
    db.session.flush()
    assert next_numbered_reference(Region.name, "FN-2026-") == "FN-2026-10000"
    db.session.add(Region(name="FN-2026-10000"))
    db.session.flush()
    assert next_numbered_reference(Region.name, "FN-2026-") == "FN-2026-10001"


def test_random_references_are_short_readable_and_never_look_numbered():
    made = {random_reference("TST") for _ in range(2000)}
    assert len(made) == 2000
    for reference in made:
        assert re.fullmatch(r"TST-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}", reference), reference
        # no 0, 1, I, L, O or U: read aloud or copied by hand without a doubt, never a year
        assert not set(reference[4:]) & set("01ILOU")


def test_a_clash_is_retried_with_a_fresh_reference(app):
    db.session.add(Region(name="REF-0001"))
    db.session.flush()
    tried = iter(["REF-0001", "REF-0001", "REF-0002"])
    region = insert_with_reference(Region.name, lambda: next(tried), lambda name: Region(name=name))
    assert region.name == "REF-0002" and region.id is not None
    assert db.session.scalar(select(func.count()).select_from(Region)) == 2  # the outer transaction is intact


def test_a_clash_after_every_attempt_is_a_409_asking_to_try_again(app):
    db.session.add(Region(name="REF-0001"))
    db.session.flush()
    with pytest.raises(ReferenceCollision) as raised:
        insert_with_reference(Region.name, lambda: "REF-0001", lambda name: Region(name=name))
    assert isinstance(raised.value, ConflictError) and raised.value.status_code == 409
    assert "try again" in raised.value.message
    assert db.session.scalar(select(func.count()).select_from(Region)) == 1  # still usable


def test_a_clash_on_another_column_is_not_retried(app):
    """The same label under a new code: the metric's own rule, for its caller to word."""
    existing = db.session.scalars(select(Metric).where(Metric.code == "caseload")).one()
    codes = iter(["new_code_1", "new_code_2"])
    with pytest.raises(IntegrityError):
        insert_with_reference(
            Metric.code, lambda: next(codes), lambda code: Metric(code=code, label=existing.label, unit="count")
        )
    assert next(codes) == "new_code_2"  # one attempt only


def test_a_batch_of_references_is_retried_as_a_whole(app):
    db.session.add(Region(name="REF-0003"))
    db.session.flush()
    starts = iter([2, 4])

    def block() -> list[str]:
        first = next(starts)
        return [f"REF-{n:04d}" for n in range(first, first + 3)]

    def insert(names: Sequence[str]) -> list[str]:
        db.session.add_all(Region(name=name) for name in names)
        return list(names)

    assert insert_with_reference(Region.name, block, insert) == ["REF-0004", "REF-0005", "REF-0006"]


def test_a_case_whose_reference_is_always_taken_is_refused_not_a_server_error(
    app, client, login_as, world, monkeypatch
):
    taken = factories.make_case(world.london_rep, world.london)
    monkeypatch.setattr(case_services, "next_numbered_reference", lambda *args, **kwargs: taken.reference)
    login_as(world.london_rep)
    data = {"region_id": str(world.london.id), "category": "pay", "title": "Unpaid", "priority": "normal"}
    response = submit(client, "/cases/new", data)
    assert response.status_code == 409 and "Please try again" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1


def test_an_import_whose_references_were_taken_meanwhile_takes_the_next_ones(app, world, monkeypatch):
    """The importer numbers each batch through the same retrying helper."""
    from napo_tracker.evidence import importer

    factories.make_evidence(world.official, region=world.london)  # EV-0001
    real = importer.next_reference_number
    read_before_their_commit = iter([1])  # as read just before someone else's EV-0001 was committed
    monkeypatch.setattr(importer, "next_reference_number", lambda: next(read_before_their_commit, None) or real())
    rows = (
        HEADER_LINE
        + b"London,,caseload,41,2024-01-31,,rep survey,S,\r\nLondon,,caseload,42,2024-01-31,,rep survey,S,\r\n"
    )
    report = importer.import_csv(world.official, io.BytesIO(rows), filename="f.csv")
    assert report.is_ok and report.added == 2, report.summary()
    assert set(db.session.scalars(select(EvidenceItem.reference))) == {"EV-0001", "EV-0002", "EV-0003"}
