"""The answer to one lookup: every requested ID, found or failed, in at most 5 messages within Block Kit's
limits, closing with its buttons (Download CSV, Details…, Share, Refresh). `render_lookup` tries layouts from
the most detailed to the densest and keeps the first that fits: a section per conversation for a few, then
(with `tables`) a table of them, then lists."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache, partial
from typing import Any

from bot.yunxin.models import Found, LookupResult, tally

from ..actions import DETAILS_PICKER_ACTION, EXPORT_ACTION, REFRESH_ACTION, SHARE_ACTION, LookupRequest
from ..i18n import EN, N_, Translator
from .kit import Block, Message, actions, button, context, date_token, header, mention, message, sandbox_label
from .limits import json_text_length
from .lookup_body import DETAILED, LAYOUTS, Density, body_items, error_items
from .paging import Blocks, HeadRoom, Item, paginate, paginate_cut
from .sizes import actions_length, button_length, context_length, header_length, list_length
from .table import TABLE_LAYOUTS, TableDensity, table_pages, tables_for
from .yunxin_text import Tally, lookup_summary, said_counts, tally_key

TITLE = N_("Yunxin conversations")
# Up to this many outcomes, each found conversation gets a section of its own.
DETAILED_OUTCOMES_MAX = 5
DETAILS_LEFT_OUT = N_(
    "Details can't be offered for this many conversations in one answer; look up fewer at a time to open them."
)


@dataclass(frozen=True, slots=True)
class _HeadWords:
    """The fixed words of an answer's heads and notification texts in one language, translated once per
    translator: every answer says most of them, some twice."""

    title: str
    later_title: str  # the head of every message after the first
    sandbox_label: str
    sandbox_prefix: str  # ahead of the notification text
    part: str  # a format: {part}, {total}


@cache  # keyed by the translator: one for each locale
def _head_words(t: Translator) -> _HeadWords:
    title = t.gettext(TITLE)
    return _HeadWords(
        title=title,
        later_title=t.gettext("{title} (continued)").format(title=title),
        sandbox_label=sandbox_label(t),
        sandbox_prefix=t.gettext("SANDBOX DATA — "),
        part=t.gettext("Part {part} of {total}"),
    )


def _fallback(counts: dict[str, int], sandbox: bool, index: int, total: int, t: Translator) -> str:
    if index > 0:
        words = _head_words(t)
        prefix = words.sandbox_prefix if sandbox else ""
        later = t.gettext("{title}, part {part} of {total}")
        return prefix + later.format(title=words.title, part=index + 1, total=total)
    return _first_fallback(tally_key(counts), sandbox, t)


# The first message's notification text, made once for each set of counts and language, as the summary
# line is (yunxin_text._summary): 15 k instructions an answer otherwise.
@lru_cache(maxsize=1024)
def _first_fallback(tally: Tally, sandbox: bool, t: Translator) -> str:
    words = _head_words(t)
    counted = ", ".join([f"{count} {word}" for count, word in said_counts(tally, t)])
    return f"{words.sandbox_prefix if sandbox else ''}{words.title}: {counted}"


def _head_blocks(title: str, notes: list[str]) -> list[Block]:
    return [header(title), context(notes)] if notes else [header(title)]


@lru_cache(maxsize=1024)  # most answers' heads read alike: the same title and notes, 12 k instructions to count
def _head_size(title: str, notes: tuple[str, ...]) -> tuple[int, int]:
    """`_head_blocks`' count and JSON length, counted from its texts."""
    lengths = [header_length(title), context_length(notes)] if notes else [header_length(title)]
    return len(lengths), list_length(lengths)


def _button_row(label: str, action_id: str, value: str) -> Blocks:
    """One button on a row of its own, its JSON length counted from its texts."""
    length = actions_length([button_length(label, action_id, json_text_length(value))])
    return Blocks([actions([button(label, action_id, value)])], json_length=list_length([length]))


ButtonSpec = tuple[str, str, str | None]  # a button's label, action_id and style


def _row_length_but_value(buttons: Sequence[ButtonSpec]) -> int:
    """The JSON length of a row of these buttons, the value they carry left out: with the lookup's value on
    each, the row is this and the value's length once per button (a text adds its length wherever it sits)."""
    return actions_length([button_length(label, action_id, 0, style=style) for label, action_id, style in buttons])


@cache  # keyed by the translator: one for each locale
def _export_button(t: Translator) -> tuple[str, int]:
    """Download CSV's label, and the length of its row but the lookup's value."""
    label = t.gettext("Download CSV")
    return label, _row_length_but_value([(label, EXPORT_ACTION, None)])


@cache  # keyed by the translator and whether the answer is shared already
def _closing_buttons(t: Translator, shared: bool) -> tuple[tuple[ButtonSpec, ...], int]:
    """Share (unless the answer is shared already) and Refresh, and the length of their row but the values."""
    share: tuple[ButtonSpec, ...] = () if shared else ((t.gettext("Share in channel"), SHARE_ACTION, "primary"),)
    buttons = (*share, (t.gettext("Refresh"), REFRESH_ACTION, None))
    return buttons, _row_length_but_value(buttons)


def _picker_rows(parts: Sequence[LookupRequest], t: Translator) -> list[Blocks]:
    """A "Details…" button for each part of the found conversations, each on a row of its own (a row may not
    repeat an action_id), so the rows can spread over the messages of a long answer."""
    if not parts:
        return []
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
        rows.append(_button_row(label, DETAILS_PICKER_ACTION, value))
        first = last + 1
    return rows


def exportable(counts: Mapping[str, int]) -> bool:
    """An answer with found or failed IDs (by its `tally`) offers them as a file."""
    return counts["found"] > 0 or counts["failed"] > 0


@dataclass(frozen=True, slots=True)
class _Encoded:
    """The lookup the buttons repeat, with its button value (None: too long for one button) encoded once for
    every row and tail that carries it, and the value's JSON length (0 without one)."""

    request: LookupRequest
    value: str | None
    value_length: int

    @classmethod
    def of(cls, request: LookupRequest) -> _Encoded:
        value = request.encode()
        return cls(request, value, 0 if value is None else json_text_length(value))


def _export_rows(asked: _Encoded, t: Translator) -> list[Blocks] | None:
    """Download CSV on a row of its own: one button carrying the lookup, or, when its IDs are too many for
    one button, a button for each part of them (each a file of its own); None when some ID does not fit even
    alone in a button."""
    if asked.value is not None:
        label, row_length = _export_button(t)
        row = actions([button(label, EXPORT_ACTION, asked.value)])
        return [Blocks([row], json_length=list_length([row_length + asked.value_length]))]
    parts = asked.request.split()
    if parts is None:
        return None
    rows: list[Blocks] = []
    first, total = 1, len(asked.request.ids)
    for part in parts:
        last = first + len(part.ids) - 1
        label = t.gettext("Download CSV {first}–{last} of {total}").format(first=first, last=last, total=total)
        value = part.encode()
        assert value is not None  # split() made it fit
        rows.append(_button_row(label, EXPORT_ACTION, value))
        first = last + 1
    return rows


def _lookup_tail(
    asked: _Encoded | None,
    shared_by: str | None,
    pickers: Sequence[LookupRequest] = (),
    *,
    details_left_out: bool = False,
    export: Sequence[Blocks] | None = (),
    t: Translator = EN,
) -> list[Blocks]:
    """The closing blocks: the `export` rows (Download CSV), rows of Details… buttons for `pickers`, then Share
    and Refresh, then notes. Each Download CSV and Details… button has a row of its own (a row may not repeat
    an action_id). `export` None: the file is not offered, and a note says why."""
    if asked is None:
        return []
    value = asked.value
    notes: list[str] = []
    if value is None:
        if shared_by:
            notes.append(t.gettext("These IDs are too many to refresh with one button; run the command again instead."))
        else:
            notes.append(
                t.gettext("These IDs are too many to share or refresh with one button; run the command again instead.")
            )
    if export is None:
        notes.append(
            t.gettext(
                "They are too many to download as a file from here; look up fewer at a time, or run "
                "`query --format csv` in a terminal."
            )
        )
    if details_left_out:
        notes.append(t.gettext(DETAILS_LEFT_OUT))
    closing: list[Block] = []
    lengths: list[int] = []  # the closing blocks', counted from their texts
    if value is not None:
        buttons, row_length = _closing_buttons(t, bool(shared_by))
        closing.append(actions([button(label, action_id, value, style=style) for label, action_id, style in buttons]))
        lengths.append(row_length + len(buttons) * asked.value_length)
    if notes:
        closing.append(context(notes))
        lengths.append(context_length(notes))
    closing_rows = [Blocks(closing, json_length=list_length(lengths))] if closing else []
    return [*(export or ()), *_picker_rows(pickers, t), *closing_rows]


class _Tail:
    """A tail a compact answer may end with, made when a layout first tries it: most answers fit with the
    first, and the others would be made for nothing."""

    __slots__ = ("_made", "_make")

    def __init__(self, make: Callable[[], list[Blocks]]) -> None:
        self._make = make
        self._made: list[Blocks] | None = None

    def __call__(self) -> list[Blocks]:
        if self._made is None:
            self._made = self._make()
        return self._made


def _compact_tails(
    asked: _Encoded | None,
    shared_by: str | None,
    found_ids: list[str],
    rows: list[Blocks] | None,
    t: Translator,
) -> list[_Tail]:
    """The tails a compact answer may end with, best first: with the Download CSV `rows` and Details… buttons
    carrying every ID and every found conversation; then, as those do not fit, Details left out; then (when
    the file takes several buttons) the file left out too."""

    def made_once(pickers: Sequence[LookupRequest], left_out: bool, export: Sequence[Blocks] | None) -> _Tail:
        return _Tail(partial(_lookup_tail, asked, shared_by, pickers, details_left_out=left_out, export=export, t=t))

    # The file's buttons, and what is left when they do not fit: one button always fits; parts may not.
    exports: list[Sequence[Blocks] | None] = [rows] if rows is not None and len(rows) <= 1 else [rows, None]
    if asked is None or not found_ids:
        return [made_once((), False, e) for e in exports]
    parts = LookupRequest(tuple(found_ids), asked.request.environment).split()
    left_out = [made_once((), True, e) for e in exports]
    if parts is None:
        return left_out
    return [made_once(parts, False, exports[0]), *left_out]


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
    export = exportable(counts)

    # What the heads say besides their part number, made once: each head is made twice (reserved while
    # paging, then shown), and every later message's head is the same.
    words = _head_words(t)
    later_notes = [words.sandbox_label] if result.sandbox else []
    first_notes = [*later_notes, lookup_summary(counts, result.environment, t)]
    if shared_by:
        first_notes.append(t.gettext("Shared by {user}").format(user=mention(shared_by)))
    if refreshed_at is not None:
        first_notes.append(t.gettext("Refreshed {moment}").format(moment=date_token(refreshed_at)))

    def head_texts(index: int, total: int) -> tuple[str, list[str]]:
        notes = list(first_notes if index == 0 else later_notes)
        if total > 1:
            notes.append(words.part.format(part=index + 1, total=total))
        return (words.title if index == 0 else words.later_title), notes

    def head_size(index: int, total: int) -> tuple[int, int]:
        title, notes = head_texts(index, total)
        return _head_size(title, tuple(notes))

    heads = HeadRoom(head_size)

    def messages(pages: Sequence[tuple[list[Block], Block | None]]) -> list[Message]:
        total = len(pages)
        made: list[Message] = []
        for index, (body, table) in enumerate(pages):
            shown = message(
                _fallback(counts, result.sandbox, index, total, t), _head_blocks(*head_texts(index, total)) + body
            )
            if table is not None:
                shown["attachments"] = [{"blocks": [table]}]
            made.append(shown)
        return made

    # Each layout's body is built once, however many tails are tried with it (paging reads items, never
    # changes them).
    body_of: dict[Density, list[Item]] = {}

    def body(density: Density) -> list[Item]:
        if density not in body_of:
            body_of[density] = body_items(outcomes, density, redact_text, request, t)
        return body_of[density]

    asked = _Encoded.of(request) if request is not None else None
    export_rows = _export_rows(asked, t) if asked is not None and export else []
    if len(outcomes) <= DETAILED_OUTCOMES_MAX:
        # Detailed sections carry their own Details buttons; a few IDs always fit one Download CSV button.
        tail = _lookup_tail(asked, shared_by, export=export_rows, t=t)
        if (fitted := paginate(body(DETAILED), heads, tail, max_messages)) is not None:
            return messages([(page, None) for page in fitted])
    found_ids = [o.conversation_id for o in outcomes if isinstance(o, Found)]
    compact_tails = _compact_tails(asked, shared_by, found_ids, export_rows, t)
    if tables and len(outcomes) > DETAILED_OUTCOMES_MAX:
        errors = error_items(outcomes, DETAILED.error_detail, t)
        shared: list[Any] = []  # what every table layout's rows share, made once
        tables_of: dict[TableDensity, Any] = {}
        # As in the lists: Details… buttons before a snippet of the last message.
        for make_tail in compact_tails:
            for table_density in TABLE_LAYOUTS:
                if table_density not in tables_of:
                    tables_of[table_density] = tables_for(
                        outcomes, table_density, redact=redact_text, limit=max_messages, t=t, shared=shared
                    )
                tables_made = tables_of[table_density]
                if tables_made is None:
                    continue
                pages = table_pages(tables_made, head=heads, errors=errors, tail=make_tail(), limit=max_messages, t=t)
                if pages is not None:
                    return messages(pages)
    # Compact layouts keep the Details… buttons before any other detail: a conversation that can be opened
    # matters more than a snippet of its last message.
    bodies = next(
        (
            fitted
            for make_tail in compact_tails
            for density in LAYOUTS
            if (fitted := paginate(body(density), heads, make_tail(), max_messages)) is not None
        ),
        None,
    )
    if bodies is None:
        bodies = paginate_cut(body(LAYOUTS[-1]), heads, compact_tails[-1](), max_messages, t)
    return messages([(page, None) for page in bodies])
