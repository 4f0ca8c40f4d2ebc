"""The demo cases load, cover the regions, and loading twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from napo_tracker.accounts import demo as accounts_demo
from napo_tracker.cases import demo as cases_demo
from napo_tracker.cases.models import Case, CaseStatus, Member
from napo_tracker.extensions import db
from napo_tracker.regions import demo as regions_demo


def test_demo_cases_load_once(app):
    lines: list[str] = []
    regions_demo.load(lines.append)
    accounts_demo.load(lines.append)
    cases_demo.load(lines.append)
    db.session.commit()
    count = db.session.scalar(select(func.count(Case.id)))
    assert count == len(cases_demo.CASES) >= 40
    assert db.session.scalar(select(func.count(func.distinct(Case.region_id)))) == len(regions_demo.REGIONS)
    assert set(db.session.scalars(select(Case.status))) == {s.value for s in CaseStatus}
    nqo = db.session.scalars(select(Case).where(Case.title.like("NQO at 118 %"))).one()
    assert nqo.wmt_percent == 118 and nqo.has_protected_caseload_breach
    assert nqo.member is not None and nqo.member.grade == "NQO"
    cases_demo.load(lines.append)
    db.session.commit()
    assert db.session.scalar(select(func.count(Case.id))) == count
    assert db.session.scalar(select(func.count(Member.id))) == len(cases_demo.MEMBERS)
