"""The composer: testimonies and questions reordered by plain buttons, a section previewed
before it is saved, and charts that draw only what was chosen, at most the setting's number
of points, each source listed once."""

from __future__ import annotations

import re
from datetime import date, timedelta

from napo_tracker.briefings import services as svc
from napo_tracker.briefings.document import briefing_document, chart_items
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today

from ..helpers import submit
from .conftest import make_evidence, make_testimony


def _buttons(page: str, action: str) -> list[str]:
    return re.findall(rf'action="([^"]*/{action}/[^"]*)"', page)


def test_testimonies_and_questions_move_with_buttons_that_need_no_script(client, login_as, world, full_briefing):
    second = make_testimony(world.official, text="Nobody covers leave any more.")
    svc.set_testimonies(world.official, full_briefing, [second.id, full_briefing.test_testimony.id])
    db.session.commit()
    # Those already chosen keep their place; a new one goes after them.
    assert [t.testimony_id for t in full_briefing.testimonies] == [full_briefing.test_testimony.id, second.id]
    login_as(world.official)
    page = client.get(f"/briefings/{full_briefing.reference}").text
    up = next(url for url in _buttons(page, "move") if f"/testimonies/{second.id}/move/up" in url)
    assert (
        submit(
            client, up, {"expected_version": full_briefing.version}, form_url=f"/briefings/{full_briefing.reference}"
        ).status_code
        == 302
    )
    db.session.refresh(full_briefing)
    assert [t.testimony_id for t in full_briefing.testimonies] == [second.id, full_briefing.test_testimony.id]
    quotes = [q["text"] for s in briefing_document(full_briefing)["sections"] for q in s["testimonies"]]
    assert quotes[0].startswith("Nobody covers leave")

    page = client.get(f"/briefings/{full_briefing.reference}").text
    last = full_briefing.questions[-1]
    up = next(url for url in _buttons(page, "move") if f"/questions/{last.id}/move/up" in url)
    submit(client, up, {"expected_version": full_briefing.version}, form_url=f"/briefings/{full_briefing.reference}")
    db.session.refresh(full_briefing)
    assert full_briefing.questions[0].id == last.id


def test_a_section_is_previewed_with_its_citations_before_it_is_saved(client, login_as, world, full_briefing):
    login_as(world.official)
    section = full_briefing.sections[0]
    url = f"/briefings/{full_briefing.reference}/sections/{section.id}"
    page = client.get(url)
    assert 'rows="18"' in page.text
    body = f"Staff average [={full_briefing.test_item.reference}] of the tool."
    preview = submit(
        client,
        url,
        {
            "kind": "introduction",
            "heading": "Introduction",
            "body": body,
            "expected_version": full_briefing.version,
            "preview": "1",
        },
    )
    assert preview.status_code == 200 and "Preview (not saved)" in preview.text
    assert re.search(r"192% \(London, [A-Z][a-z]+ \d{4}\)", preview.text)
    db.session.refresh(section)
    assert section.body != body


def test_a_chart_draws_what_was_chosen_and_no_more(app, world, briefing):
    official = world.official
    for days in range(10):
        make_evidence(official, region=world.london, value=str(150 + days), as_of=today() - timedelta(days=40 + days))
    make_evidence(official, region=None, value="120")  # national: drawn only when chosen
    wales = make_evidence(official, region=world.wales, value="131", source_title="Wales branch survey")
    section = svc.add_section(official, briefing, kind="risks", heading="Risks", body="Charts.")
    svc.set_section_chart(official, section, metric_code="wmt_percent_avg", region_ids=[], since_on=None)
    latest = chart_items(section)
    assert sorted(i.region.name for i in latest if i.region) == ["London", "Wales"] and all(i.region for i in latest)
    svc.set_section_chart(
        official, section, metric_code="wmt_percent_avg", region_ids=[0, world.wales.id], since_on=None
    )
    assert sorted(i.region.name if i.region else "National" for i in chart_items(section)) == ["National", "Wales"]
    app.config["CHART_MAX_POINTS"] = 4
    svc.set_section_chart(
        official, section, metric_code="wmt_percent_avg", region_ids=[world.london.id], since_on=date(2000, 1, 1)
    )
    assert len(chart_items(section)) == 4  # the newest four of London's ten
    svc.set_section_chart(
        official, section, metric_code=None, region_ids=[], since_on=None, references=[wales.reference]
    )
    assert [i.reference for i in chart_items(section)] == [wales.reference]
    db.session.commit()
    document = briefing_document(briefing)
    assert [s["text"].split(".")[0] for s in document["sources"]] == ["Wales branch survey"]
