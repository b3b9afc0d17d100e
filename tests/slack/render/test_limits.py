"""The Block Kit checker: a fine message passes, each broken limit is named."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.render.limits import BLOCKS_JSON_MAX, _tables_in, blocks_json_length, has_table, problems
from bot.slack.render.view_limits import view_problems


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


TABLE = {"type": "table", "rows": [[{"type": "raw_text", "text": "a"}]]}


@pytest.mark.parametrize(
    ("message", "tables"),
    [
        ({"text": "t", "blocks": [{"type": "divider"}]}, False),
        ({"text": "t", "blocks": [{"type": "divider"}, TABLE]}, True),
        ({"text": "t", "blocks": [], "attachments": [{"blocks": [TABLE]}]}, True),
        ({"text": "t", "attachments": [{"color": "good"}, {"blocks": [{"type": "divider"}]}]}, False),
        # Mappings other than dicts count the same.
        ({"text": "t", "blocks": [MappingProxyType(TABLE)]}, True),
        ({"text": "t", "attachments": [MappingProxyType({"blocks": [TABLE]})]}, True),
        ({"text": "t", "blocks": ["table", None], "attachments": "table"}, False),
    ],
)
def test_has_table_finds_a_table_in_the_blocks_or_the_attachments(message: dict[str, Any], tables: bool) -> None:
    assert has_table(message) is tables


_BLOCK = st.sampled_from([TABLE, {"type": "divider"}, MappingProxyType(TABLE), "table", None, {"type": None}])
_BLOCKS = st.lists(_BLOCK, max_size=4) | st.sampled_from([None, "table", {"type": "table"}])
_ATTACHMENT = st.fixed_dictionaries({}, optional={"blocks": _BLOCKS}) | st.sampled_from(["table", None])


def _every_block(message: dict[str, Any]) -> list[Any]:
    """The blocks of a message and of its attachments, as Slack reads them (lists only)."""
    blocks = list(message["blocks"]) if isinstance(message.get("blocks"), list) else []
    attachments = message.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        if isinstance(attachment, Mapping) and isinstance(attachment.get("blocks"), list):
            blocks.extend(attachment["blocks"])
    return blocks


@given(
    st.fixed_dictionaries({}, optional={"blocks": _BLOCKS, "attachments": st.lists(_ATTACHMENT, max_size=3) | _BLOCKS})
)
def test_the_tables_counted_are_the_table_blocks_of_the_message_and_its_attachments(message: dict[str, Any]) -> None:
    tables = sum(1 for block in _every_block(message) if isinstance(block, Mapping) and block.get("type") == "table")
    assert _tables_in(message) == tables
    assert has_table(message) is (tables > 0)


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


# --- views with input blocks (modals and the Home tab) ------------------------------------------------


def plain_text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def form_view(**changes: Any) -> dict[str, Any]:
    """A modal with a text input and a select menu, as the lookup form has them; `changes` by dotted path."""
    options = [{"text": plain_text(name), "value": name} for name in ("prod", "staging")]
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "form",
        "title": plain_text("Form"),
        "submit": plain_text("Go"),
        "blocks": [
            {
                "type": "input",
                "block_id": "ids",
                "label": plain_text("IDs"),
                "hint": plain_text("owner|type|target"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "ids",
                    "multiline": True,
                    "max_length": 3000,
                    "placeholder": plain_text("alice|1|bob"),
                },
            },
            {
                "type": "input",
                "block_id": "env",
                "label": plain_text("Environment"),
                "element": {
                    "type": "static_select",
                    "action_id": "env",
                    "placeholder": plain_text("Choose"),
                    "options": options,
                    "initial_option": options[0],
                },
            },
        ],
    }
    for path, value in changes.items():
        *parents, last = path.split(".")
        holder: Any = view
        for key in parents:
            holder = holder[int(key)] if key.isdigit() else holder[key]
        if value is None:
            del holder[last]
        else:
            holder[last] = value
    return view


def test_a_modal_with_inputs_within_the_limits_passes() -> None:
    assert view_problems(form_view()) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"submit": None}, "a modal with input blocks needs a submit button"),
        ({"blocks.0.label": {"type": "mrkdwn", "text": "IDs"}}, "label has type 'mrkdwn'"),
        ({"blocks.0.label": plain_text("x" * 2001)}, "label is 2001 characters"),
        ({"blocks.0.hint": plain_text("x" * 2001)}, "hint is 2001 characters"),
        ({"blocks.0.optional": "no"}, "optional is not a boolean"),
        ({"blocks.0.element.type": "datepicker"}, "element has type 'datepicker'"),
        ({"blocks.0.element.max_length": 3001}, "max_length is not an integer from 1 to 3000"),
        ({"blocks.0.element.min_length": 10, "blocks.0.element.max_length": 5}, "min_length is more than max_length"),
        ({"blocks.0.element.multiline": "yes"}, "multiline is not a boolean"),
        ({"blocks.0.element.initial_value": "x" * 3001}, "initial_value is not a string within max_length"),
        ({"blocks.0.element.placeholder": plain_text("x" * 151)}, "placeholder is 151 characters"),
        ({"blocks.1.element.initial_option": {"text": plain_text("qa"), "value": "qa"}}, "not one of its options"),
        ({"blocks.1.block_id": "ids"}, "the view repeats a block_id"),
    ],
)
def test_a_view_beyond_slacks_input_limits_is_refused(changes: dict[str, Any], problem: str) -> None:
    found = view_problems(form_view(**changes))
    assert any(problem in item for item in found), found


def test_a_message_never_takes_an_input_block() -> None:
    block = form_view()["blocks"][0]
    assert "unknown type 'input'" in one_problem(message(block))


def test_a_home_view_takes_inputs_and_no_title_or_buttons_of_its_own() -> None:
    block = form_view()["blocks"][0]
    assert view_problems({"type": "home", "blocks": [block]}, "home") == []
    titled = {"type": "home", "title": plain_text("Home"), "submit": plain_text("Go"), "blocks": [block]}
    assert view_problems(titled, "home") == ["a home view has no title", "a home view has no submit"]
    assert view_problems(form_view(), "home")[0] == "the view has type 'modal' (expected home)"
    assert "at most 100" in " ".join(view_problems({"type": "home", "blocks": [{"type": "divider"}] * 101}, "home"))
