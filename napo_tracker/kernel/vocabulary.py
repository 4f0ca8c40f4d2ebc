"""The union's own words that every domain shares: grades of staff and roles of staff.

Reps see their regions; national officials and admins see every region. Those two facts
are written here once, as ``Role`` and ``SEES_ALL_REGIONS``, so no view or template
spells a role as a raw string.
"""

from __future__ import annotations

from .labels import LabelledEnum


class Grade(LabelledEnum):
    """Grades of probation and family-court staff, as the seeds name them."""

    PO = "PO", "Probation officer (PO)"
    PSO = "PSO", "Probation service officer (PSO)"
    PQIP = "PQiP", "Trainee (PQiP)"
    NQO = "NQO", "Newly qualified officer (NQO)"
    SPO = "SPO", "Senior probation officer (SPO)"
    ADMIN = "admin", "Administrative staff"
    COURT = "court", "Court staff"
    FAMILY_COURT = "family_court", "Family court staff"


class Role(LabelledEnum):
    """What a staff account may do."""

    REP = "rep", "Rep"
    OFFICIAL = "official", "National official"
    ADMIN = "admin", "Admin"


# Every role of a staff account.
STAFF_ROLES: frozenset[Role] = frozenset(Role)
# National officials and admins see every region; reps see only their own.
SEES_ALL_REGIONS: frozenset[Role] = frozenset({Role.OFFICIAL, Role.ADMIN})


def sees_all_regions(role: str | None) -> bool:
    return role in SEES_ALL_REGIONS
