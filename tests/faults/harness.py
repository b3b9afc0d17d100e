"""The bot under faults: the HTTP app from `create_asgi_app` on loopback, the strict Slack stand-in, and a
Yunxin that is a real HTTP server (scripted faults first, the sandbox's answers after), so every call goes
through the bot's own transport as in production.

Shared by the fault suite, the fuzz tests and the metrics tests (their fixtures are in tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from bot.settings import SANDBOX_APP_KEY, SANDBOX_APP_SECRET, Settings
from bot.slack.web import create_asgi_app
from bot.standins.slack import Delivery, SlackStandIn, send_slash_command
from bot.yunxin.client import TRACE_HEADER
from bot.yunxin.sandbox import SAMPLE_IDS, create_sandbox_app
from tests.loopback import ServeAsgi
from tests.messages import shown

SIGNING_SECRET = "faults-signing-secret-3b9d"
BOT_TOKEN = "xoxb-faults-bot-token-71c2"
TEAM = "T0STANDIN"
CHANNEL = "C0INCIDENT"
MEMBER = "U0ONCALL"
BOB = SAMPLE_IDS[0]  # a conversation the sandbox holds
# Hang guards for waits, not deadlines the app is held to.
REPLY_WAIT_SECONDS = 15.0
# After an answer, how long to keep listening for a second one that must not come.
QUIET_SECONDS = 0.3

_SHOWN_TRACE = re.compile(r"Trace ID to quote: `([^`]+)`")


# --- Yunxin -------------------------------------------------------------------------------------------


def html_page(status: int) -> Response:
    """What a proxy or a load balancer answers in front of an API."""
    return HTMLResponse(f"<!DOCTYPE html><html><body><h1>{status}</h1><p>nginx</p></body></html>", status_code=status)


def envelope(code: int, msg: str) -> Response:
    """Yunxin's JSON envelope with a code other than 200 (HTTP 200, as Yunxin answers)."""
    return JSONResponse({"code": code, "msg": msg})


def http_status(status: int) -> Response:
    return PlainTextResponse("Service Unavailable", status_code=status)


Fault = Callable[[], Response]
HANG = "hang"  # a fault: answer nothing until the bot gives up and closes the connection


@dataclass(frozen=True, slots=True)
class SeenCall:
    at: float  # time.monotonic() on arrival
    trace_id: str


@dataclass
class ScriptedYunxin:
    """Yunxin's batch query as an ASGI app: queued faults answer the next calls, the sandbox the rest."""

    latency_seconds: float = 0.0
    calls: list[SeenCall] = field(default_factory=list)
    _faults: list[Fault | str] = field(default_factory=list)
    gate: asyncio.Event | None = None  # set: calls wait for it before they are answered

    def __post_init__(self) -> None:
        self._sandbox = create_sandbox_app(latency_seconds=self.latency_seconds)

    def queue(self, fault: Fault | str, times: int = 1) -> None:
        self._faults.extend([fault] * times)

    @property
    def trace_ids(self) -> list[str]:
        return [call.trace_id for call in self.calls]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._sandbox(scope, receive, send)
            return
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        self.calls.append(SeenCall(time.monotonic(), headers.get(TRACE_HEADER.lower(), "")))
        if self.gate is not None:
            await self.gate.wait()
        fault = self._faults.pop(0) if self._faults else None
        if fault is None:
            await self._sandbox(scope, receive, send)
        elif fault == HANG:
            await _until_disconnected(receive)
        else:
            assert callable(fault)
            await fault()(scope, receive, send)


async def _until_disconnected(receive: Receive) -> None:
    async with asyncio.timeout(REPLY_WAIT_SECONDS):
        while (await receive())["type"] != "http.disconnect":
            pass


class DroppingProxy:
    """A TCP proxy in front of a Yunxin: while `drop` is "close" or "reset", it reads each new connection's
    first request, notes its trace ID and drops the connection without a word (closed: an empty answer;
    reset: an RST, "connection reset by peer"); while `drop` is None it passes the bytes through."""

    def __init__(self, upstream: str) -> None:
        parts = upstream.removeprefix("http://").split(":")
        self._upstream = (parts[0], int(parts[1]))
        self.drop: str | None = "reset"
        self.dropped_traces: list[str] = []
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> DroppingProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        if self.drop is not None:
            self.dropped_traces.append(_trace_in(head))
            if self.drop == "reset":
                writer.transport.abort()
            else:
                writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        up_writer.write(head)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pipe = asyncio.create_task(_pipe(source, sink))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)


def _trace_in(head: bytes) -> str:
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == TRACE_HEADER.lower():
            return value.strip()
    return ""


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    except ConnectionError:
        pass
    finally:
        sink.close()


# --- the bot ------------------------------------------------------------------------------------------


def settings_for(slack: SlackStandIn, base_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": SecretStr(BOT_TOKEN),
        "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_api_url": slack.api_url,
        "yunxin_app_key": SANDBOX_APP_KEY,
        "yunxin_app_secret": SecretStr(SANDBOX_APP_SECRET),
        "yunxin_base_url": base_url,
        "yunxin_backup_base_url": "none",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Sent:
    delivery: Delivery
    response_url: str


@dataclass
class Bot:
    url: str
    slack: SlackStandIn
    http: httpx.AsyncClient

    async def command(self, text: str, *, user: str = MEMBER) -> Sent:
        origin = self.slack.new_origin(user, CHANNEL)
        events_url = f"{self.url}/slack/events"
        delivery = await send_slash_command(events_url, SIGNING_SECRET, origin, text=text, client=self.http)
        return Sent(delivery, origin.response_url)

    async def only_answer(self, sent: Sent, *, listen_on: bool = True) -> dict[str, Any]:
        """The one answer to `sent`; with `listen_on`, it then listens a while to be sure no second one comes."""
        assert not sent.delivery.timed_out, "no ack within Slack's 3 seconds"
        assert sent.delivery.status == 200
        (answer,) = await self.slack.wait_for_posts(sent.response_url, 1, timeout=REPLY_WAIT_SECONDS)
        if listen_on:
            await asyncio.sleep(QUIET_SECONDS)
            assert len(self.slack.posts(sent.response_url)) == 1, "a second answer came"
        return answer

    async def healthy(self) -> bool:
        return (await self.http.get(f"{self.url}/healthz")).status_code == 200

    async def metrics(self) -> str:
        response = await self.http.get(f"{self.url}/metrics")
        assert response.status_code == 200
        return response.text

    async def in_flight(self) -> int:
        return int((await self.http.get(f"{self.url}/healthz")).json()["in_flight"])


@contextlib.asynccontextmanager
async def running_bot(serve_asgi: ServeAsgi, slack: SlackStandIn, settings: Settings) -> AsyncIterator[Bot]:
    """The HTTP app with its real Yunxin transport, served on loopback for the block."""
    async with serve_asgi(create_asgi_app(settings, drain_seconds=2.0)) as url, httpx.AsyncClient() as http:
        yield Bot(url, slack, http)


def workspace() -> SlackStandIn:
    slack = SlackStandIn(bot_token=BOT_TOKEN, team_id=TEAM)
    slack.add_user(MEMBER, name="on-call")
    return slack


async def eventually(condition: Callable[[], object]) -> None:
    """Wait until `condition()` (or what it returns, when awaitable) is truthy; a hang guard of
    REPLY_WAIT_SECONDS, not a deadline."""
    async with asyncio.timeout(REPLY_WAIT_SECONDS):
        while True:  # polled: log records and counters have no event to wait on
            value = condition()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return
            await asyncio.sleep(0.02)


# --- reading answers ----------------------------------------------------------------------------------


def shown_trace_ids(message: dict[str, Any]) -> list[str]:
    return _SHOWN_TRACE.findall(shown(message))
