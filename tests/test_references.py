"""The union's numbered references: next number, width, and a retried clash."""

from __future__ import annotations

from napo_tracker.extensions import db
from napo_tracker.references import next_numbered_reference
from napo_tracker.regions.models import Region


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
