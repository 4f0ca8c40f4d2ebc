"""Likely identifiers are found, kept in order, and never turned into markup."""

from __future__ import annotations

import itertools

import pytest

from napo_tracker.testimonies.redaction import find_identifiers, has_contact_details, segments, suggest_redaction

TEXT = (
    "Last Tuesday my SPO, Mrs Patel, said on 12/03/2025 that I was on 170% of the WMT. "
    "Sarah Jones (sarah.j@example.org, 07700 900123) is 34 years old and works in Leeds. "
    "I'm 52. The Probation Service is failing us all."
)


def _marked(text, places=()):
    return [(piece, kind) for piece, kind in segments(text, places) if kind]


def test_each_kind_of_identifier_is_marked():
    marked = _marked(TEXT)
    assert ("Tuesday", "date") in marked
    assert ("Mrs Patel", "name") in marked
    assert ("12/03/2025", "date") in marked
    assert ("Sarah Jones", "name") in marked
    assert ("sarah.j@example.org", "email") in marked
    assert ("07700 900123", "phone") in marked
    assert ("34 years old", "age") in marked
    assert ("Leeds", "place") in marked
    assert ("I'm 52", "age") in marked


def test_service_vocabulary_is_not_marked():
    pieces = [piece for piece, _kind in _marked(TEXT)]
    assert not any("Probation" in p or "WMT" in p or "SPO" in p for p in pieces)


def test_segments_rebuild_the_text_exactly_without_overlaps():
    assert "".join(piece for piece, _ in segments(TEXT)) == TEXT
    spans = find_identifiers(TEXT)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_places_known_to_the_app_are_marked():
    assert ("Cardiff and the Vale", "place") in _marked("I work in Cardiff and the Vale PDU.", ["Cardiff and the Vale"])


@pytest.mark.parametrize("text", ["On 3rd March 2024 it started.", "From March 2024 onwards.", "by 2024-03-03"])
def test_dates_in_several_forms(text):
    assert any(kind == "date" for _p, kind in _marked(text))


def test_markup_in_the_text_stays_text():
    text = "<script>alert('Sarah')</script> happened in <b>Leeds</b>"
    assert "".join(p for p, _ in segments(text)) == text  # the template escapes every piece


def test_suggested_redaction_replaces_identifiers():
    suggestion = suggest_redaction(TEXT)
    for gone in ("Patel", "Sarah", "sarah.j@", "07700", "Leeds", "34 years"):
        assert gone not in suggestion
    assert "[name]" in suggestion and "[phone number]" in suggestion and "170% of the WMT" in suggestion


def test_contact_details_check():
    assert has_contact_details("ring +44 7700 900123")
    assert has_contact_details("a@b.org")
    assert not has_contact_details("I hold 80 cases and 12 are MAPPA.")
