"""What the importer tells the person, word for word, and how many faults it lists (the rest
are counted, so memory stays flat however bad the file)."""

from __future__ import annotations

from napo_tracker.evidence.importer import MAX_REPORTED_ERRORS, ImportReport, _clip


def test_the_summary_says_what_happened_in_each_case():
    assert ImportReport(fatal="the file is empty.").summary() == "Nothing imported: the file is empty."
    assert ImportReport().summary() == "Nothing imported: the file has a header but no rows."
    assert ImportReport(rows_read=1, added=1).summary() != "Nothing imported: the file has a header but no rows."
    again = ImportReport(rows_read=1_200, duplicates_of_existing=1_200)
    again.errors_not_listed = 1_200
    assert (
        again.summary() == "Nothing added: all 1,200 rows are already in the tracker (this file was imported before)."
    )
    faulty = ImportReport(rows_read=2_000)
    faulty.add_error(3, "bad date")
    assert (
        faulty.summary() == "Nothing imported: 1 of 2,000 rows have problems. Fix them and import the whole file again."
    )
    dry = ImportReport(rows_read=5, is_dry_run=True)
    assert dry.summary() == "Checked 5 rows: all are fine. Nothing was written (dry run)."


def test_faults_are_listed_up_to_the_cap_and_counted_beyond_it():
    report = ImportReport(rows_read=MAX_REPORTED_ERRORS + 2)
    for line in range(MAX_REPORTED_ERRORS):
        report.add_error(line + 2, "bad")
    assert len(report.errors) == MAX_REPORTED_ERRORS and report.errors_not_listed == 0
    report.add_error(9_998, "bad")
    report.add_error(9_999, "bad")
    assert len(report.errors) == MAX_REPORTED_ERRORS
    assert report.errors_not_listed == 2 and report.error_count == MAX_REPORTED_ERRORS + 2


def test_a_long_value_is_clipped_to_forty_characters_in_a_message():
    assert _clip("x" * 40) == "x" * 40
    assert _clip("x" * 41) == "x" * 39 + "…"
    assert len(_clip("y" * 500)) == 40
