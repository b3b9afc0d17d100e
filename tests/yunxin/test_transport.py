"""The wires the Yunxin client sends through: aiohttp's sends the request as given, byte for byte, decodes the
body chunk by chunk, and both turn their library's failures into the same few WireErrors."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import httpx
import pytest
from starlette.types import Receive, Scope, Send

from bot.yunxin.transport import (
    AIOHTTP_ERRORS,
    HTTPX_ERRORS,
    AiohttpWire,
    ConnectFailed,
    ConnectionReset,
    ConnectTimedOut,
    HttpxWire,
    ReadTimedOut,
    Undecodable,
    WireError,
    environment_proxy,
    translate,
)
from tests.loopback import ServeAsgi, raw_server


class Recorder:
    """An ASGI app that records each request and answers with `body` (encoded as asked)."""

    def __init__(
        self, body: bytes = b'{"code":200}', *, status: int = 200, encoding: str = "", delay: float = 0.0
    ) -> None:
        self.body = body
        self.status = status
        self.encoding = encoding
        self.delay = delay
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.seen.append(
            {
                "method": scope["method"],
                "path": scope["path"],
                "query": scope["query_string"],
                "headers": {k.decode().lower(): v.decode() for k, v in scope["headers"]},
            }
        )
        await asyncio.sleep(self.delay)
        body = {"gzip": gzip.compress, "deflate": zlib.compress, "raw deflate": raw_deflate}.get(
            self.encoding, lambda body: body
        )(self.body)
        headers = [(b"content-type", b"application/json"), (b"x-custom-traceid", b"t-1")]
        if self.encoding:
            headers.append((b"content-encoding", self.encoding.removeprefix("raw ").encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def raw_deflate(body: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()


async def fetch(
    wire: AiohttpWire | HttpxWire, url: str, headers: Any = (), read_limit: float = 5.0
) -> tuple[int, bytes]:
    async with wire.get(url, headers, socket_timeout=read_limit) as answer:
        return answer.status, b"".join([chunk async for chunk in answer.aiter_bytes()])


@contextlib.asynccontextmanager
async def aiohttp_wire() -> AsyncIterator[AiohttpWire]:
    wire = AiohttpWire()
    try:
        yield wire
    finally:
        await wire.aclose()


async def test_the_request_goes_out_as_given_byte_for_byte(serve_asgi: ServeAsgi) -> None:
    recorder = Recorder()
    url = "/im/v2/conversations/actions/conversation_ids?conversation_ids=Alice%7C1%7Cbob%2Calice%7C2%7C12345"
    headers = [("AppKey", "k"), ("X-custom-traceid", "t-1")]
    async with (
        serve_asgi(recorder) as base_url,
        aiohttp_wire() as wire,
        wire.get(base_url + url, headers, socket_timeout=5) as answer,
    ):
        assert answer.status == 200
        assert answer.headers["X-Custom-Traceid"] == "t-1"  # headers read in any case
        assert json.loads(b"".join([chunk async for chunk in answer.aiter_bytes()])) == {"code": 200}
    (seen,) = recorder.seen
    assert seen["method"] == "GET"
    assert seen["path"] == "/im/v2/conversations/actions/conversation_ids"
    assert seen["query"] == b"conversation_ids=Alice%7C1%7Cbob%2Calice%7C2%7C12345"
    assert seen["headers"]["appkey"] == "k"
    assert seen["headers"]["x-custom-traceid"] == "t-1"
    assert "user-agent" not in seen["headers"]  # only what the client gives: aiohttp adds none of its own
    assert "accept-encoding" not in seen["headers"]


async def test_the_headers_keep_their_names_as_written(serve_asgi: ServeAsgi) -> None:
    requests: list[bytes] = []
    async with closing_server(abort=False, requests=requests) as base_url, aiohttp_wire() as wire:
        with pytest.raises(WireError):
            await fetch(wire, base_url + "/", [("AppKey", "k"), ("CurTime", "1"), ("X-custom-traceid", "t")])
    assert b"\r\nAppKey: k\r\n" in requests[0]
    assert b"\r\nCurTime: 1\r\n" in requests[0]
    assert b"\r\nX-custom-traceid: t\r\n" in requests[0]


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw deflate"])
async def test_an_encoded_answer_is_decoded_once(serve_asgi: ServeAsgi, encoding: str) -> None:
    payload = {"code": 200, "data": {"success_list": [{"conversation_id": "a|1|b"}] * 50}}
    recorder = Recorder(json.dumps(payload).encode(), encoding=encoding)
    async with serve_asgi(recorder) as base_url, aiohttp_wire() as wire:
        status, body = await fetch(wire, base_url + "/")
    assert (status, json.loads(body)) == (200, payload)


async def test_a_big_gzipped_answer_is_read_whole(serve_asgi: ServeAsgi) -> None:
    body = b"x" * (8 * 1024 * 1024)  # compresses about 1,000 times: one compressed chunk is all of it
    async with (
        serve_asgi(Recorder(body, encoding="gzip")) as base_url,
        aiohttp_wire() as wire,
        wire.get(base_url + "/", [], socket_timeout=5) as answer,
    ):
        sizes = [len(chunk) async for chunk in answer.aiter_bytes()]
    assert sum(sizes) == len(body)


async def test_an_answer_that_does_not_decode_is_undecodable(serve_asgi: ServeAsgi) -> None:
    async def lying(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-encoding", b"gzip")]})
        await send({"type": "http.response.body", "body": b"not gzip at all"})

    async with serve_asgi(lying) as base_url, aiohttp_wire() as wire:
        with pytest.raises(Undecodable):
            await fetch(wire, base_url + "/")


async def test_a_status_other_than_200_comes_back_as_it_is(serve_asgi: ServeAsgi) -> None:
    async with serve_asgi(Recorder(b"busy", status=416)) as base_url, aiohttp_wire() as wire:
        assert await fetch(wire, base_url + "/") == (416, b"busy")


async def test_a_refused_connection_is_connect_failed(refused_url: Callable[[], str]) -> None:
    async with aiohttp_wire() as wire:
        with pytest.raises(ConnectFailed):
            await fetch(wire, refused_url() + "/")


async def test_a_slow_answer_is_read_timed_out(serve_asgi: ServeAsgi) -> None:
    async with serve_asgi(Recorder(delay=2.0)) as base_url, aiohttp_wire() as wire:
        with pytest.raises(ReadTimedOut):
            await fetch(wire, base_url + "/", read_limit=0.2)


@contextlib.asynccontextmanager
async def closing_server(*, abort: bool, requests: list[bytes]) -> AsyncIterator[str]:
    """A TCP server that reads the request, then closes (or resets) the connection without answering."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.readuntil(b"\r\n\r\n"))
        if abort:
            writer.transport.abort()  # closed (by raw_server) otherwise

    async with raw_server(handle) as base_url:
        yield base_url


@pytest.mark.parametrize("abort", [False, True], ids=["closed", "reset"])
async def test_a_connection_closed_before_the_answer_is_a_reset_sent_once(abort: bool) -> None:
    requests: list[bytes] = []
    async with closing_server(abort=abort, requests=requests) as base_url, aiohttp_wire() as wire:
        with pytest.raises(ConnectionReset):
            await fetch(wire, base_url + "/")
    assert len(requests) == 1  # sent once: retrying is the client's decision, not aiohttp's


def test_aiohttp_errors_translate_to_the_wire_errors_of_the_same_meaning() -> None:
    # A refused connection (aiohttp.ClientConnectorError) is tested over a real socket above.
    cases: list[tuple[BaseException, type[WireError]]] = [
        (aiohttp.ConnectionTimeoutError(), ConnectTimedOut),
        (aiohttp.SocketTimeoutError(), ReadTimedOut),
        (TimeoutError(), ReadTimedOut),
        (aiohttp.ServerDisconnectedError(), ConnectionReset),
        (aiohttp.ClientPayloadError("cut short"), ConnectionReset),
        (aiohttp.ClientOSError(104, "reset by peer"), ConnectionReset),
        (zlib.error("bad"), Undecodable),
    ]
    for error, expected in cases:
        assert type(translate(error, AIOHTTP_ERRORS)) is expected, error
    other = translate(aiohttp.InvalidURL("x"), AIOHTTP_ERRORS)
    assert (type(other), other.reason) == (WireError, "InvalidURL")  # no row: named by its class


def test_httpx_errors_translate_to_the_same_wire_errors() -> None:
    request = httpx.Request("GET", "http://yunxin.invalid/")
    cases: list[tuple[BaseException, type[WireError]]] = [
        (httpx.ConnectTimeout("slow", request=request), ConnectTimedOut),
        (httpx.ReadTimeout("slow", request=request), ReadTimedOut),
        (httpx.ConnectError("refused", request=request), ConnectFailed),
        (httpx.RemoteProtocolError("closed", request=request), ConnectionReset),
        (httpx.ReadError("reset", request=request), ConnectionReset),
        (httpx.DecodingError("bad gzip", request=request), Undecodable),
    ]
    for error, expected in cases:
        assert type(translate(error, HTTPX_ERRORS)) is expected, error
    assert translate(httpx.ProxyError("no", request=request), HTTPX_ERRORS).reason == "ProxyError"


async def test_the_httpx_wire_sends_through_its_transport_and_keeps_no_cookies() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"Set-Cookie": "session=abc"}, content=b'{"code":200}')

    wire = HttpxWire(httpx.MockTransport(answer))
    for _ in range(2):
        assert await fetch(wire, "http://yunxin.invalid/x?conversation_ids=a%7C1%7Cb", [("AppKey", "k")]) == (
            200,
            b'{"code":200}',
        )
    await wire.aclose()
    assert [request.url.params["conversation_ids"] for request in seen] == ["a|1|b", "a|1|b"]
    assert seen[0].headers["AppKey"] == "k"
    assert "cookie" not in seen[1].headers


def test_proxies_come_from_the_environment_unless_no_proxy_exempts_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert environment_proxy("https", "open.yunxinapi.com") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "api-cn-bak.yunxinapi.com")
    assert environment_proxy("https", "open.yunxinapi.com") == "http://proxy.corp.invalid:3128"
    assert environment_proxy("https", "api-cn-bak.yunxinapi.com") is None


async def test_closing_ends_the_session_and_a_later_request_opens_a_new_one(serve_asgi: ServeAsgi) -> None:
    wire = AiohttpWire()
    async with serve_asgi(Recorder()) as base_url:
        assert (await fetch(wire, base_url + "/"))[0] == 200
        await wire.aclose()
        assert wire._session is None
        assert (await fetch(wire, base_url + "/"))[0] == 200
        await wire.aclose()
