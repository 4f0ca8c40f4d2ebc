"""Benchmarks: `make bench` runs every bench_*.py; figures go in docs/performance.md."""

import os as _os

from napo_tracker.crypto import generate_key as _generate_key

# Benchmarks build throwaway databases: a throwaway data key for each run, unless one is given.
_os.environ.setdefault("NAPO_DATA_KEYS", _generate_key())
