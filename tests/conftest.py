"""Shared fixtures: serving an ASGI app on a real loopback port, and a port that refuses connections."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import uvicorn

# How long a server may take to start before the test gives up (a hang guard, not an assertion).
STARTUP_LIMIT_SECONDS = 10.0


def _loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def _serve_asgi(app: Any) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free loopback port; yield its base URL, shut down after."""
    sock = _loopback_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(STARTUP_LIMIT_SECONDS):
            while not server.started:
                if task.done():
                    task.result()  # raises why the server stopped
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
def serve_asgi() -> Callable[[Any], contextlib.AbstractAsyncContextManager[str]]:
    """`async with serve_asgi(app) as base_url:` runs `app` on a real port for the block."""
    return _serve_asgi


@pytest.fixture
def refused_url() -> Iterator[Callable[[], str]]:
    """`refused_url()` gives a loopback URL whose port is bound but not listening, so connecting is
    refused at once. The sockets are held until the test ends so nothing else takes the ports."""
    held: list[socket.socket] = []

    def make() -> str:
        sock = _loopback_socket()
        held.append(sock)
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    try:
        yield make
    finally:
        for sock in held:
            sock.close()
