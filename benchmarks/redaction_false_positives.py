"""Measure: how often the redaction finder takes an ordinary word for a person's name.

    .venv/bin/python -m benchmarks.redaction_false_positives [SEEDS_DIR]

Runs ``testimonies.redaction.find_identifiers`` (with the demo regions' and units' names as
places, as the moderation page passes them) over every quotation of 40 characters or more in
the seeds (``../shared/seeds`` by default) and over the demo testimonies (original and public
text), and counts the spans marked as names. The texts name four people on purpose (a
minister in seed 002, three colleagues in the demo set); any other name mark is a false
positive. The figure is written in docs/testimonies.md.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REAL_NAMES = {"Chris Grayling", "Dan", "Karen Smith", "Sarah"}
QUOTATION = re.compile(r"“([^”]{40,})”")


def texts(seeds: Path) -> list[tuple[str, str]]:
    from napo_tracker.testimonies.demo import DEMO_TESTIMONIES

    found = [
        (f"seed {path.name[:3]}", match.group(1))
        for path in sorted(seeds.glob("*.txt"))
        for match in QUOTATION.finditer(path.read_text(encoding="utf-8"))
    ]
    for row in DEMO_TESTIMONIES:
        found.append(("demo", row[8]))
        if row[7] == "approved" and row[9]:
            found.append(("demo, public text", row[9]))
    return found


def measure(seeds: Path) -> tuple[int, int, int, list[str]]:
    """(texts, name marks, false positives, the false positives as written)."""
    from napo_tracker.regions.demo import REGIONS
    from napo_tracker.testimonies.redaction import find_identifiers

    places = [*REGIONS, *(unit for units in REGIONS.values() for unit, _kind in units)]
    corpus = texts(seeds)
    marks = wrong = 0
    examples = []
    for source, text in corpus:
        for span in find_identifiers(text, places):
            if span.kind != "name":
                continue
            marks += 1
            if text[span.start : span.end] not in REAL_NAMES:
                wrong += 1
                examples.append(f"{source}: {text[span.start : span.end]!r}")
    return len(corpus), marks, wrong, examples


def main() -> None:
    default = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
    seeds = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    count, marks, wrong, examples = measure(seeds)
    print(f"{count} texts; {marks} name marks; {wrong} false positives")
    for example in examples:
        print("  " + example)


if __name__ == "__main__":
    main()
