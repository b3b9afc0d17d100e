"""Yunxin's data as mrkdwn, shared by the messages and modals that show it: a conversation's type and last
message, a failed call's title, advice and trace ID, and a lookup's counts, in the reader's language.

Yunxin's own words (an error's detail, a failed ID's message) are shown as Yunxin sent them; the title and
the advice around them are the bot's, translated."""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import cache, lru_cache
from types import MappingProxyType

from bot.yunxin.errors import ADVICE, YunxinError
from bot.yunxin.ids import ConversationType
from bot.yunxin.models import REDACTED, Conversation, millis_to_datetime

from ..i18n import EN, N_, Translator
from ..i18n.outside import translate_outside
from .kit import (
    UTC_SECONDS,
    code,
    date_token,
    escape_mrkdwn,
    literal,
    one_line_start,
    safe_text,
    seconds_date_token,
    shorten,
)

# Characters shown of any requested entry: a valid ID has at most 67, so only junk is shortened.
ID_SHOWN_MAX = 200
TRACE_SHOWN_MAX = 100

# The first millisecond past what a datetime holds (the year 10000): millis_to_datetime is None from here on.
_MILLIS_BEYOND = 253_402_300_800_000


def millis_date_token(millis: int | None) -> str:
    """`date_token(millis_to_datetime(millis))`, written from Yunxin's milliseconds since 1970 without a
    datetime: a found conversation's section shows two dates, and making each datetime, then reading its
    timestamp and fields back, cost 37 k instructions for the two, against 28 k this way. Whole seconds
    are shown, so the token's are `millis // 1000`, as the datetime's would be."""
    if type(millis) is not int or not 0 < millis < _MILLIS_BEYOND:
        return date_token(millis_to_datetime(millis))  # none, before 1970, or beyond: as datetime says
    seconds = millis // 1000
    return seconds_date_token(seconds, time.strftime(UTC_SECONDS, time.gmtime(seconds)))


TYPE_LABELS = {
    ConversationType.P2P: N_("one-to-one"),
    ConversationType.TEAM: N_("team"),
    ConversationType.SUPER_TEAM: N_("super team"),
}
# bot/yunxin/models.py's MESSAGE_TYPES, by kind, as a reader reads them.
MESSAGE_KINDS = {
    0: N_("text"),
    1: N_("image"),
    2: N_("audio"),
    3: N_("video"),
    4: N_("location"),
    5: N_("notification"),
    6: N_("file"),
    10: N_("tip"),
    11: N_("robot"),
    12: N_("call record"),
    100: N_("custom"),
}
STATUS_WORDS = {
    "found": N_("found"),
    "failed": N_("failed"),
    "malformed": N_("malformed"),
    "unanswered": N_("unanswered"),
}


def type_label(conversation: Conversation, t: Translator = EN) -> str:
    return type_name(conversation.conversation_type, t)


def type_name(kind: ConversationType | None, t: Translator = EN) -> str:
    """What a conversation of this type is called (`type_label`'s words)."""
    return t.gettext(TYPE_LABELS[kind]) if kind is not None else t.gettext("unknown type")


def kind_label(kind: int | None, t: Translator = EN) -> str:
    """A message's kind as a reader reads it ("text", "image", ...)."""
    if kind is None:
        return t.gettext("message")
    label = MESSAGE_KINDS.get(kind)
    return t.gettext(label) if label is not None else t.gettext("type {kind}").format(kind=kind)


def last_message_text(
    conversation: Conversation, *, redact: bool, limit: int | None, t: Translator = EN, escape: bool = True
) -> str:
    """The last message on one line; `limit` None leaves its text out. `escape`: as mrkdwn; without it, as
    literal text for a table cell."""
    if conversation.is_revoked:
        return t.gettext("last message revoked")
    message = conversation.last_message
    if message is None or message.is_empty:
        return t.gettext("no last message")
    body = message.body_text
    kind = kind_label(message.kind, t)
    if limit is None or body is None:
        return t.gettext("last message: {kind}").format(kind=kind)
    if redact:
        shown = translate_outside(REDACTED, t)
    else:
        shown = safe_text(body, limit) if escape else literal(one_line_start(body, limit), limit)
    return f"{kind}: {shown}"


def error_title(error: YunxinError, t: Translator = EN) -> str:
    return translate_outside(error.title, t)


def error_advice(error: YunxinError, t: Translator = EN) -> str:
    return translate_outside(ADVICE.get(error.kind, ADVICE[YunxinError.kind]), t)


def error_summary(error: YunxinError, t: Translator = EN) -> str:
    title = escape_mrkdwn(error_title(error, t))
    if not error.trace_id:
        return title
    trace = escape_mrkdwn(shorten(error.trace_id, TRACE_SHOWN_MAX))
    return t.gettext("{title} (trace `{trace}`)").format(title=title, trace=trace)


def error_text(error: YunxinError, detail_limit: int, t: Translator = EN) -> str:
    """What failed, what to do, and the trace ID to quote, as mrkdwn."""
    lines = [f":rotating_light: *{escape_mrkdwn(error_title(error, t))}*"]
    if error.detail.strip():
        lines.append(safe_text(error.detail, detail_limit))  # Yunxin's own words, as it sent them
    lines.append(escape_mrkdwn(error_advice(error, t)))
    if error.trace_id:
        lines.append(t.gettext("Trace ID to quote: {trace}").format(trace=code(error.trace_id, TRACE_SHOWN_MAX)))
    return "\n".join(lines)


# A lookup's counts in STATUS_WORDS' order, as a key: the texts made from them are cached by it.
Tally = tuple[int, int, int, int]


def tally_key(counts: dict[str, int]) -> Tally:
    return counts["found"], counts["failed"], counts["malformed"], counts["unanswered"]


def said_counts(tally: Tally, t: Translator = EN) -> list[tuple[int, str]]:
    """Each count said, with its status's word: found always, the kinds of failure only when there are some."""
    words = status_words(t)
    shown = zip(STATUS_WORDS, tally, strict=True)
    return [(count, words[status]) for status, count in shown if status == "found" or count]


@cache  # keyed by the translator: one for each locale
def status_words(t: Translator = EN) -> Mapping[str, str]:
    """Each status's word in `t`'s language, translated once: every answer says two or more of them twice
    (in its summary and its notification text)."""
    return MappingProxyType({status: t.gettext(word) for status, word in STATUS_WORDS.items()})


def lookup_summary(counts: dict[str, int], environment: str | None, t: Translator = EN) -> str:
    """How many IDs of each outcome, and the environment asked, as one line of mrkdwn."""
    return _summary(tally_key(counts), environment, t)


# Made once for each set of counts, environment and language: most answers in a burst read alike, and
# the line cost 22 k instructions, almost 1% of a command. The environments are the configured ones.
@lru_cache(maxsize=1024)
def _summary(tally: Tally, environment: str | None, t: Translator) -> str:
    text = " · ".join(f"*{count}* {word}" for count, word in said_counts(tally, t))
    if not environment:
        return text
    return t.gettext("{counts} · environment {environment}").format(counts=text, environment=code(environment, 100))
