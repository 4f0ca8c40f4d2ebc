from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Column, DateTime, ForeignKey, String, Table, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db, login_manager
from ..kernel.clock import utcnow
from ..kernel.vocabulary import Role, sees_all_regions

if TYPE_CHECKING:
    from ..regions.models import Region


user_regions = Table(
    "user_regions",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True),
)


def new_session_nonce() -> str:
    return secrets.token_urlsafe(16)


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), default=Role.REP.value)
    is_active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    # Part of the login cookie: changing it (password change, deactivation) ends every session.
    session_nonce: Mapped[str] = mapped_column(String(64), default=new_session_nonce)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    regions: Mapped[list[Region]] = relationship(secondary=user_regions, order_by="Region.name")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    @property
    def is_rep(self) -> bool:
        return self.role == Role.REP

    @property
    def is_official(self) -> bool:
        return self.role == Role.OFFICIAL

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def sees_all_regions(self) -> bool:
        """National officials and admins see every region; reps only their own."""
        return sees_all_regions(self.role)

    @property
    def region_names(self) -> str:
        return ", ".join(r.name for r in self.regions) if self.regions else "All regions"

    def __str__(self) -> str:
        return self.display_name


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load from the cookie; a deactivated user or a stale nonce means logged out."""
    ident, _, nonce = user_id.partition(":")
    if not ident.isdigit() or not nonce:
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.is_active or not secrets.compare_digest(user.session_nonce, nonce):
        return None
    return user


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
