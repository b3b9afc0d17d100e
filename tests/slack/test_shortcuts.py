"""Beyond the slash command, through Bolt's dispatch with payloads signed as Slack signs them: the
message shortcut, the Details modal (and the list a long answer opens it from), the Refresh button,
and `--env` across several Yunxin apps."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from bot.slack.actions import (
    DETAILS_ACTION,
    DETAILS_PICKER_ACTION,
    PICKER_BACK_ACTION,
    PICKER_CHOICE_ACTION,
    REFRESH_ACTION,
    LookupRequest,
    ModalState,
)
from bot.slack.listeners.shortcut import find_ids
from bot.slack.render.limits import VIEW_BLOCKS_MAX, problems, view_problems
from bot.yunxin.sandbox import SAMPLE_IDS
from tests.harness import (
    BOB,
    CHANNEL,
    GUEST,
    TEAM_CHAT,
    UNKNOWN,
    Bot,
    BotFactory,
    ScriptedYunxin,
    Sent,
    block_action,
)
from tests.messages import all_shown, button_value, shown

# --- finding IDs in a message -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("please check alice|1|bob", ["alice|1|bob"]),
        ("in code: `alice|2|123456` and ```ops|3|99```", ["alice|2|123456", "ops|3|99"]),
        ("> quoted alice|1|bob\n“carol|1|dave”, (erin|1|frank).", ["alice|1|bob", "carol|1|dave", "erin|1|frank"]),
        ("twice: alice|1|bob ALICE|1|BOB", ["alice|1|bob"]),
        ("slack escapes: a&amp;b alice|1|bob&gt;", ["alice|1|bob"]),
        ("no ids here: a|b|c, x|4|y, <mailto:a@b.c|a@b.c>", []),
        ("one too long: " + "a" * 33 + "|1|bob", []),
    ],
)
def test_find_ids_picks_conversation_ids_out_of_free_text(text: str, ids: list[str]) -> None:
    assert find_ids(text) == ids


# --- the message shortcut -----------------------------------------------------------------------


async def test_the_shortcut_answers_the_asker_in_the_thread_with_every_id_quoted(bot: Bot) -> None:
    sent = await bot.run_shortcut(f"users report `{BOB}` and\n> {UNKNOWN} is broken", thread_ts="1700000000.000100")
    assert sent.delivery.status == 200 and not sent.delivery.timed_out
    answer = await sent.reply()
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    assert answer["thread_ts"] == "1700000000.000100"
    text = shown(answer)
    assert BOB in text and UNKNOWN in text and "*1* found" in text


async def test_the_shortcut_on_a_message_without_ids_says_so_and_looks_nothing_up(bot: Bot) -> None:
    note = await (await bot.run_shortcut("the app is down again :(")).reply()
    assert "No Yunxin conversation IDs" in shown(note)
    assert bot.yunxin.calls == []


async def test_the_shortcut_applies_the_same_access_checks(bot: Bot) -> None:
    refusal = await (await bot.run_shortcut(BOB, user=GUEST)).reply()
    assert "guest" in shown(refusal)
    assert bot.yunxin.calls == []


# --- Details ------------------------------------------------------------------------------------


def accessory_value(message: dict[str, Any], action_id: str) -> str:
    for block in message["blocks"]:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == action_id:
            return str(accessory["value"])
    raise AssertionError(f"no {action_id} accessory in the message")


async def click(bot: Bot, action_id: str, value: str, **options: Any) -> Sent:
    """Click a button, and check that Slack had its ack in time."""
    sent = await bot.click(action_id, value=value, **options)
    assert sent.delivery.status == 200 and not sent.delivery.timed_out
    return sent


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

    await click(bot, DETAILS_ACTION, value, trigger_id=bot.slack.new_trigger_id())
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
    await click(
        bot, DETAILS_ACTION, accessory_value(answer, DETAILS_ACTION), user=GUEST, trigger_id=bot.slack.new_trigger_id()
    )
    view = await wait_for_view(bot, "guest")
    assert view_problems(view) == []
    assert len(bot.yunxin.calls) == calls_before


async def test_details_with_an_expired_trigger_says_so_instead_of_failing_silently(bot: Bot) -> None:
    answer = await (await bot.command(BOB)).reply()
    sent = await click(bot, DETAILS_ACTION, accessory_value(answer, DETAILS_ACTION), trigger_id="unknown.trigger")
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


async def whole_answer(sent: Sent) -> list[dict[str, Any]]:
    first = await sent.reply()
    parts = re.search(r"Part 1 of (\d+)", shown(first))
    return await sent.replies(int(parts.group(1)) if parts else 1)


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
    await click(bot, DETAILS_PICKER_ACTION, value, trigger_id=bot.slack.new_trigger_id(), **options)
    return await wait_for_new_view(bot, known, "Choose a conversation")


async def test_every_found_conversation_of_a_300_id_answer_can_be_opened_in_details(start_bot: BotFactory) -> None:
    async with start_bot(yunxin=ScriptedYunxin(conversations=MANY_CONVERSATIONS)) as bot:
        answer = await whole_answer(await bot.command(" ".join(MANY_IDS)))
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
    await click(bot, DETAILS_PICKER_ACTION, value, user=GUEST, trigger_id=bot.slack.new_trigger_id())
    view = await wait_for_view(bot, "guest")
    assert view_problems(view) == [] and not menu_options(view)
    assert len(bot.yunxin.calls) == calls_before


async def test_the_list_with_an_expired_trigger_says_so_to_the_clicker(bot: Bot) -> None:
    [value] = picker_values([await (await bot.command(" ".join(SAMPLE_IDS))).reply()])
    sent = await click(bot, DETAILS_PICKER_ACTION, value, trigger_id="unknown.trigger")
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


# --- Refresh ------------------------------------------------------------------------------------


async def test_refresh_looks_up_again_and_replaces_the_answer_in_place(bot: Bot) -> None:
    answer = await (await bot.command(f"{BOB} {UNKNOWN}")).reply()
    calls_before = len(bot.yunxin.calls)

    refreshed = await (await click(bot, REFRESH_ACTION, button_value(answer, REFRESH_ACTION))).reply()

    assert refreshed["replace_original"] is True
    assert refreshed.get("response_type", "ephemeral") == "ephemeral"
    assert "Refreshed" in shown(refreshed) and BOB in shown(refreshed) and UNKNOWN in shown(refreshed)
    assert len(bot.yunxin.calls) > calls_before
    assert problems(refreshed) == []


async def test_refreshing_a_shared_answer_keeps_it_in_the_channel(bot: Bot) -> None:
    answer = await (await bot.command(BOB)).reply()
    sent = await click(bot, REFRESH_ACTION, button_value(answer, REFRESH_ACTION), is_ephemeral=False)
    refreshed = await sent.reply()
    assert refreshed["response_type"] == "in_channel" and refreshed["replace_original"] is True


async def test_a_guest_cannot_refresh(bot: Bot) -> None:
    answer = await (await bot.command(BOB)).reply()
    calls_before = len(bot.yunxin.calls)
    refusal = await (await click(bot, REFRESH_ACTION, button_value(answer, REFRESH_ACTION), user=GUEST)).reply()
    assert "guest" in shown(refusal) and refusal.get("replace_original") is not True
    assert len(bot.yunxin.calls) == calls_before


# --- several Yunxin environments ----------------------------------------------------------------


@pytest.fixture
def two_sandboxes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BLUE", "GREEN"):
        monkeypatch.setenv(f"YUNXIN_{name}_SANDBOX", "true")
    monkeypatch.setenv("YUNXIN_GREEN_ALLOWED_USER_IDS", "U0SOMEONEELSE")


async def test_env_picks_the_environment_and_every_answer_names_it(start_bot: BotFactory, two_sandboxes: None) -> None:
    async with start_bot(yunxin_environments=["blue", "green"]) as bot:
        default = await (await bot.command(BOB)).reply()
        assert "environment `blue`" in shown(default)
        answer = await (await bot.command(f"--env blue {BOB}")).reply()
        assert "environment `blue`" in shown(answer)
        assert LookupRequest.decode(button_value(answer, REFRESH_ACTION)).environment == "blue"
        refused = await (await bot.command(f"--env green {BOB}")).reply()
        assert "green environment" in shown(refused)
        unknown = await (await bot.command(f"--env purple {BOB}")).reply()
        assert "purple" in all_shown([unknown]) and "blue, green" in all_shown([unknown])
