"""Benchmarks: `make bench` runs every bench_*.py; figures go in docs/performance.md."""

import os as _os
import sys as _sys
from pathlib import Path as _Path

from napo_tracker.crypto import generate_key as _generate_key

# Benchmarks build throwaway databases: a throwaway data key for each run, unless one is given.
# Only when a benchmark is the program: the tests import benchmarks.bulk and keep their own key.
if _sys.argv and _Path(_sys.argv[0]).resolve().parent == _Path(__file__).resolve().parent:
    _os.environ.setdefault("NAPO_DATA_KEYS", _generate_key())
