"""Benchmarks run by `make bench`; they write docs/benchmarks.md."""
