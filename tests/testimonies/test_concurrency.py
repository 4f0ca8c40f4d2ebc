"""Fifty members sending at the same moment, over real HTTP: fifty testimonies, fifty codes."""

from __future__ import annotations

import http.cookiejar
import logging
import re
import threading
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import func, select

from napo_tracker.extensions import db
from napo_tracker.testimonies import services
from napo_tracker.testimonies.models import Testimony

from ..helpers import form_tokens

SENDERS = 50


@pytest.fixture
def app_overrides():
    return {"TESTIMONY_SUBMIT_RATE_LIMIT": "1000 per minute"}  # all fifty come from 127.0.0.1


def _member(base_url: str, number: int, barrier: threading.Barrier, results: list) -> None:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:
        with opener.open(f"{base_url}/testimony", timeout=60) as response:
            tokens = form_tokens(response.read())
        body = urllib.parse.urlencode(
            {
                **tokens,
                "text": f"Member {number}: my caseload keeps growing and nobody covers leave.",
                "region": "",
                "grade": "PSO",
                "service_band": "2_5",
                "topics": "workload",
            }
        ).encode()
        barrier.wait(timeout=60)
        with opener.open(f"{base_url}/testimony", data=body, timeout=120) as response:  # follows to the receipt
            page = response.read().decode()
        match = re.search(r'id="receipt-code">([2-9A-Z-]+)<', page)
        results.append((response.status, match.group(1) if match else None))
    except Exception as error:
        results.append(("error", repr(error)))


def test_fifty_concurrent_submissions_store_exactly_fifty(app, live_server, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    barrier = threading.Barrier(SENDERS)
    results: list = []
    threads = [threading.Thread(target=_member, args=(live_server, n, barrier, results)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)

    assert len(results) == SENDERS
    assert all(status == 200 for status, _code in results), results
    codes = {code for _status, code in results}
    assert len(codes) == SENDERS and None not in codes

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Testimony)) == SENDERS
    references = db.session.scalars(select(Testimony.reference)).all()
    assert len(set(references)) == SENDERS and all(r.startswith("TST-") for r in references)
    hashes = set(db.session.scalars(select(Testimony.receipt_hash)))
    assert hashes == {services.receipt_hash(code) for code in codes}
    # The server's own request log leaves the testimony paths out, and only those.
    urllib.request.urlopen(f"{live_server}/healthz", timeout=30).close()
    assert [r for r in caplog.records if r.name == "werkzeug" and "/healthz" in r.getMessage()]
    assert not [r for r in caplog.records if r.name == "werkzeug" and "/testimony" in r.getMessage()]
