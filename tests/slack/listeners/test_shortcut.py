"""The message shortcut "Look up in Yunxin": the IDs quoted in a message, and the shortcut run on one as Slack
sends it, answered only to the person who ran it."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.listeners.shortcut import SHORTCUT_CALLBACK, find_ids, look_up_in_message
from bot.slack.pipeline import Deps
from bot.standins.slack import message_action_payload
from tests.fakes import ORIGIN, BoltRecorder, fake_deps
from tests.harness import BOB, GUEST, UNKNOWN, Bot
from tests.messages import all_shown, shown

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


# --- the listener on its own, with fakes (tests/fakes.py) ----------------------------------------


def shortcut_on(text: str, **message: Any) -> dict[str, Any]:
    """The shortcut run on a message saying `text` (`message`: more of the message, such as attachments)."""
    payload = message_action_payload(ORIGIN, callback_id=SHORTCUT_CALLBACK, message_text=text)
    payload["message"] |= message
    return payload


async def test_a_message_quoting_more_ids_than_a_lookup_takes_is_answered_with_how_many() -> None:
    slack = BoltRecorder()
    async with fake_deps(max_ids_per_command=2) as deps:
        await look_up_in_message(deps, slack.ack, shortcut_on("a|1|b c|1|d e|1|f"), slack.respond)
    assert slack.acks == [{}]
    (reply,) = slack.replies
    assert "That message quotes 3 IDs; one lookup takes at most 2." in shown(reply)


async def test_ids_quoted_in_a_messages_attachments_are_looked_up_too(deps: Deps) -> None:
    slack = BoltRecorder()
    attachment = {"pretext": "from the ticket", "text": f"`{BOB}`", "fallback": UNKNOWN}
    await look_up_in_message(
        deps, slack.ack, shortcut_on("see the attachment", attachments=[attachment]), slack.respond
    )
    assert slack.acks == [{}]
    text = all_shown(slack.replies)
    assert BOB in text and UNKNOWN in text and "*1* found" in text
