"""Benchmarks of Socle: load harness (``python -m bench.gateway``) and focused micro-benchmarks."""
