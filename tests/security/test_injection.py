"""Script, markup and template expressions in every text a person types reach every page and
PDF that shows them as the literal text they are: escaped in HTML, never evaluated.

Every text column of the scene (``poison.text_columns``) is overwritten with a payload naming
its column; then every page each role may open is read, PDFs included.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from napo_tracker.evidence.models import EvidenceItem

from .poison import LINKS, crawl, poison

SCRIPT = "<script>a()</script>"
IMAGE = '"><img src=x onerror=a()>'
TEMPLATE = "{{7*7}}"


def payload(n: int, column: str, room: int) -> str:
    if column in LINKS:
        return f"javascript:a()//X{n}"
    full = f"X{n}<b>{TEMPLATE}</b>{SCRIPT}{IMAGE}"
    return full if len(full) <= room else f"X{n}<b>{TEMPLATE}</b>"


RAW_MARKUP = ("<script>a()", "<img src=x", "<b>{{", "<b>49")
EVALUATED = re.compile(r"X\d+(?:&lt;|<)b(?:&gt;|>)49")
SCRIPT_LINK = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def test_hostile_text_is_shown_escaped_and_never_evaluated(app, scene, visitor):
    columns = poison(payload)
    _bring_out_hidden_text(scene)
    seen: set[int] = set()
    failures: list[str] = []
    pages = pdfs = 0
    for answer in crawl(visitor, scene):
        where = f"{answer.endpoint} as {answer.role}"
        if answer.status != 200:
            failures.append(f"{where}: answered {answer.status} with hostile text in the records")
            continue
        text = answer.text
        if answer.mimetype == "application/pdf":
            pdfs += 1
            # Extracted text is what a reader sees: the payload's own characters, literally.
            flat = re.sub(r"\s+", "", text)
            for match in re.finditer(r"X(\d+)<b>", flat):
                seen.add(int(match.group(1)))
                shown = flat[match.end() : match.end() + len(TEMPLATE)]
                if not TEMPLATE.startswith(shown) and shown:
                    failures.append(f"{where}: the PDF shows X{match.group(1)}<b>{shown}, not the text typed")
        elif answer.mimetype in ("text/html", "text/css", "text/calendar", "application/json", "text/csv"):
            pages += 1
            for raw in RAW_MARKUP:
                if raw in text and answer.mimetype == "text/html":
                    failures.append(f"{where}: {raw!r} reached the page unescaped")
            seen.update(int(n) for n in re.findall(r"X(\d+)(?:&lt;|\\u003c|<)b", text))
        if EVALUATED.search(text):
            failures.append(f"{where}: a template expression was evaluated")
        if answer.mimetype == "text/html" and SCRIPT_LINK.search(text):
            failures.append(f"{where}: a javascript: address became a link")
    assert pages > 50 and pdfs >= 3
    assert not failures, "\n".join(sorted(set(failures)))
    never = sorted(name for name, n in columns.items() if n not in seen and name not in LINKS)
    assert not never, f"text columns no page or PDF showed (so nothing checked them): {never}"


def _bring_out_hidden_text(scene) -> None:
    """Some text shows only in one state: a job's progress note while it runs, its error once it
    failed, its result note otherwise; an official's reason for citing a small number only on a small number."""
    from sqlalchemy import select, update

    from napo_tracker.extensions import db
    from napo_tracker.jobs.models import Job

    job = db.session.get(Job, scene.rep_a_job_id)
    assert job is not None
    # Its error goes to a failed twin (listed with the error); it runs, listed with its note.
    db.session.add(Job(name=job.name, status="failed", error=job.error, finished_at=job.created_at))
    db.session.execute(update(Job).where(Job.id == job.id).values(status="running", error=""))
    item = db.session.scalars(select(EvidenceItem).where(EvidenceItem.reference == scene.evidence_a)).one()
    item.reporter_count, item.unit_id = 1, scene.unit_id
    db.session.commit()


def test_a_source_address_must_be_a_web_address_whatever_path_it_comes_by(app, scene):
    """The form checks it; so does the service, for the importer, the API and whatever comes next."""
    import pytest
    from sqlalchemy import select

    from napo_tracker.accounts.models import User
    from napo_tracker.evidence.services import EvidenceError, create_evidence
    from napo_tracker.extensions import db
    from napo_tracker.regions.models import Region

    official = db.session.get(User, scene.official_id)
    london = db.session.get(Region, scene.london_id)
    assert official is not None and london is not None
    metric = db.session.scalar(select(EvidenceItem.metric_id).where(EvidenceItem.reference == scene.evidence_a))
    for address in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "file:///etc/passwd", "data:text/html,<b>x</b>"):
        with pytest.raises(EvidenceError) as refused:
            create_evidence(
                official,
                region_id=london.id,
                metric_id=metric,
                value=Decimal("101"),
                as_of=date(2026, 1, 1),
                source_type="rep_survey",
                source_title=f"Survey with {address}",
                source_url=address,
            )
        assert refused.value.field == "source_url"
        db.session.rollback()
