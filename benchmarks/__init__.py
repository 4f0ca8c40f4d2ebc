"""Benchmarks: `make bench` runs every bench_*.py; figures go in docs/performance.md."""
