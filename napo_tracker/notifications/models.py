"""What the app tells people: one line in a person's inbox, and how each person wants to be told.

A notification is content-free by construction: its text is written by the app from
references, dates and labels, never from what a person typed, so it may be e-mailed.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..kernel.clock import utcnow
from ..kernel.labels import N_, LabelledEnum

if TYPE_CHECKING:
    from ..accounts.models import User


class NotificationKind(LabelledEnum):
    CASE_ASSIGNED = "case_assigned", N_("A case assigned to you")
    DEADLINE_DUE = "deadline_due", N_("A deadline coming up or due today")
    DEADLINE_OVERDUE = "deadline_overdue", N_("A deadline overdue")
    NOTICE_ESCALATED = "notice_escalated", N_("A notice escalated, or waiting for you to escalate it")
    TESTIMONY_WAITING = "testimony_waiting", N_("A testimony waiting for moderation")
    FOLLOW_UP_ANSWERED = "follow_up_answered", N_("A member's answer to a follow-up question")
    TESTIMONY_WITHDRAWN = "testimony_withdrawn", N_("A withdrawn testimony in a published briefing")
    JOB_FINISHED = "job_finished", N_("An import or background job finished")


class EmailState(LabelledEnum):
    PENDING = "pending", N_("To be e-mailed")
    DIGEST = "digest", N_("Waiting for the daily digest")
    NONE = "none", N_("In the inbox only")
    SENT = "sent", N_("E-mailed")


class Notification(Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # The same news is told to a person once, however often the daily runs go.
        UniqueConstraint("user_id", "key"),
        Index("ix_notifications_user_unread", "user_id", "read_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(40), default="")  # the record's own reference
    message: Mapped[str] = mapped_column(String(300))  # the app's own words: references and dates
    url: Mapped[str | None] = mapped_column(String(300))  # a path on this site
    key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    email_state: Mapped[str] = mapped_column(String(16), default=EmailState.NONE.value, index=True)
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    @property
    def kind_label(self) -> str:
        return NotificationKind.label_of(self.kind)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationSettings(Model):
    """Which kinds reach a person by e-mail, and whether singly or in one daily digest.
    No row: every kind, singly."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_daily_digest: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
