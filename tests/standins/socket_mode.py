"""Socket Mode for the Slack stand-in: `apps.connections.open` and the WebSocket it hands out.

`SocketModeStandIn` is a `SlackStandIn` that also plays Slack's side of Socket Mode. The app asks
`apps.connections.open` (with the app-level `xapp-` token, in the Authorization header) for a WebSocket
URL, connects, and gets `hello`. The stand-in then delivers slash commands and interactions as envelopes,
as Slack does, and holds the app to acknowledging each one by `envelope_id` within 3 seconds.

uvicorn has no WebSocket library here, so the socket is served by `aiohttp.web` (the app's own Socket Mode
client already needs aiohttp) on a second loopback port; the Web API and response_urls stay where the
base class serves them. Each URL's ticket is good for one connection, so a reconnecting app must ask
`apps.connections.open` again (the Slack SDK does).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal, Self

from aiohttp import WSMsgType, web
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.slack.render.limits import problems
from bot.standins.slack.signed_requests import Origin, slash_command_form, view_submission_ack_problems
from bot.standins.slack.web_api import SlackStandIn
from bot.standins.slack.wire import ACK_SECONDS, API_APP_ID, JsonObject, Refusal, api_error, api_params, bearer_token

APP_TOKEN = "xapp-1-A0STANDIN-1-standin"
CONNECTIONS_OPEN = "apps.connections.open"
# WebSocket close codes: 1000 a normal close (what a client sends when it disconnects on purpose),
# 1001 the server going away (what the stand-in sends when it stops).
NORMAL_CLOSURE, GOING_AWAY = 1000, 1001
# Interactions whose ack may carry a payload (a modal's response_action); Slack drops any other's.
_INTERACTIONS_WITH_RESPONSE_PAYLOAD = frozenset({"view_submission"})

EnvelopeType = Literal["slash_commands", "interactive", "events_api"]


@dataclass(frozen=True, slots=True)
class SocketAck:
    """How the app answered one envelope. `timed_out`: no ack within 3 s, so Slack gave up (the user of a
    slash command sees `operation_timeout`); then `payload` is None and `seconds` is the 3 s waited.
    `problems` lists what Slack would refuse or drop in the ack's payload."""

    envelope_id: str
    payload: JsonObject | None
    seconds: float
    timed_out: bool
    at: float | None  # arrival on the stand-in's clock
    problems: list[str]
    response_url: str | None  # the envelope's, where the app's later answers go


@dataclass(frozen=True, slots=True)
class ReceivedAck:
    """An ack as it arrived, with its arrival time on the stand-in's clock. `late`: after Slack gave up."""

    at: float
    envelope_id: str
    payload: JsonObject | None
    seconds: float
    late: bool


@dataclass(slots=True)
class SocketConnection:
    """One WebSocket connection from the app, numbered from 1 in the order they opened."""

    number: int
    opened_at: float
    closed_at: float | None = None
    close_code: int | None = None
    closed_by: Literal["app", "slack"] | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(slots=True)
class _Envelope:
    sent: float  # time.perf_counter()
    ack: asyncio.Future[ReceivedAck]
    given_up: bool = False


class SocketModeStandIn(SlackStandIn):
    """A Slack stand-in with Socket Mode. `async with SocketModeStandIn(app_token=..., ...) as slack:`;
    the other keywords are `SlackStandIn`'s. `ack_seconds` shortens Slack's 3 s, for tests of a late ack."""

    def __init__(self, *, app_token: str = APP_TOKEN, ack_seconds: float = ACK_SECONDS, **workspace: Any) -> None:
        super().__init__(**workspace)
        self._app_token = app_token
        self._ack_seconds = ack_seconds
        self.connections: list[SocketConnection] = []
        self.acks: list[ReceivedAck] = []  # every ack the app sent, in order of arrival
        self.stray_messages: list[str] = []  # what the app sent that was no ack of a waiting envelope, and why
        self._sockets: dict[int, web.WebSocketResponse] = {}  # open connections by number
        self._closing: set[int] = set()  # connections the stand-in is closing
        self._tickets: set[str] = set()  # issued by apps.connections.open, not yet used
        self._handshake_failure: int | None = None
        self.refused_handshakes: list[float] = []  # when a connection attempt was refused (fail_sockets)
        self._envelopes: dict[str, _Envelope] = {}
        self._socket_changed = asyncio.Condition()
        self._socket_runner: web.AppRunner | None = None
        self._socket_base_url: str | None = None

    def __repr__(self) -> str:
        return f"SocketModeStandIn(team_id={self.team_id!r}, socket_url={self._socket_base_url!r})"

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        await super().start()
        try:
            await self._start_socket_server()
        except BaseException:
            await super().stop()
            raise

    async def stop(self) -> None:
        runner, self._socket_runner = self._socket_runner, None
        try:
            if runner is not None:
                for number in list(self._sockets):
                    await self._close_socket(number, GOING_AWAY, b"the Slack stand-in is stopping")
                await runner.cleanup()
        finally:
            await super().stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def _start_socket_server(self) -> None:
        app = web.Application()
        app.router.add_get("/link/", self._socket)
        # A short shutdown grace: every socket has been closed by then.
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
        except BaseException:
            await runner.cleanup()
            raise
        host, port = runner.addresses[0][:2]
        self._socket_base_url = f"ws://{host}:{port}"
        self._socket_runner = runner

    def _asgi_app(self) -> Starlette:
        # Answered before the base class's Web API route, which knows only the bot token.
        connections_open = Route(f"/api/{CONNECTIONS_OPEN}", self._apps_connections_open, methods=["POST"])
        return Starlette(routes=[connections_open, *super()._asgi_app().routes])

    # --- apps.connections.open -------------------------------------------------------------------

    async def _apps_connections_open(self, request: Request) -> Response:
        try:
            params = await api_params(request)
        except Refusal as refusal:
            return api_error(refusal.error)
        params.pop("token", None)  # Slack takes this method's token only from the Authorization header
        self.api_calls.append((self._clock(), CONNECTIONS_OPEN, params))
        token = bearer_token(request)
        if token is None:
            return api_error("not_authed")
        if hmac.compare_digest(token.encode(), self._bot_token.encode()):
            return api_error("not_allowed_token_type")
        if not hmac.compare_digest(token.encode(), self._app_token.encode()):
            return api_error("invalid_auth")
        if self._socket_base_url is None:
            raise RuntimeError("the Socket Mode server is not running")
        ticket = secrets.token_urlsafe(16)
        self._tickets.add(ticket)
        return JSONResponse({"ok": True, "url": f"{self._socket_base_url}/link/?ticket={ticket}&app_id={API_APP_ID}"})

    # --- the WebSocket ---------------------------------------------------------------------------

    def fail_sockets(self, status: int | None) -> None:
        """Every WebSocket handshake answers this HTTP status from now on (None: back to normal), as when a
        firewall lets the Web API through but not Slack's WebSocket host."""
        self._handshake_failure = status

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=HTTPStatus.UNAUTHORIZED, text="invalid_ticket")
        self._tickets.discard(ticket)
        if self._handshake_failure is not None:
            self.refused_handshakes.append(self._clock())
            await self._notify_socket_changed()
            return web.Response(status=self._handshake_failure, text=HTTPStatus(self._handshake_failure).phrase)
        socket = web.WebSocketResponse()  # answers the client's pings itself
        await socket.prepare(request)
        connection = SocketConnection(number=len(self.connections) + 1, opened_at=self._clock())
        self.connections.append(connection)
        self._sockets[connection.number] = socket
        try:
            await socket.send_json(self._hello())
            await self._notify_socket_changed()
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self._take_ack(str(message.data))
                else:
                    self.stray_messages.append(f"a {message.type.name} message; Slack expects JSON text")
        finally:
            del self._sockets[connection.number]
            connection.closed_at = self._clock()
            connection.close_code = socket.close_code
            connection.closed_by = "slack" if connection.number in self._closing else "app"
            self._closing.discard(connection.number)
            await self._notify_socket_changed()
        return socket

    def _hello(self) -> JsonObject:
        return {
            "type": "hello",
            "num_connections": len(self._sockets),
            "debug_info": {"host": "applink-standin", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": API_APP_ID},
        }

    async def _notify_socket_changed(self) -> None:
        async with self._socket_changed:
            self._socket_changed.notify_all()

    async def _close_socket(self, number: int, code: int, reason: bytes) -> None:
        socket = self._sockets.get(number)
        if socket is None:
            return
        self._closing.add(number)
        await socket.close(code=code, message=reason)

    async def wait_for_connection(
        self,
        number: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - a hang guard for callers, not a deadline on the app
    ) -> SocketConnection:
        """Wait until the app's `number`-th connection has opened (and had its `hello`); return it."""
        try:
            async with asyncio.timeout(timeout), self._socket_changed:
                await self._socket_changed.wait_for(lambda: len(self.connections) >= number)
        except TimeoutError:
            raise TimeoutError(
                f"the app opened {len(self.connections)} of {number} Socket Mode connections within {timeout} s"
            ) from None
        return self.connections[number - 1]

    async def wait_for_refused_handshake(
        self,
        timeout: float = 10.0,  # noqa: ASYNC109 - a hang guard for callers, not a deadline on the app
    ) -> None:
        """Wait until the app has tried to connect and been refused (see `fail_sockets`)."""
        try:
            async with asyncio.timeout(timeout), self._socket_changed:
                await self._socket_changed.wait_for(lambda: bool(self.refused_handshakes))
        except TimeoutError:
            raise TimeoutError(f"the app tried no connection within {timeout} s") from None

    async def wait_until_closed(
        self,
        connection: SocketConnection,
        timeout: float = 10.0,  # noqa: ASYNC109 - a hang guard for callers, not a deadline on the app
    ) -> SocketConnection:
        try:
            async with asyncio.timeout(timeout), self._socket_changed:
                await self._socket_changed.wait_for(lambda: not connection.is_open)
        except TimeoutError:
            raise TimeoutError(f"connection {connection.number} is still open after {timeout} s") from None
        return connection

    async def request_reconnect(self, reason: str = "refresh_requested") -> None:
        """Tell every connected app to reconnect, as Slack does before it recycles a connection. Slack keeps
        the old connection open for a while; the app is expected to open a new one and close the old."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-standin"}}
        for socket in list(self._sockets.values()):
            await socket.send_json(message)

    # --- envelopes -------------------------------------------------------------------------------

    async def send_slash_command(self, origin: Origin, *, text: str, command: str = "/conversation") -> SocketAck:
        """Deliver a slash command from `origin` (its form fields as a JSON object); see `new_origin`."""
        return await self.send_envelope("slash_commands", slash_command_form(origin, text=text, command=command))

    async def send_interaction(self, payload: JsonObject) -> SocketAck:
        """Deliver an interaction payload: see `block_actions_payload` and `message_action_payload`."""
        if not isinstance(payload.get("type"), str):
            raise ValueError("an interaction payload needs its type, such as block_actions")
        return await self.send_envelope("interactive", payload)

    async def send_event(self, payload: JsonObject) -> SocketAck:
        """Deliver an Events API payload (`event_callback_payload`): its ack carries nothing."""
        if payload.get("type") != "event_callback":
            raise ValueError("an Events API payload is an event_callback")
        return await self.send_envelope("events_api", payload)

    async def send_envelope(self, kind: EnvelopeType, payload: JsonObject) -> SocketAck:
        """Send an envelope on the newest open connection and wait up to 3 s (`ack_seconds`) for its ack."""
        socket = self._newest_socket()
        envelope_id = str(uuid.uuid4())
        accepts_payload = kind == "slash_commands" or payload.get("type") in _INTERACTIONS_WITH_RESPONSE_PAYLOAD
        envelope = _Envelope(time.perf_counter(), asyncio.get_running_loop().create_future())
        self._envelopes[envelope_id] = envelope
        message = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_payload,
        }
        response_url = payload.get("response_url")
        await socket.send_str(json.dumps(message, separators=(",", ":")))
        try:
            async with asyncio.timeout(self._ack_seconds):
                ack = await asyncio.shield(envelope.ack)
        except TimeoutError:
            envelope.given_up = True
            return SocketAck(envelope_id, None, self._ack_seconds, True, None, [], response_url)
        if ack.late:  # arrived past the deadline just before the wait above ended
            return SocketAck(envelope_id, None, ack.seconds, True, None, [], response_url)
        return SocketAck(
            envelope_id,
            ack.payload,
            ack.seconds,
            False,
            ack.at,
            _ack_problems(ack.payload, accepts_payload, payload),
            response_url,
        )

    def _newest_socket(self) -> web.WebSocketResponse:
        open_sockets = [number for number in self._sockets if number not in self._closing]
        if not open_sockets:
            raise RuntimeError("no Socket Mode connection is open: start the app's Socket Mode client first")
        return self._sockets[max(open_sockets)]

    def _take_ack(self, text: str) -> None:
        arrived, at = time.perf_counter(), self._clock()
        try:
            message = json.loads(text)
        except ValueError:
            self.stray_messages.append(f"not JSON: {text[:200]}")
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        envelope = self._envelopes.get(envelope_id) if isinstance(envelope_id, str) else None
        if envelope is None:
            self.stray_messages.append(f"no envelope waits for this: {text[:200]}")
            return
        if envelope.ack.done():
            self.stray_messages.append(f"a second ack of envelope {envelope_id}")
            return
        payload = message.get("payload")
        ack = ReceivedAck(
            at=at,
            envelope_id=str(envelope_id),
            payload=payload if isinstance(payload, dict) else None,
            seconds=arrived - envelope.sent,
            late=envelope.given_up or arrived - envelope.sent > self._ack_seconds,
        )
        if payload is not None and not isinstance(payload, dict):
            self.stray_messages.append(f"the ack of envelope {envelope_id} has a payload that is not an object")
        self.acks.append(ack)
        envelope.ack.set_result(ack)


def _ack_problems(payload: JsonObject | None, accepts_payload: bool, sent: JsonObject | None = None) -> list[str]:
    """What Slack would not show of an ack's payload: one the envelope takes none of, a message over the
    Block Kit limits or with a response_type Slack does not know, or (to a modal submitted, `sent`) a
    response_action Slack would not apply to that modal."""
    if payload is None:
        return []
    if not accepts_payload:
        return ["the envelope accepts no response payload; Slack drops it"]
    if sent is not None and sent.get("type") == "view_submission":
        return view_submission_ack_problems(payload, sent.get("view") or {})
    found = problems(payload)
    if payload.get("response_type", "ephemeral") not in ("ephemeral", "in_channel"):
        found.append("response_type must be ephemeral or in_channel")
    return found
