"""The importer's reasons, word for word, at the edges mutation testing found untested: a date
of today (taken) and tomorrow (refused), a statement's line breaks (taken) beside a title's
(refused), a unit of another region beside an unknown one, a rep's national row, a value with
no metric, a statement of 5,000 characters (taken) and 5,001 (refused), a source_ref of 300
(taken) and 301 (refused), a unit without its region, an unknown grade, a row with neither
value nor statement, and one with no source."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from napo_tracker.evidence import importer
from napo_tracker.evidence.importer import (
    MAX_SOURCE_REF,
    MAX_STATEMENT,
    ImportOptions,
    ImportRefused,
    check_options,
    import_csv,
    parse_date,
)
from napo_tracker.evidence.models import EvidenceItem, ImportBatch, SourceType
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today
from napo_tracker.kernel.vocabulary import Grade
from napo_tracker.tabular import too_many_rows

from .conftest import csv_bytes, good_rows


def _reasons(actor, rows) -> dict[int, str]:
    report = import_csv(actor, io.BytesIO(csv_bytes(rows)), filename="t.csv")
    db.session.rollback()
    return {error.line: error.reason for error in report.errors}


SPREADSHEET_NUMBER = (
    r"^as_of '45000' looks like a spreadsheet date number; format the column as a date \(YYYY-MM-DD or DD/MM/YYYY\)$"
)


def test_a_date_of_today_is_taken_and_tomorrow_is_not():
    assert parse_date(today().isoformat()) == today()
    tomorrow = (today() + timedelta(days=1)).isoformat()
    with pytest.raises(ValueError, match=f"^as_of '{tomorrow}' is in the future$"):
        parse_date(tomorrow)
    with pytest.raises(ValueError, match=r"^as_of is empty: give the date the figure describes$"):
        parse_date("  ")
    with pytest.raises(ValueError, match=SPREADSHEET_NUMBER):
        parse_date("45000")


def test_each_row_says_what_is_wrong_with_it(world):
    row = ["London", "", "wmt_percent_avg", "150", "2024-01-31", "", "rep survey", "Survey", ""]
    rows = [
        row[:7] + ["A\ttitle"] + [""],  # line 2: a tab in a title
        ["London", "Cardiff and the Vale"] + row[2:],  # line 3: a unit of another region
        ["London", "Atlantis PDU"] + row[2:],  # line 4
        ["London", "", "", "150"] + row[4:],  # line 5
        [""] + row[1:],  # line 6: national, by a rep
        row[:8] + ["Two lines\nof statement"],  # line 7: fine, line breaks belong in a statement
    ]
    reasons = _reasons(world.london_rep, rows)
    assert 7 not in reasons and len(reasons) == 5
    assert reasons[2] == "source_ref contains control characters or text-direction overrides"
    assert reasons[3] == "unit 'Cardiff and the Vale' is not in London"
    assert reasons[4] == "unknown unit 'Atlantis PDU'"
    assert reasons[5] == "a value needs a metric"
    assert reasons[6] == "region is empty (a national figure); only national officials import those"


def test_a_statement_may_be_five_thousand_characters_and_a_source_ref_three_hundred(world):
    row = ["London", "", "", "", "2024-01-31", "", "rep survey", "Survey", "Said"]
    rows = [
        row[:8] + ["s" * MAX_STATEMENT],
        row[:8] + ["t" * (MAX_STATEMENT + 1)],  # line 3
        row[:7] + ["r" * MAX_SOURCE_REF] + row[8:],
        row[:7] + ["u" * (MAX_SOURCE_REF + 1)] + row[8:],  # line 5
    ]
    assert _reasons(world.official, rows) == {
        3: "statement is longer than 5,000 characters",
        5: "source_ref is longer than 300 characters",
    }


def test_each_missing_or_unknown_cell_is_named_word_for_word(world):
    row = ["London", "", "wmt_percent_avg", "150", "2024-01-31", "", "rep survey", "Survey", ""]
    rows = [
        [""] + row[1:],  # line 2: fine, an official may import a national figure
        ["", "London PDU"] + row[2:],  # line 3
        row[:3] + [""] + row[4:],  # line 4
        row[:5] + ["Chief PO"] + row[6:],  # line 5
        row[:6] + [""] + row[7:],  # line 6: no source cell, and none chosen for the file
    ]
    reasons = _reasons(world.official, rows)
    assert reasons == {
        3: "unit 'London PDU' needs its region",
        4: "give a value, a statement, or both",
        5: "unknown grade 'Chief PO' (use PO, PSO, PQiP, NQO, SPO, admin, court or family_court)",
        6: "source is empty: say where the figure comes from (or choose one for the whole file)",
    }


def test_a_source_is_known_by_its_code_or_its_name_in_any_case(world):
    forms = {}
    for source in SourceType:
        for written in (source.value, source.value.replace("_", " "), source.label, source.label.upper()):
            forms[written] = source.value
    rows = [["London", "", "", "", "2024-01-31", "", written, "", f"Item {n}"] for n, written in enumerate(forms)]
    report = import_csv(world.official, io.BytesIO(csv_bytes(rows)), filename="t.csv")
    assert report.is_ok and report.added == len(forms), report.errors
    stored = dict(db.session.execute(select(EvidenceItem.statement, EvidenceItem.source_type)).all())
    db.session.rollback()
    assert stored == {f"Item {n}": value for n, value in enumerate(forms.values())}


def test_a_date_from_1990_is_taken_and_one_before_is_not():
    assert parse_date(" 1990-01-01 ") == date(1990, 1, 1)
    assert parse_date("01/01/1990 00:00:00.000") == date(1990, 1, 1)
    assert parse_date("2024-1-5") == date(2024, 1, 5) and parse_date("5/1/2024") == date(2024, 1, 5)
    with pytest.raises(ValueError, match=r"^as_of '31/12/1989' is before 1990; check the year$"):
        parse_date("31/12/1989")
    with pytest.raises(ValueError, match=r"^as_of '2023-02-29' is not a real date$"):
        parse_date("2023-02-29")
    with pytest.raises(ValueError, match=r"^as_of 'March 2023' is not a date in the form YYYY-MM-DD or DD/MM/YYYY$"):
        parse_date("March 2023")


@pytest.mark.parametrize(
    ("options", "message", "field"),
    [
        (ImportOptions(visibility="secret"), "Choose internal or public for the whole file.", "visibility"),
        (ImportOptions(source_type="gossip"), "Choose a source from the list.", "source_type"),
        (ImportOptions(is_verified=True), "Only national officials verify evidence.", "is_verified"),
    ],
    ids=["visibility", "source", "verified"],
)
def test_a_choice_for_the_whole_file_is_refused_with_its_field(world, options, message, field):
    with pytest.raises(ImportRefused) as refused:
        check_options(world.london_rep, options)
    assert (refused.value.message, refused.value.field) == (message, field)


def test_the_choices_a_person_may_make_for_the_whole_file_are_taken(world):
    check_options(world.london_rep, ImportOptions(visibility="public", source_type="foi_response"))
    check_options(world.london_rep, ImportOptions(source_type=None))
    check_options(world.official, ImportOptions(is_verified=True))
    check_options(None, ImportOptions(is_verified=True))  # the command line


def test_a_grade_is_known_by_its_code_or_its_name_in_any_case(world):
    forms = {}
    for grade in Grade:
        for written in (grade.value, grade.value.upper(), str(grade.label), str(grade.label).lower()):
            forms[written] = grade.value
    rows = [
        ["London", "", "", "", "2024-01-31", written, "rep survey", "", f"Item {n}"] for n, written in enumerate(forms)
    ]
    report = import_csv(world.official, io.BytesIO(csv_bytes(rows)), filename="t.csv")
    assert report.is_ok and report.added == len(forms), report.errors
    stored = dict(db.session.execute(select(EvidenceItem.statement, EvidenceItem.grade)).all())
    db.session.rollback()
    assert stored == {f"Item {n}": value for n, value in enumerate(forms.values())}


def test_a_row_repeated_in_the_same_batch_or_in_an_earlier_one_is_named(world, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)  # rows are stored two at a time
    first, second, third, fourth = good_rows()
    rows = [first, second, third, first, fourth, fourth]
    assert _reasons(world.official, rows) == {
        5: "duplicate of an earlier line in this file",  # line 2 was stored with the first two
        7: "duplicate of line 6 in this file",
    }


def test_an_import_stored_in_several_batches_names_its_first_and_last_item(world, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 3)
    report = import_csv(world.official, io.BytesIO(csv_bytes(good_rows())), filename="t.csv")
    assert (report.first_reference, report.last_reference, report.added) == ("EV-0001", "EV-0004", 4)
    db.session.rollback()


def test_a_file_of_exactly_the_most_rows_is_read_and_one_more_is_refused(app, world):
    app.config["IMPORT_MAX_ROWS"] = 3
    first, second, third, _ = good_rows()
    rows = [first, [], second, [""] * 9, third]  # a blank line, a line of empty cells: skipped, not counted
    report = import_csv(world.official, io.BytesIO(csv_bytes(rows) + b"\r\n"), filename="t.csv", dry_run=True)
    assert report.is_ok and report.rows_read == 3 and report.fatal is None
    report = import_csv(world.official, io.BytesIO(csv_bytes(good_rows())), filename="t.csv", dry_run=True)
    assert report.fatal == too_many_rows(3) and report.rows_read == 4
    db.session.rollback()


def test_a_row_with_several_faults_lists_them_all_in_order(world):
    row = ["Atlantis", "", "happiness", "ten", "31/02/2024", "Chief", "gossip", "", ""]
    assert _reasons(world.official, [row]) == {
        2: "unknown region 'Atlantis'; unknown metric 'happiness'; value 'ten' is not a number; "
        "as_of '31/02/2024' is not a real date; unknown grade 'Chief' (use PO, PSO, PQiP, NQO, SPO, admin, court "
        "or family_court); unknown source 'gossip'"
    }


def test_a_row_of_the_wrong_width_is_named_and_the_rows_after_it_are_still_read(world):
    row = ["Atlantis", "", "", "", "2024-01-31", "", "rep survey", "", "Said"]
    assert _reasons(world.official, [row[:2], row, row + ["extra"]]) == {
        2: "has 2 columns; expected 9",
        3: "unknown region 'Atlantis'",
        4: "has 10 columns; expected 9",
    }


def test_an_import_taken_back_says_it_added_nothing_and_keeps_no_batch(app, world, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)  # the first two rows are in before the limit is met
    app.config["IMPORT_MAX_ROWS"] = 3
    for data, dry_run in ((good_rows(), False), (good_rows()[:3], True)):
        report = import_csv(world.official, io.BytesIO(csv_bytes(data)), filename="t.csv", dry_run=dry_run)
        assert report.added == 0 and report.batch_reference is None
        assert db.session.scalar(select(func.count()).select_from(EvidenceItem)) == 0
        assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0
    db.session.rollback()
