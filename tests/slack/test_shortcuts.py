"""Beyond the slash command, through Bolt's dispatch with payloads signed as Slack signs them: the
message shortcut, the Details modal, the Refresh button, and `--env` across several Yunxin apps."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.slack.actions import DETAILS_ACTION, REFRESH_ACTION, LookupRequest
from bot.slack.limits import problems, view_problems
from bot.slack.shortcuts import find_ids
from bot.yunxin.sandbox import SAMPLE_IDS
from tests.messages import all_shown, shown

from .conftest import GUEST, Bot, BotFactory, Sent, button_value

BOB, TEAM_CHAT, UNKNOWN = SAMPLE_IDS[0], SAMPLE_IDS[1], SAMPLE_IDS[-1]


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


async def test_a_long_answer_offers_details_through_a_menu(bot: Bot) -> None:
    answer = await (await bot.command(" ".join(SAMPLE_IDS))).reply()  # more than the detailed layout holds
    [menu] = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"] if "options" in e]
    option = next(o for o in menu["options"] if o["text"]["text"] == TEAM_CHAT)
    # A menu's click carries the chosen option, not a value.
    sent = await bot.click(DETAILS_ACTION, selected_option=option, trigger_id=bot.slack.new_trigger_id())
    assert sent.delivery.status == 200 and not sent.delivery.timed_out
    view = await wait_for_view(bot, '"unread_count": 17')
    assert TEAM_CHAT in view_text(view)


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
