"""Block Kit messages as plain text for a terminal (`python -m bot demo`, `python -m bot query`).

Slack's markup is turned back into what a reader would see: entities unescaped, date tokens
replaced by their fallback, mentions as @U123, bold markers dropped; a table as aligned columns.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

_DATE = re.compile(r"<!date\^[^|>]*\|([^>]*)>")
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)>")
_LINK = re.compile(r"<([a-z][a-z0-9+.-]*:[^|>]*)(?:\|([^>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")

CONTEXT_PREFIX = "  · "
# The emoji the bot's messages use, as characters a terminal shows.
_EMOJI = {
    ":warning:": "⚠",
    ":rotating_light:": "🚨",
    ":x:": "✗",
    ":no_entry:": "⛔",
    ":grey_question:": "?",
    ":white_check_mark:": "✓",
    ":pushpin:": "📌",
    ":information_source:": "ℹ",
}
_EMOJI_CODE = re.compile("|".join(re.escape(code) for code in _EMOJI))


def readable(mrkdwn: str) -> str:
    """Slack mrkdwn as the text a reader sees."""
    text = _DATE.sub(r"\1", mrkdwn)
    text = _USER.sub(r"@\1", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _SPECIAL.sub(r"@\1", text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    text = _BOLD.sub(r"\1", text)
    text = _EMOJI_CODE.sub(lambda m: _EMOJI[m.group(0)], text)
    # &amp; last, so an escaped "&lt;" in the data stays "&lt;" for the reader.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _wrap(text: str, width: int, prefix: str = "") -> list[str]:
    lines: list[str] = []
    for line in text.split("\n"):
        wrapped = textwrap.wrap(
            line,
            width=max(width, len(prefix) + 20),
            initial_indent=prefix,
            subsequent_indent=" " * (len(prefix) + 2),
            break_on_hyphens=False,
            break_long_words=False,
        )
        lines.extend(wrapped or [prefix.rstrip()])
    return lines


def _text_of(obj: Any) -> str:
    if not isinstance(obj, Mapping):
        return ""
    text = str(obj.get("text", ""))
    return readable(text) if obj.get("type") == "mrkdwn" else text


def _field_lines(field: Any, width: int) -> list[str]:
    label, _, value = _text_of(field).partition("\n")
    shown = f"{label}: {value.replace(chr(10), ' ')}" if value else label
    return _wrap(shown, width, "  ")


def _block_lines(block: Mapping[str, Any], width: int) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text_of(block.get("text"))
        return [title, "=" * min(len(title), width)]
    if kind == "divider":
        return ["-" * width]
    if kind == "context":
        texts = [_text_of(element) for element in block.get("elements", [])]
        return [line for text in texts if text for line in _wrap(text, width, CONTEXT_PREFIX)]
    if kind == "actions":
        buttons = [_button(e) for e in block.get("elements", []) if isinstance(e, Mapping)]
        return ["  ".join(buttons)]
    lines = _wrap(_text_of(block.get("text")), width) if "text" in block else []
    for field in block.get("fields", []):
        lines.extend(_field_lines(field, width))
    accessory = block.get("accessory")
    if isinstance(accessory, Mapping) and accessory.get("type") == "button":
        lines.append(_button(accessory))
    return lines


def _button(element: Mapping[str, Any]) -> str:
    return f"[ {_text_of(element.get('text'))} ]"


_CELL_SHOWN_MAX = 40


def _table_lines(block: Mapping[str, Any]) -> list[str]:
    """A table block as columns, each as wide as its widest cell (cut at 40 characters)."""
    from .kit import WORD_JOINER, shorten
    from .table import cell_text

    rows = [
        [shorten(cell_text(cell).replace(WORD_JOINER, "") or " ", _CELL_SHOWN_MAX) for cell in row]
        for row in block.get("rows") or []
        if isinstance(row, list)
    ]
    if not rows:
        return []
    widths = [max(len(row[index]) for row in rows if index < len(row)) for index in range(max(map(len, rows)))]
    lines = [" | ".join(cell.ljust(widths[index]) for index, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return lines


def to_terminal(messages: Sequence[Mapping[str, Any]], *, width: int = 100) -> str:
    """The messages one after another as readable lines, wrapped at `width` (a long ID is never split)."""
    parts: list[str] = []
    for message in messages:
        blocks = message.get("blocks") or []
        attachments = [a for a in message.get("attachments") or [] if isinstance(a, Mapping)]
        if not blocks and not attachments:
            parts.append("\n".join(_wrap(readable(str(message.get("text", ""))), width)))
            continue
        lines: list[str] = []
        for block in [*blocks, *(b for attachment in attachments for b in attachment.get("blocks") or [])]:
            if isinstance(block, Mapping):
                lines.extend(_table_lines(block) if block.get("type") == "table" else _block_lines(block, width))
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
