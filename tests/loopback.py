"""Servers on loopback for the tests: the type of the `serve_asgi` fixture, a raw TCP server that answers
with whatever bytes a test writes, and a port that refuses connections until a server comes up on it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp

from bot.standins.loopback import serve_on_loopback

# `async with serve_asgi(app) as base_url:` (the fixture hands out `serve_on_loopback`).
ServeAsgi = Callable[[Any], contextlib.AbstractAsyncContextManager[str]]
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_server(handle: Handler) -> AsyncIterator[str]:
    """`handle` serves each connection (which is closed after it); the block gets the server's base URL."""

    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await handle(reader, writer)
        writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


class LateHost:
    """A loopback port that refuses connections ("connection refused") until `up(app)` serves on it."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))  # bound, not listening: connecting is refused at once
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def up(self, app: ASGIApp) -> contextlib.AbstractAsyncContextManager[str]:
        """Serve `app` on this port for the block (it yields `url`)."""
        return serve_on_loopback(app, sock=self._socket)

    def close(self) -> None:
        self._socket.close()
