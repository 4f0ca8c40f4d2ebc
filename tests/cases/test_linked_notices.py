"""A case page lists the foreseeability notices served about it, with their deadlines."""

from __future__ import annotations

from datetime import timedelta

from napo_tracker.extensions import db
from napo_tracker.kernel import clock
from napo_tracker.notices import services as notice_services

from ..notices.conftest import details_for


def test_the_case_page_lists_its_notices_with_their_deadline(client, login_as, world, make_case):
    case = make_case()
    other = make_case(title="Another concern")
    linked = notice_services.create_notice(world.london_rep, details_for(world.london, case_reference=case.reference))
    notice_services.serve_notice(world.london_rep, linked, clock.today() - timedelta(days=40))
    unlinked = notice_services.create_notice(
        world.london_rep, details_for(world.london, case_reference=other.reference)
    )
    db.session.commit()

    login_as(world.london_rep)
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert linked.reference in page and unlinked.reference not in page
    assert "Overdue" in page  # served 40 days ago with no response
    assert "No notice has been served" in client.get(f"/cases/{make_case(title='Third').reference}").get_data(
        as_text=True
    )


def test_notices_for_a_case_stay_within_the_users_regions(world, make_case):
    case = make_case()
    notice_services.create_notice(world.london_rep, details_for(world.london, case_reference=case.reference))
    db.session.commit()
    assert len(notice_services.notices_for_case(world.london_rep, case.id)) == 1
    assert len(notice_services.notices_for_case(world.official, case.id)) == 1
    assert notice_services.notices_for_case(world.wales_rep, case.id) == []
