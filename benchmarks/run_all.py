"""Run every benchmarks/bench_*.py in turn (``make bench``); exit non-zero if any failed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    failed = []
    for script in scripts:
        module = f"benchmarks.{script.stem}"
        print(f"\n=== {module}", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", module], cwd=HERE.parent)
        print(
            f"=== {module}: {'ok' if result.returncode == 0 else 'FAILED'} in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        if result.returncode != 0:
            failed.append(module)
    if failed:
        print("\nFailed: " + ", ".join(failed), file=sys.stderr)
        return 1
    print(f"\nAll {len(scripts)} benchmarks ran. Record the figures in docs/performance.md.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
