"""The message shortcut "Look up in Yunxin": every conversation ID quoted in a message, looked up for the
person who ran it and answered only to them, in that channel or thread."""

from __future__ import annotations

import html
import re
from typing import Any

from bot.yunxin.ids import match_key

from ..ack import Ack
from ..actions import LookupRequest
from ..pipeline import Ask, Deps, Event, NoIdsFound, TooManyIds, run_lookup, stop
from ..replies import Respond, ResponseUrlReplies
from .payloads import interaction_caller

SHORTCUT_CALLBACK = "lookup_conversations_shortcut"

# owner|type|target anywhere in text: in code spans, quotes, after punctuation. The look-arounds
# keep a match from starting or ending inside a longer run of account characters.
_ACCOUNT_CHARS = r"A-Za-z0-9_@.\-"
_ID_IN_TEXT = re.compile(
    rf"(?<![{_ACCOUNT_CHARS}|])([{_ACCOUNT_CHARS}]{{1,32}}\|[123]\|[{_ACCOUNT_CHARS}]{{1,32}})(?![{_ACCOUNT_CHARS}|])"
)


def find_ids(text: str) -> list[str]:
    """Every conversation ID quoted in a message, once each, in order of appearance."""
    seen: set[str] = set()
    found: list[str] = []
    for match in _ID_IN_TEXT.finditer(html.unescape(text)):
        candidate = match.group(1).strip(".")  # a sentence may end right after an ID
        key = match_key(candidate)
        if key not in seen:
            seen.add(key)
            found.append(candidate)
    return found


def _message_text(message: dict[str, Any]) -> str:
    """The message's text and its attachments' texts, where pasted IDs may sit."""
    parts = [str(message.get("text") or "")]
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, dict):
            parts.extend(str(attachment.get(key) or "") for key in ("pretext", "text", "fallback"))
    return "\n".join(parts)


async def look_up_in_message(deps: Deps, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
    ask = Ask(Event.SHORTCUT, interaction_caller(body))
    await ack()
    message = body.get("message") or {}
    thread_ts = message.get("thread_ts")
    redact = deps.settings.redact_message_text
    ids = find_ids(_message_text(message))
    limit = deps.settings.max_ids_per_command
    if not ids or len(ids) > limit:
        error = NoIdsFound() if not ids else TooManyIds(len(ids), limit, quoted=True)
        await stop(deps, ask, error, ResponseUrlReplies(respond, redact, thread_ts=thread_ts), ids)
        return
    request = LookupRequest(tuple(ids))
    replies = ResponseUrlReplies(respond, redact, request, thread_ts=thread_ts, metrics=deps.metrics)
    await run_lookup(deps, ask, request, replies)
