"""Serve an ASGI app on a loopback port inside the running event loop (the stand-ins, the demo, the tests)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from starlette.types import ASGIApp


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling (Ctrl-C) to the program it runs inside."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_on_loopback(
    app: ASGIApp, *, sock: socket.socket | None = None, startup_limit: float = 10.0
) -> AsyncIterator[str]:
    """Serve `app` with uvicorn in the current event loop on a free loopback port; yield its base URL.

    With `sock` (bound to a loopback port, not yet listening), serve on that port instead: a test can
    hand out the URL first, have connections refused, and bring a server up there later."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False)
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=None if sock is None else [sock]))
    try:
        async with asyncio.timeout(startup_limit):
            while not server.started:
                if task.done():
                    task.result()  # raises why the server stopped
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
