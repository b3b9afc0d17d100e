"""An httpx transport that sends with aiohttp: the Yunxin client keeps httpx's API, aiohttp does the I/O.

Under a burst of commands httpx's own transport (httpcore on anyio, with a pure-Python HTTP parser and a
pool that re-checks every open connection on each request) spent about 1.3 ms of CPU per Yunxin call;
aiohttp, with its C parser and connector, about 0.15 ms. On a small machine that CPU is the difference
between 50 people asking at once being answered together or one after another.

aiohttp's errors become the httpx errors `YunxinClient` reads, so the client cannot tell the two apart:
a refused connection is `httpx.ConnectError`, a reset one `httpx.ReadError`, a closed one
`httpx.RemoteProtocolError`, a slow one `httpx.ConnectTimeout` or `httpx.ReadTimeout`.

The body is handed over as it arrives, in chunks of at most `CHUNK_BYTES`, so a reader that stops early
(the client caps the size of an answer) never holds more than it chose to keep.
"""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import AsyncIterator, Mapping

import aiohttp
import certifi
import httpx
from yarl import URL

# Idle connections are closed after this long, as httpx's own pool does.
KEEPALIVE_SECONDS = 5.0
# The most body bytes read from the socket at a time. httpx decodes gzip chunk by chunk, and deflate
# expands at most about 1,032 times: 16 KiB of a compressed answer can become at most ~16.5 MiB at once.
CHUNK_BYTES = 16 * 1024


def _timeouts(request: httpx.Request) -> aiohttp.ClientTimeout:
    """httpx's per-request timeouts (connect, read) as aiohttp's; waiting for a free connection is not
    bounded here (the client's concurrency bound and its deadline do that)."""
    given: Mapping[str, float | None] = request.extensions.get("timeout", {})
    return aiohttp.ClientTimeout(total=None, sock_connect=given.get("connect"), sock_read=given.get("read"))


def _raw_headers(request: httpx.Request) -> list[tuple[str, str]]:
    """The request's headers with their names as written (`AppKey`, `CurTime`, `X-custom-traceid`), as the
    API page and Yunxin's Java SDK send them: `multi_items()` would lowercase every name. HTTP does not care,
    but a proxy or gateway in front of Yunxin might, and the request is then byte for byte the SDK's."""
    return [(name.decode("ascii"), value.decode("utf-8", "replace")) for name, value in request.headers.raw]


def environment_proxy(url: httpx.URL) -> str | None:
    """The proxy that HTTPS_PROXY / HTTP_PROXY name for `url`, unless NO_PROXY exempts its host."""
    if urllib.request.proxy_bypass(url.host):
        return None
    return urllib.request.getproxies_environment().get(url.scheme)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests with one pooled aiohttp session, created on first use in the running loop.

    Certificates are checked against certifi's bundle and proxies are read from the environment
    (HTTPS_PROXY, NO_PROXY), as httpx does by default. The proxy is looked up once per host here:
    aiohttp's own `trust_env` would look it up (and read ~/.netrc) in a worker thread on every request.
    """

    def __init__(self, *, max_connections: int = 100) -> None:
        self._max_connections = max_connections
        self._ssl = ssl.create_default_context(cafile=certifi.where())  # loading the bundle takes ~20 ms
        self._proxies: dict[tuple[str, str, int | None], str | None] = {}
        self._session: aiohttp.ClientSession | None = None

    def _client_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, keepalive_timeout=KEEPALIVE_SECONDS, ssl=self._ssl
            )
            # httpx decodes gzip itself from the raw bytes, so aiohttp must hand them over as they came.
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
            # aiohttp resends a GET once, silently, when the connection drops before the answer; the client
            # has its own retry policy (one retry, then the backup host), so this one is turned off (aiohttp
            # offers only this attribute for it, which its own test client sets).
            self._session._retry_connection = False
        return self._session

    def _proxy(self, url: httpx.URL) -> str | None:
        key = (url.scheme, url.host, url.port)
        if key not in self._proxies:
            self._proxies[key] = environment_proxy(url)
        return self._proxies[key]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._client_session()
        body = await request.aread()
        try:
            response = await session.request(
                request.method,
                URL(str(request.url), encoded=True),  # httpx has encoded the query; keep it byte for byte
                headers=_raw_headers(request),
                data=body or None,
                timeout=_timeouts(request),
                allow_redirects=False,
                proxy=self._proxy(request.url),
            )
        except aiohttp.ClientError as error:
            raise as_httpx_error(error, request) from error
        except TimeoutError as error:
            raise httpx.ReadTimeout(f"no answer in time: {error}", request=request) from error
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_BodyStream(response, request),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode()},
            request=request,
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class _BodyStream(httpx.AsyncByteStream):
    """aiohttp's response body as httpx reads it, chunk by chunk; closing it ends the response."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(CHUNK_BYTES):
                yield chunk
        except aiohttp.ClientError as error:
            raise as_httpx_error(error, self._request) from error
        except TimeoutError as error:
            raise httpx.ReadTimeout(f"no answer in time: {error}", request=self._request) from error

    async def aclose(self) -> None:
        if self._response.content.at_eof():
            self._response.release()  # read to the end: the connection goes back to the pool
        else:
            self._response.close()  # left unread (too large, or abandoned): the connection is dropped


def as_httpx_error(error: aiohttp.ClientError, request: httpx.Request) -> httpx.TransportError:
    """The httpx error that means the same thing (order matters: the aiohttp classes nest)."""
    text = str(error) or type(error).__name__
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(text, request=request)
    if isinstance(error, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(text, request=request)
    if isinstance(error, aiohttp.ClientConnectorError):
        return httpx.ConnectError(text, request=request)
    if isinstance(error, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(text, request=request)
    if isinstance(error, aiohttp.ClientOSError):
        return httpx.ReadError(text, request=request)
    return httpx.TransportError(text, request=request)
