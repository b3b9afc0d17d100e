"""The Socket Mode stand-in refuses what Slack refuses: apps.connections.open takes only the app-level
token, a socket URL is good for one connection (after its hello), and an ack after 3 seconds is a timeout
Slack records as late."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import httpx
import pytest

from tests.harness import (
    APP_TOKEN,
    BOB,
    BOT_TOKEN,
    CHANNEL,
    MEMBER,
    socket_workspace,
)
from tests.harness import REPLY_WAIT_SECONDS as WAIT_SECONDS
from tests.standins.socket_mode import CONNECTIONS_OPEN, SocketModeStandIn


async def _connections_open(slack: SocketModeStandIn, token: str | None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient() as http:
        response = await http.post(slack.api_url + CONNECTIONS_OPEN, headers=headers)
    answer: dict[str, Any] = response.json()
    return answer


@pytest.mark.parametrize(
    ("token", "error"),
    [(BOT_TOKEN, "not_allowed_token_type"), ("xapp-1-wrong", "invalid_auth"), (None, "not_authed")],
)
async def test_connections_open_takes_only_the_app_level_token(
    socket_slack: SocketModeStandIn, token: str | None, error: str
) -> None:
    assert await _connections_open(socket_slack, token) == {"ok": False, "error": error}


async def test_a_socket_url_says_hello_and_is_good_for_one_connection(socket_slack: SocketModeStandIn) -> None:
    answer = await _connections_open(socket_slack, APP_TOKEN)
    assert answer["ok"] is True and answer["url"].startswith("ws://127.0.0.1:")
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(answer["url"]) as socket:
            hello = await socket.receive_json(timeout=WAIT_SECONDS)
            assert (hello["type"], hello["num_connections"]) == ("hello", 1)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(answer["url"])
    assert refused.value.status == 401


async def test_an_ack_after_the_deadline_is_a_timeout_and_recorded_as_late() -> None:
    async with socket_workspace(ack_seconds=0.2) as slack, aiohttp.ClientSession() as session:
        url = (await _connections_open(slack, APP_TOKEN))["url"]
        async with session.ws_connect(url) as socket:
            await socket.receive_json(timeout=WAIT_SECONDS)  # hello
            sent = asyncio.create_task(slack.send_slash_command(slack.new_origin(MEMBER, CHANNEL), text=BOB))
            envelope = await socket.receive_json(timeout=WAIT_SECONDS)
            assert (envelope["type"], envelope["accepts_response_payload"]) == ("slash_commands", True)
            assert envelope["payload"]["text"] == BOB and envelope["payload"]["command"] == "/conversation"
            ack = await sent  # nothing acked it
            await socket.send_str(json.dumps({"envelope_id": envelope["envelope_id"], "payload": {"text": "late"}}))
            await socket.send_str(json.dumps({"envelope_id": "not-an-envelope"}))
            await socket.close()
    assert ack.timed_out and ack.payload is None
    (received,) = slack.acks
    assert received.late and received.payload == {"text": "late"}
    assert len(slack.stray_messages) == 1 and "not-an-envelope" in slack.stray_messages[0]
