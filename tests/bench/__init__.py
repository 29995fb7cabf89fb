"""Benchmarks: run as modules (``python -m tests.bench.<name>``); they print figures and are not
collected by pytest."""
