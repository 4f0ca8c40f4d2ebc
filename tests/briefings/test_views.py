"""Briefing pages through the test client: forms, bad input, roles, publishing and downloads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from napo_tracker.briefings.models import Briefing, BriefingSection, Question
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import today
from tests.factories import make_briefing, make_section
from tests.helpers import at_once, form_tokens, postgresql_only, same_browser, submit

from .conftest import make_evidence, make_testimony, saved


def test_only_officials_and_admins_reach_briefings(client, login_as, world, briefing):
    login_as(world.london_rep)
    for url in ("/briefings/", f"/briefings/{briefing.reference}", "/briefings/questions"):
        assert client.get(url).status_code == 403
    login_as(world.admin)
    assert client.get("/briefings/").status_code == 200


def test_starting_a_briefing_and_bad_input(client, login_as, world):
    login_as(world.official)
    bad = submit(client, "/briefings/new", {"title": "", "audience": "mps", "dated_on": "not a date"})
    assert bad.status_code == 400
    assert b"This field is required." in bad.data and b"Not a valid date value." in bad.data
    assert db.session.query(Briefing).count() == 0
    odd = submit(client, "/briefings/new", {"title": "Bad\u202etitle", "audience": "nobody", "dated_on": "2026-11-20"})
    assert odd.status_code == 400 and b"Not a valid choice" in odd.data
    ok = submit(
        client,
        "/briefings/new",
        {
            "title": "Staffing crisis",
            "audience": "press",
            "dated_on": "2026-11-20",
            "signatory_name": "Jo Official",
            "signatory_title": "National Official",
        },
    )
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/briefings/BRF1-26")
    page = client.get("/briefings/BRF1-26")
    assert b"Staffing crisis" in page.data and b"Checks before publishing" in page.data
    assert b"The briefing has no sections yet." in page.data


def test_composing_sections_through_the_pages(client, login_as, world, briefing):
    login_as(world.official)
    url = f"/briefings/{briefing.reference}"
    version = briefing.version
    added = submit(
        client,
        f"{url}/sections",
        {"kind": "risks", "heading": "", "body": "Risk **rises**.", "expected_version": version},
        form_url=url,
    )
    assert added.status_code == 302
    section = db.session.scalar(db.select(BriefingSection))
    assert section.heading == "Risks"
    # a second writer on the same stale page is told, not silently applied
    stale = submit(
        client, f"{url}/sections", {"kind": "free", "body": "late", "expected_version": version}, form_url=url
    )
    assert stale.status_code == 409 and b"Someone else changed" in stale.data
    too_big = submit(
        client, f"{url}/sections/{section.id}", {"kind": "risks", "heading": "Risks", "body": "x" * 100_000}
    )
    assert too_big.status_code == 400 and b"a section may be at most 20,000" in too_big.data
    deep = submit(client, f"{url}/sections/{section.id}", {"kind": "risks", "body": "- " * 400 + "deep"})
    assert deep.status_code == 400 and b"nested at most 12 levels deep" in deep.data
    db.session.expire_all()
    assert saved(BriefingSection, section.id).body == "Risk **rises**."
    preview = client.get(f"{url}/preview")
    assert b"Risk <strong>rises</strong>." in preview.data
    assert client.get("/briefings/document.css").mimetype == "text/css"


def test_a_five_megabyte_section_is_refused_with_a_clear_page(client, login_as, world, briefing):
    login_as(world.official)
    section = make_section(world.official, briefing, kind="free", body="short")
    response = submit(
        client,
        f"/briefings/{briefing.reference}/sections/{section.id}",
        {"kind": "free", "body": "x" * (5 * 1024 * 1024)},
    )
    assert response.status_code == 400
    assert b"This section is 5,242,880 characters long; a section may be at most 20,000." in response.data
    db.session.expire_all()
    assert saved(BriefingSection, section.id).body == "short"


def test_raw_html_in_a_section_is_shown_as_text(client, login_as, world, briefing):
    login_as(world.official)
    make_section(world.official, briefing, kind="free", body="<script>alert(1)</script> <img src=x onerror=y>")
    page = client.get(f"/briefings/{briefing.reference}/preview")
    assert b"<script>alert(1)" not in page.data and b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.data
    assert b"<img src=x" not in page.data


def test_the_evidence_picker_hides_internal_items_and_cites(client, login_as, world, briefing):
    login_as(world.official)
    public = make_evidence(world.official, region=world.london, value="192")
    internal = make_evidence(world.official, region=world.london, value="130", visibility="internal")
    section = make_section(world.official, briefing, kind="regional_evidence", body="")
    url = f"/briefings/{briefing.reference}/evidence"
    page = client.get(url + f"?region={world.london.id}&metric=wmt_percent_avg")
    assert public.reference.encode() in page.data and internal.reference.encode() not in page.data
    nonsense = client.get(url + "?region=abc&metric=%00&since_on=yesterday&verified_only=maybe")
    assert nonsense.status_code == 200 and b"Not a valid date value." in nonsense.data
    assert b"No evidence matches." in client.get(url + "?region=0").data  # nothing national yet
    refused = submit(
        client,
        url,
        {"evidence_reference": internal.reference, "section_id": section.id, "expected_version": briefing.version},
    )
    assert refused.status_code == 400 and b"internal-only evidence" in refused.data
    nul = submit(
        client, url, {"evidence_reference": "EV-\x00", "section_id": section.id, "expected_version": briefing.version}
    )
    assert nul.status_code == 400
    cited = submit(
        client,
        url,
        {"evidence_reference": public.reference, "section_id": section.id, "expected_version": briefing.version},
    )
    assert cited.status_code == 302
    db.session.expire_all()
    assert f"[={public.reference}]" in saved(BriefingSection, section.id).body


def test_the_testimony_picker_offers_only_consented_and_bounds_the_choice(client, login_as, world, briefing):
    login_as(world.official)
    yes = make_testimony(world.official, text="My caseload doubled in a single year and nobody listened.")
    no = make_testimony(world.official, mps=False, press=True, text="I am the only officer left in my team now.")
    url = f"/briefings/{briefing.reference}/testimonies"
    page = client.get(url)
    assert yes.reference.encode() in page.data and no.reference.encode() not in page.data
    many = submit(
        client, url, {"testimony_ids": [str(i) for i in range(1, 5001)], "expected_version": briefing.version}
    )
    assert many.status_code == 400 and b"at most 30 testimonies; you chose 5,000" in many.data
    sneaky = submit(client, url, {"testimony_ids": [str(no.id)], "expected_version": briefing.version})
    assert sneaky.status_code == 400 and b"may not be quoted" in sneaky.data
    ok = submit(client, url, {"testimony_ids": [str(yes.id)], "expected_version": briefing.version})
    assert ok.status_code == 302
    assert [link.testimony_id for link in saved(Briefing, briefing.id).testimonies] == [yes.id]


def test_questions_from_the_bank_and_of_its_own(client, login_as, world, briefing):
    login_as(world.official)
    bad = submit(client, "/briefings/questions", {"text": "short", "topics": ""})
    assert bad.status_code == 400 and b"Field must be between 10 and 1000 characters long." in bad.data
    made = submit(
        client,
        "/briefings/questions",
        {"text": "Will the Minister fund a full staffing review?", "topics": "Staffing, review"},
    )
    assert made.status_code == 302
    question = db.session.scalar(db.select(Question))
    assert question.topics == ["staffing", "review"]
    url = f"/briefings/{briefing.reference}/questions"
    assert submit(client, url, {"question_id": question.id, "expected_version": briefing.version}).status_code == 302
    db.session.expire_all()
    version = saved(Briefing, briefing.id).version
    huge = submit(client, url, {"question_id": str(10**30), "expected_version": version})
    assert huge.status_code == 400
    empty = submit(client, url, {"text": "", "expected_version": version})
    assert empty.status_code == 400 and b"Write a question, or pick one from the bank." in empty.data
    assert (
        submit(
            client, url, {"text": "Who answers for SFOs caused by unsafe workloads?", "expected_version": version}
        ).status_code
        == 302
    )
    db.session.expire_all()
    b = saved(Briefing, briefing.id)
    second = b.questions[1]
    moved = submit(client, f"{url}/{second.id}/move/up", {"expected_version": b.version}, form_url=url)
    assert moved.status_code == 302
    db.session.expire_all()
    b = saved(Briefing, briefing.id)
    assert [q.text[:8] for q in b.questions] == ["Who answ", "Will the"]
    reword_url = f"{url}/{b.questions[1].id}"
    blank = submit(client, reword_url, {"text": "  ", "expected_version": b.version})
    assert blank.status_code == 400 and b"This field is required." in blank.data
    reworded = submit(
        client,
        reword_url,
        {"text": "Will the Minister fund and publish a staffing review?", "expected_version": b.version},
    )
    assert reworded.status_code == 302
    db.session.expire_all()
    assert saved(Briefing, briefing.id).questions[1].text.endswith("publish a staffing review?")
    assert saved(Question, question.id).text == "Will the Minister fund a full staffing review?"


def test_publishing_twice_freezes_one_version(client, login_as, world, full_briefing):
    """The publish button sent twice (a double click): one version, and the repeat is shown it."""
    login_as(world.official)
    url = f"/briefings/{full_briefing.reference}"
    tokens = form_tokens(client.get(url).data)
    sent = {**tokens, "expected_version": full_briefing.version}
    first = client.post(f"{url}/publish", data=sent)
    second = client.post(f"{url}/publish", data=sent)
    assert first.status_code == 302 and second.status_code == 303 and second.location == first.location
    db.session.expire_all()
    assert [v.number for v in saved(Briefing, full_briefing.id).published_versions] == [1]


def test_two_publishes_at_the_same_moment_freeze_one_version(app, backend, world, full_briefing):
    """Two officials press Publish at once, from two pages: one version, the other is told."""
    postgresql_only(backend)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    clients, open_page = same_browser(app, world.official, 2)
    url = f"/briefings/{full_briefing.reference}"
    pages = [form_tokens(open_page(url)) for _ in clients]
    sent = [{**tokens, "expected_version": full_briefing.version} for tokens in pages]

    def publish(data: dict) -> Callable[[FlaskClient], Any]:
        return lambda client: client.post(f"{url}/publish", data=data)

    results = at_once([publish(data) for data in sent], clients)
    assert [r.status_code for r in results] == [302, 302], results
    db.session.expire_all()
    assert [v.number for v in saved(Briefing, full_briefing.id).published_versions] == [1]


def test_publish_download_without_rendering_then_version_two(client, login_as, world, full_briefing, monkeypatch):
    login_as(world.official)
    url = f"/briefings/{full_briefing.reference}"
    assert client.get(f"{url}.pdf").status_code == 404  # nothing published yet
    published = submit(client, f"{url}/publish", {"expected_version": full_briefing.version}, form_url=url)
    assert published.status_code == 302
    db.session.expire_all()
    version = saved(Briefing, full_briefing.id).published_versions[0]
    sha = version.sha256

    def no_render(*args, **kwargs):
        raise AssertionError("a published briefing must not be rendered again")

    monkeypatch.setattr("napo_tracker.pdf.html_to_pdf", no_render)
    monkeypatch.setattr("napo_tracker.briefings.services.html_to_pdf", no_render)
    monkeypatch.setattr("napo_tracker.briefings.services.render_briefing_html", no_render)
    download = client.get(f"{url}.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert hashlib.sha256(download.data).hexdigest() == sha == download.headers["X-Content-SHA256"]
    monkeypatch.undo()

    edited = submit(
        client,
        f"{url}/edit",
        {
            "title": "Workloads, staffing and pay",
            "audience": "mps",
            "dated_on": today().isoformat(),
            "signatory_name": "Jo Official",
            "signatory_title": "National Official",
            "expected_version": version.briefing.version,
        },
    )
    db.session.expire_all()
    b = saved(Briefing, full_briefing.id)
    assert edited.status_code == 302 and b.status == "draft" and b.draft_version == 2
    again = client.get(f"{url}/v1.pdf")
    assert hashlib.sha256(again.data).hexdigest() == sha
    assert client.get(f"{url}.pdf").data == again.data
    assert b"version 2" in client.get(url).data
    withdrawn = submit(client, f"{url}/withdraw", {"expected_version": b.version}, form_url=url)
    assert withdrawn.status_code == 302
    db.session.expire_all()
    assert saved(Briefing, full_briefing.id).status == "withdrawn"
    assert client.get(f"{url}/v1.pdf").status_code == 200


def test_publishing_is_refused_while_a_check_blocks(client, login_as, world):
    login_as(world.official)
    empty = make_briefing(world.official, title="No sections yet", subtitle="", signatory_name="Jo", signatory_title="")
    url = f"/briefings/{empty.reference}"
    response = submit(
        client, f"{url}/publish", {"expected_version": empty.version}, form_url=url, follow_redirects=True
    )
    assert b"cannot be published yet" in response.data and b"has no sections yet" in response.data
    assert saved(Briefing, empty.id).published_versions == []
    preview = client.get(f"{url}/preview")
    assert preview.status_code == 200 and b"This briefing has no sections yet." in preview.data


def test_unknown_briefings_are_404(client, login_as, world):
    login_as(world.official)
    for path in (
        "/briefings/BRF99-26",
        "/briefings/BRF99-26.pdf",
        "/briefings/BRF99-26/v1.pdf",
        "/briefings/BRF99-26/sections/1",
        "/briefings/questions/999",
        "/briefings/%00",
        "/briefings/%00.pdf",
        "/briefings/BRF1-26%00/v1.pdf",
        "/briefings/" + "9" * 5000,
        "/briefings/questions/" + "9" * 30,
        "/briefings/BRF1-26/sections/99999999999",
    ):
        assert client.get(path).status_code == 404, path


def test_regional_drafting_and_chart_blocks_through_the_pages(client, login_as, world, briefing):
    login_as(world.official)
    make_evidence(world.official, region=world.london, value="192")
    url = f"/briefings/{briefing.reference}"
    none = submit(client, f"{url}/regional", {"region_ids": [], "expected_version": briefing.version})
    assert none.status_code == 400 and b"Choose at least one region." in none.data
    forged = submit(client, f"{url}/regional", {"region_ids": ["9999"], "expected_version": briefing.version})
    assert forged.status_code == 400 and b"Choose regions from the list." in forged.data
    drafted = submit(
        client, f"{url}/regional", {"region_ids": [str(world.london.id)], "expected_version": briefing.version}
    )
    assert drafted.status_code == 302 and "/sections/" in drafted.headers["Location"]
    section = db.session.scalar(db.select(BriefingSection))
    assert section.body.startswith("# London")
    chart_url = f"{url}/sections/{section.id}/chart"
    db.session.expire_all()
    version = saved(Briefing, briefing.id).version
    bad = submit(client, chart_url, {"metric_code": "no_such_metric", "expected_version": version})
    assert bad.status_code == 400 and b"Choose a metric from the list." in bad.data
    ok = submit(
        client,
        chart_url,
        {
            "metric_code": "wmt_percent_avg",
            "region_ids": [str(world.london.id)],
            "since_on": "2020-01-01",
            "expected_version": version,
        },
    )
    assert ok.status_code == 302
    preview = client.get(f"{url}/preview")
    assert b'<img src="data:image/svg+xml' in preview.data and b'alt="Chart: ' in preview.data


def test_the_home_page_shows_recent_briefings_to_officials(client, login_as, world, briefing):
    login_as(world.official)
    assert briefing.reference.encode() in client.get("/").data
    login_as(world.london_rep)
    assert briefing.reference.encode() not in client.get("/").data


def test_a_stale_or_tampered_version_changes_nothing(client, login_as, world, full_briefing):
    login_as(world.official)
    url = f"/briefings/{full_briefing.reference}"
    stale = submit(
        client,
        f"{url}/publish",
        {"expected_version": full_briefing.version - 1},
        form_url=url,
        follow_redirects=True,
    )
    assert stale.status_code == 200 and b"Someone else changed" in stale.data
    moved = submit(
        client,
        f"{url}/sections/{full_briefing.sections[1].id}/move/up",
        {"expected_version": full_briefing.version - 1},
        form_url=url,
        follow_redirects=True,
    )
    assert b"Someone else changed" in moved.data
    tampered = submit(
        client,
        f"{url}/edit",
        {"title": "Changed", "audience": "mps", "dated_on": "2026-11-20", "expected_version": "3 OR 1=1"},
    )
    assert tampered.status_code == 400 and b"This form is out of date" in tampered.data
    db.session.expire_all()
    stored = saved(Briefing, full_briefing.id)
    assert stored.title == "Workloads and staffing in probation" and stored.published_versions == []
    assert [s.heading for s in stored.sections][:2] == ["Introduction", "Evidence from the regions"]
