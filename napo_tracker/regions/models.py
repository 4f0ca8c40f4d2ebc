from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from ..kernel.labels import N_, LabelledEnum


class UnitKind(LabelledEnum):
    PDU = "pdu", N_("Probation Delivery Unit (PDU)")
    OFFICE = "office", N_("Office")
    COURT_TEAM = "court_team", N_("Court team")
    APPROVED_PREMISES = "approved_premises", N_("Approved premises")
    IOM_TEAM = "iom_team", N_("Integrated offender management (IOM) team")


class Region(Model):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # The branch's own address (not a person's account): told, content-free, when a notice of the
    # region escalates by itself. Empty: nobody beyond the rep and the officials.
    branch_contact_email: Mapped[str | None] = mapped_column(String(254))
    units: Mapped[list[Unit]] = relationship(
        back_populates="region", order_by="Unit.name", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class Unit(Model):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("region_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32), default=UnitKind.PDU.value)
    region: Mapped[Region] = relationship(back_populates="units")

    @property
    def kind_label(self) -> str:
        try:
            return UnitKind(self.kind).label
        except ValueError:
            return self.kind

    def __str__(self) -> str:
        return f"{self.name} ({self.region.name})"


def region_by_name(name: str) -> Region | None:
    """Case-insensitive lookup, as imports and the CLI need."""
    return db.session.scalar(db.select(Region).where(func.lower(Region.name) == name.strip().lower()))
