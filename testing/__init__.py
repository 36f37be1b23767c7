"""Helpers shared by the tests and benchmarks (executor folder factories, hub fixtures)."""
