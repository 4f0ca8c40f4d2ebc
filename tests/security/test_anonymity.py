"""The anonymity canaries: whoever sends a testimony, signed in or not, leaves no trace of who
they are. Their account id, e-mail, name, address, browser, referrer and cookies appear in no
table and in no log line, and no row comes to point at their account.

The member's whole journey is walked (send, receipt, status, answer, withdraw), and it must
cover every public page of testimonies: a new one fails here until the journey uses it.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from napo_tracker.accounts.models import UserSession
from napo_tracker.extensions import db
from napo_tracker.kernel.clock import utcnow
from napo_tracker.testimonies import services
from napo_tracker.testimonies.models import Testimony

from ..factories import TESTIMONY_TEXT
from ..helpers import submission_token_from
from .probe import url_map_app
from .routes import ACCESS, Role

ADDRESS = "198.51.100.77"
MARKERS = {
    "address": ADDRESS,
    "forwarded address": "MARKER-XFF-4471",
    "browser": "MARKER-UA-Chromeish-9083",
    "referrer": "MARKER-REFERRER-5520",
    "cookie": "MARKER-COOKIE-6618",
}


def _public_testimony_endpoints() -> set[str]:
    app = url_map_app()
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("testimonies.")
        and any(policy.is_public for policy in ACCESS[rule.endpoint].values())
    }


def _dump() -> dict[str, set[str]]:
    db.session.expire_all()
    return {
        table.name: {repr(tuple(row)) for row in db.session.execute(select(table)).all()}
        for table in db.metadata.sorted_tables
    }


def _rows_pointing_at(user_id: int) -> dict[str, int]:
    return {
        f"{table.name}.{column.name}": db.session.scalar(
            select(func.count()).select_from(table).where(column == user_id)
        )
        or 0
        for table in db.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "users" for fk in column.foreign_keys)
    }


@pytest.mark.parametrize("role", ["anonymous", "rep_a", "official", "admin"])
def test_a_testimony_leaves_no_trace_of_its_sender(app, scene, visitor, caplog, role: Role):
    visitor.become(role)
    sender = visitor.user()
    client = visitor.client
    client.environ_base.update(
        {
            "REMOTE_ADDR": ADDRESS,
            "HTTP_X_FORWARDED_FOR": f"203.0.113.9, {MARKERS['forwarded address']}",
            "HTTP_X_REAL_IP": MARKERS["forwarded address"],
            "HTTP_USER_AGENT": MARKERS["browser"],
            "HTTP_REFERER": f"https://{MARKERS['referrer']}.example/from",
        }
    )
    client.set_cookie("tracker_id", MARKERS["cookie"])
    if sender is not None:  # last used a while ago: a request now would be written down
        db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    before = _dump()
    pointing = _rows_pointing_at(sender.id) if sender is not None else {}
    caplog.set_level(logging.DEBUG)
    visited: set[str] = set()

    def visit(method: str, url: str, expected: int, **data: str):
        response = client.open(url, method=method, data={"csrf_token": visitor.token, **data} if data else None)
        assert response.status_code == expected, f"{method} {url}: {response.status_code} {response.text}"
        visited.add(app.url_map.bind("localhost").match(url.split("?")[0], method=method)[0])
        return response.get_data(as_text=True)

    form = visit("GET", "/testimony", 200)
    fields = {"text": TESTIMONY_TEXT, "region": str(scene.london_id), "grade": "PO", "service_band": "5_10"}
    fields["submission_token"] = submission_token_from(form) or ""
    visit("POST", "/testimony", 302, **fields, topics="workload", has_mps_consent="y")
    receipt = visit("GET", "/testimony/receipt", 200)
    match = re.search(r'id="receipt-code">([^<]+)<', receipt)
    assert match, "no receipt code shown"
    code = match.group(1)
    visit("GET", "/testimony/status", 200)
    visit("POST", "/testimony/status", 200, code=code)
    testimony = db.session.scalars(select(Testimony).order_by(Testimony.id.desc()).limit(1)).one()
    follow_up = services.ask_follow_up(None, testimony, "Which office?")
    db.session.commit()
    token = visitor.token
    answer = {"answer-csrf_token": token, "answer-code": code, "answer-follow_up_id": str(follow_up.id)}
    answer["answer-submit"] = "y"
    visit("POST", "/testimony/status", 200, **answer, **{"answer-answer": "A busy one; I would rather not say."})
    withdraw = {"withdraw-csrf_token": token, "withdraw-code": code, "withdraw-confirm": "y", "withdraw-submit": "y"}
    visit("POST", "/testimony/status", 200, **withdraw)
    assert visited >= _public_testimony_endpoints(), f"not walked: {_public_testimony_endpoints() - visited}"

    after = _dump()
    everything = "\n".join(row for rows in after.values() for row in rows)
    for name, marker in MARKERS.items():
        assert marker not in everything, f"the sender's {name} was stored"
        assert marker not in caplog.text, f"the sender's {name} was logged"
    if sender is not None:
        new_rows = "\n".join(row for name, rows in after.items() for row in rows - before.get(name, set()))
        for personal in (sender.email, sender.display_name, sender.get_id(), f"'{sender.id}:"):
            assert personal not in new_rows, f"{personal} stored"
            assert personal not in caplog.text, f"{personal} logged"
        assert _rows_pointing_at(sender.id) == pointing, "a row came to point at the sender's account"
        # Their signed-in session was not even touched (its last use would date the testimony).
        assert after["user_sessions"] == before["user_sessions"]
    assert type(testimony.submitted_on).__name__ == "date"  # the day, nothing finer
