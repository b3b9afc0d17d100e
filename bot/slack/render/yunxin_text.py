"""Yunxin's data as mrkdwn, shared by the messages and modals that show it: a conversation's type and last
message, a failed call's title, advice and trace ID, and a lookup's counts."""

from __future__ import annotations

from bot.yunxin.errors import ADVICE, YunxinError
from bot.yunxin.models import REDACTED, Conversation

from .kit import code, escape_mrkdwn, safe_text, shorten

# Characters shown of any requested entry: a valid ID has at most 67, so only junk is shortened.
ID_SHOWN_MAX = 200
TRACE_SHOWN_MAX = 100


def type_label(conversation: Conversation) -> str:
    kind = conversation.conversation_type
    return kind.label if kind is not None else "unknown type"


def last_message_text(conversation: Conversation, *, redact: bool, limit: int | None) -> str:
    """The last message on one line; `limit` None leaves its text out."""
    if conversation.is_revoked:
        return "last message revoked"
    message = conversation.last_message
    if message is None or message.is_empty:
        return "no last message"
    body = message.body_text
    if limit is None or body is None:
        return f"last message: {message.kind_label}"
    return f"{message.kind_label}: {REDACTED if redact else safe_text(body, limit)}"


def error_summary(error: YunxinError) -> str:
    trace = f" (trace `{escape_mrkdwn(shorten(error.trace_id, TRACE_SHOWN_MAX))}`)" if error.trace_id else ""
    return f"{escape_mrkdwn(error.title)}{trace}"


def error_text(error: YunxinError, detail_limit: int) -> str:
    """What failed, what to do, and the trace ID to quote, as mrkdwn."""
    lines = [f":rotating_light: *{escape_mrkdwn(error.title)}*"]
    if error.detail.strip():
        lines.append(safe_text(error.detail, detail_limit))
    lines.append(escape_mrkdwn(ADVICE.get(error.kind, ADVICE[YunxinError.kind])))
    if error.trace_id:
        lines.append(f"Trace ID to quote: {code(error.trace_id, TRACE_SHOWN_MAX)}")
    return "\n".join(lines)


def shown_counts(counts: dict[str, int]) -> list[str]:
    """Found is always said; the kinds of failure only when there are some."""
    return [status for status in ("found", "failed", "malformed", "unanswered") if status == "found" or counts[status]]


def lookup_summary(counts: dict[str, int], environment: str | None) -> str:
    """How many IDs of each outcome, and the environment asked, as one line of mrkdwn."""
    text = " · ".join(f"*{counts[status]}* {status}" for status in shown_counts(counts))
    return f"{text} · environment {code(environment, 100)}" if environment else text
