"""HTTP mode: the ASGI app uvicorn serves (Procfile `web:`).

POST /slack/events  Slack's commands and interactivity, through the edge (size, signature, replay, form;
                    see edge.py) to Bolt
GET  /livez, /readyz, /healthz, /metrics   health and metrics (ops.py); with METRICS_PORT, /metrics is
                    served on that port instead, beside the health endpoints
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from slack_bolt import BoltResponse
from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncBoltRequest
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.logs import configure_logging, report_startup_error
from bot.settings import Settings, SettingsError, load_settings

from .ack import AckWatch
from .app import Runtime, StartupError, check_workers, start_runtime
from .edge import Refusal, SlackEdge, Verified
from .lifecycle import LIFECYCLE_KEY
from .ops import Health, health_routes, ops_server
from .server import freeze_startup_heap, raise_open_files_limit

log = logging.getLogger(__name__)


class _StartupFailureInOneLine:
    """Starlette reports a failed start-up to the server with the exception's traceback, which uvicorn
    logs. When the failure is a StartupError, its one line has been printed already: drop the traceback."""

    def __init__(self, app: ASGIApp, reported: list[str]) -> None:
        self._app = app
        self._reported = reported  # the StartupError lines printed; empty while none

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self._app(scope, receive, send)
            return

        async def send_without_traceback(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed" and self._reported:
                message = {**message, "message": ""}  # uvicorn logs a non-empty message
            await send(message)

        await self._app(scope, receive, send_without_traceback)


def _first_worker_to_fail() -> bool:
    """Whether this process says why start-up failed: always, unless it is one of several workers of one
    server (uvicorn's --workers, WEB_CONCURRENCY), which all fail alike; then only the first says it (a
    marker file named for the server process tells the others), and the supervisor stops them all."""
    if multiprocessing.parent_process() is None:
        return True
    marker = os.path.join(tempfile.gettempdir(), f"yunxin-conversation-bot-{_server_process()}.startup-failed")
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False  # another worker has said it
    except OSError:
        return True  # no marker to be had: better said twice than not at all
    return True


def _server_process() -> str:
    """The supervising server process, by its PID and (on Linux) its start time, so a PID used again later
    is another name."""
    parent = os.getppid()
    try:
        with open(f"/proc/{parent}/stat", encoding="ascii", errors="replace") as stat:
            return f"{parent}-{stat.read().rsplit(')', 1)[1].split()[19]}"
    except (OSError, IndexError):
        return str(parent)


def create_asgi_app(
    settings: Settings | None = None,
    *,
    yunxin_transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    drain_seconds: float | None = None,
) -> Starlette:
    """The factory uvicorn calls (`--factory`). Start-up problems end the process with one line.

    On shutdown, lookups in flight get `drain_seconds` to finish (default: the lookup deadline plus
    DRAIN_MARGIN_SECONDS); the people still waiting after that are told the bot restarted."""
    own_process = settings is None  # uvicorn's factory call: this process serves this app alone
    if settings is None:
        try:
            settings = load_settings()
        except SettingsError as error:
            report_startup_error(str(error))
            raise SystemExit(2) from None
        configure_logging(settings.log_level, settings.log_format)
    health = Health()
    edges: list[SlackEdge] = []  # one once started
    startup_errors: list[str] = []

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[dict[str, Any]]:
        raise_open_files_limit()
        try:
            check_workers(settings)  # here, not in the factory: uvicorn's supervisor stops on a failed start-up
            runtime = await start_runtime(settings, yunxin_transports=yunxin_transports)
        except StartupError as error:
            if _first_worker_to_fail():
                report_startup_error(str(error))
            startup_errors.append(str(error))
            raise SystemExit(2) from None
        secret = settings.slack_signing_secret
        assert secret is not None  # start_runtime refuses HTTP mode without one
        edges.append(SlackEdge(secret.get_secret_value(), replay=runtime.replay_guard()))
        health.attach(runtime)
        if own_process:
            freeze_startup_heap()
        async with contextlib.AsyncExitStack() as stack:
            if settings.metrics_port is not None:
                await stack.enter_async_context(ops_server(settings.metrics_port, health))
            try:
                yield {LIFECYCLE_KEY: health.lifecycle}  # the server's protocol tells it when SIGTERM comes
            finally:
                health.lifecycle.begin_draining()
                await runtime.aclose(drain_seconds)

    async def slack_events(request: Request) -> Response | _Answer:
        (edge,), runtime = edges, health.runtime
        assert runtime is not None
        admitted = await edge.admit(request)
        if isinstance(admitted, Refusal):
            return PlainTextResponse(admitted.reason if admitted.status != 200 else "", status_code=admitted.status)
        watch = AckWatch()
        with watch.handling():  # listeners started by this request wait for its answer (see ack.py)
            answer = await _dispatch(runtime, request, admitted)
            if isinstance(answer.body, str) and "set-cookie" not in answer.headers:  # every answer of ours
                return _Answer(answer, watch)
            response = to_starlette_response(answer)
        # Starlette runs a response's background task once the response has been written.
        response.background = BackgroundTask(watch.written)
        return response

    return _SlackApp(
        slack_events,
        # With METRICS_PORT, /metrics is served there only, off the port the world can reach.
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            *health_routes(health, metrics=settings.metrics_port is None),
        ],
        lifespan=lifespan,
        middleware=[Middleware(_StartupFailureInOneLine, reported=startup_errors)],
    )


async def _dispatch(runtime: Runtime, request: Request, admitted: Verified) -> BoltResponse:
    """A slash command of ours to its listener by the lane (slash.py); anything else through Bolt."""
    if runtime.commands is not None:
        answered = await runtime.commands.answer(admitted.payload)
        if answered is not None:
            return answered
    # The body goes to Bolt parsed (the edge parsed it as Bolt would): Bolt takes a parsed body only in
    # its "socket_mode", whose one difference, skipping the signature check, the edge has made moot.
    headers: dict[str, str | Sequence[str]] = {**admitted.headers}
    bolt_request = AsyncBoltRequest(
        body=admitted.payload,
        query=request.scope["query_string"].decode("latin-1"),
        headers=headers,
        mode="socket_mode",
    )
    return await runtime.app.async_dispatch(bolt_request)


class _Answer:
    """Bolt's answer with a str body and no cookies, written as Starlette writes
    `to_starlette_response(answer)` (the same status, headers and body bytes), then marked as written for
    the listeners waiting on it: without a Starlette Response, which copies the headers twice over, and
    the BackgroundTask that would run `watch.written`, which inspects that function each time."""

    __slots__ = ("_body", "_start", "_watch")

    def __init__(self, answer: BoltResponse, watch: AckWatch) -> None:
        body = answer.body.encode()
        # The first value of each header, as `first_headers_without_set_cookie()` gives them, in one pass
        # that also notes a Content-Length: its dict, a comprehension and a scan for the length took a
        # third of this head's 19 k instructions.
        headers: list[tuple[bytes, bytes]] = []
        sized = False
        for name, values in answer.headers.items():
            if name != "set-cookie":
                raw_name = name.lower().encode("latin-1")
                sized = sized or raw_name == b"content-length"
                headers.append((raw_name, next(iter(values)).encode("latin-1")))
        status = answer.status
        if not (sized or status < 200 or status in (204, 304)):
            headers.append((b"content-length", str(len(body)).encode("latin-1")))
        self._start: Message = {"type": "http.response.start", "status": status, "headers": headers}
        self._body = body
        self._watch = watch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(self._start)
        await send({"type": "http.response.body", "body": self._body})
        await self._watch.written()


class _SlackApp(Starlette):
    """Starlette, with Slack's POSTs to /slack/events handed straight to their handler: every command comes
    this way, and the five layers of middleware and routing in between decided nothing for it. Any other
    request (health, metrics, a GET, a path under a root_path) goes through Starlette, to the same handler
    for the same POST; an error in the handler reaches the server, which logs it and answers 500."""

    def __init__(self, slack_events: Callable[[Request], Awaitable[ASGIApp]], **options: Any) -> None:
        super().__init__(**options)
        self._slack_events = slack_events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/slack/events":
            scope["app"] = self
            response = await self._slack_events(Request(scope, receive))
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
