"""Paging's measurements: each is the exact JSON length Slack's limit is counted in, however it is taken."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.slack.render.kit import Block
from bot.slack.render.limits import blocks_json_length, json_text_length
from bot.slack.render.paging import Blocks, HeadRoom

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
blocks_lists = st.lists(st.dictionaries(st.text(max_size=8), json_values, max_size=4), max_size=5)


def dumped_length(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False))


@given(json_values)
def test_blocks_json_length_is_the_length_of_json_dumps(value: Any) -> None:
    assert blocks_json_length(value) == dumped_length(value)


@given(st.text())
def test_json_text_length_is_the_text_inside_its_quotes(text: str) -> None:
    assert json_text_length(text) == dumped_length(text) - 2


@given(blocks_lists)
def test_the_cost_of_blocks_is_each_blocks_json_and_a_separator(blocks: list[Block]) -> None:
    assert Blocks(blocks).cost == sum(dumped_length(block) + 2 for block in blocks)


def test_a_head_is_counted_once_for_each_message_and_total() -> None:
    counted: list[tuple[int, int]] = []

    def head_size(index: int, total: int) -> tuple[int, int]:
        counted.append((index, total))
        return 2, 100 + index

    heads = HeadRoom(head_size)
    for _ in range(3):
        assert heads(0, 5) == (2, 100) and heads(1, 5) == (2, 101)
    assert counted == [(0, 5), (1, 5)]
