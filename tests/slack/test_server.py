"""uvicorn's h11 protocol with the bot's guards, served for real on loopback: a connection that sends
nothing, or its request head too slowly, is closed; connections beyond the cap are refused at once; the
app is told the moment the server begins to shut down."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bot.slack.lifecycle import LIFECYCLE_KEY, Lifecycle
from bot.slack.server import (
    YOUNG_GENERATION_ALLOCATIONS,
    GuardedH11Protocol,
    GuardedHttpToolsProtocol,
    GuardedProtocol,
    freeze_startup_heap,
)

# Hang guards, not deadlines the server is held to.
WAIT_SECONDS = 10.0


class QuickH11(GuardedH11Protocol):
    head_seconds: ClassVar[float] = 0.5
    max_connections: ClassVar[int] = 20


class QuickHttpTools(GuardedHttpToolsProtocol):
    head_seconds: ClassVar[float] = 0.5
    max_connections: ClassVar[int] = 20


QuickGuards = QuickHttpTools  # the limits, which both share
PROTOCOLS = pytest.mark.parametrize("protocol", [QuickH11, QuickHttpTools], ids=["h11", "httptools"])


def test_the_procfile_protocol_is_the_httptools_one_where_httptools_installs() -> None:
    assert GuardedProtocol is GuardedHttpToolsProtocol


def hello_app(lifecycle: Lifecycle) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {LIFECYCLE_KEY: lifecycle}

    async def hello(_: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    return Starlette(routes=[Route("/", hello)], lifespan=lifespan)


@contextlib.asynccontextmanager
async def served(
    protocol: type[asyncio.Protocol], lifecycle: Lifecycle | None = None
) -> AsyncIterator[tuple[uvicorn.Server, int]]:
    config = uvicorn.Config(
        hello_app(lifecycle or Lifecycle()), host="127.0.0.1", port=0, http=protocol, log_level="warning"
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while not server.started:  # noqa: ASYNC110 (uvicorn sets a flag, no event)
                await asyncio.sleep(0.01)
        yield server, server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """True once the server closes the connection (EOF or reset), within the hang guard."""
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            await reader.read()
    except ConnectionError:
        pass
    return True


@PROTOCOLS
async def test_connections_that_send_nothing_or_a_slow_head_are_closed(protocol: type[asyncio.Protocol]) -> None:
    async with served(protocol) as (_, port):
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
        slow_reader, slow_writer = await asyncio.open_connection("127.0.0.1", port)

        async def trickle() -> None:
            with contextlib.suppress(ConnectionError):
                for byte in b"GET / HTTP/1.1\r\nHost: x\r\n":
                    slow_writer.write(bytes([byte]))
                    await slow_writer.drain()
                    await asyncio.sleep(0.1)

        trickling = asyncio.create_task(trickle())
        assert all([await closed_by_server(reader) for reader, _ in idle])
        assert await closed_by_server(slow_reader)
        trickling.cancel()
        # A proper request still gets its answer, on a connection of its own.
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{port}/")).text == "hello"


@PROTOCOLS
async def test_a_kept_alive_connection_is_served_again_and_then_closed_when_idle(
    protocol: type[asyncio.Protocol],
) -> None:
    async with served(protocol) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(2):
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200")
            await reader.readexactly(5)
        assert await closed_by_server(reader)


@PROTOCOLS
async def test_connections_beyond_the_cap_are_refused_at_once(protocol: type[asyncio.Protocol]) -> None:
    async with served(protocol) as (_, port):
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(QuickGuards.max_connections)]
        extra_reader, _ = await asyncio.open_connection("127.0.0.1", port)
        # Closed sooner than any head deadline would close it (a TimeoutError here fails the test).
        async with asyncio.timeout(QuickGuards.head_seconds / 2):
            with contextlib.suppress(ConnectionResetError):  # aborted: the peer may see a reset
                assert await extra_reader.read() == b""
        # The held ones are still open: the cap refuses new connections, it does not drop old ones.
        writer = held[0][1]
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        assert (await held[0][0].readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        for _, writer in held:
            writer.close()


@PROTOCOLS
async def test_the_app_is_told_when_the_server_begins_to_shut_down(protocol: type[asyncio.Protocol]) -> None:
    lifecycle = Lifecycle()
    async with served(protocol, lifecycle) as (server, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
        assert not lifecycle.draining
        server.should_exit = True  # what SIGTERM does
        assert await closed_by_server(reader)
        assert lifecycle.draining


def test_the_startup_heap_is_frozen_out_of_the_cycle_collectors_walks() -> None:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_GENERATION_ALLOCATIONS, *thresholds[1:])
    finally:
        gc.unfreeze()  # this test process goes on building and dropping apps
        gc.set_threshold(*thresholds)
