"""Evidence rules: exact values, who may record what, verification, small-number
suppression and the aggregations behind the dashboards, the API and the briefings."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from flask import abort
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    select,
    text,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import NullType
from werkzeug.exceptions import NotFound

from ..audit.models import AuditAction, record
from ..cases.models import Case
from ..cases.services import get_case_for
from ..csvexport import check_export_size, rows_in, streamed
from ..extensions import db
from ..kernel.clock import today, utcnow
from ..kernel.errors import ConflictError, DomainError, check_version
from ..kernel.numbers import format_figure, month_year, places_of, plain_figure
from ..notices.models import ForeseeabilityNotice
from ..notices.services import get_notice_for
from ..references import insert_with_reference
from ..regions.models import Region, Unit, UnitKind
from ..regions.scoping import can_access_region, get_for_user_or_404, region_ids_for, scope_to_regions
from ..testimonies.models import Testimony
from .models import (
    ADDITIVE_CODES,
    ALL_LEVELS,
    IS_UNVERIFIED_SQL,
    MAX_ABS_VALUE,
    MAX_DECIMAL_PLACES,
    STANDARD_METRICS,
    EvidenceItem,
    ImportBatch,
    Level,
    Metric,
    MetricUnit,
    SourceType,
    Visibility,
    is_web_address,
    metric_by_code,
)

if TYPE_CHECKING:
    from ..accounts.models import User

SMALL_NUMBER = 3
FEWER_THAN_THREE = "fewer than 3"


class EvidenceError(DomainError):
    """A change to the evidence that breaks a rule; the message is shown to the user."""


class NotAllowed(EvidenceError):
    """Someone reached for work their role does not do (a rep verifying, an official defining metrics)."""

    status_code = 403


class StaleEvidence(ConflictError):
    """Someone else saved the item since this edit began."""


STALE_EVIDENCE_MESSAGE = (
    "Someone else changed this item while you were editing it. Reload it to see their change, then make yours again."
)


# ---------------------------------------------------------------------------------------
# Values


def parse_value(text: str) -> Decimal:
    """A figure typed or imported: '24.43', '1,234', '192%'. Raises ValueError with a reason."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if cleaned.endswith("%"):
        cleaned = cleaned[:-1]
    if "," in cleaned:
        whole = cleaned.partition(".")[0]
        groups = whole.lstrip("+-").split(",")
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 and g.isdigit() for g in groups[1:])):
            raise ValueError(f"{text.strip()[:40]!r} is not a number (use a point for decimals: 24.43)")
        cleaned = cleaned.replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text.strip()[:40]!r} is not a number") from None
    check_value(value)
    return value


def check_value(value: Decimal) -> None:
    if not value.is_finite():
        raise ValueError("the value must be a finite number")
    if abs(value) >= MAX_ABS_VALUE:
        raise ValueError("the value is too large (at most 999,999,999)")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMAL_PLACES:
        raise ValueError(f"the value has more than {MAX_DECIMAL_PLACES} decimal places")


def plain_decimal(value: Decimal | None, places: int | None = None) -> str:
    """'24.4300' → '24.43', '650.0000' → '650' (or with ``places`` as given: '14.20'): exact, no exponent."""
    return plain_figure(value, places)


def format_number(value: Decimal | None, unit: str = "", places: int | None = None) -> str:
    """The one formatter (``kernel.numbers.format_figure``): '192%', '3,550 FTE', '14.20 FTE'."""
    return format_figure(value, unit, places)


def format_value(item: EvidenceItem) -> str:
    """The item's figure with its unit, as its source gave it: '192%', '14.20 FTE', '650'."""
    if item.value is None:
        return ""
    return format_figure(item.value, item.metric.unit if item.metric else "", item.value_places)


def exact_value(item: EvidenceItem) -> str:
    """The item's figure for a CSV, a spreadsheet or the API: '14.20', no unit, no separators."""
    return plain_figure(item.value, item.value_places)


def place_text(item: EvidenceItem) -> str:
    """Where a figure is about, as the union's briefings say it: a unit is never named in a
    citation ("London, one PDU"), a region is, and a national figure is "national"."""
    if item.region is None:
        return "national"
    if item.unit is not None:
        kind = UnitKind.label_of(item.unit.kind) if UnitKind.has_value(item.unit.kind) else "unit"
        short = kind[kind.find("(") + 1 : kind.find(")")] if "(" in kind else kind.lower()
        return f"{item.region.name}, one {short}"
    return item.region.name


def citation_text(item: EvidenceItem) -> str:
    """A cited figure as the seeds cite them: "192% (London, one PDU, March 2022)"; the grade
    always comes with it ("3,550 FTE (PO, national, March 2022)")."""
    facts = [item.grade or "", place_text(item), month_year(item.as_of)]
    return f"{format_value(item)} ({', '.join(f for f in facts if f)})"


def threshold_level(value: Decimal | None, metric: Metric | None) -> int:
    """0 below every threshold, 1–3 for each band reached (for a colour class)."""
    if value is None or metric is None:
        return 0
    return sum(1 for t in metric.thresholds if value > t) if metric.is_higher_worse else 0


# ---------------------------------------------------------------------------------------
# Small numbers: the one rule, for items and for the figures built from them, on pages,
# in exports, on the dashboards, in the API and in briefings


def is_small_number(people: int | None) -> bool:
    """A figure resting on the reports of fewer than three people could identify them.

    ``people`` is how many people the figure rests on, None when it does not rest on
    individual reports (management data, a published report). For a figure built from
    several items (an average), pass ``people_at_risk`` of its items. Whether such a figure
    is then withheld is ``disclosure``'s answer.
    """
    return people is not None and people < SMALL_NUMBER


def people_at_risk(parts: Iterable[int | None]) -> int | None:
    """For a figure built from several items: how many people stand behind the items that
    are each withheld (None when none is).

    Only those count, not everyone behind the figure: an average of one person's withheld
    figure and another item that is shown would give the person's figure away.
    """
    small = [people for people in parts if people is not None and is_small_number(people)]
    return sum(small) if small else None


def effective_reporters(item: EvidenceItem) -> int | None:
    """How many people the figure rests on, when it rests on individual reports."""
    if item.reporter_count is not None:
        return item.reporter_count
    if item.metric is not None and item.metric.is_individual:
        return 1
    return None


def reveals_fewer_than_three(item: EvidenceItem) -> bool:
    """The item's figure rests on fewer than three people's reports (whether it is withheld
    for that is ``disclosure``'s answer)."""
    return is_small_number(effective_reporters(item))


@dataclass(frozen=True)
class Disclosure:
    """Whether an item's figure may be shown and cited, and why, in plain words; when it
    may not, what would let it be."""

    may_cite: bool
    reason: str = ""
    unblock: str = ""


def _has_member_consent(item: EvidenceItem) -> bool:
    if item.case_id is not None:
        case_consent = db.session.scalar(select(Case.has_evidence_consent).where(Case.id == item.case_id))
        if case_consent:
            return True
    if item.testimony_id is not None:
        testimony = db.session.get(Testimony, item.testimony_id)
        if testimony is not None and not testimony.is_withdrawn:
            return bool(testimony.has_mps_consent or testimony.has_press_consent)
    return False


def disclosure(item: EvidenceItem) -> Disclosure:
    """The one small-number rule, protecting people rather than numbers.

    A figure from a public source (parliamentary answer, inspectorate, FOI response, press) is
    never withheld: it is already out. A figure resting on three or more people, or on no
    individual reports, is shown. One or two people's figure is shown when it came from a
    case or testimony whose member consented to its use as evidence, when it is about a
    region or the whole service rather than one unit (the coarser place hides the person),
    or when an official allowed it with a reason (audited). Otherwise it is withheld.
    """
    if item.is_from_public_source:
        return Disclosure(True, f"from a public source ({item.source_type_label.lower()}): never withheld")
    people = effective_reporters(item)
    if not is_small_number(people):
        return Disclosure(True)
    if item.override_reason:
        return Disclosure(True, f"an official allowed it: {item.override_reason}")
    if _has_member_consent(item):
        return Disclosure(True, "the member consented to its use as evidence")
    if item.unit_id is None:
        return Disclosure(True, f"about {place_text(item)} as a whole, not one unit: nobody can be picked out")
    who = "one person" if people == 1 else f"{people} people"
    return Disclosure(
        False,
        f"it rests on {who}'s report at one {place_text(item).rpartition(' one ')[2]}, which could identify them",
        "record it for the region rather than the unit, link it to a case or testimony whose member "
        "consented to its use as evidence, or have a national official allow it with a reason",
    )


def is_withheld(item: EvidenceItem) -> bool:
    """The item's figure is withheld by the small-number rule (``disclosure``)."""
    return item.value is not None and not disclosure(item).may_cite


def may_see_exact(user: Any) -> bool:
    """Admins see small numbers exactly (they correct them); nobody else does."""
    return bool(getattr(user, "is_admin", False))


def is_withheld_from(user: Any, is_small: bool) -> bool:
    """A small number is shown to ``user`` as "fewer than 3" (or null in the API)."""
    return is_small and not may_see_exact(user)


def shown_value(item: EvidenceItem, user: Any) -> str:
    """What a page shows for the item's figure: 'fewer than 3' instead of a withheld small number."""
    if is_withheld_from(user, is_withheld(item)):
        return FEWER_THAN_THREE
    return format_value(item)


# ---------------------------------------------------------------------------------------
# Metrics


def all_metrics() -> list[Metric]:
    return list(db.session.scalars(select(Metric).order_by(Metric.label)))


def ensure_standard_metrics(actor=None) -> list[Metric]:
    """Create any of the stable metrics that is missing (a database not built by the
    migrations, or one whose metrics were removed). Migration 0005 seeds the same list."""
    existing = {code.lower() for code in db.session.scalars(select(Metric.code))}
    created = []
    for code, label, unit, worse, individual, headline, warn, alert, severe, description in STANDARD_METRICS:
        if code not in existing:
            created.append(
                create_metric(
                    actor,
                    code=code,
                    label=label,
                    unit=unit,
                    description=description,
                    is_higher_worse=worse,
                    is_individual=individual,
                    is_headline=headline,
                    warn_at=None if warn is None else Decimal(warn),
                    alert_at=None if alert is None else Decimal(alert),
                    severe_at=None if severe is None else Decimal(severe),
                    is_additive=code in ADDITIVE_CODES,
                )
            )
    return created


def create_metric(
    actor,
    *,
    code: str,
    label: str,
    unit: str,
    description: str = "",
    is_higher_worse: bool = True,
    is_individual: bool = False,
    is_headline: bool = False,
    warn_at: Decimal | None = None,
    alert_at: Decimal | None = None,
    severe_at: Decimal | None = None,
    is_additive: bool = False,
    levels: list[str] | None = None,
) -> Metric:
    """Admins define metrics (``actor`` None: the migrations' and commands' own); codes and
    labels are unique whatever their case."""
    if actor is not None and not actor.is_admin:
        raise NotAllowed("Only admins define metrics.")
    code = code.strip().lower()
    MetricUnit(unit)
    level_text = _levels_text(levels)
    if metric_by_code(code) is not None:
        raise EvidenceError(f"A metric with the code {code} already exists.", "code")
    if db.session.scalar(select(Metric.id).where(func.lower(Metric.label) == label.strip().lower())):
        raise EvidenceError(f"A metric called {label.strip()} already exists.", "label")
    metric = Metric(
        code=code,
        label=label.strip(),
        unit=unit,
        description=description.strip(),
        is_higher_worse=is_higher_worse,
        is_individual=is_individual,
        is_headline=is_headline,
        warn_at=warn_at,
        alert_at=alert_at,
        severe_at=severe_at,
        is_additive=is_additive,
        levels=level_text,
    )
    db.session.add(metric)
    db.session.flush()
    record(actor, AuditAction.METRIC_CREATED, ("metrics", metric.code), label=metric.label, unit=unit)
    return metric


def _levels_text(levels: list[str] | None) -> str:
    if levels is None:
        return ALL_LEVELS
    chosen = [level.value for level in Level if level.value in levels]
    if not chosen or len(chosen) != len(set(levels)):
        raise EvidenceError("Choose at least one level: national, region or unit.", "levels")
    return ",".join(chosen)


def get_metric_or_404(code: str) -> Metric:
    metric = metric_by_code(code)
    if metric is None:
        abort(404)
    return metric


def update_metric(
    actor: User,
    metric: Metric,
    *,
    code: str,
    label: str,
    unit: str,
    description: str = "",
    is_higher_worse: bool = True,
    is_individual: bool = False,
    is_headline: bool = False,
    is_additive: bool = False,
    levels: list[str] | None = None,
    warn_at: Decimal | None = None,
    alert_at: Decimal | None = None,
    severe_at: Decimal | None = None,
) -> Metric:
    """Admins edit a metric. A standard code never changes (imports, the API and tests use
    it); another metric's code may, but never to one already taken. A metric that has
    figures keeps its unit: changing it would misstate every figure recorded."""
    if not actor.is_admin:
        raise NotAllowed("Only admins change metrics.")
    code = code.strip().lower()
    MetricUnit(unit)
    if code != metric.code:
        if metric.is_standard:
            raise EvidenceError(f"{metric.code} is a standard code and never changes.", "code")
        if metric_by_code(code) is not None:
            raise EvidenceError(f"A metric with the code {code} already exists.", "code")
    clash = db.session.scalar(
        select(Metric.id).where(func.lower(Metric.label) == label.strip().lower(), Metric.id != metric.id)
    )
    if clash:
        raise EvidenceError(f"A metric called {label.strip()} already exists.", "label")
    if unit != metric.unit and db.session.scalar(select(EvidenceItem.id).where(EvidenceItem.metric_id == metric.id)):
        raise EvidenceError("This metric has figures recorded: its unit cannot change.", "unit")
    new = {
        "code": code,
        "label": label.strip(),
        "unit": unit,
        "description": description.strip(),
        "is_higher_worse": is_higher_worse,
        "is_individual": is_individual,
        "is_headline": is_headline,
        "is_additive": is_additive,
        "levels": _levels_text(levels),
        "warn_at": warn_at,
        "alert_at": alert_at,
        "severe_at": severe_at,
    }
    changed = sorted(name for name, value in new.items() if getattr(metric, name) != value)
    for name, value in new.items():
        setattr(metric, name, value)
    db.session.flush()
    record(actor, AuditAction.METRIC_CHANGED, ("metrics", metric.code), fields=changed)
    return metric


# ---------------------------------------------------------------------------------------
# Items


def fingerprint(
    *,
    region_id: int | None,
    unit_id: int | None,
    metric_id: int | None,
    value: Decimal | None,
    as_of: date,
    grade: str | None,
    source_type: str,
    source_title: str,
    statement: str | None,
) -> str:
    """The same figure, for the same place and date, from the same source: one record."""
    parts = [
        region_id,
        unit_id,
        metric_id,
        plain_decimal(value) if value is not None else "",
        as_of.isoformat(),
        (grade or "").lower(),
        source_type,
        " ".join(source_title.split()).lower(),
        " ".join((statement or "").split()).lower(),
    ]
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()


def next_reference_number() -> int:
    """References grow with ids: read the number of the newest one."""
    last = db.session.scalar(select(EvidenceItem.reference).order_by(EvidenceItem.id.desc()).limit(1))
    return int(last.split("-")[-1]) + 1 if last and last.split("-")[-1].isdigit() else 1


def format_reference(number: int) -> str:
    return f"EV-{number:04d}"


def duplicate_of(fp: str, exclude_id: int | None = None) -> str | None:
    stmt = select(EvidenceItem.reference).where(EvidenceItem.fingerprint == fp)
    if exclude_id is not None:
        stmt = stmt.where(EvidenceItem.id != exclude_id)
    return db.session.scalar(stmt)


ITEM_FIELDS = (
    "region_id",
    "unit_id",
    "metric_id",
    "value",
    "statement",
    "as_of",
    "period_start_on",
    "grade",
    "source_type",
    "source_title",
    "source_publisher",
    "source_date",
    "source_url",
    "visibility",
    "reporter_count",
    "case_id",
    "notice_id",
    "testimony_id",
)


def resolve_links(
    actor: User, *, case_reference: str = "", notice_reference: str = "", testimony_reference: str = ""
) -> dict[str, int | None]:
    """The case, notice or testimony an item came from, by reference, as the actor may see them.

    A case or notice outside the actor's regions is 'not found', as everywhere; only
    officials and admins link testimonies (they alone read them).
    """
    links: dict[str, int | None] = {"case_id": None, "notice_id": None, "testimony_id": None}
    if case_reference:
        try:
            links["case_id"] = get_case_for(actor, case_reference.strip().upper()).id
        except NotFound:
            raise EvidenceError(f"No case {case_reference.strip()[:40]} that you can see.", "case_reference") from None
    if notice_reference:
        try:
            links["notice_id"] = get_notice_for(actor, notice_reference).id
        except NotFound:
            raise EvidenceError(
                f"No notice {notice_reference.strip()[:40]} that you can see.", "notice_reference"
            ) from None
    if testimony_reference:
        found = None
        if actor.sees_all_regions:
            found = db.session.scalar(
                select(Testimony.id).where(Testimony.reference == testimony_reference.strip().upper())
            )
        if found is None:
            raise EvidenceError(
                f"No testimony {testimony_reference.strip()[:40]} that you can see.", "testimony_reference"
            )
        links["testimony_id"] = found
    return links


def link_references(item: EvidenceItem) -> dict[str, str]:
    """The references of the records an item came from, for its page and its edit form."""
    found = {}
    linked: tuple[tuple[str, type[Case] | type[ForeseeabilityNotice] | type[Testimony], int | None], ...] = (
        ("case_reference", Case, item.case_id),
        ("notice_reference", ForeseeabilityNotice, item.notice_id),
        ("testimony_reference", Testimony, item.testimony_id),
    )
    for name, model, key in linked:
        if key is not None:
            found[name] = db.session.scalar(select(model.reference).where(model.id == key)) or ""
    return found


def _check_item(actor: User, fields: dict[str, Any], exclude_id: int | None = None) -> str:
    """The rules every item keeps, from a form or the API; returns its fingerprint."""
    region_id, unit_id = fields.get("region_id"), fields.get("unit_id")
    if region_id is None and not actor.sees_all_regions:
        raise EvidenceError("Only national officials record national figures; choose one of your regions.", "region_id")
    if not can_access_region(actor, region_id) and region_id is not None:
        raise EvidenceError("You can record evidence only for your own regions.", "region_id")
    if fields.get("source_url") and not is_web_address(fields["source_url"]):
        raise EvidenceError("Give a web address starting with https:// or http://.", "source_url")
    if unit_id is not None:
        unit = db.session.get(Unit, unit_id)
        if unit is None or unit.region_id != region_id:
            raise EvidenceError("That unit is not in the chosen region.", "unit_id")
    if fields.get("value") is None and not (fields.get("statement") or "").strip():
        raise EvidenceError("Give a value, a statement, or both.", "value")
    if fields.get("value") is not None:
        if fields.get("metric_id") is None:
            raise EvidenceError("Choose what the value measures (its metric).", "metric_id")
        try:
            check_value(fields["value"])
        except ValueError as error:
            raise EvidenceError(str(error).capitalize() + ".", "value") from None
    if fields.get("period_start_on") and fields["period_start_on"] > fields["as_of"]:
        raise EvidenceError("The period must start on or before its end date.", "period_start_on")
    if fields["as_of"] > today():
        raise EvidenceError("The date a figure describes cannot be in the future.", "as_of")
    SourceType(fields["source_type"])
    Visibility(fields.get("visibility") or Visibility.INTERNAL)
    fp = fingerprint(
        region_id=region_id,
        unit_id=unit_id,
        metric_id=fields.get("metric_id"),
        value=fields.get("value"),
        as_of=fields["as_of"],
        grade=fields.get("grade"),
        source_type=fields["source_type"],
        source_title=fields.get("source_title") or "",
        statement=fields.get("statement"),
    )
    existing = duplicate_of(fp, exclude_id)
    if existing:
        raise EvidenceError(f"This is already recorded as {existing}.", "value")
    return fp


def _recorded_meanwhile(fp: str, error: IntegrityError) -> EvidenceError:
    """The same figure, saved by someone else between our check and our write."""
    existing = duplicate_of(fp)
    if existing is None:
        raise error
    return EvidenceError(f"This is already recorded as {existing}.", "value")


def create_evidence(actor: User, **fields: Any) -> EvidenceItem:
    """Reps record evidence for their regions; officials and admins for any region or nationally.
    The value keeps the decimal places it was given with."""
    fields = {name: fields.get(name) for name in ITEM_FIELDS}
    fp = _check_item(actor, fields)
    values = {k: v for k, v in fields.items() if v is not None}
    if fields["value"] is not None:
        values["value_places"] = places_of(fields["value"])
    try:
        item = insert_with_reference(
            EvidenceItem.reference,
            lambda: format_reference(next_reference_number()),
            lambda ref: EvidenceItem(reference=ref, fingerprint=fp, created_by_id=actor.id, **values),
        )
    except IntegrityError as error:
        raise _recorded_meanwhile(fp, error) from None
    record(
        actor,
        AuditAction.EVIDENCE_CREATED,
        item,
        metric=item.metric.code if item.metric else None,
        region=item.region.name if item.region else "national",
    )
    return item


def update_evidence(actor: User, item: EvidenceItem, expected_version: int | None, **fields: Any) -> EvidenceItem:
    """Officials correct items; a change made since the form was opened is not overwritten.

    Changing an item's substance clears its verification: it must be checked again.
    """
    if not actor.sees_all_regions:
        raise NotAllowed("Only national officials and admins correct evidence.")
    check_version(item, expected_version, conflict=StaleEvidence, message=STALE_EVIDENCE_MESSAGE)
    fields = {name: fields.get(name) for name in ITEM_FIELDS}
    fp = _check_item(actor, fields, exclude_id=item.id)
    changed = sorted(name for name, value in fields.items() if getattr(item, name) != value)
    if fields["value"] is not None and places_of(fields["value"]) != item.value_places:
        changed = sorted({*changed, "value"})
    item.value_places = places_of(fields["value"]) if fields["value"] is not None else None
    for name, value in fields.items():
        setattr(
            item,
            name,
            value if value is not None or name not in ("source_title", "source_publisher", "source_url") else "",
        )
    if fp != item.fingerprint:
        item.is_verified, item.verified_by_id, item.verified_at = False, None, None
    item.fingerprint = fp
    item.updated_at = utcnow()
    savepoint = db.session.begin_nested()
    try:
        db.session.flush()
    except IntegrityError as error:
        savepoint.rollback()
        raise _recorded_meanwhile(fp, error) from None
    savepoint.commit()
    record(actor, AuditAction.EVIDENCE_CHANGED, item, fields=changed)
    return item


def verify_evidence(actor: User, item: EvidenceItem) -> EvidenceItem:
    """An official confirms the figure against its source."""
    if not actor.sees_all_regions:
        raise NotAllowed("Only national officials verify evidence.")
    item.is_verified, item.verified_by_id, item.verified_at = True, actor.id, utcnow()
    db.session.flush()
    record(actor, AuditAction.EVIDENCE_VERIFIED, item)
    return item


def allow_small_number(actor: User, item: EvidenceItem, reason: str) -> EvidenceItem:
    """A national official lets a small number be cited, and says why (audited): without a
    reason there is no override. ``withdraw_small_number_override`` takes it back."""
    if not actor.sees_all_regions:
        raise NotAllowed("Only national officials allow a small number to be cited.")
    reason = " ".join((reason or "").split())
    if len(reason) < 10:
        raise EvidenceError(
            "Say why this figure may be cited although it rests on fewer than three people "
            "(at least a short sentence).",
            "reason",
        )
    item.override_reason, item.override_by_id, item.override_at = reason[:500], actor.id, utcnow()
    db.session.flush()
    record(actor, AuditAction.EVIDENCE_OVERRIDDEN, item, reason=reason[:200])
    return item


def withdraw_small_number_override(actor: User, item: EvidenceItem) -> EvidenceItem:
    """The figure is withheld again as the rule says."""
    if not actor.sees_all_regions:
        raise NotAllowed("Only national officials change whether a small number may be cited.")
    item.override_reason, item.override_by_id, item.override_at = None, None, None
    db.session.flush()
    record(actor, AuditAction.EVIDENCE_OVERRIDDEN, item, reason=None)
    return item


# ---------------------------------------------------------------------------------------
# Import batches: every import is one, listed, verified and reverted as a whole

# Functions that name the published briefings citing any of the given evidence references:
# briefings register theirs (they sit above evidence), so a batch they cite is never reverted.
CITATION_GUARDS: list[Callable[[set[str]], list[str]]] = []


def citation_guard(function: Callable[[set[str]], list[str]]) -> Callable[[set[str]], list[str]]:
    CITATION_GUARDS.append(function)
    return function


def import_batches(limit: int = 200) -> list[ImportBatch]:
    """The imports, newest first."""
    return list(db.session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)))


def get_batch_for(user: User, reference: str) -> ImportBatch:
    """Imports are national business: officials and admins open them; anyone else gets 404."""
    if not user.sees_all_regions or not reference.isprintable() or len(reference) > 16:
        abort(404)
    batch = db.session.scalar(select(ImportBatch).where(ImportBatch.reference == reference.upper()))
    if batch is None:
        abort(404)
    return batch


def batch_items(batch: ImportBatch) -> Select:
    return select(EvidenceItem).where(EvidenceItem.import_batch_id == batch.id).order_by(EvidenceItem.id)


def verify_batch(actor: User, batch: ImportBatch) -> int:
    """An official verifies every item of an import at once; returns how many were not yet verified."""
    if not actor.sees_all_regions:
        raise NotAllowed("Only national officials verify evidence.")
    if batch.is_reverted:
        raise EvidenceError(f"{batch.reference} was reverted: there is nothing left to verify.")
    now = utcnow()
    result = db.session.execute(
        update(EvidenceItem)
        .where(EvidenceItem.import_batch_id == batch.id, EvidenceItem.is_verified.is_(False))
        .values(is_verified=True, verified_by_id=actor.id, verified_at=now, version=EvidenceItem.version + 1)
        .execution_options(synchronize_session=False)
    )
    batch.is_verified, batch.verified_by_id, batch.verified_at = True, actor.id, now
    db.session.flush()
    count = int(getattr(result, "rowcount", 0) or 0)
    record(actor, AuditAction.IMPORT_VERIFIED, ("import_batches", batch.reference), items=count)
    return count


def revert_batch(actor: User, batch: ImportBatch) -> int:
    """Take a whole import back out, in one transaction; the batch stays listed as reverted.

    Refused while a published briefing cites any of its items (naming the briefing): what
    was sent must stay checkable against its evidence.
    """
    if not actor.sees_all_regions:
        raise NotAllowed("Only national officials revert imports.")
    if batch.is_reverted:
        raise EvidenceError(f"{batch.reference} was already reverted.")
    references = set(db.session.scalars(select(EvidenceItem.reference).where(EvidenceItem.import_batch_id == batch.id)))
    citing = sorted({name for guard in CITATION_GUARDS for name in guard(references)})
    if citing:
        raise EvidenceError(
            f"{batch.reference} cannot be reverted: the published briefing{'s' if len(citing) > 1 else ''} "
            f"{', '.join(citing)} cite{'' if len(citing) > 1 else 's'} its figures. Withdrawing a briefing does "
            "not unpublish what was sent; correct single items instead."
        )
    result = db.session.execute(
        delete(EvidenceItem)
        .where(EvidenceItem.import_batch_id == batch.id)
        .execution_options(synchronize_session=False)
    )
    batch.reverted_at, batch.reverted_by_id = utcnow(), actor.id
    db.session.flush()
    count = int(getattr(result, "rowcount", 0) or 0)
    record(actor, AuditAction.IMPORT_REVERTED, ("import_batches", batch.reference), items=count)
    return count


def get_evidence_for(user: User, reference: str) -> EvidenceItem:
    """One item the user may open, by reference, or 404: national items are everyone's, a
    regional one is loaded through the region-scoped loader (another region's is 'not found')."""
    if not reference.isprintable() or len(reference) > 16:
        abort(404)  # a NUL byte never reaches PostgreSQL
    return get_for_user_or_404(user, EvidenceItem, EvidenceItem.reference == reference.upper(), with_national=True)


def visible_items(user: User) -> Select:
    """Every item the user may see: their regions' and the national ones."""
    return scope_to_regions(select(EvidenceItem), EvidenceItem.region_id, user, with_national=True)


@dataclass
class EvidenceFilters:
    region_id: int | None = None
    national: bool = False
    unit_id: int | None = None
    metric_id: int | None = None
    source_type: str | None = None
    is_verified: bool | None = None
    visibility: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def filtered_items(user: User, filters: EvidenceFilters) -> Select:
    """The items a list, an export or the API shows, newest first."""
    stmt = visible_items(user)
    if filters.national:
        stmt = stmt.where(EvidenceItem.region_id.is_(None))
    elif filters.region_id is not None:
        stmt = stmt.where(EvidenceItem.region_id == filters.region_id)
    if filters.unit_id is not None:
        stmt = stmt.where(EvidenceItem.unit_id == filters.unit_id)
    if filters.metric_id is not None:
        stmt = stmt.where(EvidenceItem.metric_id == filters.metric_id)
    if filters.source_type:
        stmt = stmt.where(EvidenceItem.source_type == filters.source_type)
    if filters.is_verified is not None:
        stmt = stmt.where(EvidenceItem.is_verified.is_(filters.is_verified))
    if filters.visibility:
        stmt = stmt.where(EvidenceItem.visibility == filters.visibility)
    if filters.date_from:
        stmt = stmt.where(EvidenceItem.as_of >= filters.date_from)
    if filters.date_to:
        stmt = stmt.where(EvidenceItem.as_of <= filters.date_to)
    return stmt.order_by(EvidenceItem.as_of.desc(), EvidenceItem.id.desc())


EXPORT_HEADER = [
    "reference",
    "region",
    "unit",
    "metric",
    "value",
    "as_of",
    "grade",
    "source",
    "source_ref",
    "source_publisher",
    "source_date",
    "source_url",
    "statement",
    "verified",
    "visibility",
]


def export_evidence(user: User, filters: EvidenceFilters) -> Iterator[list[Any]]:
    """The CSV export's rows: counted (at most ``EXPORT_MAX_ROWS``) and audited now, read as
    the download is sent."""
    stmt = filtered_items(user, filters)
    count = rows_in(stmt)
    check_export_size(count)
    record_export(user, filters, count)
    return export_rows(user, stmt)


def export_rows(user: User, stmt: Select) -> Iterator[list[Any]]:
    """Rows for the CSV export, in the import's vocabulary; small numbers withheld as on screen."""
    for item in streamed(stmt):
        value = FEWER_THAN_THREE if is_withheld_from(user, is_withheld(item)) else exact_value(item)
        yield [
            item.reference,
            item.region.name if item.region else "",
            item.unit.name if item.unit else "",
            item.metric.code if item.metric else "",
            value,
            item.as_of,
            item.grade or "",
            item.source_type_label,
            item.source_title,
            item.source_publisher,
            item.source_date,
            item.source_url,
            item.statement or "",
            item.is_verified,
            item.visibility,
        ]


def record_export(actor: User, filters: EvidenceFilters, count: int) -> None:
    record(actor, AuditAction.EVIDENCE_EXPORTED, None, rows=count)


def record_pack(actor: User, metric_code: str, kind: str) -> None:
    """A download of the national figures pack (a table, a chart or the one-page PDF) is an export."""
    record(actor, AuditAction.EVIDENCE_EXPORTED, None, metric=metric_code, pack=kind)


# ---------------------------------------------------------------------------------------
# The home page's panel

PANEL_COUNT_CAP = 1000  # the panel counts this far ("more than 1,000"): its cost stays flat


def panel_counts(user: Any) -> tuple[int, int, int]:
    """Items the user sees (their regions' and national ones), how many are unverified, and how
    many metrics there are, in one statement. Items are counted only up to PANEL_COUNT_CAP + 1:
    the panel says "more than" past that, and reads at most that many index entries."""
    ids = region_ids_for(user)
    params = {} if ids is None else {"region_ids": sorted(ids)}
    total, unverified, metrics = db.session.connection().execute(_panel_counts(ids is not None), params).one()
    return total, unverified, metrics


@cache
def _panel_counts(scoped: bool) -> Select:
    """Built once per process: the user's regions are bound as ``region_ids``."""

    def up_to_cap(*conditions: Any) -> Any:
        stmt = select(EvidenceItem.id).where(*conditions)
        if scoped:
            # Two plain index reads, each stopping at the cap (an OR would make PostgreSQL
            # gather every match into a bitmap first).
            regional = stmt.where(EvidenceItem.region_id.in_(bindparam("region_ids", expanding=True)))
            national = stmt.where(EvidenceItem.region_id.is_(None))
            parts = [part.limit(PANEL_COUNT_CAP + 1).subquery().select() for part in (regional, national)]
            capped = union_all(*parts).subquery()
            stmt = select(capped.c.id)
        return select(func.count()).select_from(stmt.limit(PANEL_COUNT_CAP + 1).subquery()).scalar_subquery()

    return select(
        up_to_cap(),
        up_to_cap(text(f"evidence_items.{IS_UNVERIFIED_SQL}")),  # as written in the partial index
        select(func.count()).select_from(Metric).scalar_subquery(),
    )


# ---------------------------------------------------------------------------------------
# Aggregation: one GROUP BY over metric, region and period feeds the dashboards and the API


def period_expression(period: str):
    """The 'YYYY-MM' (or 'YYYY') of as_of, on either database."""
    return _period_parts(period)[1]


def _period_parts(period: str) -> tuple[Any, Any]:
    """(what to group by, its 'YYYY-MM' or 'YYYY' text). PostgreSQL groups on date_trunc and
    formats each group once: to_char on every row costs a third of a large aggregation."""
    length = {"month": 7, "year": 4}[period]
    if db.engine.dialect.name == "postgresql":
        bucket = func.date_trunc(literal_column(f"'{period}'"), EvidenceItem.as_of)  # the same text in GROUP BY
        return bucket, func.to_char(bucket, "YYYY-MM" if period == "month" else "YYYY")
    text = func.substr(EvidenceItem.as_of, 1, length)  # SQLite keeps dates as ISO text
    return text, text


class Group:
    """One metric's figures for one region (None = national) and period.

    The database's own numbers are kept and turned into exact decimals only when read:
    a dashboard reads a few of thousands of groups.
    """

    __slots__ = (
        "_high",
        "_low",
        "_total",
        "count",
        "is_suppressed",
        "metric_id",
        "people_at_risk",
        "period",
        "region_id",
    )

    def __init__(
        self,
        metric_id: int,
        region_id: int | None,
        period: str,
        count: int,
        low: Any,
        high: Any,
        total: Any,
        people_at_risk: int | None = None,
    ) -> None:
        self.metric_id, self.region_id, self.period, self.count = metric_id, region_id, period, count
        self._low, self._high, self._total = low, high, total
        self.people_at_risk = people_at_risk
        self.is_suppressed = is_small_number(people_at_risk)

    @property
    def minimum(self) -> Decimal | None:
        return _decimal(self._low)

    @property
    def maximum(self) -> Decimal | None:
        return _decimal(self._high)

    @property
    def mean(self) -> Decimal | None:
        return _mean(self._total, self.count)

    def is_withheld_from(self, user: Any) -> bool:
        return is_withheld_from(user, self.is_suppressed)

    def value_for(self, user: Any) -> Decimal | None:
        return None if self.is_withheld_from(user) else self.mean


def _tidy(value: Decimal) -> Decimal:
    """Trailing zeros off, without an exponent: 60.0000 → 60, not 6E+1."""
    return Decimal(plain_decimal(value))


def _decimal(value: Decimal | float | int | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):  # SQLite's SUM and MIN of NUMERIC are doubles
        return _tidy(Decimal(repr(value)).quantize(Decimal("0.0001")))
    return _tidy(Decimal(value))


def _mean(total: Decimal | float | int | None, count: int) -> Decimal | None:
    exact = _decimal(total)
    if exact is None or not count:
        return None
    return _tidy((exact / count).quantize(Decimal("0.01")))


def _small_parts_sql() -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """How many of a group's items carry a reporter count below three, and the people behind
    them: ``people_at_risk`` summed by the database, for the items that say how many."""
    is_small = EvidenceItem.reporter_count < SMALL_NUMBER
    return func.count(case((is_small, 1))), func.sum(case((is_small, EvidenceItem.reporter_count), else_=0))


def _group_people_at_risk(
    count: int, with_reporters: int, small_count: int, small_sum: int | None, is_individual: bool
) -> int | None:
    """``people_at_risk`` of a group from the database's sums: an item of a metric about one
    person with no reporter count is one person, and withheld like any other small number."""
    uncounted = count - with_reporters if is_individual else 0
    if small_count + uncounted == 0:
        return None
    return (small_sum or 0) + uncounted


def aggregate(
    metric_ids: list[int] | None = None,
    *,
    period: str = "month",
    region_ids: set[int] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    where: ColumnElement[bool] | None = None,
) -> list[Group]:
    """Count, min, max and mean of every metric's values per region (None = national) and period.

    One GROUP BY, read in the order of the dashboard index. A group that could give away the
    figures of fewer than three people is marked suppressed (``is_small_number``). ``where``
    narrows the items further (the dashboard: each place's latest month only).
    """
    bucket, period_text = _period_parts(period)
    period_col = period_text.label("period")
    item = EvidenceItem
    raw = NullType()  # the driver's own numbers (Decimal on PostgreSQL, float on SQLite), converted on reading
    small_count, small_sum = _small_parts_sql()
    stmt = (
        select(
            item.metric_id,
            item.region_id,
            period_col,
            func.count(),
            type_coerce(func.min(item.value), raw),
            type_coerce(func.max(item.value), raw),
            type_coerce(func.sum(item.value), raw),
            func.count(item.reporter_count),
            small_count,
            small_sum,
        )
        .where(item.value.is_not(None), item.metric_id.is_not(None))
        .group_by(item.metric_id, item.region_id, bucket)
        .order_by(item.metric_id, item.region_id, bucket)
    )
    if metric_ids is not None:
        stmt = stmt.where(item.metric_id.in_(metric_ids))
    if region_ids is not None:
        stmt = stmt.where(item.region_id.in_(region_ids))
    if date_from is not None:
        stmt = stmt.where(item.as_of >= date_from)
    if date_to is not None:
        stmt = stmt.where(item.as_of <= date_to)
    if where is not None:
        stmt = stmt.where(where)
    individual = set(db.session.scalars(select(Metric.id).where(Metric.is_individual.is_(True))))
    return [
        Group(
            metric_id,
            region_id,
            period_key,
            count,
            low,
            high,
            total,
            _group_people_at_risk(count, with_reporters, small, people, metric_id in individual),
        )
        for (
            metric_id,
            region_id,
            period_key,
            count,
            low,
            high,
            total,
            with_reporters,
            small,
            people,
        ) in db.session.execute(stmt)
    ]


def latest_by_region(metric_code: str, region_ids: set[int] | None = None) -> list[dict[str, Any]]:
    """Per region (None = national), the figure on the latest date it was recorded.

    Several figures on that date are averaged. Rows: region, as_of, value, count, suppressed.
    """
    metric = metric_by_code(metric_code)
    if metric is None:
        return []
    item = EvidenceItem
    latest_dates = (
        select(item.region_id, func.max(item.as_of).label("as_of"))
        .where(item.metric_id == metric.id, item.value.is_not(None))
        .group_by(item.region_id)
    )
    if region_ids is not None:
        latest_dates = latest_dates.where(item.region_id.in_(region_ids))
    latest = latest_dates.subquery()
    stmt = (
        select(item)
        .join(
            latest,
            and_(
                item.as_of == latest.c.as_of, func.coalesce(item.region_id, 0) == func.coalesce(latest.c.region_id, 0)
            ),
        )
        .where(item.metric_id == metric.id, item.value.is_not(None))
    )
    by_region: dict[int | None, list[EvidenceItem]] = defaultdict(list)
    for found in db.session.scalars(stmt).unique():
        by_region[found.region_id].append(found)
    rows = []
    for region_id, items in by_region.items():
        values = [i.value for i in items if i.value is not None]
        total = sum(values, Decimal(0))
        rows.append(
            {
                "region": items[0].region.name if items[0].region else None,
                "region_id": region_id,
                "as_of": items[0].as_of,
                "value": _tidy((total / len(values)).quantize(Decimal("0.01")) if len(values) > 1 else values[0]),
                "count": len(items),
                "is_suppressed": is_small_number(people_at_risk(effective_reporters(i) for i in items)),
                "metric": metric,
            }
        )
    rows.sort(key=lambda r: (r["region"] is not None, r["region"] or ""))
    return rows


HEADLINE_CODES = (
    "wmt_percent_avg",
    "staff_over_100_pct",
    "staff_over_120_pct",
    "staff_over_150_pct",
    "unallocated_cases",
    "vacancies",
    "caseload",
)
TREND_CODE = "wmt_percent_avg"


@dataclass
class DashboardFigure:
    metric: Metric
    rows: list[dict[str, Any]]  # region name, period, value (None when withheld), is_suppressed


def _latest_dates(metric_ids: list[int], region_ids: list[int | None]) -> dict[tuple[int, int | None], date]:
    """The newest date with a value, for each metric and place: one statement, each answer
    read from the end of its stretch of the dashboard index, whatever the number of items."""
    if not metric_ids or not region_ids:
        return {}
    stmt = _latest_dates_statement(tuple(region_ids))
    rows = db.session.execute(stmt, {"metric_ids": metric_ids}).all()
    return {(metric_id, region_id): as_of for metric_id, region_id, as_of in rows if as_of is not None}


@lru_cache(maxsize=64)
def _latest_dates_statement(region_ids: tuple[int | None, ...]) -> Select:
    """Built once per set of places (the metrics are bound as ``metric_ids``)."""
    item = EvidenceItem
    parts = []
    for region_id in region_ids:
        place = item.region_id.is_(None) if region_id is None else item.region_id == region_id
        newest = (
            select(item.as_of)
            .where(item.metric_id == Metric.id, place, item.value.is_not(None))
            .order_by(item.as_of.desc())
            .limit(1)
            .correlate(Metric)
            .scalar_subquery()
        )
        place_id = cast(literal(region_id, Integer), Integer)  # typed, so a NULL unites with the ids
        metrics = Metric.id.in_(bindparam("metric_ids", expanding=True))
        parts.append(select(Metric.id, place_id, newest.label("as_of")).where(metrics))
    return union_all(*parts)  # type: ignore[return-value]


def _latest_months(newest: dict[tuple[int, int | None], date]) -> list[ColumnElement[bool]]:
    """The items of each metric and place from the month of its newest date: a condition per
    distinct month (usually one or two) for the regions and one for national figures, each an
    index range per metric and place, each aggregated on its own (an OR of them would be read
    as a scan). A pair whose newest month is later is read from the earlier month too; the
    caller keeps only each pair's newest month."""
    by_month: dict[date, list[tuple[int, int | None]]] = defaultdict(list)
    for pair, as_of in newest.items():
        by_month[_month_start(as_of)].append(pair)
    item = EvidenceItem
    conditions: list[ColumnElement[bool]] = []
    for start, pairs in sorted(by_month.items()):
        regional = {m for m, r in pairs if r is not None}, {r for _m, r in pairs if r is not None}
        national = {m for m, r in pairs if r is None}
        if regional[0]:
            conditions.append(
                and_(item.metric_id.in_(regional[0]), item.region_id.in_(regional[1]), item.as_of >= start)
            )
        if national:
            conditions.append(and_(item.metric_id.in_(national), item.region_id.is_(None), item.as_of >= start))
    return conditions


def _month_start(day: date, months_back: int = 0) -> date:
    month = day.year * 12 + day.month - 1 - months_back
    return date(month // 12, month % 12 + 1, 1)


def dashboard_data(user: Any, region: Region | None = None) -> dict[str, Any]:
    """Everything the national (or one region's) dashboard shows.

    Each figure is its place's latest month, and the trend the two years before the newest
    month of its metric: only those items are aggregated, so the page costs the same at a
    thousand items as at millions.
    """
    metrics = {m.id: m for m in db.session.scalars(select(Metric).where(Metric.code.in_(HEADLINE_CODES)))}
    region_names = dict(db.session.execute(select(Region.id, Region.name)).all())
    region_filter = {region.id} if region is not None else None
    places: list[int | None] = [region.id] if region is not None else [None, *sorted(region_names)]
    newest = _latest_dates(list(metrics), places)
    groups = [
        group
        for condition in _latest_months(newest)
        for group in aggregate(list(metrics), region_ids=region_filter, where=condition)
    ]
    trend_metric = next((m for m in metrics.values() if m.code == TREND_CODE), None)
    trend_newest = max((d for (m, _), d in newest.items() if trend_metric and m == trend_metric.id), default=None)
    # The trend covers the two years up to the newest month recorded, not every old figure.
    since = "9999-99" if trend_newest is None else _month_start(trend_newest, 23).isoformat()[:7]
    if trend_metric is not None and trend_newest is not None:
        groups += aggregate([trend_metric.id], region_ids=region_filter, date_from=_month_start(trend_newest, 23))
    latest: dict[tuple[int, int | None], Group] = {}
    trend: dict[int | None, list[Group]] = defaultdict(list)
    for group in groups:
        if group.period == newest[(group.metric_id, group.region_id)].isoformat()[:7]:
            latest[(group.metric_id, group.region_id)] = group
        if trend_metric is not None and group.metric_id == trend_metric.id and group.period >= since:
            trend[group.region_id].append(group)
    figures = []
    for metric in sorted(metrics.values(), key=lambda m: HEADLINE_CODES.index(m.code)):
        rows = []
        for (metric_id, region_id), group in latest.items():
            if metric_id != metric.id:
                continue
            rows.append(
                {
                    "region": region_names.get(region_id, "National") if region_id else "National",
                    "period": group.period,
                    "value": group.value_for(user),
                    "count": group.count,
                    "is_suppressed": group.is_withheld_from(user),
                    "level": threshold_level(group.value_for(user), metric),
                }
            )
        rows.sort(key=lambda r: (r["region"] != "National", r["region"]))
        figures.append(DashboardFigure(metric, rows))
    trend_series: dict[str, list[tuple[date, Decimal]]] = {}
    for region_id, region_groups in trend.items():
        name = region_names.get(region_id, "National") if region_id else "National"
        seen: set[str] = set()  # a latest month is in both aggregations
        points = []
        for g in sorted(region_groups, key=lambda g: g.period):
            if g.period not in seen and (value := g.value_for(user)) is not None:
                seen.add(g.period)
                points.append((date.fromisoformat(g.period + "-01"), value))
        if points:
            trend_series[name] = points
    return {
        "figures": figures,
        "trend": dict(sorted(trend_series.items())),
        "trend_metric": trend_metric,
    }
