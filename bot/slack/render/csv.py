"""A lookup as a file: one row per ID asked, in the order asked, with its outcome, every summary field of a
found conversation, a failure's code and message, and the Yunxin trace IDs.

The columns have fixed English names (scripts read them); the values are Yunxin's as it returned them. A cell
a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) starts with a `'`
instead, unless it is a plain number; REDACT_MESSAGE_TEXT hides message texts here as in every answer.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bot.yunxin.models import REDACTED, Failed, Found, LookupResult, Malformed, Unanswered

COLUMNS = (
    "id",
    "outcome",
    "type",
    "owner",
    "peer_or_team",
    "unread",
    "pinned",
    "created",
    "updated",
    "last_message_type",
    "last_message_text",
    "last_message_revoked",
    "group_ids",
    "server_extension",
    "error_code",
    "error_message",
    "trace_id",
    "lookup_trace_ids",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
# Excel reads a UTF-8 file as UTF-8 (Chinese included) only when it starts with the byte order mark.
BOM = "\ufeff"


def neutralised(value: str) -> str:
    """A cell no spreadsheet runs as a formula (CSV injection): a `'` before a risky first character."""
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _moment(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def export_rows(result: LookupResult, *, redact: bool) -> Iterator[dict[str, str]]:
    """Each ID asked, as the file's row (values not yet neutralised)."""
    lookup_traces = " ".join(result.trace_ids)
    for outcome in result.outcomes():
        row = dict.fromkeys(COLUMNS, "")
        row |= {"id": outcome.conversation_id, "outcome": outcome.status, "lookup_trace_ids": lookup_traces}
        if isinstance(outcome, Found):
            conversation = outcome.conversation
            kind = conversation.conversation_type
            message = conversation.last_message
            body = message.body_text if message is not None else None
            row |= {
                "type": kind.label if kind is not None else "",
                "owner": _text(conversation.sender_id),
                "peer_or_team": _text(conversation.receiver_id),
                "unread": _text(conversation.unread_count),
                "pinned": _text(conversation.stick_top),
                "created": _moment(conversation.created_at),
                "updated": _moment(conversation.updated_at),
                "last_message_type": message.kind_label if message is not None and not message.is_empty else "",
                "last_message_text": (REDACTED if redact else body) if body else "",
                "last_message_revoked": _text(conversation.is_revoked),
                "group_ids": " ".join(str(group) for group in conversation.group_ids or []),
                "server_extension": _text(conversation.server_extension),
            }
        elif isinstance(outcome, Failed):
            row |= {"error_code": _text(outcome.failure.error_code), "error_message": _text(outcome.failure.error_msg)}
        elif isinstance(outcome, Malformed):
            row |= {"error_code": "malformed", "error_message": outcome.reason}
        elif isinstance(outcome, Unanswered):
            error = outcome.error
            if error is None:
                row |= {"error_code": "not_returned", "error_message": "Yunxin did not return this ID"}
            else:
                code = error.code if error.code is not None else error.kind
                row |= {"error_code": _text(code), "error_message": str(error), "trace_id": error.trace_id or ""}
        yield row


def render_csv(result: LookupResult, *, redact: bool, bom: bool = True) -> str:
    """The lookup as CSV text (RFC 4180: CRLF line ends, quotes where needed), every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in export_rows(result, redact=redact):
        writer.writerow([neutralised(row[column]) for column in COLUMNS])
    return (BOM if bom else "") + out.getvalue()
