"""The Details modal: every field Yunxin returned for one conversation, pretty-printed.

Pure functions from domain data to a `views.open` / `views.update` view. The modal opens at once
with a loading view (a `trigger_id` lives 3 seconds) and is filled in when the lookup returns.
"""

from __future__ import annotations

import json
from typing import Any

from bot.yunxin.models import Failed, Found, Malformed, Outcome

from .blocks import SANDBOX_LABEL, error_text, escape_mrkdwn, shorten
from .limits import SECTION_TEXT_MAX, VIEW_BLOCKS_MAX, VIEW_TITLE_MAX

View = dict[str, Any]
DETAILS_CALLBACK = "conversation_details_view"
TITLE = "Conversation details"
# A code block's fences and the escaping of & < > cost characters; keep each chunk's raw text under this.
_CHUNK = SECTION_TEXT_MAX - 200
# Room for the heading, context and the "shortened" note around the JSON chunks.
_JSON_BLOCKS_MAX = VIEW_BLOCKS_MAX - 5


def _plain(text: str, limit: int = VIEW_TITLE_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(text, limit), "emoji": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": shorten(text, SECTION_TEXT_MAX)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": shorten(text, SECTION_TEXT_MAX)}]}


def _view(blocks: list[dict[str, Any]], metadata: str = "") -> View:
    return {
        "type": "modal",
        "callback_id": DETAILS_CALLBACK,
        "title": _plain(TITLE),
        "close": _plain("Close"),
        "private_metadata": shorten(metadata, 3000),
        "blocks": blocks,
    }


def _heading(conversation_id: str, environment: str | None, sandbox: bool) -> list[dict[str, Any]]:
    notes = [f"environment `{escape_mrkdwn(shorten(environment, 100))}`"] if environment else []
    if sandbox:
        notes.insert(0, SANDBOX_LABEL)
    blocks = [_section(f"*`{escape_mrkdwn(shorten(conversation_id, 200))}`*")]
    if notes:
        blocks.append(_context(" · ".join(notes)))
    return blocks


def render_loading_view(conversation_id: str) -> View:
    return _view([_section(f":hourglass_flowing_sand: Looking up `{escape_mrkdwn(shorten(conversation_id, 200))}`…")])


def _json_chunks(text: str) -> list[str]:
    """Split pretty JSON at line ends into pieces that each fit one section."""
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > _CHUNK:  # one enormous value: cut it, marking the cut
            chunks.extend([current] if current else [])
            chunks.append(line[:_CHUNK])
            current, line = "", line[_CHUNK:]
        if len(current) + len(line) > _CHUNK:
            chunks.append(current)
            current = ""
        current += line
    if current:
        chunks.append(current)
    return chunks


def _json_blocks(data: Any) -> list[dict[str, Any]]:
    pretty = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    chunks = _json_chunks(pretty)
    blocks = [_section(f"```{escape_mrkdwn(chunk)}```") for chunk in chunks[:_JSON_BLOCKS_MAX]]
    if len(chunks) > _JSON_BLOCKS_MAX:
        left = sum(len(c) for c in chunks[_JSON_BLOCKS_MAX:])
        blocks.append(_context(f"Shortened to fit a Slack modal: {left} more characters not shown."))
    return blocks


def render_details_view(outcome: Outcome, *, environment: str | None, sandbox: bool, redact_text: bool) -> View:
    """Everything known of one conversation: Yunxin's fields as returned, or why it failed."""
    blocks = _heading(outcome.conversation_id, environment, sandbox)
    if isinstance(outcome, Found):
        blocks.extend(_json_blocks(outcome.conversation.as_returned(redact=redact_text)))
    elif isinstance(outcome, Failed):
        reason = escape_mrkdwn(shorten(outcome.failure.reason, 2000))
        blocks.append(_section(f":x: Yunxin could not return it: {reason}"))
    elif isinstance(outcome, Malformed):
        blocks.append(_section(f":no_entry: Not a conversation ID: {escape_mrkdwn(shorten(outcome.reason, 2000))}"))
    elif outcome.error is not None:
        blocks.append(_section(error_text(outcome.error, 1000)))
    else:
        blocks.append(_section(":grey_question: Yunxin did not return this ID."))
    return _view(blocks)


def render_message_view(message: dict[str, Any]) -> View:
    """A message the bot would post (a notice, a refusal), shown in the modal instead."""
    return _view(list(message["blocks"]))
