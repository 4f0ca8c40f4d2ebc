"""Hostile text in every text column of the scene, and a crawl of every page that may show it.

``text_columns()`` is every String/Text column of every table but the ones listed in
``NOT_TYPED_TEXT`` (codes, hashes, states and references no person types), so a new text
column is poisoned, and so checked, without anyone remembering to add it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pypdf import PdfReader
from sqlalchemy import Column, String, Table, Text, select

from napo_tracker.extensions import db

from ..factories import Scene
from .conftest import Visitor
from .probe import rule_for, url_map_app
from .routes import ACCESS, OK, ROLES, Role, example_url

# Whole tables no page shows as typed text: secrets, counters, the audit log's own labels and
# the frozen HTML of published versions (served only as the PDF it was turned into).
NOT_SHOWN_TABLES = frozenset(
    {
        "login_throttles",
        "password_resets",
        "recovery_codes",
        "notice_calendar_tokens",
        "audit_events",
        "briefing_versions",
    }
)
# Columns whose values are codes, states, hashes or references the app itself sets or checks
# against a fixed list (a form offers them as choices, never as free text).
NOT_TYPED_TEXT = frozenset(
    {
        "metrics.code",
        "metrics.unit",
        "users.email",
        "users.role",
        "users.password_hash",
        "users.totp_secret",
        "api_tokens.token_hash",
        "api_tokens.hint",
        "briefings.reference",
        "briefings.audience",
        "briefings.status",
        "testimonies.reference",
        "testimonies.grade",
        "testimonies.service_band",
        "testimonies.status",
        "testimonies.receipt_hash",
        "units.kind",
        "user_sessions.token_hash",
        "briefing_sections.kind",
        "briefing_sections.chart_metric_code",
        "members.email",
        "members.grade",
        "cases.reference",
        "cases.category",
        "cases.grade",
        "cases.priority",
        "cases.status",
        "case_attachments.stored_name",
        "case_attachments.content_type",
        "case_attachments.sha256",
        "case_entries.kind",
        "foreseeability_notices.reference",
        "foreseeability_notices.kind",
        "foreseeability_notices.status",
        "foreseeability_notices.outcome",
        "foreseeability_notices.letter_sha256",
        "evidence_items.reference",
        "evidence_items.grade",
        "evidence_items.source_type",
        "evidence_items.visibility",
        "evidence_items.fingerprint",
        "notice_escalations.step",
        "members.membership_number_hash",
        "metrics.levels",
        "import_batches.reference",
        "import_batches.sha256",
        "import_batches.first_reference",
        "import_batches.last_reference",
        "import_batches.visibility",
        "import_batches.source_type",
        "jobs.name",
        "jobs.key",
        "jobs.status",
        "jobs.result_url",
        "used_submissions.token",
        "used_submissions.result_url",
        "subject_access_requests.reference",
        "subject_access_requests.export_file",
        "subject_access_requests.received_via",
        "subject_access_requests.status",
        "erasure_tombstones.kind",
        "erasure_tombstones.number_hash",
        "erasure_tombstones.account_action",
    }
)
# Typed, but checked as a web address: poisoned with a script address instead.
LINKS = frozenset({"evidence_items.source_url"})


def text_columns() -> list[tuple[Table, Column]]:
    found = []
    for table in db.metadata.sorted_tables:
        if table.name in NOT_SHOWN_TABLES:
            continue
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            if isinstance(column.type, String | Text) and name not in NOT_TYPED_TEXT:
                found.append((table, column))
    return found


def poison(value: Callable[[int, str, int], str]) -> dict[str, int]:
    """Write ``value(n, column, room)`` (at most ``room`` characters) into the ``n``-th text
    column of every row (a row's number appended, as some columns are unique); returns each
    column's number."""
    numbers: dict[str, int] = {}
    for n, (table, column) in enumerate(text_columns(), start=10):
        name = f"{table.name}.{column.name}"
        numbers[name] = n
        keys = list(table.primary_key.columns)
        rows = db.session.execute(select(*keys)).all()
        length = getattr(column.type, "length", None)
        for k, row in enumerate(rows):
            text = value(n, name, (length or 10_000) - 3) + (f"~{k}" if k else "")
            assert length is None or len(text) <= length, f"{name}: the payload does not fit in {length}"
            criteria = [key == row[i] for i, key in enumerate(keys)]
            db.session.execute(table.update().where(*criteria).values({column.name: text}))
    db.session.commit()
    return numbers


@dataclass
class Answer:
    role: Role
    endpoint: str
    url: str
    status: int
    mimetype: str
    body: bytes

    @property
    def text(self) -> str:
        if self.mimetype == "application/pdf":
            return pdf_text(self.body)
        return self.body.decode("utf-8", errors="replace")


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def crawl(visitor: Visitor, scene: Scene, roles: tuple[Role, ...] = ROLES) -> Iterator[Answer]:
    """Every page (GET route) each role may open, addressed at region A's records."""
    app = url_map_app()
    for role in roles:
        visitor.become(role)
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
            if "GET" not in (rule.methods or ()) or rule.endpoint in ("static", "bootstrap.static"):
                continue
            if ACCESS[rule.endpoint]["GET"].outcome(role) is not OK:
                continue
            url = example_url(rule_for(app, rule.endpoint), scene)
            response = visitor.client.get(url)
            mimetype = response.mimetype or ""
            yield Answer(role, rule.endpoint, url, response.status_code, mimetype, response.get_data())
            response.close()
