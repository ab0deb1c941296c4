"""Benchmarks of intake_webcoos against its peers, on the stand-in (``python -m benchmarks``)."""
