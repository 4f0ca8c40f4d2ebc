"""The job table: what a background job is for, how far it has got and how it ended.

The table, not Redis, is the record of every job: a page reads a job's progress from it, a
worker claims a job by changing its row, and a job whose message was lost (Redis down or
emptied, a worker killed) is found here and queued again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ..kernel.clock import utcnow
from ..kernel.labels import LabelledEnum

# A job that fails (or whose worker dies) this many times is kept, failed, for an admin to see.
MAX_ATTEMPTS = 3


class JobStatus(LabelledEnum):
    QUEUED = "queued", "Waiting"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Not needed"  # what it was for no longer exists


ACTIVE_STATUSES = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


class Job(Model):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The registered handler ("briefings.publish") and its arguments: ids and ISO dates only.
    name: Mapped[str] = mapped_column(String(64), index=True)
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The union's reference of the record it works on, for people to read ("BRF3-26").
    subject: Mapped[str] = mapped_column(String(120), default="")
    # The same key asks for the same work: a second request while one is waiting, running or
    # done gets that one. Cleared when a job fails for good, so it may be asked for again.
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value, index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    progress_note: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    # Where the outcome is shown (a path on this site), and a sentence saying what was done.
    result_url: Mapped[str | None] = mapped_column(String(500))
    result_note: Mapped[str] = mapped_column(String(500), default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    requested_by_label: Mapped[str] = mapped_column(String(254), default="")  # as the audit log keeps it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    run_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # a retry's back-off
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def status_label(self) -> str:
        return JobStatus.label_of(self.status)
