"""HTTP mode: the ASGI app uvicorn serves (Procfile `web:`).

POST /slack/events  Slack's commands and interactivity, through the edge (size, signature, replay, form;
                    see edge.py) to Bolt
GET  /livez         200 while the process answers
GET  /readyz        200 once the Slack token is checked, 503 while starting and from the moment it drains
GET  /healthz       200 while the app serves, with the lookups in flight
GET  /metrics       Prometheus text format
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncBoltRequest
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.logs import configure_logging, report_startup_error
from bot.settings import Settings, SettingsError, load_settings

from .ack import AckWatch
from .app import Runtime, StartupError, start_runtime
from .edge import Refusal, SlackEdge
from .lifecycle import LIFECYCLE_KEY, Lifecycle
from .server import raise_open_files_limit

# Shutdown lets lookups in flight run to their deadline, and a moment more to post their answers.
DRAIN_MARGIN_SECONDS = 5.0

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


@dataclass
class _Serving:
    """What the routes use once the lifespan has started the runtime."""

    runtime: Runtime
    edge: SlackEdge


def create_asgi_app(
    settings: Settings | None = None,
    *,
    yunxin_transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    drain_seconds: float | None = None,
) -> Starlette:
    """The factory uvicorn calls (`--factory`). Start-up problems end the process with one line.

    On shutdown, lookups in flight get `drain_seconds` to finish (default: the lookup deadline plus
    DRAIN_MARGIN_SECONDS); the people still waiting after that are told the bot restarted."""
    if settings is None:
        try:
            settings = load_settings()
        except SettingsError as error:
            report_startup_error(str(error))
            raise SystemExit(2) from None
        configure_logging(settings.log_level, settings.log_format)
    drain = settings.yunxin_deadline_seconds + DRAIN_MARGIN_SECONDS if drain_seconds is None else drain_seconds
    lifecycle = Lifecycle()
    serving: list[_Serving] = []  # one once started
    startup_errors: list[str] = []

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[dict[str, Any]]:
        raise_open_files_limit()
        try:
            runtime = await start_runtime(settings, yunxin_transports=yunxin_transports)
        except StartupError as error:
            report_startup_error(str(error))
            startup_errors.append(str(error))
            raise SystemExit(2) from None
        secret = settings.slack_signing_secret
        assert secret is not None  # start_runtime refuses HTTP mode without one
        serving.append(_Serving(runtime, SlackEdge(secret.get_secret_value())))
        try:
            yield {LIFECYCLE_KEY: lifecycle}  # the server's protocol tells it when SIGTERM comes
        finally:
            lifecycle.begin_draining()
            await runtime.aclose(drain)

    async def slack_events(request: Request) -> Response:
        (running,) = serving
        admitted = await running.edge.admit(request)
        if isinstance(admitted, Refusal):
            return PlainTextResponse(admitted.reason if admitted.status != 200 else "", status_code=admitted.status)
        bolt_request = AsyncBoltRequest(body=admitted.text, query=request.url.query, headers=dict(request.headers))
        watch = AckWatch()
        with watch.handling():  # listeners started by this request wait for its answer (see ack.py)
            response = to_starlette_response(await running.runtime.app.async_dispatch(bolt_request))
        # Starlette runs a response's background task once the response has been written.
        response.background = BackgroundTask(watch.written)
        return response

    async def livez(_: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(_: Request) -> Response:
        if not serving:
            return JSONResponse({"status": "starting"}, status_code=503)
        if lifecycle.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def healthz(_: Request) -> Response:
        if not serving:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ok", "in_flight": serving[0].runtime.deps.inflight.count})

    async def metrics(_: Request) -> Response:
        body = serving[0].runtime.deps.metrics.render() if serving else ""
        return PlainTextResponse(body, media_type="text/plain; version=0.0.4")

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/livez", livez, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
        middleware=[Middleware(_StartupFailureInOneLine, reported=startup_errors)],
    )
