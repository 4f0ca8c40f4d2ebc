"""Evidence pages through the test client: forms, lists, export, upload, dashboards, tokens."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from sqlalchemy import func, select

from napo_tracker.audit.models import AuditEvent
from napo_tracker.evidence.models import EvidenceItem, Metric, metric_by_code
from napo_tracker.extensions import db

from ..factories import make_evidence, unit
from ..helpers import submit
from .conftest import csv_bytes, good_rows


def _metric_id(code: str) -> int:
    metric = metric_by_code(code)
    assert metric is not None, code
    return metric.id


def _form(world, **overrides):
    data = {
        "region_id": str(world.wales.id),
        "unit_id": "",
        "metric_id": str(_metric_id("staff_in_post")),
        "value": "24.43",
        "as_of": "2024-03-31",
        "source_type": "management_data",
        "source_title": "FOI reply",
        "visibility": "internal",
        "grade": "",
    }
    data.update(overrides)
    return data


def test_an_official_records_an_exact_figure_and_verifies_it(client, login_as, world):
    login_as(world.official)
    response = submit(client, "/evidence/new", _form(world))
    assert response.status_code == 302
    item = db.session.scalars(select(EvidenceItem)).one()
    assert item.value == Decimal("24.43") and item.reference == "EV-0001"
    page = client.get("/evidence/EV-0001")
    assert "24.43 FTE" in page.text and "Mark as verified" in page.text
    verified = submit(client, "/evidence/EV-0001/verify", {}, form_url="/evidence/EV-0001")
    assert verified.status_code == 302
    db.session.expire_all()
    assert item.is_verified and item.verified_by_id == world.official.id
    edit = client.get("/evidence/EV-0001/edit")
    assert 'value="24.43"' in edit.text


def test_bad_form_input_is_refused_next_to_the_field(client, login_as, world):
    login_as(world.official)
    for overrides, message in [
        ({"value": "lots"}, "is not a number"),
        ({"value": "", "statement": ""}, "Give a value, a statement, or both."),
        ({"as_of": "2999-01-01"}, "cannot be in the future"),
        ({"as_of": "31/02/2024"}, "Not a valid date value"),
        ({"unit_id": str(unit(world.london, "London PDU").id)}, "not in the chosen region"),
        ({"source_url": "javascript:alert(1)"}, "web address"),
        ({"region_id": "999999"}, "Not a valid choice"),
        ({"case_reference": "CASE-2026-9999"}, "No case CASE-2026-9999 that you can see."),
        ({"testimony_reference": "TST-2026-0001"}, "No testimony TST-2026-0001 that you can see."),
        ({"case_reference": "CASE\x00"}, "characters we cannot accept"),
    ]:
        response = submit(client, "/evidence/new", _form(world, **overrides))
        assert response.status_code == 400, overrides
        assert message in response.text, (overrides, message)
    assert db.session.scalar(select(func.count()).select_from(EvidenceItem)) == 0


def test_reps_see_and_record_only_their_regions(client, login_as, world, items):
    login_as(world.london_rep)
    listing = client.get("/evidence/")
    assert items["london"].reference in listing.text and items["national"].reference in listing.text
    assert items["wales"].reference not in listing.text
    assert client.get(f"/evidence/{items['wales'].reference}").status_code == 404
    assert client.get(f"/evidence/{items['london'].reference}/edit").status_code == 403
    refused = submit(client, "/evidence/new", _form(world))
    assert refused.status_code == 400 and "Not a valid choice" in refused.text
    # the individual's figure in a unit is withheld from non-admins
    assert "fewer than 3" in client.get(f"/evidence/{items['individual'].reference}").text


def test_list_filters_and_bad_filters(client, login_as, world, items):
    login_as(world.official)
    wales = client.get(f"/evidence/?region={world.wales.id}")
    assert items["wales"].reference in wales.text and items["london"].reference not in wales.text
    national = client.get("/evidence/?region=national")
    assert items["national"].reference in national.text and items["wales"].reference not in national.text
    metric = client.get(f"/evidence/?metric={_metric_id('vacancies')}&date_from=2019-01-01&date_to=2019-12-31")
    assert items["national"].reference in metric.text and items["london"].reference not in metric.text
    inverted = client.get("/evidence/?date_from=2024-01-01&date_to=2020-01-01")
    assert inverted.status_code == 400 and "must be on or after" in inverted.text
    assert client.get("/evidence/?metric=abc").status_code == 400
    assert client.get("/evidence/EV-%00").status_code == 404  # a NUL byte never reaches PostgreSQL


def test_export_neutralises_formulas_and_is_audited(client, login_as, world, items):
    make_evidence(world.official, metric=None, value=None, region=world.london, statement='=HYPERLINK("x")')
    login_as(world.official)
    response = client.get("/evidence/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][:5] == ["reference", "region", "unit", "metric", "value"]
    by_ref = {row[0]: row for row in rows[1:]}
    assert by_ref[items["wales"].reference][4] == "24.43"
    assert by_ref[items["individual"].reference][4] == "fewer than 3"
    assert any(row[12].startswith("'=HYPERLINK") for row in rows[1:])
    exported = db.session.scalars(select(AuditEvent.details).where(AuditEvent.action == "evidence:exported")).one()
    assert exported["rows"] == 5


def test_web_upload_shares_the_validator(client, login_as, world):
    login_as(world.official)
    bad = csv_bytes(good_rows() + [["Atlantis", "", "caseload", "1", "2024-01-31", "", "rep survey", "x", ""]])
    response = submit(
        client, "/evidence/import", {"file": (io.BytesIO(bad), "figures.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "line" in response.text and "unknown region &#39;Atlantis&#39;" in response.text
    assert db.session.scalar(select(func.count()).select_from(EvidenceItem)) == 0
    not_csv = submit(
        client, "/evidence/import", {"file": (io.BytesIO(b"x"), "figures.exe")}, content_type="multipart/form-data"
    )
    assert not_csv.status_code == 400 and "Choose a .csv or .xlsx file." in not_csv.text
    good = submit(
        client,
        "/evidence/import",
        {"file": (io.BytesIO(csv_bytes(good_rows())), "figures.csv")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(EvidenceItem)) == 4


def test_dashboards_show_charts_and_tables(client, login_as, world, items):
    login_as(world.official)
    assert client.get("/dashboard").status_code == 200
    page = client.get("/dashboard?level=unit")
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in page.text
    assert "150%" in page.text  # London's average WMT, in the table beneath the chart
    national = client.get("/dashboard?metric=vacancies&level=national")
    assert "Vacancies (FTE)" in national.text and "615 FTE" in national.text
    region = client.get(f"/dashboard/{world.wales.id}")
    assert region.status_code == 200 and "Wales: figures by unit" in region.text
    assert client.get("/dashboard/999999").status_code == 404
    assert client.get("/dashboard/99999999999999999999").status_code == 404


def test_admins_add_metrics_and_others_cannot(client, login_as, world):
    login_as(world.official)
    assert submit(client, "/evidence/metrics", {"code": "x_y", "label": "X", "unit": "count"}).status_code == 403
    login_as(world.admin)
    bad = submit(
        client,
        "/evidence/metrics",
        {"code": "Bad Code", "label": "Average WMT %", "unit": "count", "warn_at": "10", "alert_at": "5"},
    )
    assert bad.status_code == 400 and "lower-case letters" in bad.text and "must not be below" in bad.text
    taken = submit(client, "/evidence/metrics", {"code": "court_backlog", "label": "average wmt %", "unit": "count"})
    assert taken.status_code == 400 and "already exists" in taken.text
    made = submit(
        client,
        "/evidence/metrics",
        {
            "code": "court_backlog",
            "label": "Court report backlog",
            "unit": "count",
            "is_higher_worse": "y",
            "warn_at": "50",
        },
    )
    assert made.status_code == 302
    assert db.session.scalars(select(Metric).where(Metric.code == "court_backlog")).one().warn_at == Decimal(50)


def test_an_edit_made_from_an_old_copy_is_refused_with_409(client, login_as, world, items):
    from ..helpers import csrf_from

    item = items["wales"]
    login_as(world.official)
    page = client.get(f"/evidence/{item.reference}/edit")
    assert f'name="version" type="hidden" value="{item.version}"' in page.text
    data = _form(world, csrf_token=csrf_from(page.data), version=str(item.version), value="25")
    # Someone else saves the item meanwhile.
    assert submit(client, f"/evidence/{item.reference}/edit", _form(world, value="26", version=str(item.version)))
    stale = client.post(f"/evidence/{item.reference}/edit", data=data)
    assert stale.status_code == 409 and "Someone else changed this item while you were editing it." in stale.text
    db.session.expire_all()
    assert item.value == Decimal("26")
    tampered = submit(client, f"/evidence/{item.reference}/edit", _form(world, version="2; DROP TABLE"))
    assert tampered.status_code == 400 and "out of date" in tampered.text


def test_a_value_keeps_its_places_on_its_page_its_edit_form_and_in_the_export(client, login_as, world):
    from ..factories import make_evidence

    item = make_evidence(world.official, metric="vacancies", region=world.wales, value="14.20", grade="PO")
    login_as(world.official)
    assert "14.20 FTE" in client.get(f"/evidence/{item.reference}").text
    assert "14.20 FTE (PO, Wales, January 2024)" in client.get(f"/evidence/{item.reference}").text
    assert 'value="14.20"' in client.get(f"/evidence/{item.reference}/edit").text
    assert ",14.20," in client.get("/evidence/export.csv").text
