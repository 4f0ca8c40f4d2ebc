"""Anonymity holds: nothing about the sender reaches the database or the logs.

A logged-in rep sends a testimony with a distinctive address, forwarded-for header,
browser, referrer and cookie; then every row of every table and every log line is read.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from napo_tracker.extensions import db, limiter
from napo_tracker.testimonies.models import Testimony

from .. import factories
from ..helpers import csrf_from, form_tokens
from .conftest import LONG_ENOUGH, form_data

ADDRESS = "198.51.100.77"
MARKERS = {
    "forwarded": "MARKER-XFF-4471",
    "agent": "MARKER-UA-Chromeish-9083",
    "referrer": "MARKER-REFERRER-5520",
    "cookie": "MARKER-COOKIE-6618",
    "address": ADDRESS,
}


def _dump() -> dict[str, set[str]]:
    """Every row of every table, as text."""
    return {
        table.name: {repr(tuple(row)) for row in db.session.execute(select(table)).all()}
        for table in db.metadata.sorted_tables
    }


def _rows_pointing_at(user_id: int) -> dict[str, int]:
    """For every column that refers to a user, how many rows refer to this one."""
    return {
        f"{table.name}.{column.name}": db.session.scalar(
            select(func.count()).select_from(table).where(column == user_id)
        )
        or 0
        for table in db.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "users" for fk in column.foreign_keys)
    }


def test_nothing_identifies_a_logged_in_sender(app, client, world, login_as, caplog):
    sender = factories.make_user(
        "rep", [world.london], email="marker.sender.3391@example.org", display_name="MARKER-SENDER-NAME"
    )
    login_as(sender)
    before, pointing_before = _dump(), _rows_pointing_at(sender.id)
    caplog.set_level(logging.DEBUG)
    client.environ_base.update(
        {
            "REMOTE_ADDR": ADDRESS,
            "HTTP_X_FORWARDED_FOR": f"203.0.113.9, {MARKERS['forwarded']}",
            "HTTP_X_REAL_IP": MARKERS["forwarded"],
            "HTTP_USER_AGENT": MARKERS["agent"],
            "HTTP_REFERER": f"https://{MARKERS['referrer']}.example/from",
        }
    )
    client.set_cookie("tracker_id", MARKERS["cookie"])

    # Send, read the receipt, check the status, then answer an official's question.
    form_page = client.get("/testimony").data
    token = csrf_from(form_page)
    response = client.post(
        "/testimony",
        data={
            **form_tokens(form_page),
            "text": LONG_ENOUGH,
            "region": str(world.london.id),
            "grade": "PO",
            "service_band": "5_10",
            "topics": "workload",
            "has_mps_consent": "y",
        },
    )
    assert response.status_code == 302
    page = client.get("/testimony/receipt").get_data(as_text=True)
    code = page.split('id="receipt-code">')[1].split("<")[0]
    assert client.post("/testimony/status", data={"csrf_token": token, "code": code}).status_code == 200

    from napo_tracker.testimonies import services

    testimony = db.session.scalars(select(Testimony)).one()
    follow_up = services.ask_follow_up(world.official, testimony, "Which office?")
    db.session.commit()
    answered = client.post(
        "/testimony/status",
        data={
            "answer-csrf_token": token,
            "answer-code": code,
            "answer-follow_up_id": str(follow_up.id),
            "answer-answer": "A busy one; I would rather not say which.",
            "answer-submit": "y",
        },
    )
    assert answered.status_code == 200

    db.session.expire_all()
    after = _dump()
    everything = "\n".join(row for rows in after.values() for row in rows)
    for name, marker in MARKERS.items():
        assert marker not in everything, f"the {name} was stored"
        assert marker not in caplog.text, f"the {name} was logged"

    new_rows = "\n".join(row for name, rows in after.items() for row in rows - before.get(name, set()))
    assert "testimonies" in after and testimony.reference in new_rows
    for personal in (sender.email, sender.display_name, sender.get_id()):
        assert personal not in new_rows
        assert personal not in caplog.text
    assert _rows_pointing_at(sender.id) == pointing_before  # no new row refers to the sender's account

    # The submission day is stored as a date, nothing finer.
    assert type(testimony.submitted_on).__name__ == "date"
    # The rate limiter's memory holds a salted hash, never the address.
    keys = " ".join(str(key) for key in getattr(limiter.storage, "storage", {}))
    assert ADDRESS not in keys and "testimony:" in keys


def test_a_failed_commit_is_logged_without_the_members_words(app, client, world, monkeypatch, caplog):
    """The request's commit runs after the view, outside the blueprint's error handler: what
    Flask logs of it keeps the exception's type only."""
    secret_words = "MARKER-words-in-a-failed-commit"
    tokens = form_tokens(client.get("/testimony").data)

    def refused() -> None:
        raise RuntimeError(f"the database said no to {secret_words}")

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: Flask logs, then answers 500
    monkeypatch.setattr(db.session, "commit", refused)
    caplog.set_level(logging.DEBUG)
    data = form_data(text=f"{secret_words} and {LONG_ENOUGH}")
    response = client.post("/testimony", data={**tokens, **data})
    assert response.status_code == 500
    assert "RuntimeError" in caplog.text
    assert secret_words not in caplog.text
    monkeypatch.undo()
    assert db.session.scalar(select(func.count()).select_from(Testimony)) == 0
