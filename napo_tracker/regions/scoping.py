"""Regional scoping: a rep sees the records of their own regions; officials and admins see all.

Every region-owned record is loaded through ``get_for_user_or_404`` (a record outside the
user's regions answers 404, exactly like a missing one, so ids cannot be probed) and every
list is narrowed by ``scope_to_regions``. Asking for a record of another region is audited,
and the entry stands although the request that asked is rolled back.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from flask import abort
from sqlalchemy import Select, or_, select

from ..audit.models import AuditAction, record_independently
from ..extensions import db
from .models import Region


class RegionalUser(Protocol):
    """What scoping needs of a user: whether they see every region, and which they hold."""

    @property
    def sees_all_regions(self) -> bool: ...

    @property
    def regions(self) -> list[Region]: ...


def region_ids_for(user: RegionalUser) -> set[int] | None:
    """The region ids a user may see, or None for every region."""
    if user.sees_all_regions:
        return None
    return {region.id for region in user.regions}


def can_access_region(user: RegionalUser, region_id: int | None) -> bool:
    ids = region_ids_for(user)
    return ids is None or (region_id is not None and region_id in ids)


def scope_to_regions(stmt: Select, region_column: Any, user: RegionalUser, *, with_national: bool = False) -> Select:
    """Limit any query of a region-owned record to the user's regions (and, ``with_national``,
    to the records of no region, which describe the whole service and are everyone's)."""
    ids = region_ids_for(user)
    if ids is None:
        return stmt
    if with_national:
        return stmt.where(or_(region_column.in_(ids), region_column.is_(None)))
    return stmt.where(region_column.in_(ids))


T = TypeVar("T")


def get_for_user_or_404(
    user: RegionalUser, model: type[T], *criteria: Any, region_column: Any = None, with_national: bool = False
) -> T:
    """Load one region-owned record within the user's regions, or abort 404.

    Out-of-region and missing records answer the same, so ids cannot be probed; an attempt on
    a record that exists in another region is audited all the same.
    ``with_national``: a record of no region (national) is open to everyone.
    """
    column = region_column if region_column is not None else model.region_id  # type: ignore[attr-defined]
    stmt = scope_to_regions(select(model).where(*criteria), column, user, with_national=with_national)
    found = db.session.scalar(stmt)
    if found is None:
        if region_ids_for(user) is not None:
            _audit_refusal(user, model, criteria)
        abort(404)
    return found


def _audit_refusal(user: RegionalUser, model: type, criteria: tuple[Any, ...]) -> None:
    elsewhere = db.session.scalar(select(model).where(*criteria))
    if elsewhere is None:
        return  # nothing there: a mistyped reference, not an attempt on a record
    ref = getattr(elsewhere, "pseudonym", None) or getattr(elsewhere, "reference", None) or elsewhere.id
    record_independently(
        user,
        AuditAction.ACCESS_REFUSED,
        (getattr(model, "__tablename__", model.__name__), ref),
        region_id=getattr(elsewhere, "region_id", None),
    )
