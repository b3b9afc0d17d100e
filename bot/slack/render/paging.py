"""Filling messages within Slack's limits: an answer is a list of items (lines that may share a section, or
blocks that stand together), poured in order into at most N messages, each under 50 blocks and the JSON
size Slack accepts, each starting with its head."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..i18n import EN, Translator
from .kit import Block, section
from .limits import BLOCKS_JSON_MAX, MESSAGE_BLOCKS_MAX, SECTION_TEXT_MAX, blocks_json_length


def json_text_length(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False)) - 2


@dataclass(slots=True)
class Line:
    """A line of mrkdwn; consecutive lines share a section."""

    text: str
    ids: int = 0
    cost: int = field(init=False)

    def __post_init__(self) -> None:
        self.cost = json_text_length(self.text)


@dataclass(slots=True)
class Blocks:
    """Blocks that stand on their own, kept together in one message."""

    blocks: list[Block]
    ids: int = 0


Item = Line | Blocks
_SECTION_COST = blocks_json_length(section(""))


class _Page:
    """The body of one message being filled, with the room its head takes reserved."""

    def __init__(self, head: list[Block]) -> None:
        self.body: list[Block | list[str]] = []  # a list of lines is a section still taking lines
        self._count = len(head)
        self._cost = blocks_json_length(head)
        self._open_length = 0

    def add(self, item: Item) -> bool:
        if isinstance(item, Blocks):
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


Head = Callable[[int, int], list[Block]]


def paginate(items: Sequence[Item], head: Head, tail: Sequence[Blocks], limit: int) -> list[list[Block]] | None:
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
    items: Sequence[Item], head: Head, tail: Sequence[Blocks], limit: int, t: Translator = EN
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
