"""The Block Kit checker: a fine message passes, each broken limit is named."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.render.limits import BLOCKS_JSON_MAX, blocks_json_length, problems


def section(text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(text: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": "go", **extra}


def message(*blocks: Any, text: Any = "fallback") -> dict[str, Any]:
    return {"text": text, "blocks": list(blocks)}


def one_problem(msg: dict[str, Any]) -> str:
    found = problems(msg)
    assert len(found) == 1, found
    return found[0]


def test_a_message_within_every_limit_has_no_problems() -> None:
    fine = message(
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
        section("s" * 3000),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2000}, *[{"type": "mrkdwn", "text": "f"}] * 9]},
        {"type": "divider", "block_id": "b" * 255},
        {"type": "actions", "elements": [button("b" * 75, action_id="a" * 255, value="v" * 2000)]},
        text="t" * 40_000,
    )
    assert problems(fine) == []
    assert blocks_json_length(fine["blocks"]) <= BLOCKS_JSON_MAX
    assert problems({"text": "no blocks at all", "response_type": "ephemeral"}) == []


@pytest.mark.parametrize("text", [None, "", "   ", 7])
def test_the_fallback_text_is_required(text: Any) -> None:
    assert "top-level text" in one_problem(message(section(), text=text))


def test_the_fallback_text_has_a_length_limit() -> None:
    assert "40001 characters (at most 40000)" in one_problem(message(text="t" * 40_001))


def test_block_count_limit() -> None:
    assert "51 blocks (at most 50)" in one_problem(message(*[{"type": "divider"}] * 51))


def test_json_size_limit_counts_characters_of_the_blocks() -> None:
    blocks = [section("x" * 2900) for _ in range(5)]
    assert blocks_json_length(blocks) > BLOCKS_JSON_MAX
    assert "characters of JSON (at most 12000)" in one_problem(message(*blocks))
    # Characters, not bytes: 5 sections of 2000 CJK characters are within the budget.
    assert problems(message(*[section("中" * 2000) for _ in range(5)])) == []


def test_section_limits() -> None:
    assert "text is 3001 characters (at most 3000)" in one_problem(message(section("x" * 3001)))
    assert "text is empty" in one_problem(message(section("")))
    assert "neither text nor fields" in one_problem(message({"type": "section"}))
    eleven = {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}
    assert "11 fields (at most 10)" in one_problem(message(eleven))
    long_field = {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}
    assert "fields[0] is 2001 characters (at most 2000)" in one_problem(message(long_field))
    assert "type 'markdown'" in one_problem(message({"type": "section", "text": {"type": "markdown", "text": "x"}}))


def test_header_is_plain_text_of_at_most_150() -> None:
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    assert "151 characters (at most 150)" in one_problem(message(header))
    mrkdwn = {"type": "header", "text": {"type": "mrkdwn", "text": "*h*"}}
    assert "type 'mrkdwn' (allowed: plain_text)" in one_problem(message(mrkdwn))


def test_context_limits() -> None:
    many = {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}
    assert "11 elements (at most 10)" in one_problem(message(many))
    assert "elements is not a non-empty list" in one_problem(message({"type": "context", "elements": []}))
    image = {"type": "context", "elements": [{"type": "image", "image_url": "https://x/y.png"}]}
    assert "needs image_url and alt_text" in one_problem(message(image))


def test_actions_and_button_limits() -> None:
    many = {"type": "actions", "elements": [button(action_id=f"a{i}") for i in range(26)]}
    assert "26 elements (at most 25)" in one_problem(message(many))
    assert "repeats an action_id" in one_problem(message({"type": "actions", "elements": [button(), button()]}))
    assert "text is 76 characters (at most 75)" in one_problem(
        message({"type": "actions", "elements": [button("b" * 76)]})
    )
    long_value = {"type": "actions", "elements": [button(value="v" * 2001)]}
    assert "value is not a string of at most 2000" in one_problem(message(long_value))
    long_id = {"type": "actions", "elements": [button(action_id="a" * 256)]}
    assert "action_id is 256 characters (at most 255)" in one_problem(message(long_id))
    overflow = {"type": "actions", "elements": [{"type": "overflow", "action_id": "s"}]}
    assert "unknown element type 'overflow'" in one_problem(message(overflow))


def select_block(options: list[dict[str, Any]], placeholder: str = "Details for…") -> dict[str, Any]:
    element = {
        "type": "static_select",
        "action_id": "details",
        "placeholder": {"type": "plain_text", "text": placeholder},
        "options": options,
    }
    return {"type": "actions", "elements": [element]}


def option(text: str = "alice|1|bob", value: str = "v") -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def test_static_select_limits() -> None:
    assert problems(message(select_block([option()] * 100))) == []
    assert "101 options (at most 100)" in one_problem(message(select_block([option()] * 101)))
    assert "options[0] text is 76 characters" in one_problem(message(select_block([option(text="x" * 76)])))
    assert "options[0] value is not a string of 1 to 150" in one_problem(
        message(select_block([option(value="v" * 151)]))
    )
    assert "options is not a non-empty list" in one_problem(message(select_block([])))
    assert "placeholder is 151 characters" in one_problem(message(select_block([option()], placeholder="p" * 151)))
    assert "style 'loud'" in one_problem(message({"type": "actions", "elements": [button(style="loud")]}))
    assert "accessory (button) text" in one_problem(message(section(accessory=button(""))))


def test_block_id_limit_and_unknown_blocks() -> None:
    assert "block_id is 256 characters (at most 255)" in one_problem(
        message({"type": "divider", "block_id": "b" * 256})
    )
    assert "unknown type 'image'" in one_problem(message({"type": "image"}))
    assert "not an object" in one_problem(message("divider"))
    assert "blocks is not a list" in one_problem({"text": "t", "blocks": "[]"})


def test_every_problem_is_reported_with_where_it_is() -> None:
    found = problems(message(section("x" * 3001), {"type": "header", "text": {"type": "mrkdwn", "text": "h"}}, text=""))
    assert len(found) == 3
    assert any(p.startswith("blocks[0] (section)") for p in found)
    assert any(p.startswith("blocks[1] (header)") for p in found)
