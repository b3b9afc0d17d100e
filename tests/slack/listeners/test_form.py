"""The lookup form through the whole app: opened from the Home tab's button and from the help's; a submission
with no, too many or malformed IDs answered inline in the modal (`response_action: errors`, over HTTP and
Socket Mode), a good one closed and answered in the person's direct message with the bot (conversations.open,
then chat.postMessage of the command's own answer, buttons included), after the command's access checks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.slack.actions import REFRESH_ACTION, SHARE_ACTION, LookupRequest
from bot.slack.render.form import (
    ENVIRONMENT_BLOCK,
    ENVIRONMENT_ELEMENT,
    FORM_CALLBACK,
    IDS_BLOCK,
    IDS_ELEMENT,
    FormState,
)
from bot.slack.render.home import OPEN_FORM_ACTION
from bot.slack.render.limits import problems
from bot.slack.render.view_limits import view_problems
from bot.standins.slack import app_home_opened_event, view_submission_ack_problems
from tests.harness import (
    BOB,
    CHANNEL,
    CONTACT,
    GUEST,
    MEMBER,
    TEAM_CHAT,
    UNKNOWN,
    Bot,
    BotFactory,
    SocketBot,
    block_action,
    eventually,
)
from tests.messages import all_shown, button_value, shown


def typed(text: str, environment: str | None = None) -> dict[str, dict[str, Any]]:
    """The form's input values as Slack sends them back on submission."""
    values: dict[str, dict[str, Any]] = {IDS_BLOCK: {IDS_ELEMENT: {"type": "plain_text_input", "value": text}}}
    if environment is not None:
        option = {"text": {"type": "plain_text", "text": environment}, "value": environment}
        values[ENVIRONMENT_BLOCK] = {ENVIRONMENT_ELEMENT: {"type": "static_select", "selected_option": option}}
    return values


def forms(bot: Bot | SocketBot) -> list[str]:
    return [view_id for view_id, view in bot.slack.views.items() if view.get("callback_id") == FORM_CALLBACK]


def direct_messages(bot: Bot | SocketBot, user: str = MEMBER) -> list[dict[str, Any]]:
    channel = bot.slack.dm_channel(user)
    return [message for message in bot.slack.messages if channel is not None and message["channel"] == channel]


async def open_form_from_help(bot: Bot, **who: Any) -> str:
    """`/conversation` alone, then its "Open the lookup form": the form's view ID."""
    sent = await bot.command("", **who)
    assert sent.ack["blocks"][-1]["elements"][0]["action_id"] == OPEN_FORM_ACTION
    clicked = await bot.click(OPEN_FORM_ACTION, value="help", trigger_id=bot.slack.new_trigger_id(), **who)
    assert clicked.delivery.status == 200
    await eventually(lambda: forms(bot))
    (view_id,) = forms(bot)
    return view_id


async def test_the_help_keeps_the_usage_and_adds_the_forms_button(bot: Bot) -> None:
    for text in ("", "help"):
        ack = (await bot.command(text)).ack
        assert problems(ack) == []
        assert "Usage:" in shown(ack) and "Open the lookup form" in shown(ack)


async def test_the_helps_button_opens_the_form_for_the_channel_it_was_in(bot: Bot) -> None:
    view_id = await open_form_from_help(bot)
    view = bot.slack.views[view_id]
    assert view_problems(view) == []
    assert FormState.decode(view["private_metadata"]) == FormState(CHANNEL)
    assert "Conversation IDs" in shown({"blocks": view["blocks"]})
    assert ENVIRONMENT_BLOCK not in json.dumps(view)  # one environment: nothing to choose


async def test_the_homes_button_opens_the_form_in_no_channel(bot: Bot) -> None:
    assert (await bot.event(app_home_opened_event(MEMBER))).status == 200
    await eventually(lambda: MEMBER in bot.slack.home_views)
    home = {"id": f"VH{MEMBER}", **bot.slack.home_views[MEMBER]}
    payload = block_action(
        OPEN_FORM_ACTION, bot.origin(), value="home", view=home, trigger_id=bot.slack.new_trigger_id()
    )
    assert (await bot.send_click(payload)).status == 200
    await eventually(lambda: forms(bot))
    (view_id,) = forms(bot)
    assert FormState.decode(bot.slack.views[view_id]["private_metadata"]) == FormState(None)


async def test_a_form_that_cannot_open_says_so_where_the_help_was(bot: Bot) -> None:
    await bot.command("")
    sent = await bot.click(OPEN_FORM_ACTION, value="help", trigger_id="unknown.trigger")
    note = await sent.reply()
    assert "Couldn't open the lookup form" in shown(note) and "invalid_trigger_id" in shown(note)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("  \n ", "No conversation IDs"),
        (f"{BOB}, alice, bob|7|x", "2 entries are not conversation IDs: alice: expected owner|type|target"),
        ("a|1|b c|1|d e|1|f g|1|h", "That is 4 IDs; one lookup takes at most 3."),
    ],
)
async def test_ids_that_cannot_be_looked_up_are_answered_inline(start_bot: BotFactory, text: str, said: str) -> None:
    async with start_bot(max_ids_per_command=3) as bot:
        view_id = await open_form_from_help(bot)
        delivery = await bot.submit(view_id, typed(text))
        assert (delivery.status, delivery.timed_out) == (200, False)
        ack = json.loads(delivery.body)
        assert ack["response_action"] == "errors" and said in ack["errors"][IDS_BLOCK]
        assert view_submission_ack_problems(ack, bot.slack.views[view_id]) == []
        await bot.settle()
    assert bot.yunxin.calls == [] and direct_messages(bot) == []


async def test_good_ids_close_the_form_and_the_answer_arrives_in_the_direct_message(bot: Bot) -> None:
    command_answer = await (await bot.command(f"{TEAM_CHAT} {UNKNOWN}")).reply()
    view_id = await open_form_from_help(bot)
    delivery = await bot.submit(view_id, typed(f"{TEAM_CHAT}\n{UNKNOWN}"))
    assert (delivery.status, delivery.body) == (200, "")  # an empty ack closes the modal
    await eventually(lambda: direct_messages(bot))
    (answer,) = direct_messages(bot)
    assert problems(answer) == []
    assert [block["type"] for block in answer["blocks"]] == [block["type"] for block in command_answer["blocks"]]
    assert shown(answer) == shown(command_answer)
    for action in (SHARE_ACTION, REFRESH_ACTION):
        assert LookupRequest.decode(button_value(answer, action)).ids == (TEAM_CHAT, UNKNOWN)
    methods = bot.api_methods()
    assert methods.index("conversations.open") < methods.index("chat.postMessage")
    assert [call.conversation_ids for call in bot.yunxin.calls][-1] == f"{TEAM_CHAT},{UNKNOWN}"


async def test_a_refused_person_reads_the_refusal_in_the_direct_message(bot: Bot) -> None:
    view_id = await open_form_from_help(bot, user=GUEST)
    assert (await bot.submit(view_id, typed(BOB), user=GUEST)).body == ""
    await eventually(lambda: direct_messages(bot, GUEST))
    text = all_shown(direct_messages(bot, GUEST))
    assert "You can't look up Yunxin conversations here." in text and f"ask {CONTACT}" in text
    assert bot.yunxin.calls == []


async def test_with_lookups_limited_to_channels_the_forms_channel_is_checked(start_bot: BotFactory) -> None:
    async with start_bot(allowed_channel_ids=["C0ELSEWHERE"]) as bot:
        view_id = await open_form_from_help(bot)
        await bot.submit(view_id, typed(BOB))
        await eventually(lambda: direct_messages(bot))
        assert "lookups are not enabled in this channel" in all_shown(direct_messages(bot))
    assert bot.yunxin.calls == []


@pytest.fixture
def two_sandboxes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BLUE", "GREEN"):
        monkeypatch.setenv(f"YUNXIN_{name}_SANDBOX", "true")


async def test_the_environment_chosen_is_the_one_asked(start_bot: BotFactory, two_sandboxes: None) -> None:
    async with start_bot(yunxin_environments=["blue", "green"]) as bot:
        view_id = await open_form_from_help(bot)
        assert ENVIRONMENT_BLOCK in json.dumps(bot.slack.views[view_id])
        await bot.submit(view_id, typed(BOB, "green"))
        await eventually(lambda: direct_messages(bot))
    assert "environment `green`" in all_shown(direct_messages(bot))


async def test_over_socket_mode_errors_come_in_the_ack_and_answers_in_the_dm(socket_bot: SocketBot) -> None:
    await socket_bot.command("")
    opened = await socket_bot.click(OPEN_FORM_ACTION, value="help", trigger_id=socket_bot.slack.new_trigger_id())
    assert not opened.timed_out
    await eventually(lambda: forms(socket_bot))
    (view_id,) = forms(socket_bot)
    refused = await socket_bot.submit(view_id, typed("not-an-id"))
    assert not refused.timed_out and refused.problems == []
    assert refused.payload is not None and refused.payload["response_action"] == "errors"
    closed = await socket_bot.submit(view_id, typed(BOB))
    assert not closed.timed_out and closed.problems == [] and not closed.payload
    await eventually(lambda: direct_messages(socket_bot))
    assert BOB in all_shown(direct_messages(socket_bot))
    assert socket_bot.slack.stray_messages == []
    assert len(socket_bot.yunxin.calls) == 1
