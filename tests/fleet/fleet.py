"""A fleet for the tests: several processes of the Procfile's `web:` line sharing one real Valkey, one Slack
stand-in and one Yunxin (in a process of its own, tests/fleet/yunxin_process.py) that records when each
call arrives, all on loopback. Commands are sent
to the replicas as a load balancer would spread them. Every wait is bounded."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.standins.slack import Origin, SlackStandIn, send_slash_command
from tests.messages import shown
from tests.processes import WebProcess, credentials, spawn, start_web, wait_ready
from tests.shared.valkey import Valkey, unique_prefix

SIGNING_SECRET = "fleet-signing-secret-6b1e"
BOT_TOKEN = "xoxb-fleet-bot-token-2c7a"
TEAM = "T0FLEET"
CHANNEL = "C0FLEET"
USERS = [f"U0FLEET{n:02d}" for n in range(12)]
# Hang guards, not deadlines the fleet is held to.
START_LIMIT_SECONDS = 30.0
ANSWER_LIMIT_SECONDS = 20.0
STOP_LIMIT_SECONDS = 25.0

# The settings every replica runs with: a budget small enough to see it work in a few seconds, and a
# short pause and cool-down.
RATE = 10
FLEET_SETTINGS = {
    "YUNXIN_MAX_CALLS_PER_SECOND": str(RATE),
    "YUNXIN_FLEET_SIZE": "3",
    "YUNXIN_RATE_LIMIT_PAUSE_SECONDS": "2",
    "YUNXIN_BREAKER_FAILURES": "3",
    "YUNXIN_BREAKER_COOLDOWN_SECONDS": "2",
    "REDIS_TIMEOUT_SECONDS": "0.1",
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "text",
}


@dataclass(frozen=True, slots=True)
class Arrival:
    at: float  # when the call reached Yunxin, on its process's monotonic clock
    trace_id: str
    ids: str


class YunxinProcess:
    """The fleet's Yunxin (tests/fleet/yunxin_process.py) in a process of its own, driven over HTTP."""

    def __init__(self, process: asyncio.subprocess.Process, url: str, http: httpx.AsyncClient) -> None:
        self.process = process
        self.url = url
        self._http = http

    async def control(self, **change: Any) -> None:
        """limit_next=N (the next N calls get 416), down=True (HTTP 500 to all), hold=True (answers held)."""
        (await self._http.post(f"{self.url}/_control", json=change)).raise_for_status()

    async def arrivals(self) -> list[Arrival]:
        answer = await self._http.get(f"{self.url}/_arrivals")
        return [Arrival(*item) for item in answer.json()]

    async def busiest_second(self) -> int:
        """The most calls that arrived in any window [t, t + 1 s)."""
        times = sorted(arrival.at for arrival in await self.arrivals())
        return max((sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times)), default=0)


@contextlib.asynccontextmanager
async def yunxin_process(workdir: Path, http: httpx.AsyncClient) -> AsyncIterator[YunxinProcess]:
    process = await spawn(
        [sys.executable, "-m", "tests.fleet.yunxin_process"], workdir, {}, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(START_LIMIT_SECONDS):
            line = (await process.stdout.readline()).decode()
        assert line.startswith("port "), line
        yield YunxinProcess(process, f"http://127.0.0.1:{int(line.split()[1])}", http)
    finally:
        await stop_all([process])


Replica = WebProcess  # one web: process of the fleet


@dataclass
class Sent:
    replica: int
    status: int
    ack_seconds: float
    response_url: str
    sent_at: float


@dataclass
class Fleet:
    slack: SlackStandIn
    yunxin: YunxinProcess
    valkey: Valkey
    prefix: str
    replicas: list[Replica]
    http: httpx.AsyncClient
    _next: int = field(default=0)

    async def command(self, text: str, *, replica: int | None = None, user: str = USERS[0]) -> Sent:
        """Send /conversation to `replica`, or to the next one in turn (as a load balancer spreads them)."""
        if replica is None:
            replica, self._next = self._next % len(self.replicas), self._next + 1
        origin = Origin(user, TEAM, CHANNEL, self.slack.new_response_url(), None)
        sent_at = time.monotonic()
        delivery = await send_slash_command(
            self.replicas[replica].events, SIGNING_SECRET, origin, text=text, client=self.http
        )
        return Sent(replica, delivery.status, delivery.seconds, origin.response_url, sent_at)

    async def answer(self, sent: Sent) -> str:
        """What the person reads of the answer (its first message)."""
        (first, *_) = await self.slack.wait_for_posts(sent.response_url, 1, timeout=ANSWER_LIMIT_SECONDS)
        return shown(first)

    async def answered_within(self, sent: Sent) -> float:
        await self.slack.wait_for_posts(sent.response_url, 1, timeout=ANSWER_LIMIT_SECONDS)
        return self.slack.timed_posts(sent.response_url)[0].at - sent.sent_at

    def logs(self) -> str:
        return "\n".join(replica.log() for replica in self.replicas)


async def stop_all(processes: list[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            async with asyncio.timeout(STOP_LIMIT_SECONDS):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


@contextlib.asynccontextmanager
async def running_fleet(workdir: Path, valkey: Valkey, size: int = 3, **overrides: str) -> AsyncIterator[Fleet]:
    """`size` web processes sharing `valkey` (with a key prefix of their own), Slack and Yunxin."""
    prefix = unique_prefix()
    async with (
        SlackStandIn(bot_token=BOT_TOKEN, team_id=TEAM) as slack,
        httpx.AsyncClient(timeout=ANSWER_LIMIT_SECONDS) as http,
        yunxin_process(workdir, http) as yunxin,
    ):
        yunxin_url = yunxin.url
        for user in USERS:
            slack.add_user(user)
        settings = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            **credentials(yunxin_url),
            "REDIS_URL": valkey.url,
            "REDIS_KEY_PREFIX": prefix,
            **FLEET_SETTINGS,
            **overrides,
        }
        started = [await start_web(workdir / f"replica{n}", settings) for n in range(size)]
        processes = [process for process, _ in started]
        try:
            urls = await asyncio.gather(*(wait_ready(process, log, http) for process, log in started))
            replicas = [Replica(url, process, log) for url, (process, log) in zip(urls, started, strict=True)]
            yield Fleet(slack, yunxin, valkey, prefix, replicas, http)
        finally:
            await stop_all(processes)


async def send_all(fleet: Fleet, texts: list[str]) -> list[Sent]:
    """Each text as a command, all at once, spread over the replicas in turn."""
    return list(await asyncio.gather(*(fleet.command(text) for text in texts)))


def distinct_ids(tag: str, count: int) -> list[str]:
    """IDs the sandbox holds none of (each answered as not found): one Yunxin call each, none shared."""
    return [f"fleet_{tag}{n}|1|sandbox_bob" for n in range(count)]


def no_traceback(fleet: Fleet) -> bool:
    return "Traceback" not in fleet.logs()
