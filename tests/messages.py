"""Reading Slack messages as a person would: every text a message shows, wherever in its blocks it is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def texts(value: Any) -> Iterator[str]:
    """Every string under a `text` key in `value` (a message, a block, a list of either), in order."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)


def shown(message: dict[str, Any]) -> str:
    """Everything a reader could see in a message: its fallback text and every text in its blocks."""
    return "\n".join([str(message.get("text", "")), *texts(message.get("blocks", []))])


def all_shown(messages: list[dict[str, Any]]) -> str:
    return "\n".join(shown(message) for message in messages)
