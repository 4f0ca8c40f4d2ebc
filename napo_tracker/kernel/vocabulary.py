"""The union's own words that every domain shares: grades of staff and roles of staff.

Reps see their regions; national officials and admins see every region. Those two facts
are written here once, as ``Role`` and ``SEES_ALL_REGIONS``, so no view or template
spells a role as a raw string.
"""

from __future__ import annotations

from .labels import N_, LabelledEnum


class Grade(LabelledEnum):
    """Grades of probation and family-court staff, as the seeds name them."""

    PO = "PO", N_("Probation officer (PO)")
    PSO = "PSO", N_("Probation service officer (PSO)")
    PQIP = "PQiP", N_("Trainee (PQiP)")
    NQO = "NQO", N_("Newly qualified officer (NQO)")
    SPO = "SPO", N_("Senior probation officer (SPO)")
    ADMIN = "admin", N_("Administrative staff")
    COURT = "court", N_("Court staff")
    FAMILY_COURT = "family_court", N_("Family court staff")


class Role(LabelledEnum):
    """What a staff account may do."""

    REP = "rep", N_("Rep")
    OFFICIAL = "official", N_("National official")
    ADMIN = "admin", N_("Admin")


# Every role of a staff account.
STAFF_ROLES: frozenset[Role] = frozenset(Role)
# National officials and admins see every region; reps see only their own.
SEES_ALL_REGIONS: frozenset[Role] = frozenset({Role.OFFICIAL, Role.ADMIN})


def sees_all_regions(role: str | None) -> bool:
    return role in SEES_ALL_REGIONS
