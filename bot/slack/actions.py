"""Interactive actions of the bot's messages: their IDs, and the lookup a button repeats.

A button carries the lookup it belongs to in its `value` (at most 2000 characters), so a click
can be answered without any state kept between the command and the click.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .limits import BUTTON_VALUE_MAX

SHARE_ACTION = "share_in_channel"
REFRESH_ACTION = "refresh_lookup"
DETAILS_ACTION = "conversation_details"

_VERSION = 1


@dataclass(frozen=True, slots=True)
class LookupRequest:
    """The IDs of one lookup, and the Yunxin environment it asked (None: the default one)."""

    ids: tuple[str, ...]
    environment: str | None = None

    def encode(self) -> str | None:
        """Compact JSON for a button value; None when it would not fit in one."""
        payload: dict[str, Any] = {"v": _VERSION, "ids": list(self.ids)}
        if self.environment is not None:
            payload["env"] = self.environment
        value = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return value if len(value) <= BUTTON_VALUE_MAX else None

    @classmethod
    def decode(cls, value: str) -> LookupRequest:
        """Read a value made by `encode()`; anything else raises ValueError (it comes from a click)."""
        if not isinstance(value, str) or len(value) > BUTTON_VALUE_MAX:
            raise ValueError("not a lookup request: not a string of at most 2000 characters")
        try:
            payload = json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError("not a lookup request: not JSON") from error
        if not isinstance(payload, dict) or payload.get("v") != _VERSION:
            raise ValueError("not a lookup request: unknown format")
        ids = payload.get("ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise ValueError("not a lookup request: ids must be a non-empty list of strings")
        environment = payload.get("env")
        if environment is not None and not isinstance(environment, str):
            raise ValueError("not a lookup request: env must be a string")
        return cls(tuple(ids), environment)
