"""A member's withdrawal reaches the briefings that quoted them.

When a member withdraws a testimony (``testimonies.reach``), every published version that
quotes it is marked, stops being served, and has its stored bytes (PDF and HTML) erased, in
the same transaction; the reference, the date and the SHA-256 of what was sent stay. Officials
see it on their home page at once and are told, content-free, in their inboxes (and by e-mail,
as each chose) by ``flask briefings notify`` once a day: a message sent at the moment of the
withdrawal would date it to the second, and members are promised that nothing they do is timed
finer than the day. That daily run also writes the erasures to the audit log, for the same
reason. The member's status page learns from ``copies_quoting`` what was sent and what became of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import format_date, gettext
from sqlalchemy import select

from ..accounts.models import User
from ..audit.models import AuditAction, record
from ..extensions import db
from ..kernel import clock
from ..main.home import Panel, home_panel
from ..notifications.models import NotificationKind
from ..notifications.services import deliver_pending, notify_all
from ..testimonies import reach
from ..testimonies.models import Testimony
from .models import Briefing, BriefingVersion, version_testimonies
from .services import BRIEFING_ROLES, may_use_briefings


def _versions_quoting(testimony: Testimony) -> list[BriefingVersion]:
    return list(
        db.session.scalars(
            select(BriefingVersion)
            .join(version_testimonies, version_testimonies.c.version_id == BriefingVersion.id)
            .where(version_testimonies.c.testimony_id == testimony.id)
            .order_by(BriefingVersion.id)
        )
    )


@reach.on_withdrawal
def erase_versions_quoting(testimony: Testimony) -> None:
    """Every published version quoting the testimony: marked, no longer served, bytes erased."""
    on = clock.today()
    for version in _versions_quoting(testimony):
        if version.withdrawn_testimony_on is None:
            version.withdrawn_testimony_on = on
        if version.pdf_erased_on is None:
            version.pdf = b""
            version.html = ""
            version.pdf_erased_on = on
    db.session.flush()


@reach.copies_reporter
def copies_quoting(testimony: Testimony) -> list[reach.SentCopy]:
    """The published versions that sent the testimony's words out, and what became of each."""
    copies = []
    for version in _versions_quoting(testimony):
        briefing = version.briefing
        what = gettext(
            "a briefing for %(audience)s (%(reference)s, version %(number)s)",
            audience=gettext(briefing.audience_label),
            reference=briefing.reference,
            number=version.number,
        )
        copies.append(reach.SentCopy(what, version.published_on, _what_became_of(briefing, version)))
    return copies


# The member reads these on their status page, in the page's language.
def _what_became_of(briefing: Briefing, version: BriefingVersion) -> str:
    if version.pdf_erased_on is None:
        return gettext("the union still holds and sends this version.")
    erased_on = format_date(version.pdf_erased_on, "d MMMM y")
    if briefing.is_withdrawn:
        return gettext(
            "the union has withdrawn that briefing and no longer sends it; "
            "our stored copy was erased on %(erased_on)s.",
            erased_on=erased_on,
        )
    later = [v for v in briefing.published_versions if v.number > version.number and v.withdrawn_testimony_on is None]
    if later:
        return gettext(
            "we no longer send it; our stored copy was erased on %(erased_on)s, and a corrected version without "
            "your words replaced it on %(replaced_on)s.",
            erased_on=erased_on,
            replaced_on=format_date(later[0].published_on, "d MMMM y"),
        )
    return gettext(
        "we no longer send it; our stored copy was erased on %(erased_on)s, and our officials have been told "
        "to publish a corrected version.",
        erased_on=erased_on,
    )


# ---------------------------------------------------------------------------- telling officials


def briefings_needing_correction() -> list[Briefing]:
    """Briefings whose latest published version quoted a testimony since withdrawn."""
    marked = select(BriefingVersion.briefing_id).where(BriefingVersion.withdrawn_testimony_on.is_not(None))
    stmt = select(Briefing).where(Briefing.id.in_(marked)).order_by(Briefing.reference)
    return [briefing for briefing in db.session.scalars(stmt) if briefing.needs_correction]


@home_panel
def withdrawn_testimony_panel(user: Any) -> Panel | None:
    """Shown to officials and admins the moment a member's withdrawal reaches a published briefing."""
    if not may_use_briefings(user):
        return None
    briefings = briefings_needing_correction()
    if not briefings:
        return None
    return Panel("Briefings to correct", "briefings/_correction_panel.html", {"briefings": briefings})


def versions_to_tell() -> list[BriefingVersion]:
    """Versions marked since officials were last e-mailed."""
    stmt = (
        select(BriefingVersion)
        .where(BriefingVersion.withdrawn_testimony_on.is_not(None), BriefingVersion.officials_told_on.is_(None))
        .order_by(BriefingVersion.briefing_id, BriefingVersion.number)
    )
    return list(db.session.scalars(stmt))


def briefing_people() -> list[User]:
    """Everyone who works on briefings (officials and admins), active accounts only."""
    roles = [role.value for role in BRIEFING_ROLES]
    stmt = select(User).where(User.role.in_(roles), User.is_active.is_(True)).order_by(User.email)
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class Notified:
    versions: int
    people: int


def notify_officials(versions: Sequence[BriefingVersion]) -> Notified:
    """Tell every official and admin about the versions, through their inboxes (and e-mail, as
    each chose: references, dates and links only), mark them told and audit each erasure. The
    notifications and marks are committed before any e-mail goes; ``MailError`` leaves the
    e-mails not sent waiting for ``flask notifications send``."""
    if not versions:
        return Notified(0, 0)
    people = briefing_people()
    today = clock.today()
    for version in versions:
        reference = version.briefing.reference
        notify_all(
            people,
            NotificationKind.TESTIMONY_WITHDRAWN,
            f"{reference} version {version.number}, published {version.published_on:%-d %B %Y}, quotes a testimony "
            "since withdrawn: its PDF is no longer served. Publish a corrected version from the briefing's page.",
            reference=reference,
            url=f"/briefings/{reference}",
            key=f"withdrawn-in:{version.id}",
            soon=False,
        )
        version.officials_told_on = today
        record(
            None,
            AuditAction.BRIEFING_VERSION_ERASED,
            version.briefing,
            version=version.number,
            sha256=version.sha256,
            erased_on=version.pdf_erased_on.isoformat() if version.pdf_erased_on else None,
            reason="a quoted testimony was withdrawn",
            officials_told=len(people),
        )
    db.session.flush()
    deliver_pending()
    return Notified(len(versions), len(people))
