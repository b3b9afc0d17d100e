"""The one error of the shared state: Redis could not be used for this operation (the caller falls back)."""

from __future__ import annotations


class Unreachable(Exception):
    """Redis did not answer in time, refused, or the shared state is degraded: use the in-process fallback."""
