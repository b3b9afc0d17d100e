"""Block Kit primitives every message is built from: escaping and shortening outside text, and plain
dicts for text objects, blocks and buttons.

Nothing here does I/O or knows Bolt. Every text that comes from Yunxin or from a user goes through
`safe_text` or `code` (shortened, then escaped: `& < >`), so a stored `<!channel>` can never notify
anyone; the only `<...>` tokens the bot writes are its own date tokens and mentions. Table cells are not
mrkdwn (Slack shows their text as it is, so escaping would show `&lt;`): outside text goes into them
through `literal`, and no cell ever holds a mention element made from data."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic_core import PydanticSerializationError, to_json

from ..i18n import EN, N_, Translator

Block = dict[str, Any]
Message = dict[str, Any]
SANDBOX_LABEL = N_(":warning: SANDBOX DATA — not production")
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")


def escape_mrkdwn(text: str) -> str:
    """Escape exactly what mrkdwn needs: `&`, `<` and `>`."""
    if "&" in text or "<" in text or ">" in text:  # looking costs less than replacing, and most text has none
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, the last one an ellipsis when it was cut."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line_start(text: str, limit: int) -> str:
    """`text` on one line (each run of whitespace one space), or, when that is longer than `limit`, enough of
    its start for `shorten(…, limit)` to read the same: a last message may run to thousands of characters of
    which 40 to 300 are shown, and joining all of its words cost more than the rest of its line.

    Joining the words of any start of `text` gives a start of joining all of them, so when a start's words
    are already longer than `limit`, so are all of them, and `shorten` keeps the same `limit - 1` characters.
    """
    if len(text) > 2 * limit:
        start = " ".join(text[: 2 * limit].split())
        if len(start) > limit:
            return start
    return " ".join(text.split())


def safe_text(text: str, limit: int) -> str:
    """Outside text on one line, shortened, then escaped (so no entity is ever cut in half)."""
    return escape_mrkdwn(shorten(one_line_start(text, limit), limit))


# A `<` that would open a Slack token (`<!channel>`, `<@U1>`, `<#C1>`, `<!date…>`): Slack documents the text of
# raw_text and rich_text cells as literal, and a word joiner after it keeps it so even if it were not.
_TOKEN_START = re.compile(r"<(?=[!@#])")
WORD_JOINER = "\u2060"


def literal(text: str, limit: int) -> str:
    """Outside text for a table cell: shortened, shown as it is, no `<` able to open a Slack token."""
    shown = shorten(text, limit)
    return _TOKEN_START.sub("<" + WORD_JOINER, shown) if "<" in shown else shown  # most cells have none


def code(text: str, limit: int) -> str:
    return f"`{escape_mrkdwn(shorten(text, limit))}`"


# A moment in UTC to the second, as a date token's text shows it.
UTC_SECONDS = "%Y-%m-%dT%H:%M:%SZ"
# 0 to 99 as strftime's %m, %d, %H, %M and %S write them.
_TWO_DIGITS = [f"{number:02d}" for number in range(100)]


def utc_text(moment: datetime, *, seconds: bool = True) -> str:
    """`moment.strftime("%Y-%m-%dT%H:%M:%SZ")`, or without `seconds` `"%Y-%m-%d %H:%M UTC"`, at a sixth of
    strftime's cost (every found conversation has two dates). strftime itself before the year 1000, which
    it does not pad to four digits everywhere."""
    if moment.year < 1000:
        return moment.strftime(UTC_SECONDS if seconds else "%Y-%m-%d %H:%M UTC")
    date = f"{moment.year}-{_TWO_DIGITS[moment.month]}-{_TWO_DIGITS[moment.day]}"
    hour, minute = _TWO_DIGITS[moment.hour], _TWO_DIGITS[moment.minute]
    if seconds:
        return f"{date}T{hour}:{minute}:{_TWO_DIGITS[moment.second]}Z"
    return f"{date} {hour}:{minute} UTC"


def date_token(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return seconds_date_token(int(moment.timestamp()), utc_text(moment))


def seconds_date_token(seconds: int, shown: str) -> str:
    """Slack's date token for `seconds` since 1970, in the reader's time zone, `shown` where Slack cannot
    write it."""
    return f"<!date^{seconds}^{{date_short_pretty}} {{time}}|{shown}>"


def mention(user_id: str) -> str:
    """Our own mention of a Slack user; anything that is not a user ID is shown as text."""
    return f"<@{user_id}>" if _SLACK_USER_ID.fullmatch(user_id) else escape_mrkdwn(user_id)


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def fields_section(text: str, fields: Iterable[str], accessory: Block | None = None) -> Block:
    """A section with mrkdwn `text` and `fields` (each `mrkdwn(field)`, built inline: a found conversation's
    section has six to eight), and an `accessory` when given."""
    block: Block = {"type": "section", "text": mrkdwn(text), "fields": [{"type": "mrkdwn", "text": f} for f in fields]}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text)}


def context(texts: Iterable[str]) -> Block:
    return {"type": "context", "elements": [mrkdwn(text) for text in texts]}


def divider() -> Block:
    return {"type": "divider"}


def actions(elements: list[Block]) -> Block:
    return {"type": "actions", "elements": elements}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    button: Block = {"type": "button", "text": plain(text), "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def message(fallback: str, blocks: list[Block]) -> Message:
    return {"text": fallback, "blocks": blocks}


def message_json(message: dict[str, Any]) -> bytes:
    """`message` as the JSON body of a post or an ack: it reads back as what `json.dumps` writes reads back as,
    written compactly in UTF-8 (the Content-Type says so) by pydantic-core. json.dumps' spaces and \\u
    escapes made a body up to twice as long and cost about a twentieth of a command's instructions; every length the
    render measures (json.dumps' form) stays an upper bound of this one. Text that UTF-8 cannot carry (a
    lone surrogate, which JSON from Yunxin may hold) is left to json.dumps, which escapes it."""
    try:
        return to_json(message)
    except PydanticSerializationError:
        return json.dumps(message).encode()


def sandbox_label(t: Translator = EN) -> str:
    return t.gettext(SANDBOX_LABEL)


def sandbox_context(sandbox: bool, t: Translator = EN) -> list[Block]:
    return [context([sandbox_label(t)])] if sandbox else []
