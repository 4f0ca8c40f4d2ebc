"""Regions and units: reps see only their own; admins create, rename and edit, audited."""

from __future__ import annotations

from sqlalchemy import select

from napo_tracker.audit.models import AuditAction, AuditEvent
from napo_tracker.extensions import db
from napo_tracker.regions.models import Region, Unit

from ..factories import make_user, unit
from ..helpers import count, csrf_from, one, submit


def _count(model) -> int:
    return count(model)


def _events(action: AuditAction) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_rep_sees_only_their_regions_units(client, world, login_as):
    login_as(world.london_rep)
    page = client.get("/regions/")
    assert page.status_code == 200
    assert b"London PDU" in page.data and b"London IOM" in page.data
    assert b"Wales" not in page.data and b"Cardiff" not in page.data
    assert b"Add a region" not in page.data

    detail = client.get(f"/regions/{world.london.id}")
    assert detail.status_code == 200
    assert b"London PDU" in detail.data and b"Add a unit" not in detail.data


def test_another_regions_page_is_404_like_a_missing_one(client, world, login_as):
    login_as(world.london_rep)
    other = client.get(f"/regions/{world.wales.id}")
    missing = client.get("/regions/99999")
    assert other.status_code == missing.status_code == 404
    assert other.data == missing.data
    assert b"Cardiff" not in other.data
    # The attempt on a region that exists is written down, by its id (a region has no reference).
    (entry,) = _events(AuditAction.ACCESS_REFUSED)
    assert (entry.actor_id, entry.target_type, entry.target_ref) == (
        world.london_rep.id,
        "regions",
        str(world.wales.id),
    )


def test_an_attempt_on_another_regions_record_is_written_down_by_its_reference_and_region(client, world, login_as):
    """The refusal names the record as people know it (a member by pseudonym, a case or notice by
    reference) and the region it sits in; a region itself, which has neither, by its id."""
    from ..factories import make_case, make_member, make_notice

    member = make_member(world.wales_rep, world.wales)
    case = make_case(world.wales_rep, world.wales, member_id=member.id)
    notice = make_notice(world.wales_rep, world.wales)
    login_as(world.london_rep)
    for url in (f"/cases/{case.reference}", f"/cases/members/{member.id}", f"/notices/{notice.reference}"):
        assert client.get(url).status_code == 404
    assert [(e.target_type, e.target_ref, e.details) for e in _events(AuditAction.ACCESS_REFUSED)] == [
        ("cases", case.reference, {"region_id": world.wales.id}),
        ("members", member.pseudonym, {"region_id": world.wales.id}),
        ("foreseeability_notices", notice.reference, {"region_id": world.wales.id}),
    ]


def test_officials_and_admins_see_every_region(client, world, login_as):
    for user in (world.official, world.admin):
        login_as(user)
        page = client.get("/regions/")
        assert b"London PDU" in page.data and b"Cardiff and the Vale" in page.data
        assert client.get(f"/regions/{world.wales.id}").status_code == 200


def test_admin_adds_a_region_and_a_unit(client, world, login_as):
    login_as(world.admin)
    response = submit(client, "/regions/new", {"name": "  North East  "}, form_url="/regions/")
    assert response.status_code == 302
    region = one(select(Region).where(Region.name == "North East"))
    assert response.headers["Location"] == f"/regions/{region.id}"
    assert _events(AuditAction.REGION_CREATED)[-1].details == {"name": "North East"}

    url = f"/regions/{region.id}"
    response = submit(
        client, url, {"unit-name": "Tyneside", "unit-kind": "pdu", "unit-submit": "Save unit"}, field="unit-csrf_token"
    )
    assert response.status_code == 302
    assert [(u.name, u.kind) for u in region.units] == [("Tyneside", "pdu")]
    assert b"Probation Delivery Unit (PDU)" in client.get(url).data
    assert _events(AuditAction.UNIT_CREATED)[-1].details == {"region": "North East", "name": "Tyneside", "kind": "pdu"}


def test_admin_renames_a_region(client, world, login_as):
    login_as(world.admin)
    url = f"/regions/{world.wales.id}"
    response = submit(client, url, {"region-name": "Cymru", "region-submit": "Save region"}, field="region-csrf_token")
    assert response.status_code == 302
    db.session.expire_all()
    assert world.wales.name == "Cymru"
    assert _events(AuditAction.REGION_CHANGED)[-1].details == {"old_name": "Wales", "name": "Cymru"}


def test_admin_edits_a_unit(client, world, login_as):
    login_as(world.admin)
    swansea = unit(world.wales, "Swansea")
    url = f"/regions/units/{swansea.id}"
    assert client.get(url).status_code == 200
    response = submit(client, url, {"name": "Swansea approved premises", "kind": "approved_premises"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (swansea.name, swansea.kind) == ("Swansea approved premises", "approved_premises")
    assert _events(AuditAction.UNIT_CHANGED)[-1].target_ref == str(swansea.id)


BAD_REGION_NAMES = [
    ("", b"This field is required."),
    ("   ", b"This field is required."),
    ("x" * 10_000, b"Field cannot be longer than 120 characters."),
    ("LONDON", b"A region called LONDON already exists."),
    ("North\x00East", b"characters we cannot accept"),
    ("North\u202eEast", b"characters we cannot accept"),
]


def test_region_form_bad_input(client, world, login_as):
    login_as(world.admin)
    for name, message in BAD_REGION_NAMES:
        response = submit(client, "/regions/new", {"name": name}, form_url="/regions/")
        assert response.status_code == 400, name[:20]
        assert message in response.data, name[:20]
    assert _count(Region) == 2


BAD_UNITS = [
    ({"unit-name": "", "unit-kind": "pdu"}, b"This field is required."),
    ({"unit-name": "x" * 10_000, "unit-kind": "pdu"}, b"Field cannot be longer than 120 characters."),
    ({"unit-name": "london pdu", "unit-kind": "pdu"}, b"London already has a unit called london pdu."),
    ({"unit-name": "Secret bunker", "unit-kind": "bunker"}, b"Not a valid choice."),
]


def test_unit_form_bad_input(client, world, login_as):
    login_as(world.admin)
    for data, message in BAD_UNITS:
        response = submit(
            client, f"/regions/{world.london.id}", {**data, "unit-submit": "Save unit"}, field="unit-csrf_token"
        )
        assert response.status_code == 400, data
        assert message in response.data, data
    assert _count(Unit) == 4


def test_unit_edit_refuses_a_clashing_name(client, world, login_as):
    login_as(world.admin)
    iom = unit(world.london, "London IOM")
    response = submit(client, f"/regions/units/{iom.id}", {"name": "LONDON PDU", "kind": "iom_team"})
    assert response.status_code == 400
    assert b"London already has a unit called LONDON PDU." in response.data
    db.session.expire_all()
    assert iom.name == "London IOM"


def test_html_in_names_is_shown_escaped(client, world, login_as):
    login_as(world.admin)
    submit(client, "/regions/new", {"name": "<img src=x onerror=alert(1)>"}, form_url="/regions/")
    page = client.get("/regions/")
    assert b"<img src=x" not in page.data
    assert b"&lt;img src=x onerror=alert(1)&gt;" in page.data


def test_non_admins_cannot_change_regions_or_units(client, world, login_as):
    login_as(world.london_rep)
    token = csrf_from(client.get("/account/password").data)
    assert client.post("/regions/new", data={"csrf_token": token, "name": "Elsewhere"}).status_code == 403
    response = client.post(
        f"/regions/{world.london.id}",
        data={"unit-csrf_token": token, "unit-name": "Rogue unit", "unit-kind": "pdu", "unit-submit": "Save unit"},
    )
    assert response.status_code == 403
    # out of region: the same 404 as for a missing region, before any role check
    assert (
        client.post(f"/regions/{world.wales.id}", data={"unit-csrf_token": token, "unit-name": "x"}).status_code == 404
    )
    pdu = unit(world.london, "London PDU")
    assert client.get(f"/regions/units/{pdu.id}").status_code == 403
    assert _count(Region) == 2 and _count(Unit) == 4


def test_official_cannot_change_regions(client, world, login_as):
    login_as(world.official)
    assert b"Add a region" not in client.get("/regions/").data
    token = csrf_from(client.get("/account/password").data)
    assert client.post("/regions/new", data={"csrf_token": token, "name": "Elsewhere"}).status_code == 403


def test_a_rep_of_several_regions_sees_each_of_them(client, world, login_as):
    both = make_user("rep", [world.london, world.wales], email="rep.both@example.org")
    login_as(both)
    page = client.get("/regions/")
    assert b"London PDU" in page.data and b"Cardiff and the Vale" in page.data
    assert client.get(f"/regions/{world.wales.id}").status_code == 200


def test_admin_sets_a_branch_contact_and_a_bad_address_is_refused(client, world, login_as):
    login_as(world.admin)
    url = f"/regions/{world.wales.id}"
    fields = {"region-name": "Wales", "region-submit": "Save region"}
    bad = submit(client, url, {**fields, "region-branch_contact_email": "not an address"}, field="region-csrf_token")
    assert bad.status_code == 400 and "Enter an e-mail address, or leave it empty." in bad.get_data(as_text=True)
    good = submit(
        client, url, {**fields, "region-branch_contact_email": "wales@napo.example"}, field="region-csrf_token"
    )
    assert good.status_code == 302
    db.session.expire_all()
    assert world.wales.branch_contact_email == "wales@napo.example"
    assert _events(AuditAction.REGION_CHANGED)[-1].details["branch_contact_changed"] is True
    cleared = submit(client, url, {**fields, "region-branch_contact_email": ""}, field="region-csrf_token")
    assert cleared.status_code == 302
    db.session.expire_all()
    assert world.wales.branch_contact_email is None
