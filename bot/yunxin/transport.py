"""How the Yunxin client's GETs reach Yunxin: a `Wire` sends one request and hands back its answer, whose
body is read chunk by chunk.

- `AiohttpWire`, the production one, sends with one pooled aiohttp session. Measured under a burst of
  commands: httpx's own transport (httpcore on anyio, a pure-Python parser, a pool that re-checks every
  connection on each request) spent about 1.3 ms of CPU per call, aiohttp about 0.15 ms. httpx in front of
  aiohttp still cost about 0.3 ms per call of its own (it checks every character of a URL in Python, twice
  per request, and builds its request and response models around aiohttp's), so the client does not go
  through httpx at all.
- `HttpxWire` sends through any httpx transport: the in-process sandbox (`./dev demo`) and the fakes of
  tests (`httpx.MockTransport`).

Either way the client reads the same answer (`WireAnswer`) and the same few errors (`WireError`): each
library's errors are translated through one table.

The body is handed over as it arrives, in chunks of at most `CHUNK_BYTES` (each decoded on its own, when
gzip or deflate), so a reader that stops early (the client caps the size of an answer) never holds more
than it chose to keep.
"""

from __future__ import annotations

import contextlib
import functools
import ssl
import urllib.request
import zlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Protocol

import aiohttp
import certifi
import httpx
from yarl import URL

# Idle connections are closed after this long, as httpx's own pool does.
KEEPALIVE_SECONDS = 5.0
# The most body bytes read from the socket at a time. Deflate expands at most about 1,032 times: 16 KiB
# of a compressed answer can become at most ~16.5 MiB at once.
CHUNK_BYTES = 16 * 1024
# What the request says it can decode: what httpx sends by default, and what `_Decoded` decodes.
ACCEPT_ENCODING = "gzip, deflate"

Headers = Sequence[tuple[str, str]]


class WireError(Exception):
    """No usable HTTP answer; `reason` says why, in words for the person who asked (for an error no table
    row names, the foreign error's class name)."""

    reason = "the connection failed"

    def __init__(self, detail: str = "", *, reason: str | None = None) -> None:
        super().__init__(detail or reason or self.reason)
        if reason is not None:
            self.reason = reason


class ConnectFailed(WireError):
    reason = "connection refused or host unreachable"


class ConnectTimedOut(WireError):
    reason = "no connection in time"


class ReadTimedOut(WireError):
    reason = "no answer in time"


class ConnectionReset(WireError):
    reason = "the connection was reset"


class Undecodable(WireError):
    reason = "its Content-Encoding could not be decoded"


class WireAnswer(Protocol):
    """An HTTP answer whose body has not been read yet."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]:
        """Case-insensitive, as HTTP's are."""
        ...

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The body, decoded, chunk by chunk (WireError if the connection fails on the way)."""
        ...


class Wire(Protocol):
    def get(
        self, url: str, headers: Headers, *, socket_timeout: float
    ) -> contextlib.AbstractAsyncContextManager[WireAnswer]:
        """GET `url` (its query already percent-encoded) with `headers` in this order and case; the answer
        is released when the block ends, read to the end or not."""
        ...

    async def aclose(self) -> None: ...


def translate(error: BaseException, table: Sequence[tuple[type[BaseException], type[WireError]]]) -> WireError:
    """The WireError of the first row whose class `error` is an instance of (rows go from the narrowest
    class to the widest: the libraries' classes nest)."""
    text = str(error) or type(error).__name__
    kind = next((wire for foreign, wire in table if isinstance(error, foreign)), None)
    return kind(text) if kind is not None else WireError(text, reason=type(error).__name__)


# aiohttp's errors, narrowest first (ConnectionTimeoutError is a ServerTimeoutError is a TimeoutError...).
AIOHTTP_ERRORS: Sequence[tuple[type[BaseException], type[WireError]]] = (
    (aiohttp.ConnectionTimeoutError, ConnectTimedOut),
    (aiohttp.ServerTimeoutError, ReadTimedOut),
    (aiohttp.ClientConnectorError, ConnectFailed),
    (aiohttp.ServerDisconnectedError, ConnectionReset),
    (aiohttp.ClientPayloadError, ConnectionReset),
    (aiohttp.ClientResponseError, ConnectionReset),
    (aiohttp.ClientOSError, ConnectionReset),
    (TimeoutError, ReadTimedOut),
    (zlib.error, Undecodable),
)

# httpx's, for the fakes and the in-process sandbox.
HTTPX_ERRORS: Sequence[tuple[type[BaseException], type[WireError]]] = (
    (httpx.ConnectTimeout, ConnectTimedOut),
    (httpx.TimeoutException, ReadTimedOut),
    (httpx.ConnectError, ConnectFailed),
    (httpx.RemoteProtocolError, ConnectionReset),
    (httpx.ReadError, ConnectionReset),
    (httpx.DecodingError, Undecodable),
)


def environment_proxy(scheme: str, host: str) -> str | None:
    """The proxy that HTTPS_PROXY / HTTP_PROXY name for a URL of `scheme` and `host`, unless NO_PROXY
    exempts the host."""
    if urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies_environment().get(scheme)


class _Decoded:
    """Raw body chunks decoded as their Content-Encoding says, each chunk on its own (httpx's way): gzip and
    deflate (zlib-wrapped, or raw as some servers send it); identity and unknown ones as they came."""

    def __init__(self, content_encoding: str) -> None:
        self._steps = [_decoder(name.strip().lower()) for name in content_encoding.split(",") if name.strip()]

    def __call__(self, chunk: bytes) -> bytes:
        for step in reversed(self._steps):  # the last encoding named was applied last
            chunk = step(chunk)
        return chunk


class _Inflate:
    def __init__(self, wbits: int, *, raw_if_unwrapped: bool = False) -> None:
        self._zlib = zlib.decompressobj(wbits)
        self._may_be_raw = raw_if_unwrapped  # deflate: zlib-wrapped, or raw if the first chunk says so

    def __call__(self, chunk: bytes) -> bytes:
        may_be_raw, self._may_be_raw = self._may_be_raw, False
        try:
            return self._zlib.decompress(chunk)
        except zlib.error:
            if not may_be_raw:
                raise
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._zlib.decompress(chunk)


def _decoder(name: str) -> _Inflate | _Identity:
    if name in ("gzip", "x-gzip"):
        return _Inflate(zlib.MAX_WBITS | 16)
    if name == "deflate":
        return _Inflate(zlib.MAX_WBITS, raw_if_unwrapped=True)
    return _Identity()


class _Identity:
    def __call__(self, chunk: bytes) -> bytes:
        return chunk


class _AiohttpAnswer:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        return _AiohttpChunks(self._response)


class _AiohttpChunks:
    """The body, decoded, in chunks of at most CHUNK_BYTES: what `content.iter_chunked` would hand over,
    read here directly. An iterator of this class costs a coroutine per chunk; an async generator around
    iter_chunked cost that twice over, and registered itself with the loop for its shutdown."""

    __slots__ = ("_content", "_decode")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._content = response.content
        encoding = response.headers.get("Content-Encoding", "")
        self._decode = _Decoded(encoding) if encoding else None  # none named: the body is as it came

    def __aiter__(self) -> _AiohttpChunks:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = await self._content.read(CHUNK_BYTES)
            if not chunk:
                raise StopAsyncIteration
            return chunk if self._decode is None else self._decode(chunk)
        except aiohttp.EofStream:
            raise StopAsyncIteration from None
        except (aiohttp.ClientError, TimeoutError, zlib.error) as error:
            raise translate(error, AIOHTTP_ERRORS) from error


@functools.lru_cache(maxsize=16)
def _socket_timeouts(seconds: float) -> aiohttp.ClientTimeout:
    """Connecting, and each read, bounded by `seconds`; waiting for a free connection is not bounded here
    (the client's concurrency and deadline do that). Made once per value: it is the same for every call."""
    return aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds)


class AiohttpWire:
    """Sends with one pooled aiohttp session, created on first use in the running loop.

    Certificates are checked against certifi's bundle and proxies are read from the environment
    (HTTPS_PROXY, NO_PROXY), as httpx does by default. The proxy is looked up once per host here:
    aiohttp's own `trust_env` would look it up (and read ~/.netrc) in a worker thread on every request.
    """

    def __init__(self, *, max_connections: int = 100) -> None:
        self._max_connections = max_connections
        self._ssl = ssl.create_default_context(cafile=certifi.where())  # loading the bundle takes ~20 ms
        self._proxies: dict[tuple[str, str, int | None], str | None] = {}
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """The pooled session, made on first use (and again after `aclose`)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, keepalive_timeout=KEEPALIVE_SECONDS, ssl=self._ssl
            )
            # The body is decoded here chunk by chunk (`_Decoded`), so aiohttp hands it over as it came, and
            # sends only the headers given (no Accept-Encoding or User-Agent of its own).
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding", "User-Agent"),
            )
            # aiohttp resends a GET once, silently, when the connection drops before the answer; the client
            # has its own retry policy (one retry, then the backup host), so this one is turned off (aiohttp
            # offers only this attribute for it, which its own test client sets).
            self._session._retry_connection = False
        return self._session

    def proxy_for(self, url: URL) -> str | None:
        """The environment's proxy for `url`, looked up once per scheme, host and port."""
        key = (url.scheme, url.host or "", url.port)
        if key not in self._proxies:
            self._proxies[key] = environment_proxy(url.scheme, url.host or "")
        return self._proxies[key]

    def get(self, url: str, headers: Headers, *, socket_timeout: float) -> _AiohttpGet:
        return _AiohttpGet(self, url, headers, socket_timeout)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class _AiohttpGet:
    """One GET as an async context manager: the answer, released when the block ends. A class rather than
    @asynccontextmanager, which makes an async generator per request (registered with the loop, resumed
    twice)."""

    __slots__ = ("_headers", "_response", "_socket_timeout", "_url", "_wire")

    def __init__(self, wire: AiohttpWire, url: str, headers: Headers, socket_timeout: float) -> None:
        self._wire = wire
        self._url = url
        self._headers = headers
        self._socket_timeout = socket_timeout
        self._response: aiohttp.ClientResponse | None = None

    async def __aenter__(self) -> WireAnswer:
        session = self._wire.session()
        target = URL(self._url, encoded=True)  # the query is encoded already: sent byte for byte
        try:
            self._response = await session.get(
                target,
                headers=list(self._headers),  # a list keeps each name as written: AppKey, CurTime, X-custom-traceid
                timeout=_socket_timeouts(self._socket_timeout),
                allow_redirects=False,
                proxy=self._wire.proxy_for(target),
            )
        except (aiohttp.ClientError, TimeoutError) as error:
            raise translate(error, AIOHTTP_ERRORS) from error
        return _AiohttpAnswer(self._response)

    async def __aexit__(self, *exc: object) -> None:
        response = self._response
        if response is None:
            return
        if response.content.at_eof():
            response.release()  # read to the end: the connection goes back to the pool
        else:
            response.close()  # left unread (too large, or abandoned): the connection is dropped


class _HttpxAnswer:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers: Mapping[str, str] = response.headers

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_bytes():
                yield chunk
        except httpx.HTTPError as error:
            raise translate(error, HTTPX_ERRORS) from error


class HttpxWire:
    """Sends through an httpx transport (the in-process sandbox, a test's fake), keeping no cookies."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._http = httpx.AsyncClient(transport=transport)

    @contextlib.asynccontextmanager
    async def get(self, url: str, headers: Headers, *, socket_timeout: float) -> AsyncIterator[WireAnswer]:
        request = self._http.build_request("GET", url, headers=list(headers), timeout=socket_timeout)
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as error:
            raise translate(error, HTTPX_ERRORS) from error
        try:
            yield _HttpxAnswer(response)
        finally:
            await response.aclose()
            self._http.cookies.clear()  # Yunxin's API is signed per call and has no session

    async def aclose(self) -> None:
        await self._http.aclose()
