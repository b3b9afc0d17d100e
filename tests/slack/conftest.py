"""The bot as Slack sees it: the HTTP app from `create_asgi_app` on a loopback port, a strict Slack
stand-in for its Web API and response_urls, and a Yunxin sandbox behind a transport that records
every call (and can be told to fail). Requests reach the app signed exactly as Slack signs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.settings import Settings
from bot.slack.actions import SHARE_ACTION
from bot.slack.listeners.shortcut import SHORTCUT_CALLBACK
from bot.slack.web import create_asgi_app
from bot.standins.slack import (
    Delivery,
    Origin,
    SlackStandIn,
    block_actions_payload,
    message_action_payload,
    send_block_action,
    send_message_shortcut,
    send_slash_command,
)
from bot.yunxin.client import TRACE_HEADER
from bot.yunxin.sandbox import create_sandbox_app
from tests.loopback import ServeAsgi

SIGNING_SECRET = "test-signing-secret-5f0c2a"
BOT_TOKEN = "xoxb-test-bot-token-8d1e"
TEAM = "T0STANDIN"
OTHER_TEAM = "T0ELSEWHERE"
CHANNEL = "C0INCIDENT"
CONTACT = "#help-yunxin-bot"

# The people of the stand-in workspace, one of each kind the access check tells apart.
MEMBER = "U0MEMBER"
SECOND_MEMBER = "U0SECOND"
GUEST = "U0GUEST"
SINGLE_CHANNEL_GUEST = "U0SCGUEST"
BOT_USER = "U0BOTUSER"
DEACTIVATED = "U0GONE"
OUTSIDER = "U0OUTSIDER"

# A hang guard for waits on replies, not a deadline the app is held to.
REPLY_WAIT_SECONDS = 10.0


def make_settings(slack: SlackStandIn, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": SecretStr(BOT_TOKEN),
        "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_api_url": slack.api_url,
        "access_contact": CONTACT,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# --- Yunxin -----------------------------------------------------------------------------------------

Responder = Callable[[httpx.Request], Awaitable[httpx.Response]]


@dataclass
class YunxinCall:
    at: float  # time.monotonic(), the stand-in's clock
    request: httpx.Request


class RecordingYunxin(httpx.AsyncBaseTransport):
    """The sandbox, behind a transport that notes every call and answers queued faults first."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None, **sandbox: Any) -> None:
        self._inner = inner if inner is not None else httpx.ASGITransport(app=create_sandbox_app(**sandbox))
        self.calls: list[YunxinCall] = []
        self.called = asyncio.Event()  # set at the first call
        self._faults: list[Responder] = []

    def answer_next(self, responder: Responder, times: int = 1) -> None:
        self._faults.extend([responder] * times)

    def fail_next(self, code: int, msg: str, times: int = 1) -> None:
        """The next `times` calls get Yunxin's envelope with this code (HTTP 200, as Yunxin answers)."""

        async def envelope(request: httpx.Request) -> httpx.Response:
            return httpx.Response(
                200, json={"code": code, "msg": msg}, headers={TRACE_HEADER: request.headers.get(TRACE_HEADER, "")}
            )

        self.answer_next(envelope, times)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(YunxinCall(time.monotonic(), request))
        self.called.set()
        if self._faults:
            return await self._faults.pop(0)(request)
        return await self._inner.handle_async_request(request)

    def trace_ids(self) -> list[str]:
        return [call.request.headers[TRACE_HEADER] for call in self.calls]


# --- the bot ----------------------------------------------------------------------------------------


class AckClock:
    """ASGI wrapper noting when each answer to /slack/events has been written: when Slack has its ack."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self.sent: list[float] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/slack/events":
            await self._app(scope, receive, send)
            return

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.sent.append(time.monotonic())

        await self._app(scope, receive, timed_send)


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


@dataclass
class Bot:
    url: str
    slack: SlackStandIn
    yunxin: RecordingYunxin
    acks: AckClock
    http: httpx.AsyncClient

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    async def command(
        self,
        text: str,
        *,
        user: str = MEMBER,
        channel: str = CHANNEL,
        team: str = TEAM,
        enterprise_id: str | None = None,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
    ) -> Sent:
        origin = self.slack.new_origin(user, channel, team_id=team, enterprise_id=enterprise_id)
        delivery = await send_slash_command(self.events_url, secret, origin, text=text, timestamp=timestamp)
        return Sent(delivery, origin.response_url, self.slack)

    async def click(self, action_id: str, *, user: str = MEMBER, channel: str = CHANNEL, **click: Any) -> Sent:
        """Click a button (`value=`) or choose an option of a menu (`selected_option=`): see `block_action`."""
        response_url = self.slack.new_response_url()
        payload = block_action(action_id, response_url, user=user, channel=channel, **click)
        return Sent(await send_block_action(self.events_url, SIGNING_SECRET, payload), response_url, self.slack)

    async def click_in_modal(self, view_id: str, action_id: str, *, user: str = MEMBER, **click: Any) -> Delivery:
        """Click a button (`value=`) or choose an option (`selected_option=`) in the open modal `view_id` as it is
        now: Slack sends the view with the click, and no channel or response_url to answer on."""
        view = {"id": view_id, **self.slack.views[view_id]}
        payload = block_action(action_id, "", user=user, view=view, **click)
        return await send_block_action(self.events_url, SIGNING_SECRET, payload)

    async def click_share(self, answer: dict[str, Any], *, user: str = MEMBER, channel: str = CHANNEL) -> Sent:
        return await self.click(SHARE_ACTION, value=button_value(answer, SHARE_ACTION), user=user, channel=channel)

    async def run_shortcut(self, text: str, *, user: str = MEMBER, thread_ts: str | None = None) -> Sent:
        """Run the message shortcut on a message saying `text` (`thread_ts`: a message in a thread)."""
        origin = self.slack.new_origin(user, CHANNEL)
        payload = message_action_payload(origin, callback_id=SHORTCUT_CALLBACK, message_text=text, thread_ts=thread_ts)
        sent = await send_message_shortcut(self.events_url, SIGNING_SECRET, payload)
        return Sent(sent, origin.response_url, self.slack)

    def api_methods(self) -> list[str]:
        return [method for _, method, _ in self.slack.api_calls]

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(self.url + path)


async def settle(bot: Bot) -> None:
    """A help command calls nothing: once it is answered, what an earlier request set off has had its turn."""
    assert (await bot.command("help")).delivery.status == 200


def block_action(
    action_id: str, response_url: str, *, user: str = MEMBER, channel: str = CHANNEL, **click: Any
) -> dict[str, Any]:
    """A click in this workspace as Slack sends it, over HTTP or the socket: `value=` for a button,
    `selected_option=` for a menu; `trigger_id=slack.new_trigger_id()` lets it open a modal,
    `is_ephemeral=False` clicks a message in the channel, and `view=` clicks inside that modal."""
    return block_actions_payload(Origin(user, TEAM, channel, response_url), action_id=action_id, **click)


def button_value(message: dict[str, Any], action_id: str) -> str:
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["action_id"] == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in the message")


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


def workspace() -> SlackStandIn:
    slack = SlackStandIn(bot_token=BOT_TOKEN, team_id=TEAM)
    slack.add_user(MEMBER, name="on-call")
    slack.add_user(SECOND_MEMBER, name="second")
    slack.add_user(GUEST, is_restricted=True)
    slack.add_user(SINGLE_CHANNEL_GUEST, is_restricted=True, is_ultra_restricted=True)
    slack.add_user(BOT_USER, is_bot=True)
    slack.add_user(DEACTIVATED, deleted=True)
    slack.add_user(OUTSIDER, team_id=OTHER_TEAM)
    return slack


@contextlib.asynccontextmanager
async def running_bot(
    serve_asgi: ServeAsgi,
    slack: SlackStandIn,
    *,
    yunxin: RecordingYunxin | None = None,
    drain_seconds: float = 10.0,
    stop_slack_too: bool = True,
    **overrides: Any,
) -> AsyncIterator[Bot]:
    """The HTTP app, served on loopback until the block ends (its lifespan's shutdown included).

    With `stop_slack_too` the stand-in stops alongside the app (each uvicorn takes ~0.2 s to stop, so
    stopping both at once keeps the suite fast); what it received stays readable."""
    settings = make_settings(slack, **overrides)
    recorder = yunxin if yunxin is not None else RecordingYunxin()
    name = settings.default_environment()
    acks = AckClock(create_asgi_app(settings, yunxin_transports={name: recorder}, drain_seconds=drain_seconds))
    server = serve_asgi(acks)
    url = await server.__aenter__()
    try:
        async with httpx.AsyncClient() as http:
            yield Bot(url, slack, recorder, acks, http)
    finally:
        stopping = [server.__aexit__(None, None, None), *([slack.stop()] if stop_slack_too else [])]
        await asyncio.gather(*stopping)


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with workspace() as stand_in:
        yield stand_in


BotFactory = Callable[..., contextlib.AbstractAsyncContextManager[Bot]]


@pytest.fixture
def start_bot(serve_asgi: ServeAsgi, slack: SlackStandIn) -> BotFactory:
    """`async with start_bot(yunxin=..., redact_message_text=True) as bot:` (settings as keywords)."""

    def start(**overrides: Any) -> contextlib.AbstractAsyncContextManager[Bot]:
        return running_bot(serve_asgi, slack, **overrides)

    return start


@pytest.fixture
async def bot(start_bot: BotFactory) -> AsyncIterator[Bot]:
    async with start_bot() as running:
        yield running
