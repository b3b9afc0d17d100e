"""The Procfile's web: process, tried as an attacker would from loopback: floods, forgeries, malformed and
replayed requests, odd payloads, and a SIGTERM while lookups wait on a slow Yunxin. Whatever is sent, the
log stays short and unforgeable, no request gets a 500, and nobody who asked is left without an answer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.standins.slack import SlackStandIn, send_slash_command, sign, slash_command_form
from bot.yunxin.sandbox import SAMPLE_IDS, create_sandbox_app
from tests.loopback import ServeAsgi
from tests.messages import shown
from tests.processes import WebProcess, credentials, start_web, wait_ready

SIGNING_SECRET = "exposed-signing-secret-9d2f"
BOT_TOKEN = "xoxb-exposed-bot-token-4a1b"
TEAM = "T0EXPOSED"
MEMBER = "U0ONCALL"
CHANNEL = "C0INCIDENT"
TEN_MB = 10 * 1024 * 1024
# Hang guards, not deadlines the app is held to.
WAIT_SECONDS = 20.0


@dataclass
class Web(WebProcess):
    """The web process, with the Slack stand-in it talks to."""

    slack: SlackStandIn = field(kw_only=True)


@contextlib.asynccontextmanager
async def running_web(tmp_path: Path, **variables: str) -> AsyncIterator[Web]:
    async with SlackStandIn(bot_token=BOT_TOKEN, team_id=TEAM) as slack:
        slack.add_user(MEMBER, name="on-call")
        settings = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "text",
            **variables,
        }
        process, log_path = await start_web(tmp_path, settings)
        try:
            async with httpx.AsyncClient() as http:
                url = await wait_ready(process, log_path, http)
            yield Web(url, process, log_path, slack=slack)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                async with asyncio.timeout(WAIT_SECONDS):
                    await process.wait()


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    async with running_web(tmp_path) as running:
        yield running


def signed_headers(body: bytes, secret: str = SIGNING_SECRET) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded", **sign(secret, int(time.time()), body)}


def command_body(web: Web, text: str, response_url: str | None = None) -> bytes:
    form = slash_command_form(
        text=text,
        user_id=MEMBER,
        team_id=TEAM,
        channel_id=CHANNEL,
        response_url=response_url or web.slack.new_response_url(),
    )
    return urlencode(form).encode()


async def post(web: Web, body: bytes, headers: dict[str, str]) -> int:
    """The status the app answered; 0 when it closed the connection before answering (a refused upload)."""
    async with httpx.AsyncClient(timeout=WAIT_SECONDS) as http:
        try:
            return (await http.post(web.events, content=body, headers=headers)).status_code
        except (httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError):
            return 0


def assert_no_traceback(web: Web) -> None:
    assert "Traceback" not in web.log()


async def test_a_flood_of_large_unsigned_bodies_is_refused_and_barely_logged(web: Web) -> None:
    before = web.log_size()
    junk = b"x" * TEN_MB
    statuses = await asyncio.gather(*(post(web, junk, {"Content-Type": "text/plain"}) for _ in range(24)))
    assert set(statuses) <= {413, 0} and 413 in statuses
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{web.url}/healthz")).status_code == 200
    assert web.log_size() - before < 24 * 300  # one short line each, at most
    assert_no_traceback(web)


async def test_an_unsigned_body_cannot_forge_a_log_line(web: Web) -> None:
    forged = '\n2026-12-01 00:00:00,000 INFO bot.audit {"event":"command","user":"U0FORGED"}\n'
    body = urlencode({"text": forged}).encode() + forged.encode()
    assert await post(web, body, {"Content-Type": "application/x-www-form-urlencoded"}) == 401
    await asyncio.sleep(0.2)
    assert not any(line.startswith("2026-12-01 00:00:00,000") for line in web.log().splitlines())
    assert "U0FORGED" not in web.log()


async def test_a_command_signed_with_a_rotated_secret_leaves_nothing_of_itself_in_the_log(web: Web) -> None:
    response_url = web.slack.new_response_url()
    body = command_body(web, "secret-looking|1|text", response_url)
    assert await post(web, body, signed_headers(body, secret="the-rotated-secret")) == 401
    await asyncio.sleep(0.2)
    log = web.log()
    assert "refused POST /slack/events: bad signature" in log
    for leaked in (response_url, "secret-looking", "standin-verification-token"):
        assert leaked not in log
    assert web.slack.posts(response_url) == []


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"\xff\xfe\xfd", {"Content-Type": "application/x-www-form-urlencoded"}),
        (b"payload=%7Bnot+json", {"Content-Type": "application/x-www-form-urlencoded"}),
        (b'{"type": "block_actions"}', {"Content-Type": "application/x-www-form-urlencoded"}),
        (b"[" * 10_000 + b"]" * 10_000, {"Content-Type": "application/json"}),
        (b"text=a", {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": "abc"}),
    ],
    ids=["invalid-utf8", "payload-not-json", "json-as-form", "deep-json", "timestamp-abc"],
)
async def test_malformed_requests_get_4xx_never_500(web: Web, body: bytes, headers: dict[str, str]) -> None:
    assert await post(web, body, headers) == 401  # unsigned: refused before anything parses it
    signed_status = await post(web, body, signed_headers(body) | {"Content-Type": headers["Content-Type"]})
    # Signed: refused as malformed (400), or read as the JSON it is and found to ask for nothing the app
    # answers (Bolt's 404); never a 500.
    assert signed_status in (400, 404)
    assert_no_traceback(web)


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "user": "U0ONCALL", "actions": []},
        {"type": "block_actions", "user": {"id": MEMBER}, "team": {"id": TEAM}, "actions": {"value": "x"}},
        {"type": "block_actions", "user": {"id": MEMBER}, "team": {"id": TEAM}, "channel": 42, "actions": []},
        {"type": "message_action", "user": {"id": MEMBER}, "team": {"id": TEAM}, "callback_id": 7},
        {"type": "block_actions", "user": {"id": MEMBER}, "team": {"id": TEAM}, "actions": [{"action_id": None}]},
    ],
)
async def test_signed_payloads_of_unexpected_shape_get_a_quiet_200(web: Web, payload: dict[str, Any]) -> None:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    assert await post(web, body, signed_headers(body)) == 200
    assert_no_traceback(web)


async def test_a_replayed_request_is_refused_and_answered_once(web: Web) -> None:
    response_url = web.slack.new_response_url()
    body = command_body(web, SAMPLE_IDS[0], response_url)
    headers = signed_headers(body)
    assert await post(web, body, headers) == 200
    await asyncio.sleep(1.0)
    assert await post(web, body, headers) == 401
    (answer,) = await web.slack.wait_for_posts(response_url, 1, timeout=WAIT_SECONDS)
    await asyncio.sleep(0.5)
    assert len(web.slack.posts(response_url)) == 1
    assert "*1* found" in shown(answer)


async def test_a_huge_command_text_is_refused_and_a_long_one_audited_in_bounds(web: Web) -> None:
    assert await post(web, b"text=" + b"a|1|b+" * (TEN_MB // 6), {"Content-Type": "text/plain"}) in (413, 0)
    many = " ".join(f"owner{i}|1|peer{i}" for i in range(20_000))  # under the 1 MiB cap
    body = command_body(web, many)
    async with httpx.AsyncClient() as http:
        ack = await http.post(web.events, content=body, headers=signed_headers(body))
    assert ack.status_code == 200 and "at most 400" in ack.text
    audit = [line for line in web.log().splitlines() if " bot.audit " in line]
    (line,) = [json.loads(line.split(" bot.audit ", 1)[1]) for line in audit]
    assert line["outcome"] == "too_many_ids"
    assert line["ids_total"] == 20_000 and len(line["ids"]) <= 400
    assert len(audit[0]) < 40_000


async def test_sigterm_lets_waiting_lookups_answer_before_the_process_ends(
    tmp_path: Path, serve_asgi: ServeAsgi
) -> None:
    sandbox = create_sandbox_app(latency_seconds=2.0)
    async with serve_asgi(sandbox) as yunxin_url, running_web(tmp_path, **credentials(yunxin_url)) as web:
        urls = [web.slack.new_response_url() for _ in range(20)]
        acks = await asyncio.gather(
            *(
                send_slash_command(
                    web.events,
                    SIGNING_SECRET,
                    text=SAMPLE_IDS[0],
                    user_id=MEMBER,
                    team_id=TEAM,
                    channel_id=CHANNEL,
                    response_url=url,
                )
                for url in urls
            )
        )
        assert all(ack.status == 200 for ack in acks)
        await asyncio.sleep(0.3)  # the lookups are waiting on Yunxin now
        web.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(WAIT_SECONDS):
            await web.process.wait()
        answers = [web.slack.posts(url) for url in urls]
    assert all(len(posted) == 1 and "*1* found" in shown(posted[0]) for posted in answers)
    assert "Traceback" not in web.log()
