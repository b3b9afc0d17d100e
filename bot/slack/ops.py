"""Health and metrics for the platform: `/livez`, `/readyz`, `/healthz` and `/metrics`, on the Slack port
(HTTP mode) and, with METRICS_PORT, on a port of their own (where Socket Mode serves them too).

/livez    200 while the process answers
/readyz   200 once the runtime has started (the Slack token checked); 503 while starting and draining
/healthz  200 with the lookups in flight once started (kept as it always was)
/metrics  Prometheus text format
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import uvicorn
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.metrics import CONTENT_TYPE

from .app import Runtime
from .lifecycle import Lifecycle

log = logging.getLogger(__name__)


@dataclass
class Health:
    """What the endpoints report: the runtime once started, and whether the process is draining."""

    runtime: Runtime | None = None
    lifecycle: Lifecycle = field(default_factory=Lifecycle)

    def attach(self, runtime: Runtime) -> None:
        """Report on `runtime` from now on, its shared state and Yunxin gates in /metrics too."""
        runtime.deps.metrics.watch(RuntimeStateCollector(runtime))
        self.runtime = runtime


def health_routes(health: Health, *, metrics: bool = True) -> list[Route]:
    async def livez(_: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(_: Request) -> Response:
        if health.runtime is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        if health.lifecycle.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def healthz(_: Request) -> Response:
        if health.runtime is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ok", "in_flight": health.runtime.deps.inflight.count})

    async def metrics_text(_: Request) -> Response:
        body = health.runtime.deps.metrics.render() if health.runtime is not None else b""
        return Response(body, media_type=CONTENT_TYPE)

    routes = [
        Route("/livez", livez, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    return [*routes, Route("/metrics", metrics_text, methods=["GET"])] if metrics else routes


class _OpsServer(uvicorn.Server):
    """uvicorn inside the bot's own event loop: the bot handles signals, not this server."""

    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


@contextlib.asynccontextmanager
async def ops_server(port: int, health: Health, host: str = "0.0.0.0") -> AsyncIterator[None]:
    """Serve the health and metrics endpoints on `port` for the block. A port already taken (another
    worker of this machine serves it) is said once and skipped: the bot goes on without it."""
    try:
        # Bound here, not by uvicorn: uvicorn ends the whole process when it cannot bind.
        sock = socket.create_server((host, port), reuse_port=False, backlog=128)
    except OSError as error:
        log.warning("METRICS_PORT %d: cannot listen there (%s); serving without it", port, error.strerror)
        yield
        return
    config = uvicorn.Config(
        Starlette(routes=health_routes(health)), host=host, port=port, log_config=None, access_log=False
    )
    server = _OpsServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    log.info("health and metrics on port %d", port)
    try:
        yield
    finally:
        server.should_exit = True
        await task
        sock.close()


class RuntimeStateCollector(Collector):
    """The runtime's state, read at each scrape: whether the shared state (REDIS_URL) is down and how often
    it was, and per Yunxin environment whether its calls are paused after a 416 and where its breaker is."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        shared = self._runtime.shared
        degraded = GaugeMetricFamily(
            "conversation_bot_shared_state_degraded",
            "1 while the shared state (REDIS_URL) cannot be reached and this process runs on its own share.",
        )
        outages = CounterMetricFamily(
            "conversation_bot_shared_state_outages", "Outages of the shared state this process has seen."
        )
        if shared is not None:
            degraded.add_metric([], 1.0 if shared.degraded else 0.0)
            outages.add_metric([], float(shared.outages))
        yield degraded
        yield outages
        now = time.time()
        paused = GaugeMetricFamily(
            "conversation_bot_yunxin_paused",
            "1 while calls to this Yunxin app are paused after a 416.",
            labels=["environment"],
        )
        breaker = GaugeMetricFamily(
            "conversation_bot_yunxin_breaker_open",
            "1 while this Yunxin app's circuit breaker is open (0.5 half open: one probe may go).",
            labels=["environment"],
        )
        for name, status in self._runtime.deps.lookups.gate_status().items():
            paused.add_metric([name], 1.0 if status.paused_until is not None and status.paused_until > now else 0.0)
            breaker.add_metric([name], {"open": 1.0, "half_open": 0.5}.get(str(status.breaker), 0.0))
        yield paused
        yield breaker
