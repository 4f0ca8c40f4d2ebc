"""Letter templates and the letters sent from them.

A template's body is plain text with merge fields (``{{ case.reference }}``); a sent letter
keeps the PDF as sent, encrypted (it names the member), with the SHA-256 of the PDF as
served, so a reprint can be checked against it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..crypto import EncryptedBytes
from ..extensions import Model
from ..kernel.clock import utcnow
from ..kernel.labels import N_, LabelledEnum


class LetterKind(LabelledEnum):
    GRIEVANCE = "grievance", N_("Grievance")
    REPRESENTATION = "representation", N_("Representation at a meeting")
    SUBJECT_ACCESS = "subject_access", N_("Subject access request to the employer")
    FORESEEABILITY = "foreseeability", N_("Foreseeability notice")
    OTHER = "other", N_("Other")


class LetterTemplate(Model):
    __tablename__ = "letter_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default=LetterKind.OTHER.value)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    is_archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self) -> str:
        return LetterKind.label_of(self.kind)


class SentLetter(Model):
    """A letter as it was sent: never changed afterwards."""

    __tablename__ = "sent_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("letter_templates.id", ondelete="SET NULL"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("foreseeability_notices.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    pdf: Mapped[bytes] = deferred(mapped_column(EncryptedBytes, nullable=False))
    sha256: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    template: Mapped[LetterTemplate | None] = relationship()
