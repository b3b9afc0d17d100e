"""Block Kit messages: pure functions from domain data to plain dicts.

Nothing here does I/O or knows Bolt. Every text that comes from Yunxin or from a user is
shortened, then escaped (`& < >`), so a stored `<!channel>` can never notify anyone; the only
`<...>` tokens in the output are the bot's own date tokens and the "shared by" mention.

A lookup's answer must show every requested ID within Slack's limits (50 blocks and about
13,000 characters of blocks per message, 5 posts per response_url). `render_lookup` tries
layouts from the most detailed to the densest and keeps the first that fits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.yunxin.errors import ADVICE, YunxinError
from bot.yunxin.ids import ConversationType
from bot.yunxin.models import REDACTED, Conversation, Failed, Found, LookupResult, Malformed, Outcome, Unanswered, tally

from .actions import DETAILS_ACTION, DETAILS_PICKER_ACTION, REFRESH_ACTION, SHARE_ACTION, LookupRequest
from .limits import BLOCKS_JSON_MAX, MESSAGE_BLOCKS_MAX, SECTION_TEXT_MAX, blocks_json_length

Block = dict[str, Any]
Message = dict[str, Any]

TITLE = "Yunxin conversations"
SANDBOX_LABEL = ":warning: SANDBOX DATA — not production"
NOT_RETURNED = "Yunxin did not return this ID"
# Up to this many outcomes, each found conversation gets a section of its own.
DETAILED_OUTCOMES_MAX = 5
# Characters shown of any requested entry: a valid ID has at most 67, so only junk is shortened.
ID_SHOWN_MAX = 200
# ...and in the densest layout, where 400 entries of junk must still fit.
JUNK_SHOWN_MIN = 16
ACCOUNT_SHOWN_MAX = 100
EXTENSION_SHOWN_MAX = 200
GROUPS_SHOWN_MAX = 200
TRACE_SHOWN_MAX = 100
# Characters of JSON per line of a comma list of IDs: short lines pack messages tightly.
ID_LIST_LINE_COST = 800
DETAILS_LEFT_OUT = (
    "Details can't be offered for this many conversations in one answer; look up fewer at a time to open them."
)

_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")


# ---- text helpers -------------------------------------------------------------------------


def escape_mrkdwn(text: str) -> str:
    """Escape exactly what mrkdwn needs: `&`, `<` and `>`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, the last one an ellipsis when it was cut."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _safe(text: str, limit: int) -> str:
    """Outside text on one line, shortened, then escaped (so no entity is ever cut in half)."""
    return escape_mrkdwn(shorten(" ".join(text.split()), limit))


def _code(text: str, limit: int) -> str:
    return f"`{escape_mrkdwn(shorten(text, limit))}`"


def _date(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    fallback = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _mention(user_id: str) -> str:
    """Our own mention of a Slack user; anything that is not a user ID is shown as text."""
    return f"<@{user_id}>" if _SLACK_USER_ID.fullmatch(user_id) else escape_mrkdwn(user_id)


# ---- block helpers ------------------------------------------------------------------------


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _header(text: str) -> Block:
    return {"type": "header", "text": _plain(text)}


def _context(texts: Iterable[str]) -> Block:
    return {"type": "context", "elements": [_mrkdwn(text) for text in texts]}


def _divider() -> Block:
    return {"type": "divider"}


def _button(text: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    button: Block = {"type": "button", "text": _plain(text), "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def _message(fallback: str, blocks: list[Block]) -> Message:
    return {"text": fallback, "blocks": blocks}


# ---- pieces of a lookup answer ------------------------------------------------------------


def _type_label(conversation: Conversation) -> str:
    kind = conversation.conversation_type
    return kind.label if kind is not None else "unknown type"


def _last_message(conversation: Conversation, *, redact: bool, limit: int | None) -> str:
    """The last message on one line; `limit` None leaves its text out."""
    if conversation.is_revoked:
        return "last message revoked"
    message = conversation.last_message
    if message is None or message.is_empty:
        return "no last message"
    body = message.body_text
    if limit is None or body is None:
        return f"last message: {message.kind_label}"
    return f"{message.kind_label}: {REDACTED if redact else _safe(body, limit)}"


def _field(label: str, value: str) -> dict[str, str]:
    return _mrkdwn(f"*{label}*\n{value}")


def _account(value: str | None) -> str:
    return _code(value, ACCOUNT_SHOWN_MAX) if value else "—"


def _groups(group_ids: list[int]) -> str:
    listed = ", ".join(str(group) for group in group_ids)
    if len(listed) <= GROUPS_SHOWN_MAX:
        return listed
    return f"{shorten(listed, GROUPS_SHOWN_MAX)} ({len(group_ids)} in all)"


def _found_section(
    shown_id: str, conversation: Conversation, *, redact: bool, snippet: int, details: str | None = None
) -> Block:
    kind = conversation.conversation_type
    pinned = " · :pushpin: pinned" if conversation.stick_top else ""
    last = _last_message(conversation, redact=redact, limit=snippet)
    target_label = {None: "Peer or team", ConversationType.P2P: "Peer"}.get(kind, "Team")
    unread = conversation.unread_count
    fields = [
        _field("Owner", _account(conversation.sender_id)),
        _field(target_label, _account(conversation.receiver_id)),
        _field("Unread", "—" if unread is None else str(unread)),
        _field("Pinned", {True: "yes", False: "no", None: "—"}[conversation.stick_top]),
        _field("Created", _date(conversation.created_at)),
        _field("Updated", _date(conversation.updated_at)),
    ]
    if conversation.group_ids:
        fields.append(_field("Groups", _groups(conversation.group_ids)))
    if conversation.server_extension:
        fields.append(_field("Server extension", _code(conversation.server_extension, EXTENSION_SHOWN_MAX)))
    text = f"*{shown_id}* · {_type_label(conversation)}{pinned}\n*Last message:* {last}"
    section: Block = {"type": "section", "text": _mrkdwn(text), "fields": fields}
    if details is not None:
        section["accessory"] = _button("Details", DETAILS_ACTION, details)
    return section


def _found_line(shown_id: str, conversation: Conversation, *, redact: bool, snippet: int | None) -> str:
    parts = [shown_id, _type_label(conversation)]
    if conversation.unread_count is not None:
        parts.append(f"unread {conversation.unread_count}")
    if conversation.stick_top:
        parts.append(":pushpin:")
    parts.append(_last_message(conversation, redact=redact, limit=snippet))
    return " · ".join(parts)


def _error_summary(error: YunxinError) -> str:
    trace = f" (trace `{escape_mrkdwn(shorten(error.trace_id, TRACE_SHOWN_MAX))}`)" if error.trace_id else ""
    return f"{escape_mrkdwn(error.title)}{trace}"


def _failure_line(shown_id: str, outcome: Failed | Malformed | Unanswered, reasons: int) -> str:
    if isinstance(outcome, Failed):
        return f"{shown_id} · :x: failed: {_safe(outcome.failure.reason, reasons)}"
    if isinstance(outcome, Malformed):
        return f"{shown_id} · :no_entry: malformed: {_safe(outcome.reason, reasons)}"
    if outcome.error is None:
        return f"{shown_id} · :grey_question: {NOT_RETURNED}"
    return f"{shown_id} · :grey_question: {_error_summary(outcome.error)}"


def error_text(error: YunxinError, detail_limit: int) -> str:
    """What failed, what to do, and the trace ID to quote, as mrkdwn."""
    lines = [f":rotating_light: *{escape_mrkdwn(error.title)}*"]
    if error.detail.strip():
        lines.append(_safe(error.detail, detail_limit))
    lines.append(escape_mrkdwn(ADVICE.get(error.kind, ADVICE[YunxinError.kind])))
    if error.trace_id:
        lines.append(f"Trace ID to quote: {_code(error.trace_id, TRACE_SHOWN_MAX)}")
    return "\n".join(lines)


def _distinct_errors(outcomes: Iterable[Outcome]) -> list[YunxinError]:
    """Each error that left IDs unanswered, once: every ID of a failed call shares its error."""
    seen: dict[tuple[type, str, str | None], YunxinError] = {}
    for outcome in outcomes:
        if isinstance(outcome, Unanswered) and outcome.error is not None:
            error = outcome.error
            seen.setdefault((type(error), error.detail, error.trace_id), error)
    return list(seen.values())


# ---- layouts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Density:
    """How much each ID gets: layouts go from detailed to dense until the answer fits."""

    detailed: bool  # a section with fields for each found conversation
    snippet: int | None  # characters of last-message text per found ID; None leaves it out
    found_as_list: bool  # found IDs as a bare comma list
    failures: Literal["lines", "by_reason", "by_status"]  # one line per ID, or comma lists under a heading
    reasons: int  # characters of each failure reason
    error_detail: int  # characters of each error's detail
    junk_id: int  # characters shown of an entry that is not a valid ID


_DETAILED = _Density(True, 300, False, "lines", 300, 500, ID_SHOWN_MAX)
_LAYOUTS = (
    _Density(False, 120, False, "lines", 200, 500, ID_SHOWN_MAX),
    _Density(False, 40, False, "lines", 80, 300, ID_SHOWN_MAX),
    _Density(False, None, False, "by_reason", 100, 200, ID_SHOWN_MAX),
    # The last resort: every ID still shown, only junk entries cut short.
    _Density(False, None, True, "by_status", 0, 100, JUNK_SHOWN_MIN),
)


def _json_text_length(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False)) - 2


@dataclass(slots=True)
class _Line:
    """A line of mrkdwn; consecutive lines share a section."""

    text: str
    ids: int = 0
    cost: int = field(init=False)

    def __post_init__(self) -> None:
        self.cost = _json_text_length(self.text)


@dataclass(slots=True)
class _Blocks:
    """Blocks that stand on their own, kept together in one message."""

    blocks: list[Block]
    ids: int = 0


_Item = _Line | _Blocks
_SECTION_COST = blocks_json_length(_section(""))


def _shown_id(outcome: Outcome, density: _Density) -> str:
    limit = density.junk_id if isinstance(outcome, Malformed) else ID_SHOWN_MAX
    return _code(outcome.conversation_id, limit)


def _id_list(heading: str, shown_ids: list[str]) -> list[_Item]:
    """A heading, then the IDs as comma lists of at most ID_LIST_LINE_COST characters of JSON a line."""
    items: list[_Item] = [_Line(f"{heading} ({len(shown_ids)})")]
    line: list[str] = []
    cost = 0
    for shown in shown_ids:
        shown_cost = _json_text_length(shown)
        if line and cost + 2 + shown_cost > ID_LIST_LINE_COST:
            items.append(_Line(", ".join(line), ids=len(line)))
            line, cost = [], 0
        cost += shown_cost + (2 if line else 0)
        line.append(shown)
    if line:
        items.append(_Line(", ".join(line), ids=len(line)))
    return items


def _failure_heading(outcome: Failed | Malformed | Unanswered, density: _Density) -> str:
    """The heading a failure is listed under: its reason, or only its kind in the densest layout."""
    by_reason = density.failures == "by_reason"
    if isinstance(outcome, Failed):
        reason = f" — {_safe(outcome.failure.reason, density.reasons)}" if by_reason else " (reasons left out to fit)"
        return f":x: *Failed*{reason}"
    if isinstance(outcome, Malformed):
        reason = f" — {_safe(outcome.reason, density.reasons)}" if by_reason else " (reasons left out to fit)"
        return f":no_entry: *Malformed*{reason}"
    if outcome.error is None:
        return ":grey_question: *Yunxin did not return these IDs*"
    if by_reason:
        return f":grey_question: *Not answered* — {_error_summary(outcome.error)}"
    return ":grey_question: *Not answered* (a call failed; see above)"


def _grouped_items(outcomes: list[Outcome], density: _Density, redact: bool) -> list[_Item]:
    items: list[_Item] = []
    found = [o for o in outcomes if isinstance(o, Found)]
    if density.found_as_list and found:
        items.extend(_id_list(":white_check_mark: *Found*", [_shown_id(o, density) for o in found]))
    else:
        for one in found:
            line = _found_line(_shown_id(one, density), one.conversation, redact=redact, snippet=None)
            items.append(_Line(line, ids=1))
    groups: dict[str, list[str]] = {}
    for outcome in outcomes:
        if not isinstance(outcome, Found):
            heading = _failure_heading(outcome, density)
            groups.setdefault(heading, []).append(_shown_id(outcome, density))
    for heading, shown_ids in groups.items():
        items.extend(_id_list(heading, shown_ids))
    return items


def _outcome_item(outcome: Outcome, density: _Density, redact: bool, request: LookupRequest | None) -> _Item:
    shown_id = _shown_id(outcome, density)
    if not isinstance(outcome, Found):
        return _Line(_failure_line(shown_id, outcome, density.reasons), ids=1)
    if density.detailed and density.snippet is not None:
        # The Details button repeats the lookup for this one ID, in the same environment.
        details = None if request is None else LookupRequest((outcome.conversation_id,), request.environment).encode()
        section = _found_section(
            shown_id, outcome.conversation, redact=redact, snippet=density.snippet, details=details
        )
        return _Blocks([_divider(), section], ids=1)
    return _Line(_found_line(shown_id, outcome.conversation, redact=redact, snippet=density.snippet), ids=1)


def _body(outcomes: list[Outcome], density: _Density, redact: bool, request: LookupRequest | None) -> list[_Item]:
    items: list[_Item] = [_Blocks([_section(error_text(e, density.error_detail))]) for e in _distinct_errors(outcomes)]
    if not outcomes:
        items.append(_Line("No conversation IDs were given."))
    elif density.failures != "lines":
        items.extend(_grouped_items(outcomes, density, redact))
    else:
        items.extend(_outcome_item(outcome, density, redact, request) for outcome in outcomes)
    return items


# ---- filling messages ---------------------------------------------------------------------


class _Page:
    """The body of one message being filled, with the room its head takes reserved."""

    def __init__(self, head: list[Block]) -> None:
        self.body: list[Block | list[str]] = []  # a list of lines is a section still taking lines
        self._count = len(head)
        self._cost = blocks_json_length(head)
        self._open_length = 0

    def add(self, item: _Item) -> bool:
        if isinstance(item, _Blocks):
            return self.add_blocks(item.blocks)
        return self._add_line(item)

    def add_blocks(self, blocks: list[Block]) -> bool:
        cost = sum(blocks_json_length(block) + 2 for block in blocks)
        if self._count + len(blocks) > MESSAGE_BLOCKS_MAX or self._cost + cost > BLOCKS_JSON_MAX:
            return False
        self.body.extend(blocks)
        self._count += len(blocks)
        self._cost += cost
        return True

    def _add_line(self, line: _Line) -> bool:
        if len(line.text) > SECTION_TEXT_MAX:
            raise ValueError("a line longer than a section")
        open_section = self.body[-1] if self.body and isinstance(self.body[-1], list) else None
        if open_section is not None:
            length = self._open_length + 1 + len(line.text)
            cost = 2 + line.cost  # the new line's "\n" is two characters of JSON
            if length <= SECTION_TEXT_MAX and self._cost + cost <= BLOCKS_JSON_MAX:
                open_section.append(line.text)
                self._open_length = length
                self._cost += cost
                return True
        cost = _SECTION_COST + line.cost + 2
        if self._count + 1 > MESSAGE_BLOCKS_MAX or self._cost + cost > BLOCKS_JSON_MAX:
            return False
        self.body.append([line.text])
        self._open_length = len(line.text)
        self._count += 1
        self._cost += cost
        return True

    def blocks(self) -> list[Block]:
        return [_section("\n".join(part)) if isinstance(part, list) else part for part in self.body]


Head = Callable[[int, int], list[Block]]


def _paginate(items: Sequence[_Item], head: Head, tail: Sequence[_Blocks], limit: int) -> list[list[Block]] | None:
    """Fill messages in order, the body's items then the tail's; None when it takes more than `limit`.

    Each page reserves the head it would have with `limit` messages in all; the real head (with
    the real count) is never longer.
    """
    pages = [_Page(head(0, limit))]
    for item in [*items, *tail]:
        if pages[-1].add(item):
            continue
        if len(pages) == limit:
            return None
        pages.append(_Page(head(len(pages), limit)))
        if not pages[-1].add(item):
            raise ValueError("an item larger than an empty message")
    return [page.blocks() for page in pages]


def _paginate_cut(items: Sequence[_Item], head: Head, tail: Sequence[_Blocks], limit: int) -> list[list[Block]]:
    """Beyond what `limit` messages can hold: keep the longest start that fits, and say how many IDs are left."""
    total = sum(item.ids for item in items)

    def attempt(keep: int) -> list[list[Block]] | None:
        hidden = total - sum(item.ids for item in items[:keep])
        note = _Line(f"…and {hidden} more IDs not shown: too many for one answer. Ask for fewer at a time.")
        return _paginate([*items[:keep], note], head, tail, limit)

    best = attempt(0)
    if best is None:
        raise ValueError("not even the head of the answer fits")
    low, high = 1, len(items)
    while low <= high:
        middle = (low + high) // 2
        pages = attempt(middle)
        if pages is None:
            high = middle - 1
        else:
            best, low = pages, middle + 1
    return best


# ---- the lookup answer --------------------------------------------------------------------


def _shown_counts(counts: dict[str, int]) -> list[str]:
    """Found is always said; the kinds of failure only when there are some."""
    return [status for status in ("found", "failed", "malformed", "unanswered") if status == "found" or counts[status]]


def lookup_summary(counts: dict[str, int], environment: str | None) -> str:
    """How many IDs of each outcome, and the environment asked, as one line of mrkdwn."""
    text = " · ".join(f"*{counts[status]}* {status}" for status in _shown_counts(counts))
    return f"{text} · environment {_code(environment, 100)}" if environment else text


def _fallback(counts: dict[str, int], sandbox: bool, index: int, total: int) -> str:
    prefix = "SANDBOX DATA — " if sandbox else ""
    if index > 0:
        return f"{prefix}{TITLE}, part {index + 1} of {total}"
    counted = ", ".join(f"{counts[status]} {status}" for status in _shown_counts(counts))
    return f"{prefix}{TITLE}: {counted}"


def _picker_rows(parts: Sequence[LookupRequest]) -> list[_Blocks]:
    """A "Details…" button for each part of the found conversations, each on a row of its own (a row may not
    repeat an action_id), so the rows can spread over the messages of a long answer."""
    total = sum(len(part.ids) for part in parts)
    rows: list[_Blocks] = []
    first = 1
    for part in parts:
        last = first + len(part.ids) - 1
        label = "Details…" if len(parts) == 1 else f"Details {first}–{last} of {total} found"
        value = part.encode()
        if value is None:
            raise ValueError("a part of the found conversations larger than a button value")
        rows.append(_Blocks([{"type": "actions", "elements": [_button(label, DETAILS_PICKER_ACTION, value)]}]))
        first = last + 1
    return rows


def _lookup_tail(
    request: LookupRequest | None,
    shared_by: str | None,
    pickers: Sequence[LookupRequest] = (),
    *,
    details_left_out: bool = False,
) -> list[_Blocks]:
    """The closing blocks: rows of Details… buttons for `pickers`, then Share and Refresh, then notes."""
    if request is None:
        return []
    value = request.encode()
    elements: list[Block] = []
    notes: list[str] = []
    if value is None:
        what = "refresh" if shared_by else "share or refresh"
        notes.append(f"These IDs are too many to {what} with one button; run the command again instead.")
    else:
        if not shared_by:
            elements.append(_button("Share in channel", SHARE_ACTION, value, style="primary"))
        elements.append(_button("Refresh", REFRESH_ACTION, value))
    if details_left_out:
        notes.append(DETAILS_LEFT_OUT)
    closing: list[Block] = [{"type": "actions", "elements": elements}] if elements else []
    closing += [_context(notes)] if notes else []
    return [*_picker_rows(pickers), *([_Blocks(closing)] if closing else [])]


def _compact_tails(request: LookupRequest | None, shared_by: str | None, found_ids: list[str]) -> list[list[_Blocks]]:
    """The tails a compact answer may end with, best first: with Details… buttons carrying every found
    conversation, or (when those do not fit) saying Details are left out."""
    if request is None or not found_ids:
        return [_lookup_tail(request, shared_by)]
    parts = LookupRequest(tuple(found_ids), request.environment).split()
    left_out = _lookup_tail(request, shared_by, details_left_out=True)
    return [left_out] if parts is None else [_lookup_tail(request, shared_by, parts), left_out]


def render_lookup(
    result: LookupResult,
    *,
    redact_text: bool = False,
    request: LookupRequest | None = None,
    shared_by: str | None = None,
    refreshed_at: datetime | None = None,
    max_messages: int = 5,
) -> list[Message]:
    """The answer to one lookup, as at most `max_messages` messages showing every requested ID.

    `redact_text` hides the text of last messages (their kind is still shown). With `request`, the
    last message ends with Refresh and (unless `shared_by` says it is already shared) Share buttons,
    and every found conversation can be opened in Details: by its own button in the detailed layout,
    through "Details…" buttons (each opening a list of the conversations it carries) in the compact
    ones. Up to 400 IDs always fit in 5 messages; only beyond what `max_messages` can hold does the
    answer end with how many IDs it leaves out.
    """
    if max_messages < 1:
        raise ValueError("max_messages must be at least 1")
    outcomes = result.outcomes()
    counts = tally(outcomes)

    def head(index: int, total: int) -> list[Block]:
        notes = [SANDBOX_LABEL] if result.sandbox else []
        if index == 0:
            notes.append(lookup_summary(counts, result.environment))
            if shared_by:
                notes.append(f"Shared by {_mention(shared_by)}")
            if refreshed_at is not None:
                notes.append(f"Refreshed {_date(refreshed_at)}")
        if total > 1:
            notes.append(f"Part {index + 1} of {total}")
        title = TITLE if index == 0 else f"{TITLE} (continued)"
        return [_header(title), _context(notes)] if notes else [_header(title)]

    found_ids = [o.conversation_id for o in outcomes if isinstance(o, Found)]
    compact_tails = _compact_tails(request, shared_by, found_ids)
    # Detailed sections carry their own Details buttons. Compact layouts keep the Details… buttons before
    # any other detail: a conversation that can be opened matters more than a snippet of its last message.
    attempts = [(density, tail) for tail in compact_tails for density in _LAYOUTS]
    if len(outcomes) <= DETAILED_OUTCOMES_MAX:
        attempts.insert(0, (_DETAILED, _lookup_tail(request, shared_by)))
    # Each layout's body is built once, however many tails are tried with it (paging reads items, never
    # changes them).
    body_of: dict[_Density, list[_Item]] = {}

    def body(density: _Density) -> list[_Item]:
        if density not in body_of:
            body_of[density] = _body(outcomes, density, redact_text, request)
        return body_of[density]

    bodies = next(
        (
            fitted
            for density, tail in attempts
            if (fitted := _paginate(body(density), head, tail, max_messages)) is not None
        ),
        None,
    )
    if bodies is None:
        bodies = _paginate_cut(body(_LAYOUTS[-1]), head, compact_tails[-1], max_messages)
    total = len(bodies)
    return [
        _message(_fallback(counts, result.sandbox, index, total), head(index, total) + body)
        for index, body in enumerate(bodies)
    ]


# ---- other messages -----------------------------------------------------------------------


def _sandbox_context(sandbox: bool) -> list[Block]:
    return [_context([SANDBOX_LABEL])] if sandbox else []


def render_help(
    *,
    command: str = "/conversation",
    example_ids: Sequence[str],
    sandbox: bool,
    note: str | None = None,
    environments: Sequence[str] = (),
    default_environment: str | None = None,
) -> Message:
    """How to use the command: the ID format, separators, environments, an example, and the other ways in."""
    shown_command = escape_mrkdwn(command)
    blocks: list[Block] = [_header("Look up Yunxin conversations")]
    if note:
        blocks.append(_section(f":information_source: {_safe(note, 500)}"))
    blocks.append(
        _section(
            f"*Usage:* `{shown_command} ID [ID …]`\n"
            "Each ID is `owner|type|target`: the owner's account, the conversation type, and its target.\n"
            "• `1` one-to-one: the target is the peer's account, e.g. `alice|1|bob`\n"
            "• `2` team: the target is the numeric team ID, e.g. `alice|2|123456`\n"
            "• `3` super team: the target is the numeric super team ID, e.g. `alice|3|7890`\n"
            "Separate IDs with spaces, commas or new lines."
        )
    )
    if len(environments) > 1:
        names = ", ".join(
            f"`{escape_mrkdwn(shorten(name, 40))}`" + (" (default)" if name == default_environment else "")
            for name in environments[:20]
        )
        blocks.append(_section(f"*Yunxin environments:* {names}\nPick one with `{shown_command} --env NAME ID …`."))
    if example_ids:
        example = " ".join(escape_mrkdwn(shorten(i, ID_SHOWN_MAX)) for i in example_ids[:5])
        blocks.append(_section(f"*Example:*\n`{shown_command} {example}`"))
    blocks.append(
        _context(
            [
                "Answers are visible only to you: *Share in channel* posts them for everyone, *Refresh* looks "
                "again, *Details* shows every field of a conversation (on a long answer, *Details…* lists the "
                "conversations found to choose from). On any message, the *Look up in Yunxin* shortcut "
                "(⋯ → More message shortcuts) finds the IDs quoted in it."
            ]
        )
    )
    blocks.extend(_sandbox_context(sandbox))
    return _message(f"How to use {shown_command}", blocks)


def render_refusal(reason: str, contact: str) -> Message:
    """The person may not look up conversations here: why, and whom to ask."""
    text = (
        ":no_entry: *You can't look up Yunxin conversations here.*\n"
        f"{_safe(reason, 1000)}\n"
        f"To get access, ask {_safe(contact, 500)}."
    )
    return _message("You can't look up Yunxin conversations here.", [_section(text)])


def render_error(error: YunxinError, *, sandbox: bool = False) -> Message:
    """A lookup that failed as a whole: what failed, what to do, the trace ID to quote."""
    blocks = [_section(error_text(error, 1000)), *_sandbox_context(sandbox)]
    return _message(escape_mrkdwn(error.title), blocks)


def render_notice(text: str) -> Message:
    """A short plain notice such as "Looking up 3 conversations…"."""
    shown = _safe(text, 2000) or "…"
    return _message(shown, [_section(shown)])


def render_unexpected(reference: str) -> Message:
    """Something broke on the bot's side; the reference finds it in the logs."""
    text = (
        ":warning: Something went wrong on our side. "
        f"If it happens again, quote reference {_code(reference, 100)} to the bot's maintainers."
    )
    return _message(
        f"Something went wrong on our side (reference {escape_mrkdwn(shorten(reference, 100))}).", [_section(text)]
    )
