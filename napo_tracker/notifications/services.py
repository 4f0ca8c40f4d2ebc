"""Telling people: a line in their inbox, and an e-mail when they want one.

The rules:
- A notification holds references, dates and labels written by the app, never a member's
  name or anything a person typed (a testimony's words, a case's description), so that it
  may be e-mailed and kept in a mail server's logs.
- A ``key`` makes it once only: the same news (this deadline, this day) is told to a person
  once, however often the daily run goes.
- Each person chooses which kinds reach them by e-mail (all, singly, when they have never
  chosen) and whether those come singly or as one daily digest. The inbox has them all.
- An e-mail once sent cannot be unsent: each person's e-mail is sent and marked in a
  transaction of its own, after the work that made the notification has committed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app, has_request_context
from flask_babel import format_date, gettext, ngettext
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User, user_regions
from ..audit.models import AuditAction, record
from ..extensions import db
from ..jobs.services import enqueue
from ..kernel.clock import utcnow
from ..kernel.errors import DomainError
from ..kernel.transaction import after_commit, command_transaction, on_rollback
from ..kernel.vocabulary import Role
from ..mail import build_message, outbox
from .models import EmailState, Notification, NotificationKind, NotificationSettings

PAGE_SIZE = 50
_SEND_ASKED = "napo_notifications_send_asked"


class NotificationError(DomainError):
    """A change to notifications that breaks a rule."""


# ---------------------------------------------------------------------------- choices


@dataclass(frozen=True)
class Choices:
    email_kinds: frozenset[str]
    is_daily_digest: bool


EVERY_KIND = frozenset(kind.value for kind in NotificationKind)


def choices_for(user_id: int) -> Choices:
    """A person's choices; never having chosen means every kind by e-mail, singly."""
    settings = db.session.get(NotificationSettings, user_id)
    if settings is None:
        return Choices(EVERY_KIND, False)
    return Choices(frozenset(settings.email_kinds or []) & EVERY_KIND, settings.is_daily_digest)


def save_choices(actor: User, email_kinds: Iterable[str], is_daily_digest: bool) -> NotificationSettings:
    """Keep which kinds reach the actor by e-mail, and whether in one daily digest."""
    kinds = sorted(set(email_kinds))
    if not set(kinds) <= EVERY_KIND:
        raise NotificationError("Choose kinds of notification from the list.", "email_kinds")
    settings = db.session.get(NotificationSettings, actor.id)
    if settings is None:
        settings = NotificationSettings(user_id=actor.id)
        db.session.add(settings)
    settings.email_kinds = kinds
    settings.is_daily_digest = bool(is_daily_digest)
    db.session.flush()
    record(
        actor,
        AuditAction.NOTIFICATION_SETTINGS_CHANGED,
        ("users", str(actor.id)),
        email_kinds=kinds,
        daily_digest=settings.is_daily_digest,
    )
    return settings


# ---------------------------------------------------------------------------- telling


def notify(
    user: User | None,
    kind: NotificationKind,
    message: str,
    *,
    reference: str = "",
    url: str | None = None,
    key: str | None = None,
    soon: bool = True,
    email: bool = True,
) -> Notification | None:
    """Put one line in the person's inbox (None when they are inactive, or already told this
    ``key``). ``soon``: have its e-mail sent once this transaction commits; the daily runs pass
    False and send their own at the end (``deliver_pending``). ``email=False``: the inbox only,
    for news the caller e-mails its own way (the notices' reminder list)."""
    if user is None or not user.is_active:
        return None
    if key is not None and _already_told(user.id, key):
        return None
    choices = choices_for(user.id)
    if not email or kind.value not in choices.email_kinds:
        state = EmailState.NONE
    else:
        state = EmailState.DIGEST if choices.is_daily_digest else EmailState.PENDING
    notification = Notification(
        user_id=user.id,
        kind=kind.value,
        reference=reference[:40],
        message=message[:300],
        url=url,
        key=key,
        email_state=state.value,
    )
    try:
        with db.session.begin_nested():  # told at the same moment by another run: once is enough
            db.session.add(notification)
    except IntegrityError:
        return None
    if soon and state == EmailState.PENDING:
        _send_soon()
    return notification


def notify_all(users: Iterable[User], kind: NotificationKind, message: str, **options: Any) -> int:
    """``notify`` each person once (a list may name someone twice); how many were told."""
    told, seen = 0, set()
    for user in users:
        if user.id in seen:
            continue
        seen.add(user.id)
        if notify(user, kind, message, **options) is not None:
            told += 1
    return told


def _already_told(user_id: int, key: str) -> bool:
    return (
        db.session.scalar(select(Notification.id).where(Notification.user_id == user_id, Notification.key == key))
        is not None
    )


def _send_soon() -> None:
    """Ask once per request for the e-mails to be sent after it commits (a background job:
    on a worker with Redis, in this process after the commit without)."""
    if not has_request_context():
        return  # commands and jobs send their own at the end (deliver_pending)
    session = db.session()
    if session.info.get(_SEND_ASKED):
        return
    session.info[_SEND_ASKED] = True

    def forget() -> None:  # the next transaction asks again
        session.info.pop(_SEND_ASKED, None)

    after_commit(forget)
    on_rollback(forget)
    enqueue("notifications.send", subject="")


def officials_for_region(region_id: int | None) -> list[User]:
    """The region's officials: active officials who cover it, and those who name no region
    (national officials, who cover them all)."""
    covers = select(user_regions.c.user_id).where(user_regions.c.region_id == region_id)
    any_region = select(user_regions.c.user_id)
    stmt = (
        select(User)
        .where(User.role == Role.OFFICIAL.value, User.is_active.is_(True))
        .where(or_(User.id.in_(covers), User.id.not_in(any_region)))
        .order_by(User.email)
    )
    return list(db.session.scalars(stmt))


def all_officials() -> list[User]:
    """Every active official: who moderates testimonies and corrects briefings."""
    stmt = select(User).where(User.role == Role.OFFICIAL.value, User.is_active.is_(True)).order_by(User.email)
    return list(db.session.scalars(stmt))


# ---------------------------------------------------------------------------- the inbox


def inbox_for(user: User, *, unread_only: bool = False) -> Select:
    """The person's own notifications, newest first: nobody reads another's inbox."""
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt.order_by(Notification.id.desc())


def unread_count(user: User) -> int:
    return (
        db.session.scalar(select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None)))
        or 0
    )


def mark_read(user: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the person's own notifications read (all of them when no ids are given); how many."""
    stmt = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_ids is not None:
        stmt = stmt.where(Notification.id.in_(list(notification_ids)))
    result = db.session.execute(stmt.values(read_at=utcnow()).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


# ---------------------------------------------------------------------------- e-mail


@dataclass
class Delivered:
    emails: int = 0
    notifications: int = 0


def _absolute(path: str | None) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return base + (path or "/inbox/")


def _body(notifications: list[Notification], heading: str) -> str:
    lines = [heading, ""]
    for item in notifications:
        lines.append(f"  {item.message}")
        lines.append(f"    {_absolute(item.url)}")
    lines += [
        "",
        gettext("Your inbox: %(url)s", url=_absolute("/inbox/")),
        gettext("Choose what reaches you by e-mail: %(url)s", url=_absolute("/inbox/settings")),
        "",
        gettext("This message holds references and dates only. Log in to see the details."),
    ]
    return "\n".join(lines) + "\n"


def _send_by_person(
    state: EmailState, subject: Callable[[int], str], heading: str, progress: Callable[[int], object] | None
) -> Delivered:
    waiting = db.session.scalars(
        select(Notification).where(Notification.email_state == state.value).order_by(Notification.id)
    ).all()
    by_person: dict[int, list[Notification]] = defaultdict(list)
    for item in waiting:
        by_person[item.user_id].append(item)
    done = Delivered()
    if not by_person:
        return done
    with outbox() as box:
        for user_id, items in sorted(by_person.items()):
            person = db.session.get(User, user_id)
            # One transaction per person, committed once the server took the e-mail (as the
            # notices' reminders): what was delivered stays marked whatever fails next.
            with command_transaction():
                if person is None or not person.is_active:
                    for item in items:
                        item.email_state = EmailState.NONE.value
                    continue
                box.send(build_message(person.email, subject(len(items)), _body(items, heading)))
                now = utcnow()
                for item in items:
                    item.email_state = EmailState.SENT.value
                    item.emailed_at = now
                record(None, AuditAction.NOTIFICATIONS_SENT, ("users", str(user_id)), count=len(items))
            done.emails += 1
            done.notifications += len(items)
            if progress is not None:
                progress(1)
    return done


def deliver_pending(progress: Callable[[int], object] | None = None) -> Delivered:
    """E-mail every notification waiting to go singly (one e-mail per person for what is waiting)."""
    union = current_app.config["UNION_NAME"]
    return _send_by_person(
        EmailState.PENDING,
        lambda n: ngettext(
            "%(union)s: %(num)d new notification", "%(union)s: %(num)d new notifications", n, union=union
        ),
        gettext("New in your napo-tracker inbox:"),
        progress,
    )


def send_digests(on: date, progress: Callable[[int], object] | None = None) -> Delivered:
    """The daily digest: one e-mail per person who chose it, with everything since the last."""
    union = current_app.config["UNION_NAME"]
    return _send_by_person(
        EmailState.DIGEST,
        lambda n: ngettext(
            "%(union)s: your daily digest for %(day)s (%(num)d notification)",
            "%(union)s: your daily digest for %(day)s (%(num)d notifications)",
            n,
            union=union,
            day=format_date(on, "d MMMM y"),
        ),
        gettext("Your napo-tracker notifications, %(day)s:", day=format_date(on, "EEEE d MMMM y")),
        progress,
    )


# ---------------------------------------------------------------------------- daily collectors

# Lower domains cannot see what happened in higher ones: each registers here what it has to
# tell once a day (testimonies waiting, members' answers), run first by the daily digest run.
DailyCollector = Callable[[date], int]
DAILY_COLLECTORS: list[DailyCollector] = []


def daily_collector(collector: DailyCollector) -> DailyCollector:
    """Decorator: ``collector(on) -> how many told``, run by ``notifications digest`` each day."""
    if collector not in DAILY_COLLECTORS:
        DAILY_COLLECTORS.append(collector)
    return collector


def collect_daily(on: date) -> int:
    return sum(collector(on) for collector in DAILY_COLLECTORS)
