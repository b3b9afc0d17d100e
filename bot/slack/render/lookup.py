"""The answer to one lookup: every requested ID, found or failed, in at most 5 messages within Block Kit's
limits, closing with its buttons (Download CSV, Details…, Share, Refresh). `render_lookup` tries layouts from
the most detailed to the densest and keeps the first that fits: a section per conversation for a few, then
(with `tables`) a table of them, then lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.yunxin.models import Failed, Found, LookupResult, Outcome, tally

from ..actions import DETAILS_PICKER_ACTION, EXPORT_ACTION, REFRESH_ACTION, SHARE_ACTION, LookupRequest
from ..i18n import EN, N_, Translator
from .kit import Block, Message, button, context, date_token, header, mention, message, sandbox_label
from .lookup_body import DETAILED, LAYOUTS, Density, body_items, error_items
from .paging import Blocks, Item, paginate, paginate_cut
from .table import TABLE_LAYOUTS, TableDensity, table_pages, tables_for
from .yunxin_text import lookup_summary, shown_counts, status_word

TITLE = N_("Yunxin conversations")
# Up to this many outcomes, each found conversation gets a section of its own.
DETAILED_OUTCOMES_MAX = 5
DETAILS_LEFT_OUT = N_(
    "Details can't be offered for this many conversations in one answer; look up fewer at a time to open them."
)


def _fallback(counts: dict[str, int], sandbox: bool, index: int, total: int, t: Translator) -> str:
    prefix = t.gettext("SANDBOX DATA — ") if sandbox else ""
    title = t.gettext(TITLE)
    if index > 0:
        return prefix + t.gettext("{title}, part {part} of {total}").format(title=title, part=index + 1, total=total)
    counted = ", ".join(f"{counts[status]} {status_word(status, t)}" for status in shown_counts(counts))
    return f"{prefix}{title}: {counted}"


def _picker_rows(parts: Sequence[LookupRequest], t: Translator) -> list[Blocks]:
    """A "Details…" button for each part of the found conversations, each on a row of its own (a row may not
    repeat an action_id), so the rows can spread over the messages of a long answer."""
    total = sum(len(part.ids) for part in parts)
    rows: list[Blocks] = []
    first = 1
    for part in parts:
        last = first + len(part.ids) - 1
        label = (
            t.gettext("Details…")
            if len(parts) == 1
            else t.gettext("Details {first}–{last} of {total} found").format(first=first, last=last, total=total)
        )
        value = part.encode()
        if value is None:
            raise ValueError("a part of the found conversations larger than a button value")
        rows.append(Blocks([{"type": "actions", "elements": [button(label, DETAILS_PICKER_ACTION, value)]}]))
        first = last + 1
    return rows


def exportable(outcomes: Sequence[Outcome]) -> bool:
    """An answer with found or failed IDs offers them as a file."""
    return any(isinstance(outcome, Found | Failed) for outcome in outcomes)


def _lookup_tail(
    request: LookupRequest | None,
    shared_by: str | None,
    pickers: Sequence[LookupRequest] = (),
    *,
    details_left_out: bool = False,
    export: bool = False,
    t: Translator = EN,
) -> list[Blocks]:
    """The closing blocks: Download CSV, rows of Details… buttons for `pickers`, then Share and Refresh, then
    notes. Download CSV has a row of its own before the others, as each Details… button has."""
    if request is None:
        return []
    value = request.encode()
    elements: list[Block] = []
    notes: list[str] = []
    export_row: list[Blocks] = []
    if value is None:
        if shared_by:
            notes.append(t.gettext("These IDs are too many to refresh with one button; run the command again instead."))
        else:
            notes.append(
                t.gettext("These IDs are too many to share or refresh with one button; run the command again instead.")
            )
        if export:
            notes.append(
                t.gettext(
                    "They are too many to download as a file from here; look up fewer at a time, or run "
                    "`query --format csv` in a terminal."
                )
            )
    else:
        if not shared_by:
            elements.append(button(t.gettext("Share in channel"), SHARE_ACTION, value, style="primary"))
        elements.append(button(t.gettext("Refresh"), REFRESH_ACTION, value))
        if export:
            export_button = button(t.gettext("Download CSV"), EXPORT_ACTION, value)
            export_row = [Blocks([{"type": "actions", "elements": [export_button]}])]
    if details_left_out:
        notes.append(t.gettext(DETAILS_LEFT_OUT))
    closing: list[Block] = [{"type": "actions", "elements": elements}] if elements else []
    closing += [context(notes)] if notes else []
    return [*export_row, *_picker_rows(pickers, t), *([Blocks(closing)] if closing else [])]


def _compact_tails(
    request: LookupRequest | None, shared_by: str | None, found_ids: list[str], export: bool, t: Translator
) -> list[list[Blocks]]:
    """The tails a compact answer may end with, best first: with Details… buttons carrying every found
    conversation, or (when those do not fit) saying Details are left out."""
    if request is None or not found_ids:
        return [_lookup_tail(request, shared_by, export=export, t=t)]
    parts = LookupRequest(tuple(found_ids), request.environment).split()
    left_out = _lookup_tail(request, shared_by, details_left_out=True, export=export, t=t)
    if parts is None:
        return [left_out]
    return [_lookup_tail(request, shared_by, parts, export=export, t=t), left_out]


def render_lookup(
    result: LookupResult,
    *,
    redact_text: bool = False,
    request: LookupRequest | None = None,
    shared_by: str | None = None,
    refreshed_at: datetime | None = None,
    max_messages: int = 5,
    tables: bool = False,
    t: Translator = EN,
) -> list[Message]:
    """The answer to one lookup, as at most `max_messages` messages showing every requested ID, in `t`'s
    language.

    `redact_text` hides the text of last messages (their kind is still shown). With `request`, the
    last message ends with Refresh and (unless `shared_by` says it is already shared) Share buttons,
    Download CSV when some IDs were found or failed, and every found conversation can be opened in Details:
    by its own button in the detailed layout, through "Details…" buttons (each opening a list of the
    conversations it carries) in the compact ones. With `tables`, more than a few IDs are shown as a table
    per message when the tables fit, else as lists (the plain form, which Slack always takes). Up to 400 IDs
    always fit in 5 messages; only beyond what `max_messages` can hold does the answer end with how many IDs
    it leaves out.
    """
    if max_messages < 1:
        raise ValueError("max_messages must be at least 1")
    outcomes = result.outcomes()
    counts = tally(outcomes)
    export = exportable(outcomes)

    def head(index: int, total: int) -> list[Block]:
        notes = [sandbox_label(t)] if result.sandbox else []
        if index == 0:
            notes.append(lookup_summary(counts, result.environment, t))
            if shared_by:
                notes.append(t.gettext("Shared by {user}").format(user=mention(shared_by)))
            if refreshed_at is not None:
                notes.append(t.gettext("Refreshed {moment}").format(moment=date_token(refreshed_at)))
        if total > 1:
            notes.append(t.gettext("Part {part} of {total}").format(part=index + 1, total=total))
        title = t.gettext(TITLE) if index == 0 else t.gettext("{title} (continued)").format(title=t.gettext(TITLE))
        return [header(title), context(notes)] if notes else [header(title)]

    def messages(pages: Sequence[tuple[list[Block], Block | None]]) -> list[Message]:
        total = len(pages)
        made: list[Message] = []
        for index, (body, table) in enumerate(pages):
            shown = message(_fallback(counts, result.sandbox, index, total, t), head(index, total) + body)
            if table is not None:
                shown["attachments"] = [{"blocks": [table]}]
            made.append(shown)
        return made

    found_ids = [o.conversation_id for o in outcomes if isinstance(o, Found)]
    compact_tails = _compact_tails(request, shared_by, found_ids, export, t)
    detailed = len(outcomes) <= DETAILED_OUTCOMES_MAX
    if tables and not detailed and outcomes:
        errors = error_items(outcomes, DETAILED.error_detail, t)
        shared: list[Any] = []  # what every table layout's rows share, made once
        tables_of: dict[TableDensity, Any] = {}
        # As in the lists: Details… buttons before a snippet of the last message.
        for tail in compact_tails:
            for table_density in TABLE_LAYOUTS:
                if table_density not in tables_of:
                    tables_of[table_density] = tables_for(
                        outcomes, table_density, redact=redact_text, limit=max_messages, t=t, shared=shared
                    )
                tables_made = tables_of[table_density]
                if tables_made is None:
                    continue
                pages = table_pages(tables_made, head=head, errors=errors, tail=tail, limit=max_messages, t=t)
                if pages is not None:
                    return messages(pages)
    # Detailed sections carry their own Details buttons. Compact layouts keep the Details… buttons before
    # any other detail: a conversation that can be opened matters more than a snippet of its last message.
    attempts = [(density, tail) for tail in compact_tails for density in LAYOUTS]
    if detailed:
        attempts.insert(0, (DETAILED, _lookup_tail(request, shared_by, export=export, t=t)))
    # Each layout's body is built once, however many tails are tried with it (paging reads items, never
    # changes them).
    body_of: dict[Density, list[Item]] = {}

    def body(density: Density) -> list[Item]:
        if density not in body_of:
            body_of[density] = body_items(outcomes, density, redact_text, request, t)
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
        bodies = paginate_cut(body(LAYOUTS[-1]), head, compact_tails[-1], max_messages, t)
    return messages([(page, None) for page in bodies])
