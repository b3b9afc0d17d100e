"""Rendering: pure functions from domain data to Block Kit (and to text for a terminal), one module per
message over shared primitives (`kit.py`), every limit checked (`limits.py`)."""
