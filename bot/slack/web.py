"""HTTP mode: the ASGI app uvicorn serves (Procfile `web:`).

POST /slack/events  Slack's commands and interactivity (signature checked by Bolt: 401 if forged)
GET  /healthz       200 while the app serves
GET  /metrics       Prometheus text format
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings

from .ack import AckWatch
from .app import Runtime, StartupError, start_runtime

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


def create_asgi_app(
    settings: Settings | None = None,
    *,
    yunxin_transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    drain_seconds: float = 10.0,
) -> Starlette:
    """The factory uvicorn calls (`--factory`). Start-up problems end the process with one line."""
    if settings is None:
        try:
            settings = load_settings()
        except SettingsError as error:
            print(f"error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        configure_logging(settings.log_level)
    state: dict[str, Runtime] = {}
    startup_errors: list[str] = []

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            runtime = await start_runtime(settings, yunxin_transports=yunxin_transports)
        except StartupError as error:
            print(f"error: {error}", file=sys.stderr)
            startup_errors.append(str(error))
            raise SystemExit(2) from None
        state["runtime"] = runtime
        state["handler"] = AsyncSlackRequestHandler(runtime.app)  # type: ignore[assignment]
        try:
            yield
        finally:
            await runtime.aclose(drain_seconds)

    async def slack_events(request: Request) -> Response:
        handler: AsyncSlackRequestHandler = state["handler"]  # type: ignore[assignment]
        watch = AckWatch()
        with watch.handling():  # listeners started by this request wait for its answer (see ack.py)
            response = await handler.handle(request)
        # Starlette runs a response's background task once the response has been written.
        response.background = BackgroundTask(watch.written)
        return response

    async def healthz(_: Request) -> Response:
        runtime = state.get("runtime")
        if runtime is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ok", "in_flight": runtime.deps.inflight.count})

    async def metrics(_: Request) -> Response:
        runtime = state.get("runtime")
        body = runtime.deps.metrics.render() if runtime is not None else ""
        return PlainTextResponse(body, media_type="text/plain; version=0.0.4")

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
        middleware=[Middleware(_StartupFailureInOneLine, reported=startup_errors)],
    )
