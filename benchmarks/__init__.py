"""Benchmarks: `make bench` runs every bench_*.py; figures go in docs/performance.md."""

import os as _os
import sys as _sys

from napo_tracker.crypto import generate_key as _generate_key

# Benchmarks build throwaway databases: a throwaway data key for each run, unless one is given.
# Not under the tests, which import benchmarks.bulk and keep their own fixed key.
if "pytest" not in _sys.modules:
    _os.environ.setdefault("NAPO_DATA_KEYS", _generate_key())
