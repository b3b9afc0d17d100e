"""deploy/healthcheck.py, the containers' health check, run as Docker runs it against a server on
loopback that answers as the bot does: 0 on 200, 1 on 503 (starting or draining) and when nothing
listens. The real app needs Slack to start, so a stand-in serves the same paths."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from .files import HEALTH_PATHS, ROOT

SCRIPT = ROOT / "deploy" / "healthcheck.py"


class StandIn:
    """/livez always 200; /readyz and /healthz 200 while `ready`, else 503."""

    def __init__(self) -> None:
        self.ready = True

        async def livez(_: Request) -> PlainTextResponse:
            return PlainTextResponse("ok")

        async def readyz(_: Request) -> PlainTextResponse:
            return PlainTextResponse("ready" if self.ready else "draining", 200 if self.ready else 503)

        routes = [Route("/livez", livez), Route("/readyz", readyz), Route("/healthz", readyz)]
        self.app = Starlette(routes=routes)


@pytest.fixture
def stand_in() -> Iterator[tuple[StandIn, int]]:
    """The stand-in on a free loopback port, served by uvicorn in a thread for the test."""
    served = StandIn()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(served.app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the stand-in did not start"
        time.sleep(0.01)
    try:
        yield served, sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port that is bound but not listening: connecting is refused at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def healthcheck(*arguments: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "METRICS_PORT")} | variables
    return subprocess.run(
        [sys.executable, str(SCRIPT), *arguments],
        capture_output=True,
        text=True,
        env=env,
        cwd=SCRIPT.parent,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("path", sorted(HEALTH_PATHS))
def test_healthy_on_200(stand_in: tuple[StandIn, int], path: str) -> None:
    _, port = stand_in
    ran = healthcheck(path, "--port", str(port))
    assert (ran.returncode, ran.stderr) == (0, "")


def test_livez_is_the_default(stand_in: tuple[StandIn, int]) -> None:
    served, port = stand_in
    served.ready = False
    assert healthcheck("--port", str(port)).returncode == 0


def test_unhealthy_on_503_while_draining(stand_in: tuple[StandIn, int]) -> None:
    served, port = stand_in
    served.ready = False
    ran = healthcheck("/readyz", "--port", str(port))
    assert ran.returncode == 1
    assert ran.stderr.strip() == f"unhealthy: GET http://127.0.0.1:{port}/readyz: HTTP 503"


def test_unhealthy_when_nothing_listens(refused_port: int) -> None:
    ran = healthcheck("/livez", "--port", str(refused_port))
    assert ran.returncode == 1
    assert ran.stderr.startswith(f"unhealthy: GET http://127.0.0.1:{refused_port}/livez: unreachable")


def test_it_asks_port_from_the_environment(stand_in: tuple[StandIn, int]) -> None:
    _, port = stand_in
    assert healthcheck("/readyz", PORT=str(port)).returncode == 0


def test_metrics_port_wins_over_port(stand_in: tuple[StandIn, int], refused_port: int) -> None:
    """In Socket Mode METRICS_PORT is the only HTTP port; in HTTP mode it serves the same paths."""
    _, port = stand_in
    assert healthcheck(PORT=str(refused_port), METRICS_PORT=str(port)).returncode == 0
    assert healthcheck(PORT=str(port), METRICS_PORT=str(refused_port)).returncode == 1


def test_no_proxy_is_asked(stand_in: tuple[StandIn, int], refused_port: int) -> None:
    _, port = stand_in
    proxy = f"http://127.0.0.1:{refused_port}"
    assert healthcheck("--port", str(port), HTTP_PROXY=proxy, http_proxy=proxy).returncode == 0


def test_an_unknown_path_is_a_usage_error() -> None:
    assert healthcheck("/slack/events").returncode == 2
