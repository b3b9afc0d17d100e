"""Any text typed after /conversation: parsed without an exception, and answered within Slack's limits,
first by the handler with fakes around it, then (fewer examples) through the whole app over HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from bot.settings import Settings
from bot.slack.access import AccessPolicy, build_rules
from bot.slack.listeners.command import conversation_command
from bot.slack.listeners.payloads import parse_command_text
from bot.slack.pipeline import Deps
from bot.slack.render.limits import problems
from bot.yunxin.ids import split_text
from bot.yunxin.service import Lookups
from tests.faults.harness import REPLY_WAIT_SECONDS, Bot, eventually

from .strategies import command_texts

TEAM = "T0FUZZ"
USER = "U0FUZZER"
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


class MemberDirectory:
    """users.info for a workspace where everyone asking is a full member."""

    async def users_info(self, user: str) -> dict[str, Any]:
        return {"ok": True, "user": {"id": user, "team_id": TEAM, "name": user.lower()}}


class Recorder:
    """ack() and respond() as Bolt gives them, keeping what the handler sent."""

    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []

    async def ack(self, **message: Any) -> None:
        self.acks.append(message)

    async def respond(self, **message: Any) -> Any:
        self.replies.append(message)
        return SimpleNamespace(status_code=200, body="ok")


@pytest.fixture
async def deps() -> AsyncIterator[Deps]:
    app_settings = Settings(_env_file=None, yunxin_sandbox=True)  # type: ignore[call-arg]
    lookups = Lookups.from_settings(app_settings)
    access = AccessPolicy(build_rules(installed_team_id=TEAM, installed_enterprise_id=None), MemberDirectory())  # type: ignore[arg-type]
    yield Deps(app_settings, lookups, access)
    await lookups.aclose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=command_texts)
async def test_the_handler_answers_any_text_within_slack_limits(deps: Deps, text: str) -> None:
    slack = Recorder()
    command = {"text": text, "user_id": USER, "team_id": TEAM, "channel_id": "C0FUZZ", "command": "/conversation"}
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
async def test_the_app_answers_any_text_sent_as_slack_sends_it(bot: Bot, text: str) -> None:
    sent = await bot.command(text)
    assert not sent.delivery.timed_out and sent.delivery.status == 200
    ack = json.loads(sent.delivery.body)
    assert problems(ack) == []
    if str(ack.get("text", "")).startswith("Looking up"):
        await bot.slack.wait_for_posts(sent.response_url, 1, timeout=REPLY_WAIT_SECONDS)

        async def settled() -> bool:
            return await bot.in_flight() == 0

        await eventually(settled)
    # The stand-in refuses (and records) any reply over Slack's limits, and a sixth one.
    assert bot.slack.refused_posts(sent.response_url) == []
    assert len(bot.slack.posts(sent.response_url)) <= MAX_MESSAGES
