"""Filling messages within Slack's limits: an answer is a list of items (lines that may share a section, or
blocks that stand together), poured in order into at most N messages, each under 50 blocks and the JSON
size Slack accepts, each starting with its head.

An answer tries several layouts and tails before one fits, so what paging measures is measured once: a
line's cost when it is made, a `Blocks`' when it is made (counted from its texts, sizes.py) or first
paged, a head's in `HeadRoom`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..i18n import EN, Translator
from .kit import Block, section
from .limits import BLOCKS_JSON_MAX, MESSAGE_BLOCKS_MAX, SECTION_TEXT_MAX, blocks_json_length, json_text_length


@dataclass(slots=True, init=False)
class Line:
    """A line of mrkdwn; consecutive lines share a section."""

    text: str
    ids: int
    cost: int  # the text's JSON length

    def __init__(self, text: str, ids: int = 0) -> None:
        # Written out rather than a dataclass __init__ and __post_init__: an answer makes a line for each ID.
        self.text = text
        self.ids = ids
        self.cost = json_text_length(text)


@dataclass(slots=True)
class Blocks:
    """Blocks that stand on their own, kept together in one message."""

    blocks: list[Block]
    ids: int = 0
    # The JSON length of the blocks as a list, when their maker counted it from their texts (sizes.py);
    # else measured when first asked: a tail is tried with every layout, and many are never tried.
    json_length: int | None = field(default=None, repr=False, compare=False)

    @property
    def cost(self) -> int:
        """Characters of JSON the blocks add to a message's blocks: each block's and a `, ` after it, as many
        as the JSON of a list of them (its `[` and `]` in the room of the last `, `)."""
        if not self.blocks:
            return 0
        if self.json_length is None:
            self.json_length = blocks_json_length(self.blocks)
        return self.json_length


Item = Line | Blocks
_SECTION_COST = blocks_json_length(section(""))
# What the head of message `index` of `total` takes of it: (blocks, characters of JSON).
HeadSize = Callable[[int, int], tuple[int, int]]


class HeadRoom:
    """A `HeadSize` counted once for each message and total, however many layouts and tails are paged."""

    def __init__(self, size: HeadSize) -> None:
        self._size = size
        self._taken: dict[tuple[int, int], tuple[int, int]] = {}

    def __call__(self, index: int, total: int) -> tuple[int, int]:
        taken = self._taken.get((index, total))
        if taken is None:
            taken = self._taken[index, total] = self._size(index, total)
        return taken


class _Page:
    """The body of one message being filled, with the room its head takes reserved."""

    def __init__(self, head: tuple[int, int]) -> None:
        self.body: list[Block | list[str]] = []  # a list of lines is a section still taking lines
        self._count, self._cost = head
        self._open_length = 0

    def add(self, item: Item) -> bool:
        if isinstance(item, Line):
            return self._add_line(item)
        blocks, cost = item.blocks, item.cost
        if self._count + len(blocks) > MESSAGE_BLOCKS_MAX or self._cost + cost > BLOCKS_JSON_MAX:
            return False
        self.body.extend(blocks)
        self._count += len(blocks)
        self._cost += cost
        return True

    def _add_line(self, line: Line) -> bool:
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
        return [section("\n".join(part)) if isinstance(part, list) else part for part in self.body]


def paginate(items: Sequence[Item], head: HeadRoom, tail: Sequence[Blocks], limit: int) -> list[list[Block]] | None:
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


def paginate_cut(
    items: Sequence[Item], head: HeadRoom, tail: Sequence[Blocks], limit: int, t: Translator = EN
) -> list[list[Block]]:
    """Beyond what `limit` messages can hold: keep the longest start that fits, and say how many IDs are left."""
    total = sum(item.ids for item in items)

    def attempt(keep: int) -> list[list[Block]] | None:
        hidden = total - sum(item.ids for item in items[:keep])
        note = Line(
            t.ngettext(
                "…and {count} more ID not shown: too many for one answer. Ask for fewer at a time.",
                "…and {count} more IDs not shown: too many for one answer. Ask for fewer at a time.",
                hidden,
            ).format(count=hidden)
        )
        return paginate([*items[:keep], note], head, tail, limit)

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
