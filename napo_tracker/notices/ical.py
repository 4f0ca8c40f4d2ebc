"""A person's deadlines as an iCalendar feed (RFC 5545), written with the ``icalendar`` library:
all-day events only.

The feed carries references, dates and a link; never a member's name or workload details,
because calendar services keep and sync what they are given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import icalendar

from ..kernel.clock import utcnow


@dataclass
class Deadline:
    uid: str
    on: date
    summary: str
    description: str
    url: str


def calendar(deadlines: Iterable[Deadline], *, name: str, now: datetime | None = None) -> bytes:
    """The feed's bytes: one transparent all-day event per deadline (it blocks no time)."""
    stamp = now or utcnow()
    feed = icalendar.Calendar()
    feed.add("prodid", "-//napo-tracker//deadlines//EN")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", name)
    for item in deadlines:
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.on)
        event.add("dtend", item.on + timedelta(days=1))
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("url", item.url)
        event.add("transp", "TRANSPARENT")
        feed.add_component(event)
    return feed.to_ical()
