"""Members in bulk: a CSV or XLSX file lands whole or not at all, every bad row named; members
already recorded are matched by membership number; the members list is paged and searchable."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.cases.importer import MembersImportRefused, import_members
from napo_tracker.cases.models import Member
from napo_tracker.cases.services import member_with_number
from napo_tracker.extensions import db
from tests import factories
from tests.helpers import form_tokens

HEADER = "membership_number,name,region,unit,grade,email\n"


def csv_file(*rows: str) -> io.BytesIO:
    return io.BytesIO((HEADER + "".join(row + "\n" for row in rows)).encode())


def members_count() -> int:
    return db.session.scalar(select(func.count(Member.id))) or 0


def test_a_file_records_new_members_and_updates_known_ones(world):
    known = factories.make_member(world.london_rep, world.london, membership_number="N-100", name="Old Name")
    report = import_members(
        world.london_rep,
        csv_file(
            "n-100 ,Ada Newname,London,London PDU,PO,ada@example.org",  # case and spacing aside: the same number
            "N-101,Bea Member,london,,pso,",
            "N-102,Cy Member,London,,,cy@example.org",
        ),
        filename="members.csv",
    )
    db.session.commit()
    assert report.is_ok, report.errors
    assert (report.added, report.updated, report.unchanged) == (2, 1, 0)
    db.session.refresh(known)
    assert known.name == "Ada Newname" and known.grade == "PO" and known.unit is not None
    assert known.phone == "07700 900123"  # not in the file: kept
    bea = member_with_number("N-101")
    assert bea is not None and bea.region_id == world.london.id and bea.grade == "PSO"
    entry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.MEMBERS_IMPORTED.value)).one()
    assert "Bea" not in str(entry.details) and "members.csv" not in str(entry.details)

    again = import_members(world.london_rep, csv_file("N-101,Bea Member,London,,PSO,"))
    assert again.is_ok and (again.added, again.updated, again.unchanged) == (0, 0, 1)


def test_an_xlsx_file_is_read_the_same_way(world):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["N-200", "Dee Member", "Wales", "Swansea", "NQO", None])
    sheet.append([201, "Eve Member", "Wales", None, None, "eve@example.org"])  # a number typed as a number
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    report = import_members(world.admin, data, filename="members.xlsx")
    db.session.commit()
    assert report.is_ok, report.errors
    assert report.added == 2 and member_with_number("201") is not None


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (("N-1,Ann,London,,,", "n-1,Ann Again,London,,,"), [(3, "membership number given twice: also on line 3")]),
        (("N-1,Ann,Wales,,,",), [(2, "Wales is not one of your regions")]),
        (("N-1,Ann,Atlantis,,,",), [(2, "unknown region 'Atlantis'")]),
        (("N-1,Ann,London,Swansea,,",), [(2, "unit 'Swansea' is not in London")]),
        ((",Ann,London,,,", "N-2,,London,,,"), [(2, "membership_number is empty"), (3, "name is empty")]),
        (("N-1,Ann,London,,Chief,",), [(2, "unknown grade 'Chief'")]),
        (("N-1,Ann,London,,,not-an-address",), [(2, "email 'not-an-address' is not an e-mail address")]),
        (("N-1,Ann\u202e,London,,,",), [(2, "name contains control characters or text-direction overrides")]),
        (("N-1,Ann,London,,",), [(2, "has 5 columns; expected 6")]),
    ],
)
def test_a_bad_row_refuses_the_whole_file_with_its_row_number(world, rows, expected):
    before = members_count()
    report = import_members(world.london_rep, csv_file("N-9,Good Row,London,,,", *[r for r in rows]))
    db.session.commit()
    assert not report.is_ok
    # The good first row is line 2: each bad row is one further down.
    assert [(e.line - 1, e.reason[: len(reason)]) for e, (_, reason) in zip(report.errors, expected, strict=True)] == [
        (line, reason) for line, reason in expected
    ]
    assert members_count() == before and member_with_number("N-9") is None


def test_members_of_other_regions_and_erased_members_are_refused(world):
    factories.make_member(world.wales_rep, world.wales, membership_number="W-1")
    factories.make_member(world.london_rep, world.london, membership_number="L-1")
    report = import_members(world.london_rep, csv_file("W-1,Someone,London,,,"))
    assert report.errors[0].reason == "this membership number belongs to a member outside your regions"
    report = import_members(world.admin, csv_file("L-1,Someone,Wales,,,"))
    assert report.errors[0].reason.startswith("this member is recorded in London")


@pytest.mark.parametrize(
    ("data", "fatal"),
    [
        (b"", "the file is empty."),
        (b"name,region\nAnn,London\n", "line 1 must be the header"),
        (b"\xff\xfem\x00", "the file is in UTF-16"),
        (HEADER.encode() + b'N-1,"Ann,London,,,\n', "line 2: a quoted field is never closed"),
        (b"PK\x03\x04not really a workbook", "the file is not a workbook"),
    ],
)
def test_an_unreadable_file_says_why(world, data, fatal):
    report = import_members(world.london_rep, io.BytesIO(data))
    assert report.fatal is not None and report.fatal.startswith(fatal), report.fatal
    assert members_count() == 0


def test_a_dry_run_writes_nothing(world):
    report = import_members(world.london_rep, csv_file("N-1,Ann,London,,,"), dry_run=True)
    db.session.commit()
    assert report.is_ok and report.added == 1 and members_count() == 0


def test_officials_import_no_members(world):
    with pytest.raises(MembersImportRefused):
        import_members(world.official, csv_file("N-1,Ann,London,,,"))


def test_the_import_page(client, login_as, world):
    login_as(world.london_rep)
    page = client.get("/cases/members/import")
    assert page.status_code == 200
    tokens = form_tokens(page.data)
    bad = client.post("/cases/members/import", data={**tokens, "file": (csv_file("N-1,Ann,Wales,,,"), "m.csv")})
    assert bad.status_code == 400 and b"Wales is not one of your regions" in bad.data
    tokens = form_tokens(client.get("/cases/members/import").data)
    good = client.post("/cases/members/import", data={**tokens, "file": (csv_file("N-1,Ann,London,,,"), "m.csv")})
    assert good.status_code == 302 and members_count() == 1
    login_as(world.official)
    assert client.get("/cases/members/import").status_code == 403


def test_the_members_list_is_paged_and_searchable(client, login_as, world):
    for n in range(55):
        factories.make_member(world.london_rep, world.london, name=f"Person {n:02d}", membership_number=f"P-{n}")
    wales = factories.make_member(world.wales_rep, world.wales, name="Person Welsh", membership_number="P-W")
    login_as(world.london_rep)
    first = client.get("/cases/members/").get_data(as_text=True)
    assert "Page 1 of 2" in first and "55 members" in first
    assert client.get("/cases/members/?page=2").get_data(as_text=True).count("Member M-") == 5
    by_name = client.get("/cases/members/?q=person 07").get_data(as_text=True)
    assert "1 member found" in by_name
    by_number = client.get("/cases/members/?q=p-12").get_data(as_text=True)
    assert "1 member found" in by_number
    assert "0 members found" in client.get("/cases/members/?q=P-W").get_data(as_text=True)  # another region
    login_as(world.official)
    # Officials see pseudonyms: a name finds nothing, a pseudonym does.
    assert "0 members found" in client.get("/cases/members/?q=Person").get_data(as_text=True)
    assert "1 member found" in client.get(f"/cases/members/?q={wales.pseudonym}").get_data(as_text=True)
    assert client.get("/cases/members/?q=" + "x" * 201).status_code == 400
