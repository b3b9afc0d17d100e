"""Any text typed after /conversation: parsed without an exception, and answered within Slack's limits,
first by the handler with fakes around it (tests/fakes.py), then (fewer examples) through the whole app over
HTTP."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings

from bot.slack.listeners.command import conversation_command
from bot.slack.listeners.payloads import parse_command_text
from bot.slack.pipeline import Deps
from bot.slack.render.limits import problems
from bot.yunxin.ids import split_text
from tests.fakes import BoltRecorder
from tests.harness import CHANNEL, MEMBER, REPLY_WAIT_SECONDS, TEAM, Bot, eventually

from .strategies import command_texts

MAX_MESSAGES = 5
QUOTES = "`'\"“”‘’"


@settings(max_examples=300, deadline=None)
@given(command_texts)
def test_any_text_parses_into_ids_or_a_reason_to_show_help(text: str) -> None:
    parsed = parse_command_text(text)
    assert (parsed.help_note is None) == bool(parsed.ids)
    for token in parsed.ids:
        assert token and split_text(token) == [token]  # one token each: no separator left inside
        assert token[0] not in QUOTES and token[-1] not in QUOTES


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=command_texts)
async def test_the_handler_answers_any_text_within_slack_limits(deps: Deps, text: str) -> None:
    slack = BoltRecorder()
    command = {"text": text, "user_id": MEMBER, "team_id": TEAM, "channel_id": CHANNEL, "command": "/conversation"}
    await conversation_command(deps, slack.ack, command, slack.respond)
    (ack,) = slack.acks
    assert problems(ack) == []
    assert len(slack.replies) <= MAX_MESSAGES
    for reply in slack.replies:
        assert problems(reply) == [], reply
    if str(ack.get("text", "")).startswith("Looking up"):
        assert slack.replies  # a lookup was promised: an answer came


# --- through the app ------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=command_texts)
async def test_the_app_answers_any_text_sent_as_slack_sends_it(wired_bot: Bot, text: str) -> None:
    sent = await wired_bot.command(text)
    assert not sent.delivery.timed_out and sent.delivery.status == 200
    ack = json.loads(sent.delivery.body)
    assert problems(ack) == []
    if str(ack.get("text", "")).startswith("Looking up"):
        await wired_bot.slack.wait_for_posts(sent.response_url, 1, timeout=REPLY_WAIT_SECONDS)

        async def settled() -> bool:
            return await wired_bot.in_flight() == 0

        await eventually(settled)
    # The stand-in refuses (and records) any reply over Slack's limits, and a sixth one.
    assert wired_bot.slack.refused_posts(sent.response_url) == []
    assert len(wired_bot.slack.posts(sent.response_url)) <= MAX_MESSAGES
