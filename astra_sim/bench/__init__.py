"""Benchmarks: speed figures printed and written as JSON (``astra-sim bench``)."""
