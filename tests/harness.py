"""The whole app as Slack and Yunxin see it, for every test that runs it (its fixtures are in tests/conftest.py).

The HTTP app from `create_asgi_app` runs on a loopback port. A strict Slack stand-in (`workspace()`, with a
person of every kind the access check tells apart) serves its Web API and response_urls, and `Bot` sends it
commands, clicks and shortcuts signed exactly as Slack signs them. `ScriptedYunxin` is Yunxin: queued faults
answer the next calls, the sandbox the rest, and a gate can hold every call. It answers in one of two ways:

- in-process (the default): the app runs in sandbox mode with `ScriptedYunxin` as its transport, so every
  answer carries the sandbox label, as a bot without credentials shows it;
- over loopback (`yunxin_url=`): the app has credentials for that URL and calls it through its own transport,
  as in production; `ScriptedYunxin` is served there, or a proxy in front of it, or nothing at all.

`SocketBot` is the same app connected over Socket Mode instead of serving HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.settings import Settings
from bot.slack.actions import SHARE_ACTION
from bot.slack.app import Runtime, start_runtime
from bot.slack.listeners.shortcut import SHORTCUT_CALLBACK
from bot.slack.web import create_asgi_app
from bot.standins.slack import (
    Delivery,
    Origin,
    SlackStandIn,
    block_actions_payload,
    event_callback_payload,
    message_action_payload,
    send_block_action,
    send_event,
    send_message_shortcut,
    send_slash_command,
    send_view_submission,
    view_submission_payload,
)
from bot.yunxin.request import TRACE_HEADER
from bot.yunxin.sandbox import SAMPLE_IDS, create_sandbox_app
from tests.factories import bot_settings
from tests.loopback import ServeAsgi
from tests.messages import button_value, parts_announced
from tests.processes import credentials
from tests.standins.socket_mode import SocketAck, SocketConnection, SocketModeStandIn

SIGNING_SECRET = "test-signing-secret-5f0c2a"
BOT_TOKEN = "xoxb-test-bot-token-8d1e"
APP_TOKEN = "xapp-1-A0STANDIN-1-test-app-token-3c9b"
TEAM = "T0STANDIN"
OTHER_TEAM = "T0ELSEWHERE"
CHANNEL = "C0INCIDENT"
CONTACT = "#help-yunxin-bot"

# The people of the workspace, one of each kind the access check tells apart.
MEMBER = "U0MEMBER"
SECOND_MEMBER = "U0SECOND"
GUEST = "U0GUEST"
SINGLE_CHANNEL_GUEST = "U0SCGUEST"
BOT_USER = "U0BOTUSER"
DEACTIVATED = "U0GONE"
OUTSIDER = "U0OUTSIDER"

# Conversations the sandbox holds (a one-to-one, a team chat whose last message pings the channel), and an
# ID it answers as not found.
BOB, TEAM_CHAT, UNKNOWN = SAMPLE_IDS[0], SAMPLE_IDS[1], SAMPLE_IDS[-1]

# Hang guards for waits on the app and on Yunxin, not deadlines the app is held to.
REPLY_WAIT_SECONDS = 15.0
# After an answer, how long to keep listening for a second one that must not come.
QUIET_SECONDS = 0.3


# --- Slack --------------------------------------------------------------------------------------------


def workspace(kind: type[SlackStandIn] = SlackStandIn, **options: Any) -> Any:
    """The stand-in workspace with its people (not started: `async with workspace() as slack:`); `kind` may
    be a stand-in with more to it (Socket Mode), `options` go to it."""
    slack = kind(bot_token=BOT_TOKEN, team_id=TEAM, **options)
    slack.add_user(MEMBER, name="on-call")
    slack.add_user(SECOND_MEMBER, name="second")
    slack.add_user(GUEST, is_restricted=True)
    slack.add_user(SINGLE_CHANNEL_GUEST, is_restricted=True, is_ultra_restricted=True)
    slack.add_user(BOT_USER, is_bot=True)
    slack.add_user(DEACTIVATED, deleted=True)
    slack.add_user(OUTSIDER, team_id=OTHER_TEAM)
    return slack


def socket_workspace(**options: Any) -> SocketModeStandIn:
    """The same workspace, with Socket Mode (the app-level token is APP_TOKEN)."""
    slack: SocketModeStandIn = workspace(SocketModeStandIn, app_token=APP_TOKEN, **options)
    return slack


# What a server that is not Slack's Web API may answer (a proxy's error page, a wrong URL, a broken body),
# with the HTTP status the bot should name.
NOT_SLACK_ANSWERS: dict[str, tuple[Callable[[], Response], int]] = {
    "html-502": (lambda: HTMLResponse("<html><body>502 Bad Gateway</body></html>", status_code=502), 502),
    "text-404": (lambda: PlainTextResponse("Not Found", status_code=404), 404),
    "broken-json": (lambda: Response('{"ok": tru', media_type="application/json"), 200),
}


def not_slack(kind: str) -> Starlette:
    """A web server that answers every path as NOT_SLACK_ANSWERS[kind] does."""
    answer, _ = NOT_SLACK_ANSWERS[kind]

    async def page(_: Request) -> Response:
        return answer()

    return Starlette(routes=[Route("/{path:path}", page, methods=["GET", "POST"])])


# --- Yunxin -------------------------------------------------------------------------------------------


def html_page(status: int) -> Response:
    """What a proxy or a load balancer answers in front of an API."""
    return HTMLResponse(f"<!DOCTYPE html><html><body><h1>{status}</h1><p>nginx</p></body></html>", status_code=status)


def envelope(code: int, msg: str) -> Response:
    """Yunxin's JSON envelope with a code other than 200 (HTTP 200, as Yunxin answers)."""
    return JSONResponse({"code": code, "msg": msg})


def http_status(status: int) -> Response:
    return PlainTextResponse("Service Unavailable", status_code=status)


# A fault answers one call: a response made afresh, or HANG, nothing until the bot gives up on the call.
HANG = "hang"
Fault = Callable[[], Response] | Literal["hang"]


@dataclass(frozen=True, slots=True)
class YunxinCall:
    """One call as Yunxin received it."""

    at: float  # time.monotonic() on arrival
    trace_id: str
    conversation_ids: str  # the query parameter, as sent


class ScriptedYunxin:
    """Yunxin's batch query as an ASGI app: queued faults answer the next calls, the sandbox the rest (it
    checks every signature); `sandbox` options (`latency_seconds=`, `conversations=`) go to the sandbox.

    Serve it on loopback for the bot's own transport, or hand `transport()` to the app to answer in-process.
    While `gate` is an Event not yet set, every call waits for it before it is answered."""

    def __init__(self, **sandbox: Any) -> None:
        self.sandbox = create_sandbox_app(**sandbox)
        self.calls: list[YunxinCall] = []
        self.called = asyncio.Event()  # set at the first call
        self.gate: asyncio.Event | None = None
        self._faults: list[Fault] = []

    def __repr__(self) -> str:
        return f"ScriptedYunxin(calls={len(self.calls)}, faults queued={len(self._faults)})"

    def queue(self, fault: Fault, times: int = 1) -> None:
        self._faults.extend([fault] * times)

    def fail_next(self, code: int, msg: str, times: int = 1) -> None:
        """The next `times` calls get Yunxin's envelope with this code."""
        self.queue(lambda: envelope(code, msg), times)

    @property
    def trace_ids(self) -> list[str]:
        return [call.trace_id for call in self.calls]

    def transport(self) -> httpx.AsyncBaseTransport:
        """This Yunxin in-process, as the app's transport."""
        return httpx.ASGITransport(app=self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.sandbox(scope, receive, send)
            return
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        query = urllib.parse.parse_qs(scope["query_string"].decode())
        asked = ",".join(query.get("conversation_ids", []))
        self.calls.append(YunxinCall(time.monotonic(), headers.get(TRACE_HEADER.lower(), ""), asked))
        self.called.set()
        if self.gate is not None:
            await self.gate.wait()
        fault = self._faults.pop(0) if self._faults else None
        if fault is None:
            await self.sandbox(scope, receive, send)
        elif fault == HANG:
            await _until_disconnected(receive)
        else:
            assert callable(fault)
            await fault()(scope, receive, send)


async def _until_disconnected(receive: Receive) -> None:
    async with asyncio.timeout(REPLY_WAIT_SECONDS):
        while (await receive())["type"] != "http.disconnect":
            pass


# --- the bot ------------------------------------------------------------------------------------------


def settings_for(slack: SlackStandIn, yunxin_url: str | None = None, **overrides: Any) -> Settings:
    """The app's settings in this workspace; with `yunxin_url`, the sandbox's credentials for a Yunxin there
    (no backup host), else none (sandbox mode). `overrides` are settings by field name."""
    values: dict[str, Any] = {
        "slack_bot_token": SecretStr(BOT_TOKEN),
        "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_api_url": slack.api_url,
        "access_contact": CONTACT,
    }
    if yunxin_url is not None:
        values |= {name.lower(): value for name, value in credentials(yunxin_url).items()}
    return bot_settings(**values | overrides)


class AckClock:
    """ASGI wrapper noting when each answer to /slack/events has been written: when Slack has its ack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app  # the bot's own ASGI app, for a test that calls it with a scope of its own
        self.sent: list[float] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/slack/events":
            await self.app(scope, receive, send)
            return

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.sent.append(time.monotonic())

        await self.app(scope, receive, timed_send)


@dataclass
class Sent:
    """One request the stand-in sent the app, and the response_url it gave with it."""

    delivery: Delivery
    response_url: str
    slack: SlackStandIn

    @property
    def ack(self) -> dict[str, Any]:
        return json.loads(self.delivery.body) if self.delivery.body else {}

    async def replies(self, count: int = 1) -> list[dict[str, Any]]:
        return await self.slack.wait_for_posts(self.response_url, count, timeout=REPLY_WAIT_SECONDS)

    async def reply(self) -> dict[str, Any]:
        return (await self.replies(1))[0]

    async def whole_answer(self) -> list[dict[str, Any]]:
        """Every message of the answer, once the first has said how many there are."""
        return await self.replies(parts_announced(await self.reply()))


@dataclass
class _InWorkspace:
    """What the HTTP and the Socket Mode bot share: the workspace and Yunxin they run against."""

    slack: SlackStandIn
    yunxin: ScriptedYunxin

    def origin(
        self, *, user: str = MEMBER, channel: str = CHANNEL, team: str = TEAM, enterprise_id: str | None = None
    ) -> Origin:
        """A request from `user` in `channel`, answered at a new response_url."""
        return self.slack.new_origin(user, channel, team_id=team, enterprise_id=enterprise_id)

    def api_methods(self) -> list[str]:
        return [method for _, method, _ in self.slack.api_calls]

    def event_payload(self, event: dict[str, Any], *, team: str = TEAM) -> dict[str, Any]:
        """`event` (app_home_opened, function_executed) as the Events API delivers it from `team`."""
        return event_callback_payload(event, team_id=team, bot_user_id=self.slack.bot_user_id)

    def submission(self, view_id: str, values: dict[str, dict[str, Any]], **who: Any) -> dict[str, Any]:
        """The open modal `view_id`, as it is now, submitted with these input values (block_id -> action_id ->
        the element's state)."""
        view = {"id": view_id, **self.slack.views[view_id]}
        return view_submission_payload(self.origin(**who), view=view, values=values)


@dataclass
class Bot(_InWorkspace):
    """The HTTP app on loopback. Requests come from MEMBER in CHANNEL unless `user=`, `channel=`, `team=` or
    `enterprise_id=` (see `origin`) say otherwise."""

    url: str
    acks: AckClock
    http: httpx.AsyncClient

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    async def command(
        self, text: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None, **who: Any
    ) -> Sent:
        origin = self.origin(**who)
        delivery = await send_slash_command(
            self.events_url, secret, origin, text=text, timestamp=timestamp, client=self.http
        )
        return Sent(delivery, origin.response_url, self.slack)

    async def click(self, action_id: str, **click: Any) -> Sent:
        """Click a button (`value=`) or choose an option of a menu (`selected_option=`): see `block_action`."""
        payload = block_action(action_id, self.origin(**_who(click)), **click)
        return Sent(await self.send_click(payload), payload["response_url"], self.slack)

    async def press(self, action_id: str, value: str, **click: Any) -> Sent:
        """Click a button, and check that Slack had its ack in time."""
        sent = await self.click(action_id, value=value, **click)
        assert sent.delivery.status == 200 and not sent.delivery.timed_out
        return sent

    async def click_in_modal(self, view_id: str, action_id: str, **click: Any) -> Delivery:
        """Click a button (`value=`) or choose an option (`selected_option=`) in the open modal `view_id` as it is
        now: Slack sends the view with the click, and no channel or response_url to answer on."""
        view = {"id": view_id, **self.slack.views[view_id]}
        return await self.send_click(block_action(action_id, self.origin(**_who(click)), view=view, **click))

    async def send_click(self, payload: dict[str, Any]) -> Delivery:
        """Send a click payload as it is (one a test has built, or altered)."""
        return await send_block_action(self.events_url, SIGNING_SECRET, payload, client=self.http)

    async def click_share(self, answer: dict[str, Any], **who: Any) -> Sent:
        return await self.click(SHARE_ACTION, value=button_value(answer, SHARE_ACTION), **who)

    async def event(self, event: dict[str, Any], *, team: str = TEAM) -> Delivery:
        """Send an Events API event, signed, as a JSON body (see `event_payload`)."""
        payload = self.event_payload(event, team=team)
        return await send_event(self.events_url, SIGNING_SECRET, payload, client=self.http)

    async def submit(self, view_id: str, values: dict[str, dict[str, Any]], **who: Any) -> Delivery:
        """Submit the open modal `view_id` with these input values (see `submission`)."""
        payload = self.submission(view_id, values, **who)
        return await send_view_submission(self.events_url, SIGNING_SECRET, payload, client=self.http)

    async def run_shortcut(self, text: str, *, thread_ts: str | None = None, **who: Any) -> Sent:
        """Run the message shortcut on a message saying `text` (`thread_ts`: a message in a thread)."""
        origin = self.origin(**who)
        payload = message_action_payload(origin, callback_id=SHORTCUT_CALLBACK, message_text=text, thread_ts=thread_ts)
        delivery = await send_message_shortcut(self.events_url, SIGNING_SECRET, payload, client=self.http)
        return Sent(delivery, origin.response_url, self.slack)

    async def only_answer(self, sent: Sent, *, listen_on: bool = True) -> dict[str, Any]:
        """The one answer to `sent`; with `listen_on`, it then listens a while to be sure no second one comes."""
        assert not sent.delivery.timed_out, "no ack within Slack's 3 seconds"
        assert sent.delivery.status == 200
        (answer,) = await sent.replies(1)
        if listen_on:
            await asyncio.sleep(QUIET_SECONDS)
            assert len(self.slack.posts(sent.response_url)) == 1, "a second answer came"
        return answer

    async def settle(self) -> None:
        """A help command calls nothing: once it is answered, what an earlier request set off has had its turn."""
        assert (await self.command("help")).delivery.status == 200

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(self.url + path)

    async def healthy(self) -> bool:
        return (await self.get("/healthz")).status_code == 200

    async def in_flight(self) -> int:
        return int((await self.get("/healthz")).json()["in_flight"])

    async def metrics(self) -> str:
        response = await self.get("/metrics")
        assert response.status_code == 200
        return response.text


def _who(click: dict[str, Any]) -> dict[str, Any]:
    """Take out of a click's keywords those that say who clicked where (see `Bot.origin`)."""
    return {key: click.pop(key) for key in ("user", "channel", "team", "enterprise_id") if key in click}


def block_action(action_id: str, origin: Origin, **click: Any) -> dict[str, Any]:
    """A click as Slack sends it, over HTTP or the socket: `value=` for a button, `selected_option=` for a
    menu; `trigger_id=slack.new_trigger_id()` lets it open a modal, `is_ephemeral=False` clicks a message in
    the channel, and `view=` clicks inside that modal."""
    return block_actions_payload(origin, action_id=action_id, **click)


@contextlib.asynccontextmanager
async def running_bot(
    serve_asgi: ServeAsgi,
    slack: SlackStandIn,
    yunxin: ScriptedYunxin,
    *,
    yunxin_url: str | None = None,
    drain_seconds: float = 2.0,
    stop_slack_too: bool = True,
    **settings: Any,
) -> AsyncIterator[Bot]:
    """The HTTP app, served on loopback until the block ends (its lifespan's shutdown included), with
    `settings` by field name. Without `yunxin_url`, `yunxin` answers in-process (sandbox mode); with it, the
    app calls that URL through its own transport.

    With `stop_slack_too` the stand-in stops alongside the app (each uvicorn takes ~0.2 s to stop, so
    stopping both at once keeps the suite fast); what it received stays readable."""
    app_settings = settings_for(slack, yunxin_url, **settings)
    transports = None if yunxin_url is not None else {app_settings.default_environment(): yunxin.transport()}
    acks = AckClock(create_asgi_app(app_settings, yunxin_transports=transports, drain_seconds=drain_seconds))
    server = serve_asgi(acks)
    url = await server.__aenter__()
    try:
        async with httpx.AsyncClient() as http:
            yield Bot(slack, yunxin, url, acks, http)
    finally:
        stopping = [server.__aexit__(None, None, None), *([slack.stop()] if stop_slack_too else [])]
        await asyncio.gather(*stopping)


# `async with start_bot(yunxin_url=..., redact_message_text=True) as bot:` (see `running_bot`).
BotFactory = Callable[..., contextlib.AbstractAsyncContextManager[Bot]]


# --- the bot over Socket Mode -------------------------------------------------------------------------


@dataclass
class SocketBot(_InWorkspace):
    """The bot connected over Socket Mode as `_socket_mode` connects it, minus the signal handling; Yunxin
    answers in-process."""

    slack: SocketModeStandIn
    runtime: Runtime
    handler: AsyncSocketModeHandler
    connection: SocketConnection

    async def command(self, text: str, **who: Any) -> SocketAck:
        return await self.slack.send_slash_command(self.origin(**who), text=text)

    async def click_share(self, answer: dict[str, Any], **who: Any) -> SocketAck:
        payload = block_action(SHARE_ACTION, self.origin(**who), value=button_value(answer, SHARE_ACTION))
        return await self.slack.send_interaction(payload)

    async def click(self, action_id: str, **click: Any) -> SocketAck:
        """A click, as `Bot.click` makes it, delivered over the socket."""
        return await self.slack.send_interaction(block_action(action_id, self.origin(**_who(click)), **click))

    async def event(self, event: dict[str, Any], *, team: str = TEAM) -> SocketAck:
        return await self.slack.send_event(self.event_payload(event, team=team))

    async def submit(self, view_id: str, values: dict[str, dict[str, Any]], **who: Any) -> SocketAck:
        return await self.slack.send_interaction(self.submission(view_id, values, **who))

    async def replies(self, ack: SocketAck, count: int = 1) -> list[dict[str, Any]]:
        assert ack.response_url is not None
        return await self.slack.wait_for_posts(ack.response_url, count, timeout=REPLY_WAIT_SECONDS)

    async def settle(self) -> None:
        """Let a command that needs no reply finish: a help command is a barrier (it calls nothing)."""
        assert not (await self.command("help")).timed_out


@contextlib.asynccontextmanager
async def running_socket_bot(
    slack: SocketModeStandIn, yunxin: ScriptedYunxin | None = None, **overrides: Any
) -> AsyncIterator[SocketBot]:
    """Settings as keywords; by default no signing secret, as a Socket Mode deployment needs none."""
    yunxin = yunxin if yunxin is not None else ScriptedYunxin()
    settings = settings_for(slack, slack_app_token=SecretStr(APP_TOKEN), **{"slack_signing_secret": None, **overrides})
    transports = {settings.default_environment(): yunxin.transport()}
    runtime = await start_runtime(settings, socket_mode=True, yunxin_transports=transports)
    handler = AsyncSocketModeHandler(runtime.app, APP_TOKEN)
    try:
        await handler.connect_async()
        connection = await slack.wait_for_connection(timeout=REPLY_WAIT_SECONDS)
        yield SocketBot(slack, yunxin, runtime, handler, connection)
    finally:
        await handler.close_async()
        await runtime.aclose()


# --- waiting ------------------------------------------------------------------------------------------


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
