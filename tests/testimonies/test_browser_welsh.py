"""A member in Wales sends, checks, answers and withdraws a testimony entirely in Welsh, with
the keyboard alone, on a phone-sized screen; axe-core finds nothing serious at any step."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from napo_tracker.extensions import db
from napo_tracker.testimonies import services

from ..a11y import describe, install_axe, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]  # the pages are the same on either database

PHONE = {"width": 390, "height": 800}
WELSH = (
    "Mae gen i 74 o achosion, ac mae deuddeg ohonyn nhw'n achosion MAPPA. Rydw i'n mynd adref am naw "
    "o'r gloch y nos, ac rydw i'n ofni colli rhywbeth. The WMT says 135% but nobody listens."
)
MAX_TABS = 80


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until ``target`` has the focus, checking at each stop that the focus shows."""
    handle = target.element_handle()
    assert handle is not None
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("element => document.activeElement === element", handle):
            return
        style = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; }"
        )
        if style[0] not in ("BODY", "HTML"):
            assert style[1] != "none" and style[2] != "0px", f"focus not visible on {style[0]}"
    raise AssertionError(f"Tab never reached {target}")


def no_serious_problem(page: Page, step: str) -> None:
    found = serious_violations(page)
    assert not found, describe({step: found})


def code_groups_stay_whole(page: Page) -> bool:
    """Each group of the receipt code lies on one line (a range over it has one box)."""
    return page.evaluate(
        """() => {
            const text = document.getElementById("receipt-code").firstChild;
            let start = 0;
            for (const group of text.textContent.split("-")) {
                const range = document.createRange();
                range.setStart(text, start);
                range.setEnd(text, start + group.length);
                const lines = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
                if (lines.size !== 1) return false;
                start += group.length + 1;
            }
            return true;
        }"""
    )


def test_a_member_does_everything_in_welsh_by_keyboard(browser, live_server, world):
    context = browser.new_context(viewport=PHONE)
    install_axe(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server}/testimony?lang=cy")
        assert page.locator("html").get_attribute("lang") == "cy"
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Dywedwch wrth yr undeb beth mae eich llwyth gwaith yn ei wneud"
        )
        no_serious_problem(page, "send")

        # Sent empty: the errors are announced (an alert) and tied to the field.
        tab_to(page, page.get_by_role("button", name="Anfon fy nhystiolaeth"))
        page.keyboard.press("Enter")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Ysgrifennwch yr hyn rydych am ei ddweud wrthym.")
        text = page.get_by_label("Beth sy'n digwydd yn y gwaith?")
        assert "text-error" in (text.get_attribute("aria-describedby") or "")
        no_serious_problem(page, "send, with errors")

        tab_to(page, text)
        page.keyboard.type(WELSH)
        tab_to(page, page.get_by_label("Llwyth gwaith", exact=True))
        page.keyboard.press("Space")
        tab_to(page, page.get_by_label("Caiff Napo ddyfynnu fy ngeiriau, yn ddienw, mewn briffiau i Aelodau Seneddol"))
        page.keyboard.press("Space")
        tab_to(page, page.get_by_role("button", name="Anfon fy nhystiolaeth"))
        page.keyboard.press("Enter")

        expect(page.get_by_role("heading", level=1)).to_have_text("Diolch. Mae eich tystiolaeth gennym.")
        code = page.locator("#receipt-code").inner_text().strip()
        assert len(code) == 24 and code_groups_stay_whole(page)
        no_serious_problem(page, "receipt")

        # An official asks a question; the member checks with the code.
        testimony = services.find_by_code(code)
        assert testimony is not None and testimony.original_text == WELSH
        services.ask_follow_up(world.official, testimony, "Ers pryd mae hyn wedi bod yn digwydd?")
        db.session.commit()

        tab_to(page, page.get_by_role("link", name="Gwirio fy nhystiolaeth"))
        page.keyboard.press("Enter")
        tab_to(page, page.get_by_label("Eich cod derbynneb"))
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        status = page.locator("#testimony-status")
        expect(status).to_have_text("Wedi'i darllen: mae swyddog wedi gofyn cwestiwn i chi, a ddangosir isod")
        expect(page.get_by_text("Ers pryd mae hyn wedi bod yn digwydd?")).to_be_visible()
        no_serious_problem(page, "status, with a question")

        tab_to(page, page.get_by_label("Eich ateb"))
        page.keyboard.type("Ers mis Medi. Since September, when two officers left.")
        tab_to(page, page.get_by_role("button", name="Anfon fy ateb"))
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").first).to_contain_text("Diolch: mae eich ateb wedi'i anfon at yr undeb.")
        expect(status).to_have_text("Wedi'i darllen: mae swyddog yn darllen eich ateb")
        no_serious_problem(page, "status, answered")

        tab_to(page, page.get_by_label("Ydw, tynnwch fy nhystiolaeth yn ôl a dilëwch yr hyn a ysgrifennais"))
        page.keyboard.press("Space")
        tab_to(page, page.get_by_role("button", name="Tynnu fy nhystiolaeth yn ôl"))
        page.keyboard.press("Enter")
        expect(status).to_have_text("Wedi'i thynnu'n ôl: mae eich geiriau wedi'u dileu o'n cofnodion")
        expect(page.locator("#after-withdrawal")).to_contain_text("Fe dynnoch y dystiolaeth hon yn ôl ar")
        no_serious_problem(page, "status, withdrawn")
        assert page.locator("html").get_attribute("lang") == "cy"
        # Nothing in English left on the member's pages but what the member wrote.
        main = page.locator("main").inner_text()
        for english in ("Check your testimony", "Withdraw", "receipt code", "What has happened"):
            assert english not in main
        db.session.expire_all()
        withdrawn = services.find_by_code(code)
        assert withdrawn is not None and withdrawn.original_text is None
    finally:
        context.close()
