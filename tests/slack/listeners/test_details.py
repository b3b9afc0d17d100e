"""The Details modal, through Bolt's dispatch with clicks signed as Slack signs them: a conversation's every
field, and on a long answer the list of its found conversations to choose one from (and back)."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.slack.actions import (
    DETAILS_ACTION,
    DETAILS_PICKER_ACTION,
    PICKER_BACK_ACTION,
    PICKER_CHOICE_ACTION,
    LookupRequest,
    ModalState,
)
from bot.slack.render.view_limits import VIEW_BLOCKS_MAX, view_problems
from bot.yunxin.sandbox import SAMPLE_IDS
from tests.harness import BOB, CHANNEL, GUEST, TEAM_CHAT, UNKNOWN, Bot, BotFactory, ScriptedYunxin, block_action
from tests.messages import all_shown, shown


def accessory_value(message: dict[str, Any], action_id: str) -> str:
    for block in message["blocks"]:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == action_id:
            return str(accessory["value"])
    raise AssertionError(f"no {action_id} accessory in the message")


def view_text(view: dict[str, Any]) -> str:
    return shown({"text": "", "blocks": view["blocks"]})


async def wait_for_view(bot: Bot, containing: str) -> dict[str, Any]:
    """The modal once it has been filled in (views.update after the lookup)."""
    for _ in range(500):
        for view in bot.slack.views.values():
            if containing in view_text(view):
                return view
        await asyncio.sleep(0.01)
    raise AssertionError(f"no modal showing {containing!r}: {bot.slack.views}")


async def test_details_opens_a_modal_with_every_field_yunxin_returned(bot: Bot) -> None:
    answer = await (await bot.command(f"{TEAM_CHAT} {UNKNOWN}")).reply()
    value = accessory_value(answer, DETAILS_ACTION)
    assert LookupRequest.decode(value).ids == (TEAM_CHAT,)

    await bot.press(DETAILS_ACTION, value, trigger_id=bot.slack.new_trigger_id())
    view = await wait_for_view(bot, '"sender_id"')

    assert view_problems(view) == []
    text = view_text(view)
    for field in ("conversation_id", "receiver_id", "unread_count", "last_message", "server_extension"):
        assert f'"{field}"' in text
    assert '"unread_count": 17' in text
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text  # the stored text is escaped
    assert "SANDBOX" in text


async def test_details_for_a_guest_shows_the_refusal_in_the_modal(bot: Bot) -> None:
    answer = await (await bot.command(BOB)).reply()
    calls_before = len(bot.yunxin.calls)
    await bot.press(
        DETAILS_ACTION, accessory_value(answer, DETAILS_ACTION), user=GUEST, trigger_id=bot.slack.new_trigger_id()
    )
    view = await wait_for_view(bot, "guest")
    assert view_problems(view) == []
    assert len(bot.yunxin.calls) == calls_before


async def test_details_with_an_expired_trigger_says_so_instead_of_failing_silently(bot: Bot) -> None:
    answer = await (await bot.command(BOB)).reply()
    sent = await bot.press(DETAILS_ACTION, accessory_value(answer, DETAILS_ACTION), trigger_id="unknown.trigger")
    note = await sent.reply()
    assert "Couldn't open the details" in shown(note) and "invalid_trigger_id" in shown(note)
    assert bot.slack.views == {}


# --- Details… on a long answer: a list of the conversations found, then one of them ----------------


# 300 IDs, every 15th unknown to Yunxin: 280 found, each with its index as its unread count.
MANY_IDS = [f"sandbox_user_{i:03d}|1|sandbox_peer_{i:03d}" for i in range(300)]


MANY_FOUND = [conversation_id for i, conversation_id in enumerate(MANY_IDS) if i % 15]


MANY_CONVERSATIONS = {
    conversation_id: {"sender_id": f"sandbox_user_{i:03d}", "type": 1, "unread_count": i}
    for i, conversation_id in enumerate(MANY_IDS)
    if i % 15
}


def picker_values(answer: list[dict[str, Any]]) -> list[str]:
    return [
        str(element["value"])
        for message in answer
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == DETAILS_PICKER_ACTION
    ]


def menu_options(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        option
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == PICKER_CHOICE_ACTION
        for option in element["options"]
    ]


async def wait_for_new_view(bot: Bot, known: set[str], containing: str) -> tuple[str, dict[str, Any]]:
    """A modal opened since `known` (the view IDs there were), once it shows `containing`."""
    for _ in range(500):
        for view_id, view in bot.slack.views.items():
            if view_id not in known and containing in view_text(view):
                return view_id, view
        await asyncio.sleep(0.01)
    raise AssertionError(f"no new modal showing {containing!r}: {bot.slack.views}")


async def open_list(bot: Bot, value: str, **options: Any) -> tuple[str, dict[str, Any]]:
    """Click a Details… button; the modal once it lists the conversations."""
    known = set(bot.slack.views)
    await bot.press(DETAILS_PICKER_ACTION, value, trigger_id=bot.slack.new_trigger_id(), **options)
    return await wait_for_new_view(bot, known, "Choose a conversation")


async def test_every_found_conversation_of_a_300_id_answer_can_be_opened_in_details(start_bot: BotFactory) -> None:
    async with start_bot(yunxin=ScriptedYunxin(conversations=MANY_CONVERSATIONS)) as bot:
        answer = await (await bot.command(" ".join(MANY_IDS))).whole_answer()
        values = picker_values(answer)
        assert values and "*280* found · *20* failed" in all_shown(answer)

        lists = [await open_list(bot, value) for value in values]
        listed = [option["value"] for _, view in lists for option in menu_options(view)]
        assert listed == MANY_FOUND
        assert all(view_problems(view) == [] and len(view["blocks"]) <= VIEW_BLOCKS_MAX for _, view in lists)

        chosen = MANY_FOUND[259]
        view_id, view = next((i, v) for i, v in lists if chosen in [o["value"] for o in menu_options(v)])
        option = next(o for o in menu_options(view) if o["value"] == chosen)
        assert (await bot.click_in_modal(view_id, PICKER_CHOICE_ACTION, selected_option=option)).status == 200
        details = await wait_for_view(bot, f'"unread_count": {MANY_IDS.index(chosen)}')
        assert bot.slack.views[view_id] is details and view_problems(details) == []
        assert chosen in view_text(details) and "SANDBOX" in view_text(details)

        # Back to the list: the same conversations, looked up again.
        assert (await bot.click_in_modal(view_id, PICKER_BACK_ACTION, value="")).status == 200
        for _ in range(500):
            if menu_options(bot.slack.views[view_id]):
                break
            await asyncio.sleep(0.01)
        assert menu_options(bot.slack.views[view_id]) == menu_options(view)


async def test_a_choice_in_the_list_is_checked_in_the_channel_the_list_was_opened_from(start_bot: BotFactory) -> None:
    async with start_bot(allowed_channel_ids=[CHANNEL]) as bot:
        answer = await (await bot.command(" ".join(SAMPLE_IDS))).reply()  # more than the detailed layout holds
        [value] = picker_values([answer])
        view_id, view = await open_list(bot, value)
        assert [o["value"] for o in menu_options(view)] == SAMPLE_IDS[:-1]  # the unknown one is not offered
        option = next(o for o in menu_options(view) if o["value"] == TEAM_CHAT)
        await bot.click_in_modal(view_id, PICKER_CHOICE_ACTION, selected_option=option)
        assert TEAM_CHAT in view_text(await wait_for_view(bot, '"unread_count": 17'))

        # The channel comes from the list the modal keeps: one kept from another channel is refused there.
        elsewhere = ModalState(LookupRequest.decode(value), "C0ELSEWHERE").encode()
        moved = {"id": view_id, **view, "private_metadata": elsewhere}
        await bot.send_click(block_action(PICKER_CHOICE_ACTION, bot.origin(), view=moved, selected_option=option))
        assert "not enabled in this channel" in view_text(await wait_for_view(bot, "not enabled in this channel"))


async def test_the_list_for_a_guest_shows_the_refusal_in_the_modal(bot: Bot) -> None:
    [value] = picker_values([await (await bot.command(" ".join(SAMPLE_IDS))).reply()])
    calls_before = len(bot.yunxin.calls)
    await bot.press(DETAILS_PICKER_ACTION, value, user=GUEST, trigger_id=bot.slack.new_trigger_id())
    view = await wait_for_view(bot, "guest")
    assert view_problems(view) == [] and not menu_options(view)
    assert len(bot.yunxin.calls) == calls_before


async def test_the_list_with_an_expired_trigger_says_so_to_the_clicker(bot: Bot) -> None:
    [value] = picker_values([await (await bot.command(" ".join(SAMPLE_IDS))).reply()])
    sent = await bot.press(DETAILS_PICKER_ACTION, value, trigger_id="unknown.trigger")
    note = await sent.reply()
    assert "Couldn't open the details" in shown(note) and "invalid_trigger_id" in shown(note)
    assert bot.slack.views == {}


async def test_a_click_in_a_modal_that_does_not_match_its_list_shows_a_notice_there(bot: Bot) -> None:
    [value] = picker_values([await (await bot.command(" ".join(SAMPLE_IDS))).reply()])
    view_id, view = await open_list(bot, value)
    calls_before = len(bot.yunxin.calls)
    stranger = {"text": {"type": "plain_text", "text": "x"}, "value": "someone|1|else"}
    await bot.click_in_modal(view_id, PICKER_CHOICE_ACTION, selected_option=stranger)
    assert "not in this list" in view_text(await wait_for_view(bot, "not in this list"))

    tampered = {"id": view_id, **view, "private_metadata": "not a list"}
    payload = block_action(PICKER_CHOICE_ACTION, bot.origin(), view=tampered, selected_option=menu_options(view)[0])
    await bot.send_click(payload)
    assert "out of date" in view_text(await wait_for_view(bot, "out of date"))
    assert len(bot.yunxin.calls) == calls_before
