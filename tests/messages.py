"""Reading Slack messages as a person would: every text a message shows, wherever in its blocks it is, the
trace IDs it gives to quote, and what its buttons carry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bot.slack.actions import LookupRequest

_SHOWN_TRACE = re.compile(r"Trace ID to quote: `([^`]+)`")


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
    """Everything a reader could see in a message: its fallback text and every text in its blocks, and in the
    blocks of its attachments (where a table is)."""
    attachments = [attachment.get("blocks", []) for attachment in message.get("attachments") or []]
    return "\n".join([str(message.get("text", "")), *texts(message.get("blocks", [])), *texts(attachments)])


def all_shown(messages: list[dict[str, Any]]) -> str:
    return "\n".join(shown(message) for message in messages)


def every_text(messages: list[dict[str, Any]]) -> str:
    """Every text anywhere in these messages, the fallback and blocks included (nothing may hide elsewhere)."""
    return "\n".join(text for message in messages for text in texts(message))


def parts_announced(first: dict[str, Any]) -> int:
    """How many messages an answer has: its first says "Part 1 of N" when it has more than one."""
    for block in first["blocks"]:
        for element in block.get("elements", []) if block["type"] == "context" else []:
            words = element.get("text", "").split()
            if words[:1] == ["Part"]:
                return int(words[-1])
    return 1


def shown_trace_ids(message: dict[str, Any]) -> list[str]:
    """The trace IDs a message tells its reader to quote to Yunxin support."""
    return _SHOWN_TRACE.findall(shown(message))


def button_value(message: dict[str, Any], action_id: str) -> str:
    """The value of the message's `action_id` button in its actions blocks."""
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["action_id"] == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in the message")


def button_lookups(messages: list[dict[str, Any]], action_id: str) -> list[LookupRequest]:
    """The lookups the messages' `action_id` buttons carry, in order."""
    return [
        LookupRequest.decode(element["value"])
        for message in messages
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    ]
