"""A TCP proxy in front of a Yunxin that drops connections after reading the request: a failure only a real
connection can have, so the fault suite serves Yunxin on loopback behind it."""

from __future__ import annotations

import asyncio

from bot.yunxin.request import TRACE_HEADER


class DroppingProxy:
    """A TCP proxy in front of a Yunxin: while `drop` is "close" or "reset", it reads each new connection's
    first request, notes its trace ID and drops the connection without a word (closed: an empty answer;
    reset: an RST, "connection reset by peer"); while `drop` is None it passes the bytes through."""

    def __init__(self, upstream: str) -> None:
        parts = upstream.removeprefix("http://").split(":")
        self._upstream = (parts[0], int(parts[1]))
        self.drop: str | None = "reset"
        self.dropped_traces: list[str] = []
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> DroppingProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        if self.drop is not None:
            self.dropped_traces.append(_trace_in(head))
            if self.drop == "reset":
                writer.transport.abort()
            else:
                writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        up_writer.write(head)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pipe = asyncio.create_task(_pipe(source, sink))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)


def _trace_in(head: bytes) -> str:
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == TRACE_HEADER.lower():
            return value.strip()
    return ""


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    except ConnectionError:
        pass
    finally:
        sink.close()
