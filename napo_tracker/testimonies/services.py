"""The rules of anonymous testimonies: submitting, the receipt code, moderation, consent
and erasure. Views, the CLI and tests all call these; none of them commits.

What members do (submit, answer, withdraw) is deliberately not written to the audit log:
an audit row carries a time to the microsecond and a place in a sequence of other
people's logins, which together would date a submission far more finely than the day we
promise to keep. What officials do to a testimony is audited as usual.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, String, cast, func, or_, select

from .. import schedule
from ..accounts.models import User
from ..audit.models import AuditAction, AuditEvent, record
from ..csvexport import check_export_size, rows_in, streamed
from ..extensions import db
from ..kernel import clock
from ..kernel.errors import ConflictError, DomainError, check_version
from ..kernel.labels import N_
from ..references import READABLE_ALPHABET, insert_with_reference, random_reference
from ..regions.models import Region
from ..regions.scoping import get_for_user_or_404
from ..schedule import Period
from . import reach
from .attribution import SharedFacts, shown_attribution
from .models import GRADE_LABELS, FollowUp, QuoteAudience, ServiceBand, Testimony, TestimonyStatus, Topic
from .reach import SentCopy
from .redaction import has_contact_details

# TST-7KQ2-M9XD: four and four symbols from the receipt's alphabet. References made before
# they were random (TST-2026-0013) stay as they were, and a random one never looks like them.
REFERENCE_PREFIX = "TST"
TEXT_MIN, TEXT_MAX = 20, 20_000
ANSWER_MIN = 2  # "About 70" is a good answer to "how many cases?"
# Thirty symbols with no look-alikes (no 0/O, 1/I/L, U/V): easy to copy by hand.
RECEIPT_ALPHABET = READABLE_ALPHABET
RECEIPT_LENGTH = 20  # 20 symbols of log2(30) ≈ 4.9 bits each: about 98 bits
RECEIPT_GROUP = 4


STALE_TESTIMONY_MESSAGE = (
    "Someone else changed this testimony while you were reading it. "
    "The page now shows the latest version; please check it and try again."
)


class TestimonyError(DomainError):
    """A change that breaks a testimony rule; the message is shown to the person."""

    __test__ = False


class StaleTestimony(ConflictError):
    """Someone else changed the testimony since the page was loaded."""

    __test__ = False


class NotAModerator(TestimonyError):
    """A rep reached for an official's work on testimonies."""

    status_code = 403


def _require_moderator(actor: User | None) -> None:
    """Members write from every region, so those who see every region (officials and admins)
    moderate; ``actor`` None is a command run on the server."""
    if actor is not None and not actor.sees_all_regions:
        raise NotAModerator("Only national officials and admins moderate testimonies.")


# --- the receipt code -------------------------------------------------------------------


def new_receipt_code() -> str:
    symbols = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))
    return "-".join(symbols[i : i + RECEIPT_GROUP] for i in range(0, RECEIPT_LENGTH, RECEIPT_GROUP))


def normalise_code(raw: str | None) -> str | None:
    """The code's symbols in upper case without spaces or hyphens, or None if it cannot be one."""
    if not raw:
        return None
    symbols = "".join(ch for ch in raw.upper() if ch not in " -\t\r\n")
    if len(symbols) != RECEIPT_LENGTH or any(ch not in RECEIPT_ALPHABET for ch in symbols):
        return None
    return symbols


def _receipt_key() -> bytes:
    configured = current_app.config["TESTIMONY_RECEIPT_KEY"]
    if configured:
        return configured.encode() if isinstance(configured, str) else configured
    # Derived, so that the session-signing key itself never hashes codes.
    return hmac.new(
        current_app.config["SECRET_KEY"].encode(), b"napo-tracker testimony receipt codes", hashlib.sha256
    ).digest()


def receipt_hash(code: str) -> str:
    """The keyed hash stored in place of the code: a copied database does not reveal codes."""
    symbols = normalise_code(code)
    if symbols is None:
        raise TestimonyError(N_("That is not a receipt code."))
    return hmac.new(_receipt_key(), symbols.encode(), hashlib.sha256).hexdigest()


def find_by_code(raw_code: str | None) -> Testimony | None:
    """The testimony for a receipt code; a malformed code and an unknown one look the same."""
    symbols = normalise_code(raw_code)
    if symbols is None:
        return None
    return db.session.scalar(select(Testimony).where(Testimony.receipt_hash == receipt_hash(symbols)))


# --- what members do ----------------------------------------------------------------------


def _check_choices(
    region_id: int | None, grade: str | None, service_band: str | None, topics: Iterable[str]
) -> list[str]:
    if region_id is not None and db.session.get(Region, region_id) is None:
        raise TestimonyError(N_("Choose a region from the list."))
    if grade and grade not in GRADE_LABELS:
        raise TestimonyError(N_("Choose a grade from the list."))
    if service_band and not ServiceBand.has_value(service_band):
        raise TestimonyError(N_("Choose a length of service from the list."))
    topics = list(dict.fromkeys(topics))
    if any(not Topic.has_value(topic) for topic in topics):
        raise TestimonyError(N_("Choose topics from the list."))
    return topics


def _check_text(text: str | None, what: str = "Your testimony", minimum: int = TEXT_MIN) -> str:
    text = (text or "").strip()
    if not minimum <= len(text) <= TEXT_MAX:
        raise TestimonyError(f"{what} needs between {minimum} and {TEXT_MAX:,} characters.")
    return text


def submit_testimony(
    *,
    text: str | None,
    region_id: int | None = None,
    grade: str | None = None,
    service_band: str | None = None,
    topics: Iterable[str] = (),
    has_mps_consent: bool = False,
    has_press_consent: bool = False,
    today: date | None = None,
    code: str | None = None,
) -> tuple[Testimony, str]:
    """Store a member's testimony and return it with its receipt code (shown once, never stored).

    Takes no acting user on purpose: a testimony has no author in the database, even when
    a logged-in rep or official sends it. ``code`` is for demo data only; members always
    get a fresh random one.
    """
    checked_text = _check_text(text)
    checked_topics = _check_choices(region_id, grade or None, service_band or None, topics)
    code = code or new_receipt_code()
    today = today or clock.today()
    hashed = receipt_hash(code)
    testimony = insert_with_reference(
        Testimony.reference,
        # Random, not numbered: a reference must not tell in what order members wrote.
        lambda: random_reference(REFERENCE_PREFIX),
        lambda reference: Testimony(
            reference=reference,
            submitted_on=today,
            region_id=region_id,
            grade=grade or None,
            service_band=service_band or None,
            topics=checked_topics,
            has_mps_consent=bool(has_mps_consent),
            has_press_consent=bool(has_press_consent),
            status=TestimonyStatus.SUBMITTED.value,
            receipt_hash=hashed,
            original_text=checked_text,
        ),
    )
    return testimony, code


def answer_follow_up(
    testimony: Testimony, follow_up_id: int | None, answer: str | None, today: date | None = None
) -> FollowUp:
    """The member answers an official's open question, once; a withdrawn testimony takes no answer."""
    if testimony.is_withdrawn:
        raise TestimonyError(N_("This testimony has been withdrawn."))
    follow_up = next((f for f in testimony.follow_ups if f.id == follow_up_id), None)
    if follow_up is None or follow_up.answered_on is not None:
        raise TestimonyError(N_("That question has already been answered or no longer exists."))
    follow_up.answer = _check_text(answer, "Your answer", ANSWER_MIN)
    follow_up.answered_on = today or clock.today()
    db.session.flush()
    return follow_up


def withdraw(testimony: Testimony, today: date | None = None) -> Testimony:
    """The member withdraws: every text they gave, and the public version of it, is erased at
    once, so no briefing, export or API can use it from this moment; and every domain that sent
    the words out is told (``reach.on_withdrawal``: a published briefing that quotes them stops
    being served and its stored copy is erased), in the same transaction."""
    if testimony.is_withdrawn:
        raise TestimonyError(N_("This testimony was already withdrawn."))
    today = today or clock.today()
    testimony.status = TestimonyStatus.WITHDRAWN.value
    testimony.withdrawn_on = today
    _erase_texts(testimony, today)
    testimony.public_text = None
    db.session.flush()
    reach.withdrawn(testimony)
    db.session.flush()
    return testimony


def copies_sent(testimony: Testimony) -> list[SentCopy]:
    """The copies of the member's words the union sent out, for their status page."""
    return reach.copies_sent(testimony)


def was_in_an_export(testimony: Testimony) -> bool:
    """Whether an official downloaded the list of approved testimonies while this one was in it:
    such a file is a copy the union cannot call back. Told from the audit log (by day)."""
    if testimony.decided_on is None or testimony.rejection_reason is not None:
        return False  # never approved: never in the approved list
    until = testimony.withdrawn_on or clock.today()
    # In UTC: SQLite compares the stored wall-clock time.
    start = datetime.combine(testimony.decided_on, time.min, tzinfo=clock.UNION_TIME_ZONE).astimezone(UTC)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=clock.UNION_TIME_ZONE).astimezone(UTC)
    stmt = select(AuditEvent.id).where(
        AuditEvent.action == AuditAction.TESTIMONIES_EXPORTED.value,
        AuditEvent.occurred_at >= start,
        AuditEvent.occurred_at < end,
    )
    return db.session.scalar(stmt.limit(1)) is not None


def _erase_texts(testimony: Testimony, today: date) -> None:
    testimony.original_text = None
    testimony.original_erased_on = testimony.original_erased_on or today
    for follow_up in testimony.follow_ups:
        if follow_up.answer is not None:
            follow_up.answer = None


# --- what officials do --------------------------------------------------------------------


def _check_version(testimony: Testimony, version: int | None) -> None:
    check_version(testimony, version, conflict=StaleTestimony, message=STALE_TESTIMONY_MESSAGE)


def approve(
    actor: User | None,
    testimony: Testimony,
    public_text: str | None,
    *,
    topics: Iterable[str] | None = None,
    version: int | None = None,
    today: date | None = None,
) -> Testimony:
    """Approve with the official's redacted public text, the only text that leaves moderation.

    A public text may not hold an email address or phone number; a withdrawn testimony
    can never be approved.
    """
    _require_moderator(actor)
    _check_version(testimony, version)
    if testimony.is_withdrawn:
        raise TestimonyError("The member has withdrawn this testimony.")
    checked_text = _check_text(public_text, "The public text")
    if has_contact_details(checked_text):
        raise TestimonyError("The public text still holds an email address or phone number: remove it first.")
    if topics is not None:
        testimony.topics = _check_choices(None, None, None, topics)
    testimony.public_text = checked_text
    testimony.status = TestimonyStatus.APPROVED.value
    testimony.rejection_reason = None
    testimony.decided_on = today or clock.today()
    db.session.flush()
    record(
        actor,
        AuditAction.TESTIMONY_APPROVED,
        testimony,
        mps=testimony.has_mps_consent,
        press=testimony.has_press_consent,
        topics=testimony.topics,
    )
    return testimony


def reject(
    actor: User | None,
    testimony: Testimony,
    reason: str | None,
    *,
    version: int | None = None,
    today: date | None = None,
) -> Testimony:
    """Reject with an internal reason (never shown to the member); any public text is dropped."""
    _require_moderator(actor)
    _check_version(testimony, version)
    if testimony.is_withdrawn:
        raise TestimonyError("The member has withdrawn this testimony.")
    reason = (reason or "").strip()
    if not reason:
        raise TestimonyError("Give a reason for the record.")
    testimony.status = TestimonyStatus.REJECTED.value
    testimony.rejection_reason = reason
    testimony.public_text = None
    testimony.decided_on = today or clock.today()
    db.session.flush()
    record(actor, AuditAction.TESTIMONY_REJECTED, testimony)
    return testimony


def ask_follow_up(
    actor: User | None, testimony: Testimony, question: str | None, *, today: date | None = None
) -> FollowUp:
    """Ask the member a question they will see when they next check with their code."""
    _require_moderator(actor)
    if testimony.is_withdrawn:
        raise TestimonyError("The member has withdrawn this testimony.")
    question = (question or "").strip()
    if not 5 <= len(question) <= 2_000:
        raise TestimonyError("A question needs between 5 and 2,000 characters.")
    follow_up = FollowUp(testimony=testimony, question=question, asked_on=today or clock.today())
    db.session.add(follow_up)
    db.session.flush()
    record(actor, AuditAction.TESTIMONY_QUESTION_ASKED, testimony, follow_up=follow_up.id)
    return follow_up


def tag_topics(actor: User | None, testimony: Testimony, topics: Iterable[str]) -> Testimony:
    """Replace the testimony's topics with codes from the fixed list."""
    _require_moderator(actor)
    before = list(testimony.topics or [])
    testimony.topics = _check_choices(None, None, None, topics)
    db.session.flush()
    record(actor, AuditAction.TESTIMONY_TAGGED, testimony, before=before, after=testimony.topics)
    return testimony


def retention_period() -> Period:
    """How long a decided testimony's original words are kept: the schedule's
    ``testimony_originals`` rule (``NAPO_RETENTION_SCHEDULE``)."""
    return schedule.period("testimony_originals")


def originals_due_for_erasure(today: date | None = None, days: int | None = None) -> list[Testimony]:
    """Decided testimonies whose original words (or answers) have been kept for the retention
    period since the decision (``days`` instead, when given), counted in the union's days. The
    decision is the activity that starts the period: an answer given after it is erased with it."""
    today = today or clock.today()
    cutoff = retention_period().before(today) if days is None else today - timedelta(days=days)
    return list(
        db.session.scalars(
            select(Testimony)
            .where(
                Testimony.decided_on.is_not(None),
                Testimony.decided_on <= cutoff,
                or_(Testimony.original_text.is_not(None), Testimony.follow_ups.any(FollowUp.answer.is_not(None))),
            )
            .order_by(Testimony.id)
        )
    )


def erase_original(actor: User | None, testimony: Testimony, today: date | None = None) -> Testimony:
    """Erase the member's own words (the original and any answers); the public text stays."""
    _erase_texts(testimony, today or clock.today())
    db.session.flush()
    record(actor, AuditAction.TESTIMONY_ORIGINAL_ERASED, testimony)
    return testimony


# --- consent and lists --------------------------------------------------------------------


def quotable_testimonies(audience: str) -> Select[Testimony]:
    """Testimonies that may be quoted to ``audience`` ('mps' or 'press'), newest first: the
    rule is ``Testimony.may_quote_to``, which briefings, exports and the API all go through."""
    return (
        select(Testimony)
        .where(Testimony.may_quote_to(audience))
        .order_by(Testimony.submitted_on.desc(), Testimony.id.desc())
    )


NO_CONSENT = "none"  # the list's filter for testimonies that nobody may quote


@dataclass
class TestimonyFilters:
    __test__ = False

    status: str = ""
    region_id: int | None = None
    grade: str = ""
    topic: str = ""
    consent: str = ""  # '', a QuoteAudience value, or NO_CONSENT

    def as_args(self) -> dict[str, str]:
        return {key: str(value) for key, value in vars(self).items() if value not in ("", None)}


def filtered_testimonies(filters: TestimonyFilters) -> Select[Testimony]:
    """Officials' list: newest first, narrowed by status, region, grade, topic and consent."""
    stmt = select(Testimony).order_by(Testimony.submitted_on.desc(), Testimony.id.desc())
    if filters.status:
        stmt = stmt.where(Testimony.status == filters.status)
    if filters.region_id is not None:
        stmt = stmt.where(Testimony.region_id == filters.region_id)
    if filters.grade:
        stmt = stmt.where(Testimony.grade == filters.grade)
    if filters.topic:
        # Topic codes are plain slugs, so the quoted code matches only that list item,
        # the same way on SQLite and PostgreSQL.
        stmt = stmt.where(cast(Testimony.topics, String).like(f'%"{filters.topic}"%'))
    if QuoteAudience.has_value(filters.consent):
        stmt = stmt.where(Testimony.has_consent_for(filters.consent))
    elif filters.consent == NO_CONSENT:
        stmt = stmt.where(Testimony.has_mps_consent.is_(False), Testimony.has_press_consent.is_(False))
    return stmt


def get_testimony_for(user: User, reference: str) -> Testimony:
    """The testimony with this reference as ``user`` may see it, or 404."""
    return get_for_user_or_404(user, Testimony, Testimony.reference == reference.strip().upper())


def view_testimony(user: User, reference: str) -> Testimony:
    """Open a testimony's page: every view by an official is audited (a member's own look at
    their status page is not: that would time them)."""
    testimony = get_testimony_for(user, reference)
    record(user, AuditAction.TESTIMONY_VIEWED, testimony)
    return testimony


EXPORT_HEADER = (
    "reference",
    "submitted_on",
    "region",
    "grade",
    "length_of_service",
    "topics",
    "may_quote_to_mps",
    "may_quote_to_press",
    "public_text",
)


def export_testimonies(actor: User, filters: TestimonyFilters) -> Iterator[tuple[Any, ...]]:
    """The CSV export of the filtered list's quotable public texts: counted (at most
    ``EXPORT_MAX_ROWS``) and audited now, its rows read as the download is sent."""
    stmt = filtered_testimonies(filters).where(
        or_(Testimony.may_quote_to(QuoteAudience.MPS), Testimony.may_quote_to(QuoteAudience.PRESS))
    )
    count = rows_in(stmt)
    check_export_size(count)
    record_export(actor, count, filters)
    shared = SharedFacts()

    def rows() -> Iterator[tuple[Any, ...]]:
        # Read as the download is sent, after the request's own transaction has ended.
        yield from export_rows(streamed(stmt), shared)

    return rows()


def export_rows(testimonies: Iterable[Testimony], shared: SharedFacts | None = None) -> Iterator[tuple[Any, ...]]:
    """CSV rows for the approved public texts that may be quoted to someone, attributed as they
    are quoted (``shown_attribution``); originals, rejected and unconsented testimonies never leave."""
    shared = shared or SharedFacts()
    for t in testimonies:
        mps, press = t.may_quote_to(QuoteAudience.MPS), t.may_quote_to(QuoteAudience.PRESS)
        if not (mps or press):
            continue
        shown = shown_attribution(t, shared)
        yield (
            t.reference,
            t.submitted_on,
            shown.region or "",
            shown.grade or "",
            ServiceBand.label_of(shown.service_band) if shown.service_band else "",
            "; ".join(t.topic_labels),
            mps,
            press,
            t.public_text,
        )


def record_export(actor: User, count: int, filters: TestimonyFilters) -> None:
    record(actor, AuditAction.TESTIMONIES_EXPORTED, ("testimonies", None), count=count, filters=filters.as_args())


def topic_summary() -> list[tuple[str, int, int]]:
    """(topic, testimonies, of which approved) for every topic, withdrawn ones left out."""
    rows = db.session.execute(
        select(Testimony.topics, Testimony.status).where(Testimony.status != TestimonyStatus.WITHDRAWN.value)
    ).all()
    totals = {topic.value: [0, 0] for topic in Topic}
    for topics, status in rows:
        for code in topics or []:
            if code in totals:
                totals[code][0] += 1
                totals[code][1] += status == TestimonyStatus.APPROVED
    return [(Topic(code).label, total, approved) for code, (total, approved) in totals.items()]


def status_counts() -> dict[str, int]:
    rows = db.session.execute(select(Testimony.status, func.count()).group_by(Testimony.status)).all()
    return {status: count for status, count in rows}
