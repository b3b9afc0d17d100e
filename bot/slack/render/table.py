"""A compact answer as tables: one row per ID asked (ID, type, owner, peer or team, unread, pinned, updated,
last message), failed IDs with their reasons in the last column, one `table` block per message.

Slack takes a table in a message's `attachments` (one table a message), up to 100 rows (the header row
included) of up to 20 cells, each cell `raw_text` or `rich_text` and never empty, about 10,000 characters of
cell text in all (`limits.py` checks each). Cells are not mrkdwn: outside text goes in through `kit.literal`,
shown as it is, and no cell holds a mention element made from data. The blocks around the tables (the head,
the failed calls explained, the buttons) are paged as the other layouts are; when the rows need more tables
than the answer has messages, `render_lookup` keeps one of the list layouts instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.yunxin.ids import ConversationId, parse_id
from bot.yunxin.models import Failed, Found, Malformed, Outcome

from ..i18n import EN, N_, Translator
from ..i18n.outside import translate_outside
from .kit import Block, literal, one_line_start, shorten, utc_text
from .limits import BLOCKS_JSON_MAX, MESSAGE_BLOCKS_MAX
from .lookup_body import NOT_RETURNED, pinned_word
from .paging import Blocks, HeadRoom
from .table_limits import TABLE_ROWS_MAX
from .yunxin_text import ID_SHOWN_MAX, TRACE_SHOWN_MAX, TYPE_LABELS, error_title, last_message_text, type_label

# What the renderer fills a table with, under Slack's ~10,000 characters: a margin for what "about" hides.
TABLE_TEXT_BUDGET = 9_000
COLUMNS = (
    N_("ID"),
    N_("Type"),
    N_("Owner"),
    N_("Peer or team"),
    N_("Unread"),
    N_("Pinned"),
    N_("Updated"),
    N_("Last message"),
)
# The ID and the last message wrap; unread counts align right. None: the column's defaults.
COLUMN_SETTINGS: list[dict[str, Any] | None] = [{"is_wrapped": True}, None, None, None, {"align": "right"}, None, None]
COLUMN_SETTINGS.append({"is_wrapped": True})
EMPTY = "—"

Cell = dict[str, Any]
Row = list[Cell]


@dataclass(frozen=True, slots=True)
class TableDensity:
    """How much each row gets: the table layouts go from a snippet of the last message to its kind only."""

    snippet: int | None  # characters of last-message text; None: its kind only
    reasons: int  # characters of a failure's reason
    account: int  # characters of an owner or a peer (a valid account has at most 32)
    junk_id: int  # characters shown of an entry that is not a valid ID


TABLE_LAYOUTS = (TableDensity(60, 80, 32, 60), TableDensity(None, 40, 32, 24))


def raw(text: str) -> Cell:
    return {"type": "raw_text", "text": text or EMPTY}


def _rich(element: dict[str, Any]) -> Cell:
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [element]}]}


def code_cell(text: str) -> Cell:
    """An ID, set as code; its text literal."""
    return _rich({"type": "text", "text": text or EMPTY, "style": {"code": True}})


def date_cell(moment: datetime | None, fallback: str | None = None) -> Cell:
    """A moment in the reader's time zone (a rich_text date element), with its UTC form as the fallback."""
    if moment is None:
        return raw(EMPTY)
    element = {
        "type": "date",
        "timestamp": int(moment.timestamp()),
        "format": "{date_short_pretty} {time}",
        "fallback": fallback or utc_text(moment, seconds=False),
    }
    return _rich(element)


def cell_text(cell: Any) -> str:
    """What a cell shows, as Slack counts it towards the table's text: a raw_text's text, or the texts (and a
    date's fallback) of a rich_text's elements."""
    if not isinstance(cell, dict):
        return ""
    if cell.get("type") == "raw_text":
        text = cell.get("text")
        return text if isinstance(text, str) else ""
    parts: list[str] = []
    for section in cell.get("elements") or []:
        for element in (section.get("elements") or []) if isinstance(section, dict) else []:
            if isinstance(element, dict):
                for key in ("text", "fallback", "name", "url"):
                    value = element.get(key)
                    if isinstance(value, str):
                        parts.append(value)
    return "".join(parts)


def header_row(t: Translator = EN) -> Row:
    return [raw(t.gettext(column)) for column in COLUMNS]


@dataclass(frozen=True, slots=True)
class RowTexts:
    """One ID's row as texts, before it is cells: what every layout shares (`base`) and what each makes
    itself (the ID, shortened when it is junk, and the last column). `cost` is its characters of cell text."""

    conversation_id: str
    base: tuple[str, str, str, str, str]  # type, owner, peer or team, unread, pinned
    updated: datetime | None
    updated_text: str  # its fallback, in UTC
    last: str
    cost: int


Shared = tuple[tuple[str, str, str, str, str], datetime | None, str]


def _account_text(value: str | None, limit: int) -> str:
    return literal(one_line_start(value, limit), limit) if value and value.strip() else EMPTY


def _base(outcome: Outcome, density: TableDensity, t: Translator) -> Shared:
    if isinstance(outcome, Found):
        conversation = outcome.conversation
        unread = conversation.unread_count
        updated = conversation.updated_at
        return (
            (
                type_label(conversation, t),
                _account_text(conversation.sender_id, density.account),
                _account_text(conversation.receiver_id, density.account),
                EMPTY if unread is None else str(unread),
                pinned_word(conversation.stick_top, t),
            ),
            updated,
            utc_text(updated, seconds=False) if updated is not None else EMPTY,
        )
    parsed = parse_id(outcome.conversation_id)
    if isinstance(parsed, ConversationId):
        owner, target = _account_text(parsed.owner, density.account), _account_text(parsed.target, density.account)
        return (t.gettext(TYPE_LABELS[parsed.type]), owner, target, EMPTY, EMPTY), None, EMPTY
    return (EMPTY, EMPTY, EMPTY, EMPTY, EMPTY), None, EMPTY


def row_texts(
    outcomes: Sequence[Outcome],
    density: TableDensity,
    redact: bool,
    t: Translator = EN,
    *,
    budget: int | None = None,
    shared: list[Shared] | None = None,
) -> list[RowTexts] | None:
    """Each outcome's row as texts; None as soon as their cost passes `budget` (they cannot fit). `shared`
    holds what every layout shares, filled on first use, so a second layout does not make it again."""
    made: list[RowTexts] = []
    total = 0
    for index, outcome in enumerate(outcomes):
        if shared is not None and index < len(shared):
            base, updated, date = shared[index]
        else:
            base, updated, date = _base(outcome, density, t)
            if shared is not None:
                shared.append((base, updated, date))
        limit = density.junk_id if isinstance(outcome, Malformed) else ID_SHOWN_MAX
        shown_id = literal(outcome.conversation_id, limit) or EMPTY
        if isinstance(outcome, Found):
            last = last_message_text(outcome.conversation, redact=redact, limit=density.snippet, t=t, escape=False)
        else:
            last = _why(outcome, density, t)
        cost = len(shown_id) + sum(map(len, base)) + len(date) + len(last)
        total += cost
        if budget is not None and total > budget:
            return None
        made.append(RowTexts(shown_id, base, updated, date, last, cost))
    return made


def cells(row: RowTexts) -> Row:
    """The row as table cells: the ID as code, the update in the reader's time zone, the rest raw text."""
    kind, owner, target, unread, pinned = row.base
    return [
        code_cell(row.conversation_id),
        raw(kind),
        raw(owner),
        raw(target),
        raw(unread),
        raw(pinned),
        date_cell(row.updated, row.updated_text),
        raw(row.last),
    ]


def outcome_row(outcome: Outcome, density: TableDensity, redact: bool, t: Translator = EN) -> Row:
    """One ID's row: a found conversation's fields, or what the ID says and why it failed."""
    (texts,) = row_texts([outcome], density, redact, t) or []
    return cells(texts)


def _why(outcome: Outcome, density: TableDensity, t: Translator) -> str:
    """Why an ID has no conversation to show, on one line of literal text."""
    if isinstance(outcome, Failed):
        reason = literal(one_line_start(outcome.failure.reason, density.reasons), density.reasons)  # as Yunxin sent it
        return "✗ " + t.gettext("failed: {reason}").format(reason=reason)
    if isinstance(outcome, Malformed):
        reason = literal(one_line_start(translate_outside(outcome.reason, t), density.reasons), density.reasons)
        return "⛔ " + t.gettext("malformed: {reason}").format(reason=reason)
    error = getattr(outcome, "error", None)
    if error is None:
        return "? " + t.gettext(NOT_RETURNED)
    title = literal(error_title(error, t), density.reasons)
    if not error.trace_id:
        return f"? {title}"
    trace = literal(shorten(error.trace_id, TRACE_SHOWN_MAX), TRACE_SHOWN_MAX + 10)
    return "? " + t.gettext("{title} (trace {trace})").format(title=title, trace=trace)


def table_block(rows: Sequence[RowTexts], t: Translator = EN) -> Block:
    return {"type": "table", "column_settings": list(COLUMN_SETTINGS), "rows": [header_row(t), *map(cells, rows)]}


def row_cost(row: Row) -> int:
    return sum(len(cell_text(cell)) for cell in row)


def split_rows(rows: Sequence[RowTexts], header_cost: int, limit: int) -> list[list[RowTexts]] | None:
    """The rows in order, cut into tables within Slack's rows and the text budget; None beyond `limit`."""
    tables: list[list[RowTexts]] = [[]]
    cost = header_cost
    for row in rows:
        if header_cost + row.cost > TABLE_TEXT_BUDGET:
            return None  # cannot happen with the shortened cells, but a table must never be over
        if len(tables[-1]) + 2 > TABLE_ROWS_MAX or cost + row.cost > TABLE_TEXT_BUDGET:
            if len(tables) == limit:
                return None
            tables.append([])
            cost = header_cost
        tables[-1].append(row)
        cost += row.cost
    return tables


class _Room:
    """What one message's blocks may still take, its head's room reserved."""

    def __init__(self, head: tuple[int, int]) -> None:
        self.count, self.cost = head

    def take(self, item: Blocks) -> bool:
        if self.count + len(item.blocks) > MESSAGE_BLOCKS_MAX or self.cost + item.cost > BLOCKS_JSON_MAX:
            return False
        self.count += len(item.blocks)
        self.cost += item.cost
        return True


def tables_for(
    outcomes: Sequence[Outcome],
    density: TableDensity,
    *,
    redact: bool,
    limit: int,
    t: Translator = EN,
    shared: list[Shared] | None = None,
) -> list[list[RowTexts]] | None:
    """The outcomes' rows cut into at most `limit` tables; None when they need more."""
    header_cost = row_cost(header_row(t))
    rows = row_texts(outcomes, density, redact, t, budget=limit * (TABLE_TEXT_BUDGET - header_cost), shared=shared)
    if rows is None or len(rows) > limit * (TABLE_ROWS_MAX - 1):
        return None
    return split_rows(rows, header_cost, limit)


def table_pages(
    tables: Sequence[Sequence[RowTexts]],
    *,
    head: HeadRoom,
    errors: Sequence[Blocks],
    tail: Sequence[Blocks],
    limit: int,
    t: Translator = EN,
) -> list[tuple[list[Block], Block | None]] | None:
    """The body blocks and the table of each message, at most `limit`; None when they do not fit. The failed
    calls' explanations open the first message, the tail closes the last (spilling backwards)."""
    for total in range(max(len(tables), 1), limit + 1):
        rooms = [_Room(head(index, limit)) for index in range(total)]
        if not all(rooms[0].take(item) for item in errors):
            return None
        bodies: list[list[Block]] = [[] for _ in range(total)]
        bodies[0] = [block for item in errors for block in item.blocks]
        index = total - 1
        placed: list[list[Blocks]] = [[] for _ in range(total)]
        for item in reversed(tail):
            while index >= 0 and not rooms[index].take(item):
                index -= 1
            if index < 0:
                break
            placed[index].insert(0, item)
        else:
            for page, items in enumerate(placed):
                bodies[page].extend(block for item in items for block in item.blocks)
            return [
                (bodies[page], table_block(tables[page], t) if page < len(tables) else None) for page in range(total)
            ]
    return None
