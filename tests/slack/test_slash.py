"""The slash command's lane past Bolt's router answers as Bolt's dispatch does (the same status, headers and
fields; an ack's JSON written compactly), and leaves to Bolt everything that is not a slash command of ours."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.app import Runtime, start_runtime
from bot.slack.render.kit import message_json
from bot.slack.slash import CommandAck, SlashCommands
from bot.standins.slack import SlackStandIn, slash_command_form
from tests.harness import CHANNEL, MEMBER, SIGNING_SECRET, TEAM, ScriptedYunxin, settings_for


@pytest.fixture
async def runtime(slack: SlackStandIn, yunxin: ScriptedYunxin) -> AsyncIterator[Runtime]:
    settings = settings_for(slack)
    started = await start_runtime(settings, yunxin_transports={settings.default_environment(): yunxin.transport()})
    try:
        yield started
    finally:
        await started.aclose()


def command(slack: SlackStandIn, text: str, **fields: Any) -> dict[str, Any]:
    return slash_command_form(slack.new_origin(MEMBER, CHANNEL, team_id=TEAM), text=text) | fields


async def through_bolt(app: AsyncApp, payload: dict[str, Any]) -> BoltResponse:
    return await app.async_dispatch(AsyncBoltRequest(body=payload, mode="socket_mode"))


def answered(response: BoltResponse | None) -> tuple[int, str, dict[str, Any]]:
    assert response is not None
    return response.status, response.body, response.headers


def as_bolt_answers(response: BoltResponse | None) -> tuple[int, str, dict[str, Any]]:
    """`answered`, a JSON body written as the lane writes it (compactly, by message_json)."""
    status, body, headers = answered(response)
    if body.startswith("{"):
        body = message_json(json.loads(body)).decode()
    return status, body, headers


@pytest.mark.parametrize(
    "text",
    [
        "",  # help
        "help",
        "alice|1|bob alice|2|12345",  # "Looking up 2 conversations…", then the lookup
        "not-an-id",
        " ".join(f"alice|1|u{n}" for n in range(1001)),  # too many IDs: refused in the ack
        "--env nowhere alice|1|bob",
    ],
)
async def test_the_lane_acks_a_command_as_bolt_does(runtime: Runtime, slack: SlackStandIn, text: str) -> None:
    assert runtime.commands is not None
    by_bolt = await through_bolt(runtime.app, command(slack, text))
    by_lane = await runtime.commands.answer(command(slack, text))
    assert answered(by_lane) == as_bolt_answers(by_bolt)
    assert by_bolt.status == 200 and by_bolt.body.startswith("{")


_TEXTS = st.text(max_size=12)
_DICTS = st.lists(st.dictionaries(st.sampled_from(["type", "text", "block_id"]), _TEXTS, max_size=3), max_size=3)
_ACKS = st.fixed_dictionaries(
    {},
    optional={
        "blocks": st.none() | _DICTS | _DICTS.map(tuple),
        "attachments": st.none() | _DICTS,
        "unfurl_links": st.none() | st.booleans(),
        "unfurl_media": st.none() | st.booleans(),
        "response_type": st.none() | st.sampled_from(["", "ephemeral", "in_channel"]),
    },
)


@given(text=st.none() | _TEXTS | st.fixed_dictionaries({"text": _TEXTS}), fields=_ACKS)
async def test_a_commands_ack_answers_as_bolts_ack_answers(text: Any, fields: dict[str, Any]) -> None:
    args = () if text is None else (text,)
    by_bolt, by_lane = AsyncAck(), CommandAck()  # type: ignore[no-untyped-call]
    await by_bolt(*args, **fields)
    await by_lane(*args, **fields)
    # A whole response as a dict is Bolt's own ack to answer, and written as Bolt writes it.
    expected = answered if isinstance(text, dict) else as_bolt_answers
    assert answered(by_lane.response) == expected(by_bolt.response)


async def test_an_ack_command_acks_never_give_is_bolts_own() -> None:
    by_bolt, by_lane = AsyncAck(), CommandAck()  # type: ignore[no-untyped-call]
    await by_bolt(options=[{"text": {"type": "plain_text", "text": "a"}, "value": "a"}])
    await by_lane(options=[{"text": {"type": "plain_text", "text": "a"}, "value": "a"}])
    assert answered(by_lane.response) == answered(by_bolt.response)


async def test_the_lane_answers_at_the_response_url_as_bolt_does(
    runtime: Runtime, slack: SlackStandIn, yunxin: ScriptedYunxin
) -> None:
    assert runtime.commands is not None
    by_bolt, by_lane = command(slack, "alice|1|bob"), command(slack, "alice|1|bob")
    await through_bolt(runtime.app, by_bolt)
    await runtime.commands.answer(by_lane)
    assert await runtime.deps.inflight.drain(5.0)
    posted = [slack.posts(payload["response_url"]) for payload in (by_bolt, by_lane)]
    assert posted[0] and posted[0] == posted[1]


@pytest.mark.parametrize(
    "fields",
    [
        {"command": "/somebody-else"},  # no listener of ours: Bolt's 404 and its warning
        {"command": ["/conversation"]},
        {"response_url": None},
    ],
)
async def test_anything_but_a_command_of_ours_with_a_response_url_is_left_to_bolt(
    runtime: Runtime, slack: SlackStandIn, fields: dict[str, Any]
) -> None:
    assert runtime.commands is not None
    payload = {name: value for name, value in command(slack, "alice|1|bob", **fields).items() if value is not None}
    assert await runtime.commands.answer(payload) is None


async def test_an_interaction_is_left_to_bolt(runtime: Runtime) -> None:
    assert runtime.commands is not None
    assert await runtime.commands.answer({"type": "block_actions", "response_url": "https://x"}) is None


# A listener that fails before its ack, or ends without one, against Bolt running the same listener.


async def fails(*, ack: Any, **_: Any) -> None:
    raise RuntimeError("broken before the ack")


async def never_acks(*, ack: Any, **_: Any) -> None:
    return None


@pytest.mark.parametrize("listener", [fails, never_acks])
async def test_a_listener_that_fails_or_never_acks_is_answered_as_bolt_answers_it(
    listener: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def authorize(**_: Any) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=None, team_id=TEAM, bot_token="xoxb-unused")

    app = AsyncApp(
        signing_secret=SIGNING_SECRET,
        authorize=authorize,
        request_verification_enabled=False,
        process_before_response=True,
    )

    async def as_bolt_calls_it(ack: Any, command: Any, respond: Any) -> None:
        await listener(ack=ack, command=command, respond=respond)

    app.command("/conversation")(as_bolt_calls_it)
    payload = slash_command_form(text="x", team_id=TEAM, channel_id=CHANNEL, user_id=MEMBER, response_url="https://r")
    async with aiohttp.ClientSession() as session:
        lane = SlashCommands({"/conversation": listener}, session)
        with caplog.at_level(logging.ERROR, logger="bot.slack.slash"):
            by_lane = await lane.answer(dict(payload))
        assert answered(by_lane) == answered(await through_bolt(app, dict(payload)))
    if listener is fails:
        assert "failed before its ack" in caplog.text and "broken before the ack" in caplog.text
