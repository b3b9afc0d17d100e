"""The bench's lean reference bot (bench/lean.py) still answers as the bench and the strict Slack stand-in
require: the bench compares the real bot's CPU per command against it, and a reference that only fails
fast would make that comparison flatter the bot without anyone noticing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.harness import (
    CHANNEL,
    FOUND_IDS,
    LEAN_BOT,
    USERS,
    AppProcess,
    Bench,
    SlackSender,
    command_text,
    is_complete,
    running_stand_ins,
    serving,
)
from bot.standins.slack import slash_command_form


@pytest.fixture
async def lean(tmp_path: Path) -> AsyncIterator[Bench]:
    async with running_stand_ins(latency_seconds=0.0) as stand_ins:
        process = AppProcess(stand_ins.env, tmp_path, program=LEAN_BOT, name="lean bot")
        async with serving(process, stand_ins) as bench:
            yield bench


async def test_a_command_gets_a_complete_answer(lean: Bench) -> None:
    timing = await lean.command(command_text("t", 0), USERS[0], answer_limit=10.0)

    assert timing.acked
    assert timing.end_to_end is not None
    assert timing.complete
    assert lean.sandbox.calls == 1  # one signed call for both IDs, accepted by the sandbox's checks


async def test_texts_from_yunxin_and_the_user_are_escaped(lean: Bench) -> None:
    # The second sample's last message holds <!channel>, <@U123> and <b>; the user's own ID holds < and &.
    response_url = lean.slack.new_response_url()
    form = slash_command_form(
        text=f"{FOUND_IDS[1]} <b>a&b</b>",
        user_id=USERS[1],
        team_id=lean.slack.team_id,
        channel_id=CHANNEL,
        response_url=response_url,
    )
    sender = SlackSender(f"{lean.app.url}/slack/events", lean.app.env["SLACK_SIGNING_SECRET"])
    try:
        assert (await sender.slash_command(form)).status == 200
    finally:
        await sender.aclose()

    [message] = await lean.slack.wait_for_posts(response_url, 1, timeout=10.0)
    assert is_complete(message)
    shown = json.dumps(message["blocks"], ensure_ascii=False)
    assert "<" not in shown and ">" not in shown
    assert "&lt;!channel&gt;" in shown
    assert "&lt;b&gt;a&amp;b&lt;/b&gt;" in shown


async def test_a_wrongly_signed_command_is_refused(lean: Bench) -> None:
    sender = SlackSender(f"{lean.app.url}/slack/events", "not-the-signing-secret")
    try:
        form = slash_command_form(
            text=FOUND_IDS[0],
            user_id=USERS[0],
            team_id=lean.slack.team_id,
            channel_id=CHANNEL,
            response_url=lean.slack.new_response_url(),
        )
        ack = await sender.slash_command(form)
    finally:
        await sender.aclose()

    assert ack.status == 401
    assert lean.sandbox.calls == 0
