"""More than one process per machine: uvicorn's workers (WEB_CONCURRENCY) need REDIS_URL and then answer as one
bot; several Socket Mode processes, each with its own connection, share one budget, pause and cache."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from aiohttp import web

from bot.standins.slack import Origin
from tests.messages import shown
from tests.processes import PYTHON_M_BOT, credentials, read_log, spawn, start_web
from tests.shared.valkey import Valkey, unique_prefix
from tests.standins.socket_mode import SocketModeStandIn

from .fleet import (
    ANSWER_LIMIT_SECONDS,
    BOT_TOKEN,
    CHANNEL,
    FLEET_SETTINGS,
    SIGNING_SECRET,
    START_LIMIT_SECONDS,
    TEAM,
    USERS,
    Fleet,
    distinct_ids,
    running_fleet,
    stop_all,
    yunxin_process,
)

APP_TOKEN = "xapp-1-A0FLEET-1-fleet-app-token"


async def test_several_workers_without_redis_stop_start_up_with_one_line(tmp_path: Path) -> None:
    settings = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # never reached: the check comes first
        "WEB_CONCURRENCY": "2",
        "LOG_FORMAT": "text",
    }
    process, log = await start_web(tmp_path, settings)
    try:
        async with asyncio.timeout(START_LIMIT_SECONDS):
            await process.wait()
    finally:
        await stop_all([process])
    errors = [line for line in read_log(log).splitlines() if line.startswith("error:")]
    assert errors == [
        "error: WEB_CONCURRENCY: 2 workers need REDIS_URL (Redis or Valkey) to share the Yunxin call budget, "
        "pause and breaker and the replay guard; set REDIS_URL, or WEB_CONCURRENCY=1"
    ]
    assert "Traceback" not in read_log(log)


async def test_two_workers_sharing_redis_answer_as_one_bot(tmp_path: Path, fleet_valkey: Valkey) -> None:
    async with running_fleet(tmp_path, fleet_valkey, size=1, WEB_CONCURRENCY="2") as fleet:
        async with asyncio.timeout(START_LIMIT_SECONDS):  # ready once one listens; both start
            while read_log(fleet.replicas[0].log_path).count("Application startup complete") < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        await fleet.yunxin.control(limit_next=1)
        first = await fleet.command(distinct_ids("workers", 1)[0])
        assert "rate limiting" in await fleet.answer(first)
        later = await asyncio.gather(*(fleet.command(text) for text in distinct_ids("workers-paused", 8)))
        texts = [await fleet.answer(sent) for sent in later]
        assert all("paused for" in text for text in texts)  # whichever worker took it
        assert len(await fleet.yunxin.arrivals()) == 1


class RoundRobinSocketMode(SocketModeStandIn):
    """Slack spreads a Socket Mode app's envelopes over its open connections; this one takes them in turn."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self._turn = 0

    def _newest_socket(self) -> web.WebSocketResponse:
        open_sockets = sorted(number for number in self._sockets if number not in self._closing)
        if not open_sockets:
            raise RuntimeError("no Socket Mode connection is open")
        self._turn += 1
        return self._sockets[open_sockets[self._turn % len(open_sockets)]]


@contextlib.asynccontextmanager
async def socket_processes(
    tmp_path: Path, valkey: Valkey, count: int
) -> AsyncIterator[tuple[RoundRobinSocketMode, Fleet]]:
    prefix = unique_prefix()
    async with (
        RoundRobinSocketMode(bot_token=BOT_TOKEN, team_id=TEAM, app_token=APP_TOKEN) as slack,
        httpx.AsyncClient(timeout=ANSWER_LIMIT_SECONDS) as http,
        yunxin_process(tmp_path, http) as yunxin,
    ):
        for user in USERS:
            slack.add_user(user)
        settings = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.api_url,
            **credentials(yunxin.url),
            "REDIS_URL": valkey.url,
            "REDIS_KEY_PREFIX": prefix,
            **FLEET_SETTINGS,
        }
        processes = []
        for n in range(count):
            workdir = tmp_path / f"socket{n}"
            workdir.mkdir()
            processes.append(await spawn([*PYTHON_M_BOT, "run"], workdir, settings))
        try:
            await slack.wait_for_connection(count, timeout=START_LIMIT_SECONDS)
            yield slack, Fleet(slack, yunxin, valkey, prefix, [], http)
        finally:
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            await stop_all(processes)


async def test_several_socket_mode_processes_share_the_budget_the_pause_and_the_cache(
    tmp_path: Path, fleet_valkey: Valkey
) -> None:
    async with socket_processes(tmp_path, fleet_valkey, 2) as (slack, fleet):
        await fleet.yunxin.control(limit_next=1)
        texts = []
        for n, text in enumerate(distinct_ids("socket", 5)):
            origin = Origin(USERS[5], TEAM, CHANNEL, slack.new_response_url(), None)
            ack = await slack.send_slash_command(origin, text=text)
            assert not ack.timed_out
            posts = await slack.wait_for_posts(origin.response_url, 1, timeout=ANSWER_LIMIT_SECONDS)
            texts.append(shown(posts[0]))
            if n == 0:
                await asyncio.sleep(0.05)
        assert "rate limiting" in texts[0]
        assert all("paused for" in text for text in texts[1:])  # on both connections, so both processes
        assert len(await fleet.yunxin.arrivals()) == 1
        assert len({connection.number for connection in slack.connections}) == 2
        looked_up = [params.get("user") for _, method, params in slack.api_calls if method == "users.info"]
        assert looked_up.count(USERS[5]) == 1
