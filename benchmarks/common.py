"""What every benchmark shares: interleaved (ABAB) timing, ratios reported as min / median /
max of the per-pair ratios, a throwaway PostgreSQL cluster, and where results are written."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def spread(values: list[float]) -> dict[str, float]:
    """min / median / max, rounded for reading."""
    return {
        "min": round(min(values), 4),
        "median": round(statistics.median(values), 4),
        "max": round(max(values), 4),
    }


def interleaved(a: Callable[[], Any], b: Callable[[], Any], pairs: int) -> tuple[list[float], list[float]]:
    """Seconds of ``a`` and ``b`` run in turn, A B A B …: whatever else loads the machine
    meanwhile weighs on both alike, and each pair gives one ratio."""
    times_a: list[float] = []
    times_b: list[float] = []
    for _ in range(pairs):
        for fn, times in ((a, times_a), (b, times_b)):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
    return times_a, times_b


def ratios(numerators: list[float], denominators: list[float]) -> dict[str, float]:
    """min / median / max of the ratio of each pair."""
    return spread([n / d for n, d in zip(numerators, denominators, strict=True) if d])


def machine() -> dict[str, Any]:
    return {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({**machine(), **result}, indent=2, default=str))
    return path


def fmt(summary: dict[str, float], unit: str = "", scale: float = 1.0, places: int = 2) -> str:
    return " / ".join(f"{summary[k] * scale:.{places}f}{unit}" for k in ("min", "median", "max"))


@contextlib.contextmanager
def postgresql() -> Iterator[Callable[[str], str]]:
    """A throwaway PostgreSQL cluster in a temporary folder, as the tests start one (tests/pg.py);
    yields a function that makes a database and returns its URL."""
    import psycopg

    from tests import pg

    bindir = pg.find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL server binaries not found (scripts/system-deps.sh test installs them)")
    server = pg.start(bindir)
    try:

        def make_database(name: str) -> str:
            with psycopg.connect(
                host=server.host, port=server.port, user=server.user, dbname="postgres", autocommit=True
            ) as connection:
                connection.execute(f'CREATE DATABASE "{name}"')
            return server.url(name)

        yield make_database
    finally:
        pg.stop(server, bindir)
