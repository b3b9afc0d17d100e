"""The lookup form and its inline errors, within Slack's limits for modals (input blocks included), and the
help's button that opens it; the state the form keeps is read back strictly."""

from __future__ import annotations

import json

import pytest

from bot.slack.i18n import translator
from bot.slack.render.form import (
    ENVIRONMENT_BLOCK,
    ENVIRONMENT_ELEMENT,
    FORM_CALLBACK,
    IDS_BLOCK,
    IDS_ELEMENT,
    IDS_INPUT_MAX,
    FormState,
    form_button,
    malformed_error,
    no_ids_error,
    render_form,
    too_many_error,
    with_form_button,
)
from bot.slack.render.home import OPEN_FORM_ACTION
from bot.slack.render.limits import problems
from bot.slack.render.view_limits import view_problems
from bot.yunxin.ids import InvalidId, parse_id
from tests.messages import shown

ZH = translator("zh_CN")


def inputs(view: dict[str, object]) -> dict[str, dict[str, object]]:
    return {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}  # type: ignore[attr-defined]


def test_one_environment_is_one_multiline_input() -> None:
    view = render_form(environments=["sandbox"], default="sandbox", state=FormState("C1"), sandbox=True)
    assert view_problems(view) == []
    assert view["callback_id"] == FORM_CALLBACK and view["submit"]["text"] == "Look up"
    (ids,) = inputs(view).values()
    assert ids["block_id"] == IDS_BLOCK
    assert ids["element"] == ids["element"] | {
        "type": "plain_text_input",
        "action_id": IDS_ELEMENT,
        "multiline": True,
        "max_length": IDS_INPUT_MAX,
    }
    assert "direct messages with the bot" in shown({"blocks": view["blocks"]})
    assert "SANDBOX DATA" in shown({"blocks": view["blocks"]})
    assert FormState.decode(view["private_metadata"]) == FormState("C1")


def test_several_environments_add_a_choice_starting_at_the_default() -> None:
    view = render_form(environments=["prod", "staging"], default="staging", state=FormState())
    assert view_problems(view) == []
    choice = inputs(view)[ENVIRONMENT_BLOCK]["element"]
    assert choice["action_id"] == ENVIRONMENT_ELEMENT  # type: ignore[index]
    assert [option["value"] for option in choice["options"]] == ["prod", "staging"]  # type: ignore[index]
    assert choice["initial_option"]["value"] == "staging"  # type: ignore[index]
    assert choice["initial_option"]["text"]["text"] == "staging (default)"  # type: ignore[index]


def test_the_form_reads_in_chinese_within_the_title_limit() -> None:
    view = render_form(environments=["prod", "staging"], default="prod", state=FormState(), t=ZH)
    assert view_problems(view) == []
    assert "Conversation IDs" not in shown({"blocks": view["blocks"]})


def test_the_inline_errors_name_the_input_and_say_what_to_fix() -> None:
    assert list(no_ids_error()) == [IDS_BLOCK]
    malformed = [
        item for item in map(parse_id, ["alice", "bob|7|x", "c|1|", "d|2|zz", "e|4|f"]) if isinstance(item, InvalidId)
    ]
    text = malformed_error(malformed)[IDS_BLOCK]
    assert text.startswith("5 entries are not conversation IDs: alice: expected owner|type|target")
    assert "bob|7|x: the type must be 1 (one-to-one), 2 (team) or 3 (super team)" in text
    assert text.endswith("(and 2 more)")
    assert "at most 400" in too_many_error(401, 400)[IDS_BLOCK]
    chinese = malformed_error(malformed[:1], ZH)[IDS_BLOCK]
    assert "alice" in chinese and "expected" not in chinese


def test_the_help_carries_the_button_that_opens_the_form() -> None:
    help_message = {
        "text": "How to use /conversation",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
    }
    with_button = with_form_button(help_message)
    assert problems(with_button) == []
    assert with_button["blocks"][-1] == form_button()
    assert form_button()["elements"][0]["action_id"] == OPEN_FORM_ACTION


@pytest.mark.parametrize("value", ["", "x", "[]", '{"v":2}', '{"v":1,"channel":5}', "{" * 4000])
def test_a_state_that_is_not_the_forms_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        FormState.decode(value)


def test_a_state_round_trips() -> None:
    for state in (FormState(), FormState("C0INCIDENT")):
        assert FormState.decode(state.encode()) == state
    assert json.loads(FormState().encode()) == {"v": 1, "channel": None}
