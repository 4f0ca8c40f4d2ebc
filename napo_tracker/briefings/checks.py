"""The checks a briefing must pass before it is published, each with a link to fix it.

Blocking: a quotation the member has not allowed (withdrawn, or no consent for this
audience), internal-only evidence in a public briefing, a figure the small-number rule
withholds (saying why and what would let it be cited), a citation of evidence that does not
exist, in a briefing to MPs a number in the text that no citation covers and nobody marked
"not a statistic", no title, no signatory, no sections. Warnings: unverified evidence,
figures more than twelve months older than the briefing, uncited numbers in other
briefings, no questions.

The checks read the briefing through ``document``, as the PDF does, and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..evidence.models import EvidenceItem
from ..evidence.services import disclosure
from ..kernel.labels import LabelledEnum
from .document import all_cited_references, chart_items, chosen_testimonies, evidence_by_reference
from .markdown import cited_references
from .models import Audience, Briefing, BriefingSection
from .numbers import UncitedNumber, uncited_numbers

STALE_AFTER = timedelta(days=365)


class Severity(LabelledEnum):
    BLOCKING = "blocking", "Blocks publishing"
    WARNING = "warning", "Warning"


# The names the checks have always been known by.
BLOCKING = Severity.BLOCKING
WARNING = Severity.WARNING


@dataclass
class Check:
    severity: Severity
    message: str
    fix_endpoint: str
    fix_args: dict[str, Any] = field(default_factory=dict)
    fix_label: str = "Fix this"
    # An uncited number: the section and the key its "not a statistic" mark is kept under.
    section_id: int | None = None
    number_key: str | None = None

    @property
    def is_blocking(self) -> bool:
        return self.severity == Severity.BLOCKING


def run_checks(briefing: Briefing) -> list[Check]:
    """Every problem found, blocking ones first."""
    ref = {"ref": briefing.reference}
    found: list[Check] = []
    if not briefing.title.strip():
        found.append(Check(BLOCKING, "The briefing has no title.", "briefings.edit", ref, "Add a title"))
    if not briefing.signatory_name.strip():
        found.append(
            Check(
                BLOCKING,
                "Nobody signs the briefing: add the signatory's name.",
                "briefings.edit",
                ref,
                "Add a signatory",
            )
        )
    if not briefing.sections:
        found.append(Check(BLOCKING, "The briefing has no sections yet.", "briefings.detail", ref, "Add a section"))

    evidence = evidence_by_reference(all_cited_references(briefing))
    for section in briefing.sections:
        where = {**ref, "section_id": section.id}
        for reference in cited_references(section.body):
            item = evidence.get(reference)
            if item is None:
                found.append(
                    Check(
                        BLOCKING,
                        f"“{section.heading}” cites {reference}, which is not in the evidence.",
                        "briefings.section_edit",
                        where,
                        "Edit the section",
                    )
                )
                continue
            found.extend(_evidence_checks(briefing, item, f"“{section.heading}”", "briefings.section_edit", where))
        for item in chart_items(section):
            found.extend(
                _evidence_checks(briefing, item, f"the chart in “{section.heading}”", "briefings.section_chart", where)
            )
        found.extend(_number_checks(briefing, section))

    found.extend(_testimony_checks(briefing, ref))
    if not briefing.questions:
        found.append(
            Check(
                WARNING,
                "There are no questions under “Questions you may wish to ask”.",
                "briefings.questions",
                ref,
                "Add questions",
            )
        )
    unique = list({(c.severity, c.message): c for c in found}.values())
    return sorted(unique, key=lambda c: c.severity != BLOCKING)


def _evidence_checks(
    briefing: Briefing, item: EvidenceItem, where_text: str, endpoint: str, args: dict[str, Any]
) -> list[Check]:
    found = []
    if not briefing.may_cite_internal and not item.is_public:
        found.append(
            Check(
                BLOCKING,
                f"{item.reference} in {where_text} is internal-only evidence and cannot go to "
                f"{briefing.audience_label.lower()}.",
                endpoint,
                args,
                "Remove it",
            )
        )
    said = disclosure(item)
    if item.value is not None and not said.may_cite:
        found.append(
            Check(
                BLOCKING,
                f"{item.reference} in {where_text} is withheld: {said.reason}. To cite it: {said.unblock}.",
                "evidence.detail",
                {"reference": item.reference},
                "See the figure",
            )
        )
    if not item.is_verified:
        found.append(
            Check(
                WARNING,
                f"{item.reference} in {where_text} has not been verified.",
                endpoint,
                args,
                "Review the citation",
            )
        )
    if item.as_of < briefing.dated_on - STALE_AFTER:
        found.append(
            Check(
                WARNING,
                f"{item.reference} in {where_text} is from {item.as_of:%B %Y}, more than twelve "
                "months before the briefing.",
                endpoint,
                args,
                "Review the citation",
            )
        )
    return found


def unmarked_numbers(section: BriefingSection) -> list[UncitedNumber]:
    """The section's uncited numbers that nobody has marked "not a statistic"."""
    marked = set(section.plain_numbers or [])
    return [n for n in uncited_numbers(section.body) if n.key not in marked]


def _number_checks(briefing: Briefing, section: BriefingSection) -> list[Check]:
    # To MPs every number must be cited: their researchers check them. Elsewhere, a warning.
    severity = BLOCKING if briefing.audience == Audience.MPS else WARNING
    return [
        Check(
            severity,
            f"“{section.heading}”: {number.text} is not cited, in “{number.sentence[:160]}”. "
            "Cite its source, or mark it “not a statistic”.",
            "briefings.section_edit",
            {"ref": briefing.reference, "section_id": section.id},
            "Edit the section",
            section_id=section.id,
            number_key=number.key,
        )
        for number in unmarked_numbers(section)
    ]


def _testimony_checks(briefing: Briefing, ref: dict[str, Any]) -> list[Check]:
    if not briefing.testimonies:
        return []
    consent = briefing.consent_needed
    found = []
    for testimony in chosen_testimonies(briefing):
        if consent is None:
            found.append(
                Check(
                    BLOCKING,
                    f"Testimony {testimony.reference}: members' words are never quoted to the employer.",
                    "briefings.testimony_picker",
                    ref,
                    "Remove it",
                )
            )
        elif testimony.is_withdrawn:
            found.append(
                Check(
                    BLOCKING,
                    f"Testimony {testimony.reference} has been withdrawn by the member.",
                    "briefings.testimony_picker",
                    ref,
                    "Remove it",
                )
            )
        elif not testimony.may_quote_to(consent):
            found.append(
                Check(
                    BLOCKING,
                    f"Testimony {testimony.reference} may not be quoted to "
                    f"{briefing.audience_label.lower()}: the member has not consented, or it is not "
                    "approved.",
                    "briefings.testimony_picker",
                    ref,
                    "Remove it",
                )
            )
    return found


def blocking(briefing: Briefing) -> list[Check]:
    """The problems that stop a briefing being published."""
    return [check for check in run_checks(briefing) if check.is_blocking]
