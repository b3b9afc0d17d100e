"""JSON lengths counted from texts (sizes.py) are the lengths json.dumps gives, for any texts, and every one
the renderer counts is the one it would have measured."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.actions import LookupRequest
from bot.slack.i18n import LOCALES, LocaleName, translator
from bot.slack.render import lookup
from bot.slack.render.kit import actions, button, context, divider, fields_section, header, mrkdwn, section
from bot.slack.render.limits import blocks_json_length, json_text_length
from bot.slack.render.paging import Blocks
from bot.slack.render.sizes import (
    DIVIDER_LENGTH,
    actions_length,
    button_length,
    context_length,
    fields_section_length,
    header_length,
    list_length,
    member_length,
    mrkdwn_length,
    section_length,
)
from bot.yunxin.models import LookupResult
from tests.slack.render.test_lookup import lookup_results

# Any text JSON can hold: escapes, control characters, lone surrogates, text beyond the BMP.
texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
styles = st.sampled_from([None, "", "primary", "danger", 'x"\\'])


def dumped_length(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False))


@given(texts)
def test_text_blocks_are_counted_from_their_text(text: str) -> None:
    assert json_text_length(text) == dumped_length(text) - 2
    assert mrkdwn_length(text) == dumped_length(mrkdwn(text))
    assert section_length(text) == dumped_length(section(text))
    assert header_length(text) == dumped_length(header(text))
    assert dumped_length(divider()) == DIVIDER_LENGTH


@given(st.lists(texts, max_size=5))
def test_a_context_is_counted_from_its_texts(notes: list[str]) -> None:
    assert context_length(notes) == dumped_length(context(notes))
    assert list_length([mrkdwn_length(note) for note in notes]) == dumped_length([mrkdwn(note) for note in notes])


@given(st.lists(st.tuples(texts, texts, texts, styles), max_size=4))
def test_buttons_and_their_row_are_counted_from_their_texts(specs: list[tuple[str, str, str, str | None]]) -> None:
    buttons = [button(text, action_id, value, style=style) for text, action_id, value, style in specs]
    lengths = [
        button_length(text, action_id, json_text_length(value), style=style) for text, action_id, value, style in specs
    ]
    assert lengths == [dumped_length(one) for one in buttons]
    assert actions_length(lengths) == dumped_length(actions(buttons))


@given(texts, st.lists(texts, max_size=10), st.none() | st.tuples(texts, texts, texts))
def test_a_section_with_fields_is_counted_from_its_texts(
    text: str, fields: list[str], button_texts: tuple[str, str, str] | None
) -> None:
    accessory = None if button_texts is None else button(*button_texts)
    assert fields_section_length(text, fields, button_texts) == dumped_length(fields_section(text, fields, accessory))


@given(texts, texts.filter(lambda key: key not in ("type", "text")), texts)
def test_a_member_added_to_an_object_is_counted_from_its_key_and_value(text: str, key: str, value: str) -> None:
    counted = section_length(text) + member_length(key, json_text_length(value) + 2)
    assert counted == dumped_length({**section(text), key: value})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    result=st.one_of(lookup_results(max_ids=8), lookup_results()),
    with_request=st.booleans(),
    shared_by=st.sampled_from([None, "U0SHARER1"]),
    tables=st.booleans(),
    locale=st.sampled_from(LOCALES),
)
def test_every_length_the_renderer_counts_is_the_one_it_would_measure(
    result: LookupResult, with_request: bool, shared_by: str | None, tables: bool, locale: LocaleName
) -> None:
    request = LookupRequest(tuple(result.requested), result.environment) if with_request else None
    head_size = lookup._head_size
    checked = {"blocks": 0, "heads": 0}

    def measured_cost(item: Blocks) -> int:
        measured = blocks_json_length(item.blocks) if item.blocks else 0
        if item.json_length is not None:
            assert item.json_length == measured, item.blocks
            checked["blocks"] += 1
        return measured

    def checked_head_size(title: str, notes: list[str]) -> tuple[int, int]:
        blocks = lookup._head_blocks(title, notes)
        assert head_size(title, notes) == (len(blocks), blocks_json_length(blocks))
        checked["heads"] += 1
        return head_size(title, notes)

    with (
        patch.object(Blocks, "cost", property(measured_cost)),
        patch.object(lookup, "_head_size", checked_head_size),
    ):
        lookup.render_lookup(result, request=request, shared_by=shared_by, tables=tables, t=translator(locale))
    assert checked["heads"] >= 1
