"""The client on the wire, against raw TCP servers on 127.0.0.1 that see the request's bytes exactly as sent
and answer with whatever bytes a test needs (no HTTP server library between them and the bot)."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import time

from bot.yunxin.answers import MAX_ANSWER_BYTES
from bot.yunxin.client import YunxinClient
from bot.yunxin.errors import MalformedResponse
from bot.yunxin.ids import parse_ids
from tests.factories import yunxin_app
from tests.loopback import raw_server

BOB = "alice|1|bob"


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


# Bounded answers ---------------------------------------------------------------------------------


def trace_of(head: bytes) -> str:
    (line,) = [line for line in head.split(b"\r\n") if line.startswith(b"X-custom-traceid:")]
    return line.split(b":", 1)[1].strip().decode()


class Endless:
    """Answers HTTP 200 with a chunked JSON body that never ends, written as fast as the client reads it;
    counts the body bytes written until the client hangs up."""

    def __init__(self) -> None:
        self.sent = 0
        self.traces: list[str] = []
        self.hung_up = asyncio.Event()

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.traces.append(trace_of(await reader.readuntil(b"\r\n\r\n")))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        piece = b'{"code":200,"msg":"ok","data":{"success_list":['
        filler = b'{"conversation_id":"alice|1|bob","text":"' + b"x" * 4000 + b'"},'
        try:
            while True:
                data = piece + filler * 16
                piece = b""
                writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                await writer.drain()
                self.sent += len(data)
        finally:
            self.hung_up.set()


async def test_an_endless_answer_is_cut_at_the_cap_with_its_trace_id_in_bounded_memory() -> None:
    endless = Endless()
    deadline = 10.0
    async with raw_server(endless) as url:
        async with YunxinClient(yunxin_app(base_url=url), deadline_seconds=deadline) as client:
            started = time.monotonic()
            result = await client.get_conversations(parse_ids([BOB]))
            took = time.monotonic() - started
        await asyncio.wait_for(endless.hung_up.wait(), 5)  # the client hung up, it did not read on
    (error,) = result.errors
    assert isinstance(error, MalformedResponse)
    assert str(error) == (
        f"Yunxin sent an answer the bot cannot read: it is larger than {MAX_ANSWER_BYTES // 2**20} MiB "
        f"(trace ID {endless.traces[0]})"
    )
    assert endless.traces == [error.trace_id]  # not retried: a second host would answer the same
    assert took < deadline
    # What was written is what the client read, plus what the kernel's socket buffers held: a few MiB.
    assert MAX_ANSWER_BYTES < endless.sent < 3 * MAX_ANSWER_BYTES


async def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {MAX_ANSWER_BYTES + 1}\r\n\r\n".encode() + b"{")
        await writer.drain()
        await asyncio.sleep(30)  # the rest never comes: only refusing at once ends this quickly

    async with raw_server(huge) as url, YunxinClient(yunxin_app(base_url=url), deadline_seconds=5) as client:
        (error,) = (await client.get_conversations(parse_ids([BOB]))).errors
    assert isinstance(error, MalformedResponse)
    assert "larger than 8 MiB" in error.detail


async def test_a_small_gzip_body_that_inflates_past_the_cap_is_refused() -> None:
    bomb = gzip.compress(b'{"code":200,"data":{"success_list":[' + b" " * (MAX_ANSWER_BYTES + 1) + b"]}}")
    assert len(bomb) < MAX_ANSWER_BYTES // 100

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(bomb)}\r\n\r\n"
        writer.write(head.encode() + bomb)
        await writer.drain()

    async with raw_server(answer) as url, YunxinClient(yunxin_app(base_url=url)) as client:
        (error,) = (await client.get_conversations(parse_ids([BOB]))).errors
    assert isinstance(error, MalformedResponse)
    assert "larger than 8 MiB" in error.detail


async def test_a_large_answer_within_the_cap_is_read() -> None:
    ids = [f"user{n}|1|peer{n}" for n in range(100)]
    text = "云信" * 12_000  # 100 conversations of ~72 KB each: a ~7 MiB answer
    items = [{"conversation_id": i, "last_message": {"message": {"message_type": 0, "text": text}}} for i in ids]
    body = json.dumps({"code": 200, "data": {"success_list": items}}, ensure_ascii=False).encode()
    assert 5 * 2**20 < len(body) < MAX_ANSWER_BYTES

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(http_answer(body))
        await writer.drain()

    async with raw_server(answer) as url, YunxinClient(yunxin_app(base_url=url)) as client:
        result = await client.get_conversations(parse_ids(ids))
    assert result.chunk_failures == []
    assert len(result.found) == 100
    assert result.found[0].last_message is not None and result.found[0].last_message.body_text == text


async def test_a_connection_is_kept_after_an_answer_read_to_its_end_and_dropped_after_one_cut_off() -> None:
    connections: list[int] = []
    big = b'{"code": 200, "msg": "' + b"x" * (MAX_ANSWER_BYTES + 1) + b'"}'

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections))
        with contextlib.suppress(asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                writer.write(http_answer(big if b"too%7C1%7Cbig" in head else OK_BODY))
                await writer.drain()

    async with raw_server(answer) as url, YunxinClient(yunxin_app(base_url=url)) as client:
        for conversation in ("a|1|b", "c|1|d"):
            assert (await client.get_conversations(parse_ids([conversation]))).chunk_failures == []
        assert len(connections) == 1  # the second call reused the first one's connection
        (error,) = (await client.get_conversations(parse_ids(["too|1|big"]))).errors
        assert isinstance(error, MalformedResponse)
        assert (await client.get_conversations(parse_ids(["e|1|f"]))).chunk_failures == []
    assert len(connections) == 2  # the cut-off answer's connection was not handed to the next call
