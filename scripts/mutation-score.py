"""The kill rate of `make mutation`, per module and overall, from mutmut's results in mutants/.

    .venv/bin/python scripts/mutation-score.py 'napo_tracker.security.*' ...   (the Makefile's MUTANTS)
    .venv/bin/python scripts/mutation-score.py --pending PATTERN ...          (what is left to run)

Killed: a test failed (or the run timed out: the mutant hung the code). Survived: every test
passed. Mutants no test reaches count as survivors too. The survivors are listed by name, for
`mutmut show NAME`.
"""

from __future__ import annotations

import fnmatch
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

KILLED = {1, 3, 36, 24, -24, 152, 255}
SURVIVED = {0, 5, 33}


def pending(patterns: list[str]) -> int:
    """The mutants the patterns select that have no result yet, one name per line, for
    `mutmut run` (which, given patterns, runs every mutant they match again); the patterns
    themselves before any run has made the mutants."""
    metas = sorted(Path("mutants").rglob("*.py.meta"))
    if not metas:
        print("\n".join(patterns))
        return 0
    for meta in metas:
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if code is None and any(fnmatch.fnmatch(name, pattern) for pattern in patterns):
                print(name)
    return 0


def main(patterns: list[str]) -> int:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: list[str] = []
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        module = str(meta.relative_to("mutants")).removesuffix(".meta")
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if patterns and not any(fnmatch.fnmatch(name, pattern) for pattern in patterns):
                continue
            if code is None:
                counts[module]["not run"] += 1
            elif code in KILLED:
                counts[module]["killed"] += 1
            elif code in SURVIVED:
                counts[module]["survived"] += 1
                survivors.append(name)
            else:
                counts[module][f"exit {code}"] += 1
    print("| module | mutants | killed | survived | kill rate |\n|---|---:|---:|---:|---:|")
    total: Counter[str] = Counter()
    for module, count in sorted(counts.items()):
        tested = count["killed"] + count["survived"]
        total.update(count)
        rate = f"{100 * count['killed'] / tested:.1f} %" if tested else "–"
        print(f"| `{module}` | {tested} | {count['killed']} | {count['survived']} | {rate} |")
    tested = total["killed"] + total["survived"]
    rate = f"{100 * total['killed'] / tested:.1f} %" if tested else "–"
    print(f"| **all** | {tested} | {total['killed']} | {total['survived']} | **{rate}** |")
    others = {key: value for key, value in total.items() if key not in ("killed", "survived")}
    if others:
        print(f"\nnot counted: {dict(others)}")
    if survivors:
        print("\nsurvivors:\n" + "\n".join(f"  {name}" for name in survivors))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--pending"]:
        sys.exit(pending(sys.argv[2:]))
    sys.exit(main(sys.argv[1:]))
