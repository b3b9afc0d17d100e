"""The client on the wire, against raw TCP servers on 127.0.0.1 that see the request's bytes exactly as sent
and answer with whatever bytes a test needs (no HTTP server library between them and the bot)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable

from bot.yunxin.client import YunxinClient
from bot.yunxin.ids import parse_ids
from tests.factories import yunxin_app

BOB = "alice|1|bob"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_server(handle: Handler) -> AsyncIterator[str]:
    """`handle` serves each connection; the block gets the server's base URL."""

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


def http_answer(body: bytes, *, status: str = "200 OK", content_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


OK_BODY = json.dumps({"code": 200, "msg": "ok", "data": {"success_list": [], "failed_list": []}}).encode()


async def test_signature_and_trace_headers_go_out_in_the_case_the_api_page_writes_them() -> None:
    heads: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(http_answer(OK_BODY))
        await writer.drain()

    async with raw_server(record) as url, YunxinClient(yunxin_app(base_url=url)) as client:
        result = await client.get_conversations(parse_ids([BOB]))
    assert result.chunk_failures == []
    (head,) = heads
    names = [line.split(b":", 1)[0] for line in head.split(b"\r\n")[1:] if b":" in line]
    for name in (b"AppKey", b"Nonce", b"CurTime", b"CheckSum", b"X-custom-traceid"):
        assert names.count(name) == 1, (name, head)
    assert f"\r\nX-custom-traceid: {result.trace_ids[0]}\r\n".encode() in head
    assert head.startswith(b"GET /im/v2/conversations/actions/conversation_ids?conversation_ids=alice%7C1%7Cbob ")


async def test_a_base_url_with_a_path_prefix_keeps_it() -> None:
    # The SDKs' hosts carry one: https://api-cn.yunxinapi.com/nimserver
    heads: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(http_answer(OK_BODY))
        await writer.drain()

    async with raw_server(record) as url, YunxinClient(yunxin_app(base_url=url + "/nimserver")) as client:
        await client.get_conversations(parse_ids([BOB]))
    assert heads[0].startswith(b"GET /nimserver/im/v2/conversations/actions/conversation_ids?")
