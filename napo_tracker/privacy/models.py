"""Subject access requests and erasure tombstones."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..kernel.clock import utcnow
from ..kernel.labels import LabelledEnum
from ..storage import STORED_FILE

if TYPE_CHECKING:
    from ..accounts.models import User
    from ..cases.models import Member


class RequestStatus(LabelledEnum):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"


class ReceivedVia(LabelledEnum):
    """How a request reached the union: a fixed list, so that no free text holds personal data."""

    LETTER = "letter", "Letter"
    EMAIL = "email", "E-mail"
    REP = "rep", "Through a rep"
    IN_PERSON = "in_person", "In person"
    OTHER = "other", "Another way"


class SubjectAccessRequest(Model):
    """A member asked for everything the union holds about them: answered within one calendar
    month of receipt (UK GDPR, article 12(3))."""

    __tablename__ = "subject_access_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # SAR-2026-0001
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    received_via: Mapped[str] = mapped_column(String(16), default=ReceivedVia.LETTER.value)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.OPEN.value, index=True)
    exported_on: Mapped[date | None] = mapped_column(Date)
    # The export made on a worker, kept encrypted in the store for the admin to download until
    # the request is answered (or the member erased); then it goes.
    export_file: Mapped[str | None] = mapped_column(String(64), info=STORED_FILE)
    export_made_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_on: Mapped[date | None] = mapped_column(Date)
    last_reminded_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    member: Mapped[Member | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN

    @property
    def status_label(self) -> str:
        return RequestStatus.label_of(self.status)

    @property
    def received_via_label(self) -> str:
        return ReceivedVia.label_of(self.received_via)

    def is_overdue(self, today: date) -> bool:
        return self.is_open and self.due_on < today

    def __str__(self) -> str:
        return self.reference


class TombstoneKind(LabelledEnum):
    MEMBER = "member", "A member erased at their request"
    TESTIMONY = "testimony", "A testimony withdrawn by its member"


class ErasureTombstone(Model):
    """That a record was erased, holding nothing about whom: the record's id, for a member a
    keyed hash of their membership number, and the day. A restore from an older backup applies
    every tombstone again (``privacy.erasure.reapply``). No time of day: a withdrawal is never
    timed finer than the day."""

    __tablename__ = "erasure_tombstones"
    __table_args__ = (UniqueConstraint("kind", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[int] = mapped_column(Integer)
    number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    erased_on: Mapped[date] = mapped_column(Date)
    # A member who also held an account: what the admin chose for it ("kept" or "deactivated").
    account_action: Mapped[str | None] = mapped_column(String(16))
    account_id: Mapped[int | None] = mapped_column(Integer)
