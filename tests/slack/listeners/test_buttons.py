"""The buttons under an answer, clicked as Slack sends a click: Share in channel posts the lookup again for
the channel, Refresh replaces the answer in place; the clicker passes the same checks as the command."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.actions import REFRESH_ACTION, SHARE_ACTION, LookupRequest
from bot.slack.listeners.buttons import refresh, share_in_channel
from bot.slack.pipeline import Deps
from bot.slack.render.limits import problems
from bot.standins.slack import block_actions_payload
from tests.fakes import ORIGIN, BoltRecorder
from tests.harness import BOB, GUEST, SECOND_MEMBER, UNKNOWN, Bot
from tests.messages import button_value, shown

# --- Share in channel ---------------------------------------------------------------------------


async def test_share_posts_the_lookup_again_in_the_channel(bot: Bot) -> None:
    answer = await (await bot.command(f"{BOB} {UNKNOWN}")).reply()
    assert LookupRequest.decode(button_value(answer, SHARE_ACTION)).ids == (BOB, UNKNOWN)
    calls_before = len(bot.yunxin.calls)

    click = await bot.click_share(answer, user=SECOND_MEMBER)
    assert click.delivery.status == 200 and not click.delivery.timed_out
    shared = await click.reply()

    assert shared["response_type"] == "in_channel"
    text = shown(shared)
    assert BOB in text and UNKNOWN in text
    assert f"<@{SECOND_MEMBER}>" in text
    assert len(bot.yunxin.calls) > calls_before  # looked up again, not copied
    assert [block["action_id"] for block in _buttons(shared)] != [SHARE_ACTION]
    assert SHARE_ACTION not in [element["action_id"] for element in _buttons(shared)]


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [element for block in message["blocks"] if block["type"] == "actions" for element in block["elements"]]


async def test_a_guest_clicking_share_is_refused_and_nothing_is_looked_up(bot: Bot) -> None:
    answer = await (await bot.command(BOB)).reply()
    calls_before = len(bot.yunxin.calls)

    refusal = await (await bot.click_share(answer, user=GUEST)).reply()

    assert refusal.get("response_type", "ephemeral") == "ephemeral"
    assert "guest" in shown(refusal)
    assert len(bot.yunxin.calls) == calls_before


async def test_a_share_button_with_a_tampered_value_is_answered_not_crashed(bot: Bot) -> None:
    answer = await (await bot.command(BOB)).reply()
    for block in answer["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            element["value"] = "not json"
    calls_before = len(bot.yunxin.calls)
    note = await (await bot.click_share(answer)).reply()
    assert "out of date" in shown(note)
    assert len(bot.yunxin.calls) == calls_before


# --- Refresh ------------------------------------------------------------------------------------


async def test_refresh_looks_up_again_and_replaces_the_answer_in_place(bot: Bot) -> None:
    answer = await (await bot.command(f"{BOB} {UNKNOWN}")).reply()
    calls_before = len(bot.yunxin.calls)

    refreshed = await (await bot.press(REFRESH_ACTION, button_value(answer, REFRESH_ACTION))).reply()

    assert refreshed["replace_original"] is True
    assert refreshed.get("response_type", "ephemeral") == "ephemeral"
    assert "Refreshed" in shown(refreshed) and BOB in shown(refreshed) and UNKNOWN in shown(refreshed)
    assert len(bot.yunxin.calls) > calls_before
    assert problems(refreshed) == []


async def test_refreshing_a_shared_answer_keeps_it_in_the_channel(bot: Bot) -> None:
    answer = await (await bot.command(BOB)).reply()
    sent = await bot.press(REFRESH_ACTION, button_value(answer, REFRESH_ACTION), is_ephemeral=False)
    refreshed = await sent.reply()
    assert refreshed["response_type"] == "in_channel" and refreshed["replace_original"] is True


async def test_a_guest_cannot_refresh(bot: Bot) -> None:
    answer = await (await bot.command(BOB)).reply()
    calls_before = len(bot.yunxin.calls)
    refusal = await (await bot.press(REFRESH_ACTION, button_value(answer, REFRESH_ACTION), user=GUEST)).reply()
    assert "guest" in shown(refusal) and refusal.get("replace_original") is not True
    assert len(bot.yunxin.calls) == calls_before


# --- the listeners on their own, with fakes (tests/fakes.py) --------------------------------------


@pytest.mark.parametrize("listener", [share_in_channel, refresh], ids=["share", "refresh"])
async def test_a_button_whose_value_is_not_ours_is_answered_as_out_of_date(deps: Deps, listener: Any) -> None:
    slack = BoltRecorder()
    body = block_actions_payload(ORIGIN, action_id=SHARE_ACTION, value='{"v":1,"ids":[]}')
    await listener(deps, slack.ack, body, slack.respond)
    assert slack.acks == [{}]
    (note,) = slack.replies
    assert "This button is out of date; run the command again." in shown(note)
    assert note.get("replace_original") is not True
