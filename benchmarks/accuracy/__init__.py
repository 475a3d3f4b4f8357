"""Accuracy benchmark: real published patients planted in a simulated cohort (spec: benchmark.md A)."""
