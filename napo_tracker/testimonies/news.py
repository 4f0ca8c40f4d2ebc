"""What officials are told each day about testimonies: those waiting for moderation, and
members' answers to follow-up questions.

Told once a day by the daily notifications run, never at the moment a member writes: a
message sent then would time their testimony to the second, and members are promised that
nothing they do is kept finer than the day. References and days only, never their words.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from ..extensions import db
from ..notifications.models import NotificationKind
from ..notifications.services import all_officials, daily_collector, notify_all
from .models import FollowUp, Testimony, TestimonyStatus

# Answers older than this when the run first sees them are not news any more.
ANSWER_NEWS_DAYS = 14


@daily_collector
def tell_officials(on: date) -> int:
    """Each official once about each testimony waiting and each answer received; how many lines."""
    officials = all_officials()
    if not officials:
        return 0
    told = 0
    waiting = db.session.scalars(
        select(Testimony)
        .where(Testimony.status == TestimonyStatus.SUBMITTED.value, Testimony.submitted_on <= on)
        .order_by(Testimony.submitted_on, Testimony.reference)
    )
    for testimony in waiting:
        told += notify_all(
            officials,
            NotificationKind.TESTIMONY_WAITING,
            f"Testimony {testimony.reference} (received {testimony.submitted_on:%-d %B %Y}) is waiting for moderation.",
            reference=testimony.reference,
            url=f"/testimonies/{testimony.reference}",
            key=f"testimony-waiting:{testimony.id}",
            soon=False,
        )
    answers = db.session.execute(
        select(FollowUp.id, FollowUp.answered_on, Testimony.reference)
        .join(Testimony, Testimony.id == FollowUp.testimony_id)
        .where(FollowUp.answered_on.is_not(None), FollowUp.answered_on >= on - timedelta(days=ANSWER_NEWS_DAYS))
        .order_by(FollowUp.answered_on, FollowUp.id)
    )
    for follow_up_id, answered_on, reference in answers:
        told += notify_all(
            officials,
            NotificationKind.FOLLOW_UP_ANSWERED,
            f"The member answered a follow-up question on testimony {reference} ({answered_on:%-d %B %Y}).",
            reference=reference,
            url=f"/testimonies/{reference}",
            key=f"follow-up-answered:{follow_up_id}",
            soon=False,
        )
    return told
