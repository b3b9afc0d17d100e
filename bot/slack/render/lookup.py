"""The answer to one lookup: every requested ID, found or failed, in at most 5 messages within Block Kit's
limits, closing with its buttons (Share, Refresh, Details…). `render_lookup` tries layouts from the
most detailed to the densest and keeps the first that fits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.yunxin.models import Found, LookupResult, tally

from ..actions import DETAILS_PICKER_ACTION, REFRESH_ACTION, SHARE_ACTION, LookupRequest
from .kit import SANDBOX_LABEL, Block, Message, button, context, date_token, header, mention, message
from .lookup_body import DETAILED, LAYOUTS, Density, body_items
from .paging import Blocks, Item, paginate, paginate_cut
from .yunxin_text import lookup_summary, shown_counts

TITLE = "Yunxin conversations"
# Up to this many outcomes, each found conversation gets a section of its own.
DETAILED_OUTCOMES_MAX = 5
DETAILS_LEFT_OUT = (
    "Details can't be offered for this many conversations in one answer; look up fewer at a time to open them."
)


def _fallback(counts: dict[str, int], sandbox: bool, index: int, total: int) -> str:
    prefix = "SANDBOX DATA — " if sandbox else ""
    if index > 0:
        return f"{prefix}{TITLE}, part {index + 1} of {total}"
    counted = ", ".join(f"{counts[status]} {status}" for status in shown_counts(counts))
    return f"{prefix}{TITLE}: {counted}"


def _picker_rows(parts: Sequence[LookupRequest]) -> list[Blocks]:
    """A "Details…" button for each part of the found conversations, each on a row of its own (a row may not
    repeat an action_id), so the rows can spread over the messages of a long answer."""
    total = sum(len(part.ids) for part in parts)
    rows: list[Blocks] = []
    first = 1
    for part in parts:
        last = first + len(part.ids) - 1
        label = "Details…" if len(parts) == 1 else f"Details {first}–{last} of {total} found"
        value = part.encode()
        if value is None:
            raise ValueError("a part of the found conversations larger than a button value")
        rows.append(Blocks([{"type": "actions", "elements": [button(label, DETAILS_PICKER_ACTION, value)]}]))
        first = last + 1
    return rows


def _lookup_tail(
    request: LookupRequest | None,
    shared_by: str | None,
    pickers: Sequence[LookupRequest] = (),
    *,
    details_left_out: bool = False,
) -> list[Blocks]:
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
            elements.append(button("Share in channel", SHARE_ACTION, value, style="primary"))
        elements.append(button("Refresh", REFRESH_ACTION, value))
    if details_left_out:
        notes.append(DETAILS_LEFT_OUT)
    closing: list[Block] = [{"type": "actions", "elements": elements}] if elements else []
    closing += [context(notes)] if notes else []
    return [*_picker_rows(pickers), *([Blocks(closing)] if closing else [])]


def _compact_tails(request: LookupRequest | None, shared_by: str | None, found_ids: list[str]) -> list[list[Blocks]]:
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
                notes.append(f"Shared by {mention(shared_by)}")
            if refreshed_at is not None:
                notes.append(f"Refreshed {date_token(refreshed_at)}")
        if total > 1:
            notes.append(f"Part {index + 1} of {total}")
        title = TITLE if index == 0 else f"{TITLE} (continued)"
        return [header(title), context(notes)] if notes else [header(title)]

    found_ids = [o.conversation_id for o in outcomes if isinstance(o, Found)]
    compact_tails = _compact_tails(request, shared_by, found_ids)
    # Detailed sections carry their own Details buttons. Compact layouts keep the Details… buttons before
    # any other detail: a conversation that can be opened matters more than a snippet of its last message.
    attempts = [(density, tail) for tail in compact_tails for density in LAYOUTS]
    if len(outcomes) <= DETAILED_OUTCOMES_MAX:
        attempts.insert(0, (DETAILED, _lookup_tail(request, shared_by)))
    # Each layout's body is built once, however many tails are tried with it (paging reads items, never
    # changes them).
    body_of: dict[Density, list[Item]] = {}

    def body(density: Density) -> list[Item]:
        if density not in body_of:
            body_of[density] = body_items(outcomes, density, redact_text, request)
        return body_of[density]

    bodies = next(
        (
            fitted
            for density, tail in attempts
            if (fitted := paginate(body(density), head, tail, max_messages)) is not None
        ),
        None,
    )
    if bodies is None:
        bodies = paginate_cut(body(LAYOUTS[-1]), head, compact_tails[-1], max_messages)
    total = len(bodies)
    return [
        message(_fallback(counts, result.sandbox, index, total), head(index, total) + body)
        for index, body in enumerate(bodies)
    ]
