"""Numbers in a section's own words that no citation covers.

An MP's researcher will check every number in a briefing. A number counts as cited when its
sentence carries a citation (``[=EV-0001]`` or ``[EV-0001]``). What is plainly not a
statistic is left alone: years ("2014", "the 2000s"), dates ("2 December 2026",
"31/01/2023", "March 2022"), ages ("aged 45", "a 45-year-old"), question and list numbers
("1." at the start of a line, "question 3") and numbers inside words or references
("BRF26-14", "PQ 12345"). Anything else is listed with its sentence until it is cited or an
official marks it "not a statistic" (the mark is kept per number and sentence, so rewording
the sentence asks again).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .markdown import CITATION

MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
NUMBER = re.compile(r"(?<![\w.,/])(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s?%|\s?per\s?cent)?(?![\w/]|\.\d|,\d{3})")
_NOT_STATISTICS = [
    re.compile(r"\b[A-Za-z]+-?\d[\w-]*"),  # references and codes: BRF26-14, EV-0001, PQ12345, SFO2
    re.compile(r"\b(?:PQ|HL|UIN)\s?\d+\b"),  # parliamentary question numbers
    re.compile(r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:" + MONTHS + r")\b(?:\s+\d{4})?", re.I),  # 2 December 2026
    re.compile(r"\b(?:" + MONTHS + r")\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?\b", re.I),  # December 2, 2026
    re.compile(r"\b(?:" + MONTHS + r")\s+\d{4}\b", re.I),  # March 2022
    re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),  # 31/01/2023
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),  # 2023-01-31
    re.compile(r"\b(?:19|20)\d{2}(?:\s*[-–/]\s*(?:19|20)?\d{2})?(?:['’]?s)?\b"),  # 2014, 2022-23, the 2000's
    re.compile(r"\baged?\s+\d{1,3}\b", re.I),  # aged 45
    re.compile(r"\b\d{1,3}[-\s]years?[-\s]old\b", re.I),  # 45-year-old, 45 years old
    re.compile(r"\b(?:question|q|no\.?|number|section|paragraph|page|clause|article)\s*\d+\b", re.I),
]
_LIST_NUMBER = re.compile(r"^\s{0,3}\d{1,3}[.)]\s", re.M)  # "1. Whilst HMPPS …": a question's number
# "… the tool. [EV-0002]": a mark just after a sentence's full stop is that sentence's citation.
_TRAILING_MARK = re.compile(r"([.!?])([ \t]+)(\[=?EV-[A-Za-z0-9][A-Za-z0-9-]{0,30}\])")
_SENTENCE = re.compile(r"[^\n]+?(?:[.!?]+(?=\s|$)|$)", re.M)


@dataclass(frozen=True)
class UncitedNumber:
    text: str  # the number as written: "9,999", "192%"
    sentence: str
    key: str  # what a "not a statistic" mark is kept under

    def __str__(self) -> str:
        return self.text


def number_key(text: str, sentence: str) -> str:
    normal = " ".join(sentence.split()).lower()
    return hashlib.sha256(f"{text}\x1f{normal}".encode()).hexdigest()[:20]


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def uncited_numbers(body: str) -> list[UncitedNumber]:
    """Each number in ``body`` that is neither cited nor plainly a date, year, age or question
    number, with its sentence, in order (a number repeated in one sentence once)."""
    text = _TRAILING_MARK.sub(r"\2\3\1", _blank(body or "", _LIST_NUMBER))
    found: list[UncitedNumber] = []
    seen: set[str] = set()
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0)
        if CITATION.search(sentence):
            continue  # a sentence with a citation: its numbers are the cited figure's
        masked = sentence
        for pattern in _NOT_STATISTICS:
            masked = _blank(masked, pattern)
        shown = " ".join(sentence.split())
        for number in NUMBER.finditer(masked):
            written = number.group(0).strip()
            key = number_key(written, shown)
            if key not in seen:
                seen.add(key)
                found.append(UncitedNumber(written, shown, key))
    return found
