"""Bounded inputs: page numbers, page sizes, search lengths, text fields, import rows and
export sizes. Beyond each bound the answer is a clamp or a 400 with a message, never a 500."""

from __future__ import annotations

import csv
import importlib
import inspect
import io
import pkgutil
import tracemalloc

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

import napo_tracker
from napo_tracker.api.openapi import MAX_PER_PAGE
from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.briefings import forms as briefing_forms
from napo_tracker.cases.models import Case
from napo_tracker.cases.services import PAGE_SIZE
from napo_tracker.evidence.importer import import_csv
from napo_tracker.evidence.models import EvidenceItem
from napo_tracker.extensions import db
from napo_tracker.forms import SubmissionTokenField, VersionField
from napo_tracker.paging import MAX_PAGE

from . import factories
from .helpers import form_tokens, submit

HUGE = "9" * 40  # past every integer column and offset the databases take
HEADER_LINE = "region,unit,metric,value,as_of,grade,source,source_ref,statement\r\n"


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# ---------------------------------------------------------------- page numbers and sizes

LISTS = ["/cases/", "/notices/", "/testimonies/", "/audit/", "/evidence/"]


@pytest.mark.parametrize("url", LISTS)
def test_any_page_number_is_clamped_to_the_pages_there_are(client, login_as, world, url):
    login_as(world.admin)
    for page in (HUGE, str(MAX_PAGE + 1), "-1", "0", "two", "1e9", "", "%00"):
        response = client.get(f"{url}?page={page}")
        assert response.status_code == 200, (url, page)


def test_a_page_past_the_last_shows_the_last(client, login_as, world):
    for n in range(PAGE_SIZE + 1):  # two pages
        factories.make_case(world.london_rep, world.london, title=f"Case number {n}")
    login_as(world.london_rep)
    last = client.get(f"/cases/?page={HUGE}").get_data(as_text=True)
    assert "Page 2 of 2" in last and "Case number 0<" in last
    assert "Page 1 of 2" in client.get("/cases/?page=nonsense").get_data(as_text=True)


def test_api_page_numbers_and_sizes_past_their_bounds_are_refused(client, login_as, world):
    login_as(world.official)
    for query in (f"per_page={HUGE}", f"per_page={MAX_PER_PAGE + 1}", "per_page=0", "per_page=-1"):
        response = client.get(f"/api/v1/evidence?{query}")
        assert response.status_code == 400 and "must be" in response.json["detail"], query
    # Pages are read by cursor: a page number, however large, is refused with what to do instead.
    for query in (f"page={HUGE}", "page=1000001", "page=-1"):
        response = client.get(f"/api/v1/evidence?{query}")
        assert response.status_code == 400 and "next_cursor" in response.json["detail"], query
    assert client.get(f"/api/v1/evidence?per_page={MAX_PER_PAGE}").status_code == 200


# ---------------------------------------------------------------- search boxes and filters


def test_a_search_longer_than_the_box_takes_is_refused_with_a_message(client, login_as, world):
    login_as(world.london_rep)
    assert client.get("/cases/?q=" + "x" * 200).status_code == 200
    response = client.get("/cases/?q=" + "x" * 201)
    assert response.status_code == 400 and "200 characters" in response.get_data(as_text=True)


def test_filters_with_huge_or_long_values_never_fail(client, login_as, world):
    briefing = factories.make_briefing(world.official)
    login_as(world.official)
    long = "x" * 5000
    for url in (
        f"/cases/?region_id={HUGE}&unit_id={HUGE}&assigned_rep_id={HUGE}",
        f"/cases/export.csv?region_id={HUGE}",
        f"/cases/figures?region_id={HUGE}",
        f"/cases/new?member={HUGE}",
        f"/notices/?region={HUGE}&unit={HUGE}&status={long}",
        f"/notices/export.csv?region={HUGE}",
        f"/testimonies/?region={HUGE}&grade={long}&topic={long}",
        f"/testimonies/export.csv?region={HUGE}",
        f"/evidence/?region={HUGE}&unit={HUGE}&metric={HUGE}",
        f"/evidence/export.csv?region={HUGE}",
        f"/audit/?action={long}&actor={long}&target={long}&since={long}",
        f"/briefings/{briefing.reference}/evidence?region={HUGE}&metric={long}",
        f"/api/v1/evidence?region_id={HUGE}",
        f"/api/v1/statistics?metric={long}",
        f"/cases/{long}",
        f"/evidence/{long}",
        f"/testimonies/{long}",
        f"/briefings/{long}",
    ):
        assert client.get(url).status_code < 500, url


def test_forms_with_huge_numbers_are_refused_not_failed(client, login_as, world):
    briefing = factories.make_briefing(world.official)
    section = factories.make_section(world.official, briefing, heading="Risks", body="Text.")
    login_as(world.official)
    detail = f"/briefings/{briefing.reference}"
    version = {"expected_version": briefing.version}
    for url, data, page in (
        (f"{detail}/sections/{section.id}/chart", {"metric_code": "caseload", "region_ids": [HUGE]}, None),
        (f"{detail}/evidence", {"section_id": HUGE, "evidence_reference": "EV-0001"}, detail),
        (f"{detail}/testimonies", {"testimony_ids": [HUGE]}, None),
        (f"{detail}/regional", {"region_ids": [HUGE]}, None),
        (f"{detail}/questions", {"question_id": HUGE}, None),
    ):
        assert submit(client, url, {**data, **version}, form_url=page).status_code in (400, 409), url
    login_as(world.london_rep)
    case = {"region_id": HUGE, "category": "pay", "title": "t", "wmt_percent": HUGE, "caseload": HUGE}
    assert submit(client, "/cases/new", case).status_code == 400
    notice = {"region_id": str(world.london.id), "kind": "individual", "signatory_count": HUGE, "wmt_percent": HUGE}
    assert submit(client, "/notices/new", notice).status_code == 400
    figure = {"region_id": str(world.london.id), "reporter_count": HUGE, "value": HUGE, "as_of": "2024-01-01"}
    assert submit(client, "/evidence/new", {**figure, "source_type": "rep_survey"}).status_code == 400
    answer = {"answer-code": "ABCD", "answer-follow_up_id": HUGE, "answer-submit": "y"}
    assert submit(client, "/testimony/status", answer, form_url="/testimony/status").status_code == 400


# ---------------------------------------------------------------- every free-text field

# Text fields bounded otherwise than by a Length validator, and how.
BOUNDED_OTHERWISE = {
    VersionField: "digits only, at most 18 of them",
    SubmissionTokenField: "32 characters of one alphabet",
}
BOUNDED_BY_A_RULE = {
    (briefing_forms.SectionForm, "body"): "the service's MAX_SECTION_CHARS (briefings.services.validate_section_body)",
}


def _form_classes() -> list[type[FlaskForm]]:
    found: set[type[FlaskForm]] = set()
    for module in pkgutil.walk_packages(napo_tracker.__path__, "napo_tracker."):
        if module.name.endswith("forms"):
            for _name, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
                if issubclass(cls, FlaskForm) and cls.__module__.startswith("napo_tracker."):
                    found.add(cls)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__name__}")


def test_every_free_text_field_has_a_maximum_length():
    forms = _form_classes()
    assert len(forms) > 40  # every domain's forms were found
    unbounded = []
    for form in forms:
        for name in dir(form):
            field = getattr(form, name)
            if not isinstance(field, UnboundField) or not issubclass(field.field_class, StringField):
                continue
            if issubclass(field.field_class, tuple(BOUNDED_OTHERWISE)):
                continue
            if any(issubclass(form, cls) and name == field_name for cls, field_name in BOUNDED_BY_A_RULE):
                continue
            validators = field.kwargs.get("validators") or (field.args[1] if len(field.args) > 1 else ())
            if not any(isinstance(v, Length) and v.max is not None and v.max >= 0 for v in validators):
                unbounded.append(f"{form.__module__}.{form.__name__}.{name}")
    assert unbounded == []


def test_text_past_its_maximum_is_refused_with_a_message(client, login_as, world):
    login_as(world.london_rep)
    data = {"region_id": str(world.london.id), "category": "pay", "priority": "normal"}
    response = submit(client, "/cases/new", {**data, "title": "x" * 201})
    assert response.status_code == 400 and "200 characters" in response.get_data(as_text=True)
    assert _count(Case) == 0


# ---------------------------------------------------------------- the evidence import's rows


def _csv(rows: int) -> bytes:
    lines = [f"London,,caseload,{40 + n},2024-01-31,,rep survey,Survey {n},\r\n" for n in range(rows)]
    return (HEADER_LINE + "".join(lines)).encode()


@pytest.fixture
def app_overrides():
    return {"IMPORT_MAX_ROWS": 5, "EXPORT_MAX_ROWS": 5}


def _upload(client, data: bytes):
    tokens = form_tokens(client.get("/evidence/import").data)
    return client.post(
        "/evidence/import", data={**tokens, "file": (io.BytesIO(data), "big.csv")}, content_type="multipart/form-data"
    )


def test_the_default_row_limits(app):
    from config import Config

    assert (Config.IMPORT_MAX_ROWS, Config.EXPORT_MAX_ROWS) == (50_000, 100_000)


def test_an_upload_above_the_row_limit_is_refused_whole_with_how_to_split_it(client, login_as, world):
    login_as(world.official)
    response = _upload(client, _csv(6))
    text = response.get_data(as_text=True)
    assert (
        response.status_code == 400 and "more than 5 rows" in text and "Split it into files of at most 5 rows" in text
    )
    assert _count(EvidenceItem) == 0
    assert _upload(client, _csv(5)).status_code == 302 and _count(EvidenceItem) == 5


def test_the_command_refuses_a_file_above_the_row_limit(app, world, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "big.csv"
    path.write_bytes(_csv(6))
    refused = runner.invoke(args=["evidence", "import", str(path)])
    assert refused.exit_code == 1 and "more than 5 rows" in refused.output and "header line" in refused.output
    assert _count(EvidenceItem) == 0
    path.write_bytes(_csv(5))
    assert runner.invoke(args=["evidence", "import", str(path), "--dry-run"]).exit_code == 0


# ---------------------------------------------------------------- exports


def _rows_of(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _exported(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_exports_are_streamed_and_refused_above_the_row_limit(client, login_as, world):
    official = world.official
    for n in range(5):
        factories.make_case(world.london_rep, world.london, title=f"Case {n}")
        factories.make_notice(world.london_rep, world.london)
        factories.make_evidence(official, region=world.london, value=str(100 + n))
        factories.make_testimony(approved_by=official, mps=True)
    login_as(world.admin)
    exports = {
        "/cases/export.csv": AuditAction.CASES_EXPORTED,
        "/notices/export.csv": AuditAction.NOTICES_EXPORTED,
        "/evidence/export.csv": AuditAction.EVIDENCE_EXPORTED,
        "/testimonies/export.csv": AuditAction.TESTIMONIES_EXPORTED,
    }
    for url, action in exports.items():
        response = client.get(url)
        assert response.status_code == 200 and response.is_streamed, url
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert len(_rows_of(response)) == 5, url
        assert len(_exported(action)) == 1, url
    factories.make_case(world.london_rep, world.london, title="The sixth")
    factories.make_notice(world.london_rep, world.london)
    factories.make_evidence(official, region=world.london, value="106")
    factories.make_testimony(approved_by=official, mps=True)
    for url, action in exports.items():
        refused = client.get(url)
        text = refused.get_data(as_text=True)
        assert refused.status_code == 400 and "would have 6 rows" in text and "export it in parts" in text, url
        assert len(_exported(action)) == 1, url  # a refused export is not logged as made


@pytest.mark.sqlite_only
def test_an_export_is_written_as_it_is_read(app, client, login_as, world, monkeypatch):
    """The rows are read in batches while the download is sent: the first bytes arrive before
    the last record is read, and memory does not grow with the number of rows.

    Measured on SQLite only: tracemalloc makes the PostgreSQL driver very slow.
    """
    from napo_tracker import csvexport

    monkeypatch.setattr(csvexport, "BATCH_ROWS", 50)
    monkeypatch.setattr(csvexport, "CHUNK_CHARS", 1024)
    app.config["EXPORT_MAX_ROWS"] = app.config["IMPORT_MAX_ROWS"] = 100_000
    login_as(world.official)

    def add(count: int, start: int) -> None:
        statement = "A statement long enough to weigh something in memory. " * 3
        lines = [f"London,,caseload,{start + n},2024-01-31,,rep survey,Survey,{statement}\r\n" for n in range(count)]
        report = import_csv(None, io.BytesIO((HEADER_LINE + "".join(lines)).encode()), filename="many.csv")
        assert report.is_ok, report.summary()
        db.session.commit()

    peaks = []
    for count, start in ((1000, 0), (4000, 10_000)):
        add(count, start)
        tracemalloc.start()
        response = client.get("/evidence/export.csv")
        body = iter(response.response)
        first = next(body)
        assert first.startswith("\ufeff".encode())
        size = len(first) + sum(len(chunk) for chunk in body)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert size > count * 200
    assert peaks[1] < peaks[0] * 1.6, peaks
