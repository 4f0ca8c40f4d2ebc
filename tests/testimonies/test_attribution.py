"""Quotes that identify no one: an attribution says only what at least k approved testimonies share."""

from __future__ import annotations

import csv
import io
import re

from pypdf import PdfReader

from napo_tracker.briefings import services as briefing_services
from napo_tracker.extensions import db
from napo_tracker.testimonies.attribution import Attribution, SharedFacts, shown_attribution

from .. import factories

SPO_OVER_20 = "Senior probation officer (SPO), over 20 years in the service"


def approved(world, grade=None, region=None, band=None, **options):
    return factories.make_testimony(
        grade=grade, region=region, service_band=band, approved_by=world.official, mps=True, press=True, **options
    )


def test_every_fact_is_shown_at_k_and_the_rarest_left_out_at_k_minus_one(world):
    """k = 3 (the default): two PSOs in Wales with 2 to 5 years, seven PSOs in Wales in all."""
    target = approved(world, "PSO", world.wales, "2_5")
    approved(world, "PSO", world.wales, "2_5")
    for _ in range(5):
        approved(world, "PSO", world.wales, "over_20")
    assert str(shown_attribution(target)) == "Probation service officer (PSO), Wales"  # k - 1 share all three
    approved(world, "PSO", world.wales, "2_5")
    assert shown_attribution(target) == Attribution("PSO", "Wales", "2_5")  # k share all three
    assert str(shown_attribution(target)) == "Probation service officer (PSO), Wales, 2 to 5 years in the service"


def test_the_region_goes_before_the_grade_and_nothing_is_said_of_one_alone(world):
    target = approved(world, "PO", world.london, "5_10")
    approved(world, "PO", world.london, "5_10")
    approved(world, "PO", world.wales, "5_10")
    # PO in London: 2; PO with 5 to 10 years: 3.
    assert str(shown_attribution(target)) == "Probation officer (PO), 5 to 10 years in the service"
    approved(world, "court", world.wales, "10_20")
    alone = approved(world, "family_court", world.wales, "under_2")
    assert str(shown_attribution(alone)) == "Wales"  # Wales: the PO, the court officer and this one
    db.session.commit()
    assert shown_attribution(alone, SharedFacts(minimum=5)) == Attribution()  # nothing shared by five


def test_only_approved_testimonies_count_and_unknown_facts_are_never_shown(world):
    target = approved(world, "NQO", None, "under_2")
    factories.make_testimony(grade="NQO", service_band="under_2")  # submitted, not approved
    factories.make_testimony(grade="NQO", service_band="under_2", approved_by=world.official).status = "rejected"
    approved(world, "NQO", world.london, "under_2")
    db.session.commit()
    assert shown_attribution(target) == Attribution()  # two approved NQOs, not three
    approved(world, "NQO", world.wales, "2_5")
    assert shown_attribution(target) == Attribution(grade="NQO")  # three approved NQOs; no region given


def test_k_is_a_setting(app, world):
    target = approved(world, "SPO", world.wales, "over_20")
    assert shown_attribution(target) == Attribution()
    app.config["TESTIMONY_ATTRIBUTION_MIN_SHARED"] = 1
    assert str(shown_attribution(target)) == "Senior probation officer (SPO), Wales, over 20 years in the service"


def test_every_place_a_quote_is_shown_or_printed_says_only_what_is_shared(client, login_as, world):
    """A Welsh SPO of over 20 years, among three approved SPOs of over 20 years: 'Wales' never goes with it."""
    target = approved(world, "SPO", world.wales, "over_20")
    approved(world, "SPO", world.london, "over_20")
    approved(world, "SPO", world.london, "over_20")
    briefing = factories.make_briefing(world.official)
    factories.make_section(world.official, briefing, kind="staff_testimonies", heading="Staff testimonies")
    briefing_services.set_testimonies(world.official, briefing, [target.id])
    db.session.commit()
    login_as(world.official)

    page = client.get(f"/testimonies/{target.reference}").get_data(as_text=True)
    assert re.search(r'id="quoted-as">([^<]*)<', page).group(1).strip() == SPO_OVER_20  # type: ignore[union-attr]

    picker = client.get(f"/briefings/{briefing.reference}/testimonies").get_data(as_text=True)
    label = re.search(rf"<strong>{target.reference}</strong>([^:]*):", picker)
    assert label is not None and label.group(1).strip() == SPO_OVER_20

    preview = client.get(f"/briefings/{briefing.reference}/preview").get_data(as_text=True)
    assert f"<footer>— {SPO_OVER_20}</footer>" in preview and "(SPO), Wales" not in preview

    pdf = client.get(f"/briefings/{briefing.reference}/preview.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert SPO_OVER_20 in text and "(SPO), Wales" not in text

    export = client.get("/testimonies/export.csv").get_data(as_text=True)
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(export.lstrip("\ufeff")))}
    shown = rows[target.reference]
    assert (shown["region"], shown["grade"], shown["length_of_service"]) == ("", "SPO", "Over 20 years")
