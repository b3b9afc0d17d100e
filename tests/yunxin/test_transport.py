"""The aiohttp-backed httpx transport: requests go out as httpx built them, failures come back as httpx errors."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import httpx
import pytest
from starlette.types import Receive, Scope, Send

from bot.yunxin.transport import AiohttpTransport, as_httpx_error, environment_proxy
from tests.loopback import ServeAsgi


class Recorder:
    """An ASGI app that records each request and answers with `body` (gzip-encoded when asked)."""

    def __init__(
        self, body: bytes = b'{"code":200}', *, status: int = 200, gzipped: bool = False, delay: float = 0.0
    ) -> None:
        self.body = body
        self.status = status
        self.gzipped = gzipped
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
        body = gzip.compress(self.body) if self.gzipped else self.body
        headers = [(b"content-type", b"application/json"), (b"x-custom-traceid", b"t-1")]
        if self.gzipped:
            headers.append((b"content-encoding", b"gzip"))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@contextlib.asynccontextmanager
async def client(read_limit: float = 5.0) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=AiohttpTransport(), timeout=read_limit) as http:
        yield http


async def test_the_request_goes_out_as_httpx_encoded_it(serve_asgi: ServeAsgi) -> None:
    recorder = Recorder()
    async with serve_asgi(recorder) as base_url, client() as http:
        response = await http.get(
            f"{base_url}/im/v2/conversations/actions/conversation_ids",
            params={"conversation_ids": "Alice|1|bob,alice|2|12345"},
            headers={"AppKey": "k", "X-custom-traceid": "t-1"},
        )
    assert response.status_code == 200
    assert response.json() == {"code": 200}
    assert response.headers["x-custom-traceid"] == "t-1"
    (seen,) = recorder.seen
    assert seen["method"] == "GET"
    assert seen["path"] == "/im/v2/conversations/actions/conversation_ids"
    # httpx's encoding, byte for byte: the separators travel escaped, as Yunxin's SDKs send them.
    assert seen["query"] == b"conversation_ids=Alice%7C1%7Cbob%2Calice%7C2%7C12345"
    assert seen["headers"]["appkey"] == "k"
    assert seen["headers"]["x-custom-traceid"] == "t-1"


async def test_a_gzipped_answer_is_decoded_once(serve_asgi: ServeAsgi) -> None:
    payload = {"code": 200, "data": {"success_list": [{"conversation_id": "a|1|b"}] * 50}}
    recorder = Recorder(json.dumps(payload).encode(), gzipped=True)
    async with serve_asgi(recorder) as base_url, client() as http:
        response = await http.get(base_url + "/")
    assert response.json() == payload


async def test_a_status_other_than_200_comes_back_as_it_is(serve_asgi: ServeAsgi) -> None:
    async with serve_asgi(Recorder(b"busy", status=416)) as base_url, client() as http:
        response = await http.get(base_url + "/")
    assert (response.status_code, response.text) == (416, "busy")


async def test_a_refused_connection_is_a_connect_error(refused_url: Callable[[], str]) -> None:
    async with client() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(refused_url() + "/")


async def test_a_slow_answer_is_a_read_timeout(serve_asgi: ServeAsgi) -> None:
    async with serve_asgi(Recorder(delay=2.0)) as base_url, client(read_limit=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(base_url + "/")


@contextlib.asynccontextmanager
async def closing_server(*, abort: bool, requests: list[bytes]) -> AsyncIterator[str]:
    """A TCP server that reads the request, then closes (or resets) the connection without answering."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.readuntil(b"\r\n\r\n"))
        if abort:
            writer.transport.abort()
        else:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("abort", [False, True], ids=["closed", "reset"])
async def test_a_connection_closed_before_the_answer_is_a_transport_error_the_client_reads_as_reset(
    abort: bool,
) -> None:
    requests: list[bytes] = []
    async with closing_server(abort=abort, requests=requests) as base_url, client() as http:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await http.get(base_url + "/")
    assert len(requests) == 1  # sent once: retrying is the client's decision, not aiohttp's


def test_aiohttp_errors_map_to_the_httpx_errors_of_the_same_meaning() -> None:
    # A refused connection (aiohttp.ClientConnectorError) is tested over a real socket above.
    request = httpx.Request("GET", "http://yunxin.invalid/")
    cases: list[tuple[aiohttp.ClientError, type[httpx.TransportError]]] = [
        (aiohttp.ConnectionTimeoutError(), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError(), httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("cut short"), httpx.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "reset by peer"), httpx.ReadError),
        (aiohttp.InvalidURL("x"), httpx.TransportError),
    ]
    for error, expected in cases:
        mapped = as_httpx_error(error, request)
        assert type(mapped) is expected, (error, mapped)
        assert mapped.request is request


def test_proxies_come_from_the_environment_unless_no_proxy_exempts_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert environment_proxy(httpx.URL("https://open.yunxinapi.com/")) is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "api-cn-bak.yunxinapi.com")
    assert environment_proxy(httpx.URL("https://open.yunxinapi.com/")) == "http://proxy.corp.invalid:3128"
    assert environment_proxy(httpx.URL("https://api-cn-bak.yunxinapi.com/")) is None


async def test_closing_ends_the_session_and_a_later_request_opens_a_new_one(serve_asgi: ServeAsgi) -> None:
    transport = AiohttpTransport()
    async with serve_asgi(Recorder()) as base_url:
        async with httpx.AsyncClient(transport=transport) as http:
            assert (await http.get(base_url + "/")).status_code == 200
        assert transport._session is None
        async with httpx.AsyncClient(transport=transport) as http:
            assert (await http.get(base_url + "/")).status_code == 200
        await transport.aclose()
