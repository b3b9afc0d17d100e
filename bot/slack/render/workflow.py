"""The Workflow Builder step "Look up Yunxin conversations": its callback, the names of its inputs and outputs
(as the manifests declare them), and its outputs made from a lookup.

Outputs go into whatever message a workflow posts next, so they are plain text that cannot notify anyone
(no `<!channel>` or `<@U…>` token can form in them) and hold no message text: for each ID, found or why
not; the counts; the failed IDs with their reasons; the Yunxin trace IDs to quote to support.
"""

from __future__ import annotations

import re
from typing import Any

from bot.yunxin.models import Failed, Found, LookupResult, Malformed, Outcome

from ..i18n import EN, Translator
from ..i18n.outside import translate_outside
from .kit import Message, shorten
from .yunxin_text import error_title, type_label

WORKFLOW_CALLBACK = "look_up_conversations"
# Inputs
INPUT_IDS = "conversation_ids"
INPUT_ENVIRONMENT = "environment"
INPUT_USER = "user_id"
INPUT_CHANNEL = "channel_id"
# Outputs
OUTPUT_SUMMARY = "summary"
OUTPUT_FOUND = "found_count"
OUTPUT_FAILED = "failed_count"
OUTPUT_FAILED_IDS = "failed_ids"
OUTPUT_TRACE_IDS = "trace_ids"
OUTPUTS = (OUTPUT_SUMMARY, OUTPUT_FOUND, OUTPUT_FAILED, OUTPUT_FAILED_IDS, OUTPUT_TRACE_IDS)

# Characters of each text output; a longer one ends with how many lines were left out.
TEXT_OUTPUT_MAX = 4000
ID_SHOWN_MAX = 80
REASON_SHOWN_MAX = 300
ERROR_MAX = 1000  # a failed step's error, as Workflow Builder shows it

_TOKEN_START = re.compile(r"<(?=[!@#])")
WORD_JOINER = "\u2060"


def inert(text: str, limit: int) -> str:
    """Outside text on one line, shortened, with no `<` that could open a Slack token."""
    return _TOKEN_START.sub("<" + WORD_JOINER, shorten(" ".join(text.split()), limit))


def _reason(outcome: Outcome, t: Translator) -> str:
    if isinstance(outcome, Failed):
        return inert(outcome.failure.reason, REASON_SHOWN_MAX)  # Yunxin's own words
    if isinstance(outcome, Malformed):
        return inert(translate_outside(outcome.reason, t), REASON_SHOWN_MAX)
    assert not isinstance(outcome, Found)
    if outcome.error is None:
        return t.gettext("Yunxin did not answer for this ID")
    title = inert(error_title(outcome.error, t), REASON_SHOWN_MAX)
    if not outcome.error.trace_id:
        return title
    return t.gettext("{title} (trace {trace})").format(title=title, trace=inert(outcome.error.trace_id, 100))


def _found_line(outcome: Found, t: Translator) -> str:
    conversation = outcome.conversation
    parts = [type_label(conversation, t)]
    if conversation.unread_count is not None:
        parts.append(t.gettext("{count} unread").format(count=conversation.unread_count))
    updated = conversation.updated_at
    if updated is not None:
        parts.append(t.gettext("updated {time}").format(time=updated.strftime("%Y-%m-%d %H:%M UTC")))
    return t.gettext("{id}: found, {facts}").format(
        id=inert(outcome.conversation_id, ID_SHOWN_MAX), facts=", ".join(parts)
    )


def _failed_line(outcome: Outcome, t: Translator) -> str:
    return f"{inert(outcome.conversation_id, ID_SHOWN_MAX)}: {_reason(outcome, t)}"


def _bounded(head: list[str], lines: list[str], t: Translator) -> str:
    """`head` and as many of `lines` as fit TEXT_OUTPUT_MAX, then how many were left out."""
    kept = list(head)
    for index, line in enumerate(lines):
        left = len(lines) - index
        tail = t.ngettext("…and {count} more", "…and {count} more", left).format(count=left)
        if len("\n".join([*kept, line, tail])) > TEXT_OUTPUT_MAX:
            kept.append(tail)
            break
        kept.append(line)
    return "\n".join(kept)


def step_outputs(result: LookupResult, t: Translator = EN) -> dict[str, Any]:
    """The step's outputs for one lookup. Failed counts every ID not found: Yunxin's failures, malformed
    entries and IDs left unanswered, so found + failed is the number of IDs asked for."""
    outcomes = result.outcomes()
    found = [outcome for outcome in outcomes if isinstance(outcome, Found)]
    not_found = [outcome for outcome in outcomes if not isinstance(outcome, Found)]
    headline = t.ngettext(
        "Yunxin conversations: {found} of {count} found, {failed} failed",
        "Yunxin conversations: {found} of {count} found, {failed} failed",
        len(outcomes),
    ).format(found=len(found), count=len(outcomes), failed=len(not_found))
    if result.environment:
        headline += " · " + t.gettext("environment {name}").format(name=inert(result.environment, 100))
    if result.sandbox:
        headline += " · " + t.gettext("SANDBOX DATA, not production")
    lines = [
        _found_line(outcome, t) if isinstance(outcome, Found) else _failed_line(outcome, t) for outcome in outcomes
    ]
    return {
        OUTPUT_SUMMARY: _bounded([headline], lines, t),
        OUTPUT_FOUND: len(found),
        OUTPUT_FAILED: len(not_found),
        OUTPUT_FAILED_IDS: _bounded([], [_failed_line(outcome, t) for outcome in not_found], t),
        OUTPUT_TRACE_IDS: _bounded([], [", ".join(result.trace_ids)], t) if result.trace_ids else "",
    }


_EMOJI = re.compile(r":[a-z0-9_+-]+:")


def notice_text(message: Message) -> str:
    """What a notice, a refusal or an error message says, as plain text: its sections and contexts, without
    the mrkdwn marks, emoji codes and escapes."""
    parts: list[str] = []
    for block in message.get("blocks") or []:
        texts = [block.get("text")] if block.get("type") == "section" else list(block.get("elements") or [])
        for item in texts:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                parts.append(item["text"])
    text = " ".join(parts) or str(message.get("text") or "")
    text = _EMOJI.sub("", text).replace("*", "").replace("`", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def step_error(message: Message, t: Translator = EN) -> str:
    """A failed step's error, from the notice the person would have read: one line, bounded."""
    return inert(notice_text(message), ERROR_MAX) or t.gettext("The lookup failed.")
