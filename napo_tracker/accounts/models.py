from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, String, Table, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
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


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), default=Role.REP.value)
    is_active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Two-factor sign-in (accounts/two_factor.py): the TOTP secret, encrypted with the data
    # key; when it was turned on; the last time step used, so a code is never accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    regions: Mapped[list[Region]] = relationship(secondary=user_regions, order_by="Region.name")

    # Not columns: the signed-in session this request belongs to, set at login and by the
    # session loader. The login cookie names it, so ending it logs out every copy of the cookie.
    __allow_unmapped__ = True
    session_token: str | None = None
    login_session: UserSession | None = None

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("a user is named in a login cookie only with a signed-in session")
        return f"{self.id}:{self.session_token}"

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
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None and self.totp_secret is not None

    @property
    def sees_all_regions(self) -> bool:
        """National officials and admins see every region; reps only their own."""
        return sees_all_regions(self.role)

    @property
    def region_names(self) -> str:
        return ", ".join(r.name for r in self.regions) if self.regions else "All regions"

    def __str__(self) -> str:
        return self.display_name


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


class UserSession(Model):
    """One signed-in device: the login cookie carries its token, the table keeps only a hash.

    Logging out, "sign out everywhere", a password change or reset, and deactivating the
    account end sessions here, so a copied cookie stops working at once.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    device: Mapped[str] = mapped_column(String(80), default="")
    is_remembered: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class LoginThrottle(Model):
    """Failed sign-ins against one e-mail address, whoever sent them and from wherever.

    Keyed by a keyed hash of the address as typed (lower-cased), so an address with no
    account is slowed exactly like a real one and the table names nobody.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RecoveryCode(Model):
    """A one-time code that signs in without the authenticator app (a lost phone); kept hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PasswordReset(Model):
    """A password-reset link: single use, short-lived, kept as a hash of its token."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()
