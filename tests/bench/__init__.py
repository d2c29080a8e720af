"""Benchmarks: run with `python -m tests.bench` (not part of the test run)."""
