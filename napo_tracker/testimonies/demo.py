"""Demo testimonies in the spirit of the seeds' members' voices, written afresh.

Each has a fixed demo receipt code, so the loader finds what it added before (running it
twice adds nothing) and the status page can be tried out with the printed code.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..accounts.models import user_by_email
from ..extensions import db
from ..kernel import clock
from ..regions.models import region_by_name
from . import services as svc
from .models import Testimony

DEMO_OFFICIAL = "official@demo.napo-tracker.test"

# (days ago, region, grade, service band, topics, mps, press, outcome, text, public text or reason, question, answer)
DEMO_TESTIMONIES = [
    (
        41,
        "Wales",
        "PO",
        "over_20",
        ["wellbeing", "recruitment"],
        True,
        True,
        "approved",
        "I have spent more than twenty years in this job and I still believe in it, but I am handing in my notice "
        "in the spring. My blood pressure is up, I sleep four hours a night and I dread Sunday evenings. Every "
        "wellbeing email from headquarters lands on top of cases I have not had time to read properly. I have "
        "watched good colleagues, including people who qualified last year, simply run out of road and go.",
        "I have spent more than twenty years in this job and I still believe in it, but I am handing in my notice. "
        "My blood pressure is up, I sleep four hours a night and I dread Sunday evenings. Every wellbeing email "
        "lands on top of cases I have not had time to read properly. I have watched good colleagues, including "
        "people who qualified last year, simply run out of road and go.",
        None,
        None,
    ),
    (
        37,
        "London",
        "NQO",
        "under_2",
        ["protected_caseload", "workload"],
        True,
        False,
        "approved",
        "Two days after I got my qualification the workload tool already had me at well over a hundred per cent. "
        "We were told the first year would be protected. Instead I was handed domestic abuse cases and two MAPPA "
        "cases that an experienced officer had left behind at the London PDU. My SPO, Dan, is lovely but has "
        "nineteen people to supervise and no time for me.",
        "Two days after I got my qualification the workload tool already had me at well over a hundred per cent. "
        "We were told the first year would be protected. Instead I was handed domestic abuse cases and MAPPA "
        "cases that an experienced officer had left behind. My manager is supportive but has nineteen people to "
        "supervise and no time for me.",
        None,
        None,
    ),
    (
        33,
        "East Midlands",
        "PO",
        "10_20",
        ["sfo_blame", "risk"],
        True,
        False,
        "approved",
        "There is a serious further offence review going on in our team. Everyone knows the officer involved was "
        "carrying far more than anyone could manage safely, and everyone is waiting to see whether they will be "
        "the one hung out to dry. I check and recheck my risk assessments at midnight because I am frightened "
        "that the next review will have my name on it, not the staffing numbers.",
        "There is a serious further offence review going on in our team. Everyone knows the officer involved was "
        "carrying far more than anyone could manage safely, and everyone is waiting to see who will be blamed. "
        "I check and recheck my risk assessments at midnight because I am frightened that the next review will "
        "have my name on it, not the staffing numbers.",
        None,
        None,
    ),
    (
        12,
        "West Midlands",
        "PSO",
        "2_5",
        ["risk", "workload"],
        True,
        True,
        "question",
        "I am a PSO and I hold several high risk domestic abuse cases and one MAPPA case because there is nobody "
        "else to take them. I have not had the training for this and I am not paid for it. When I raised it I "
        "was told everyone has to muck in.",
        None,
        "Roughly how many of your cases are assessed as high risk of harm, and how long has it been like this?",
        None,
    ),
    (
        20,
        "Yorkshire and the Humber",
        "SPO",
        "10_20",
        ["workload"],
        False,
        False,
        "answered",
        "As a senior probation officer I am supposed to supervise around ten staff. I have seventeen, plus a "
        "pile of cases held in my name only because there is no one to allocate them to. I cannot give any of "
        "my team the oversight they deserve.",
        None,
        "Are the cases held in your name being seen by anyone at the moment?",
        "Only when something goes wrong. Duty officers pick them up when there is a crisis, nobody plans them.",
    ),
    (
        9,
        "South West",
        "PO",
        "5_10",
        ["unallocated_cases"],
        False,
        False,
        None,
        "Our office has a list of unallocated cases that gets longer every week. Whoever is on duty sees them, "
        "which means nobody knows them. Last month a new officer found a stack of domestic violence files that "
        "had not been looked at since the summer.",
        None,
        None,
        None,
    ),
    (
        26,
        "West Midlands",
        "court",
        "5_10",
        ["facilities", "it_systems"],
        True,
        False,
        "rejected",
        "At the Birmingham court team the printer has been broken since June and Karen Smith from the admin "
        "office keeps telling us it is our fault. We write reports on laptops that freeze every hour.",
        "Mostly about one named colleague; the workload point is better made by the court team survey.",
        None,
        None,
    ),
    (
        4,
        "London",
        "PQiP",
        "under_2",
        ["workload", "recruitment"],
        True,
        True,
        None,
        "I started my training in Croydon on 3 March and by the end of April I had a caseload bigger than the "
        "officer sitting next to me. Sarah, my practice tutor, has told me to push back but there is nobody to "
        "push back to. I am 24 and already wondering if I should leave. You can call me on 07700 900123.",
        None,
        None,
        None,
    ),
    (
        48,
        "Wales",
        "family_court",
        "over_20",
        ["wellbeing"],
        False,
        True,
        "approved",
        "In family court work the reports keep coming and the deadlines do not move. I have started taking work "
        "home every weekend just to stand still. My own family see less of me than the families I write about.",
        "In family court work the reports keep coming and the deadlines do not move. I have started taking work "
        "home every weekend just to stand still. My own family see less of me than the families I write about.",
        None,
        None,
    ),
    (
        30,
        None,
        "PO",
        "5_10",
        ["it_systems", "workload"],
        False,
        False,
        "approved",
        "I lose at least an hour a day to the case systems freezing or logging me out. Recording a single contact "
        "takes three screens. That hour is an hour I am not with the people I supervise.",
        "I lose at least an hour a day to the case systems freezing or logging me out. Recording a single contact "
        "takes three screens. That hour is an hour I am not with the people I supervise.",
        None,
        None,
    ),
    (
        16,
        "East Midlands",
        "PO",
        "2_5",
        ["workload"],
        True,
        True,
        "withdrawn",
        "I wrote this on a bad night and I would rather it was not used now that I have moved teams.",
        None,
        None,
        None,
    ),
    (
        2,
        "Wales",
        "PSO",
        "2_5",
        ["pay", "recruitment"],
        True,
        False,
        None,
        "I do work that used to be done by qualified officers and I am paid a fraction of their salary. Three of "
        "the PSOs I started with have left for jobs in retail that pay the same and do not follow them home.",
        None,
        None,
        None,
    ),
]


def demo_code(index: int) -> str:
    """A fixed, valid receipt code per demo testimony (never used for real ones)."""
    alphabet = svc.RECEIPT_ALPHABET
    return f"DEMQ-2222-2222-2222-22{alphabet[index // len(alphabet)]}{alphabet[index % len(alphabet)]}"


def load(echo) -> None:
    """Add the demo testimonies that are missing."""
    official = user_by_email(DEMO_OFFICIAL)
    today = clock.today()
    added = 0
    for index, (
        days_ago,
        region_name,
        grade,
        band,
        topics,
        mps,
        press,
        outcome,
        text,
        second,
        question,
        answer,
    ) in enumerate(DEMO_TESTIMONIES):
        code = demo_code(index)
        if db.session.scalar(select(Testimony.id).where(Testimony.receipt_hash == svc.receipt_hash(code))):
            continue
        region = region_by_name(region_name) if region_name else None
        sent_on = today - timedelta(days=days_ago)
        testimony, _code = svc.submit_testimony(
            text=text,
            region_id=region.id if region else None,
            grade=grade,
            service_band=band,
            topics=topics,
            has_mps_consent=mps,
            has_press_consent=press,
            today=sent_on,
            code=code,
        )
        decided_on = sent_on + timedelta(days=min(days_ago, 3))
        if outcome == "approved":
            svc.approve(official, testimony, second, today=decided_on)
        elif outcome == "rejected":
            svc.reject(official, testimony, second, today=decided_on)
        elif outcome in ("question", "answered"):
            follow_up = svc.ask_follow_up(official, testimony, question, today=decided_on)
            if outcome == "answered":
                svc.answer_follow_up(testimony, follow_up.id, answer, today=decided_on + timedelta(days=1))
        elif outcome == "withdrawn":
            svc.withdraw(testimony, today=decided_on)
        added += 1
    db.session.flush()
    echo(
        f"  testimonies: {added} added ({len(DEMO_TESTIMONIES)} in the demo set); "
        f"try /testimony/status with the demo code {demo_code(3)}"
    )
