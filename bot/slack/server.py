"""The HTTP server's own guards, which uvicorn lacks: `--http bot.slack.server:GuardedProtocol`.

uvicorn's protocols wait for ever for a connection that sends nothing, or sends its request head a byte
at a time, so an idle flood holds file descriptors the app needs for Slack and Yunxin. These protocols
close a connection whose request head has not arrived `HEAD_SECONDS` after it opened (or after its
previous response), and refuse connections beyond `MAX_CONNECTIONS` open at once. `GuardedProtocol` is
the httptools one (the C parser), or the h11 one where httptools cannot be installed. Slow bodies are the
edge's to bound (`edge.BODY_SECONDS`). When the server begins its graceful shutdown (SIGTERM), the app is
told at once, so `/readyz` answers 503 from that moment.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import resource
from typing import Any, ClassVar

from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a dependency; a platform without its wheel uses h11
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

from .lifecycle import LIFECYCLE_KEY, Lifecycle

log = logging.getLogger(__name__)

HEAD_SECONDS = 10.0
MAX_CONNECTIONS = 1000
FLOOD_WARNING_SECONDS = 60.0


class _Guard:
    """One connection's guards, shared by both protocols: the connection cap, and the deadline by which
    each request head must have arrived."""

    warned_at: ClassVar[float] = float("-inf")  # the last flood's warning, for all connections

    def __init__(self, loop: asyncio.AbstractEventLoop, head_seconds: float) -> None:
        self._loop = loop
        self._head_seconds = head_seconds
        self._deadline: asyncio.TimerHandle | None = None

    @staticmethod
    def over_cap(connections: set[Any], cap: int, loop: asyncio.AbstractEventLoop) -> bool:
        if len(connections) <= cap:
            return False
        now = loop.time()
        if now - _Guard.warned_at > FLOOD_WARNING_SECONDS:  # one line per flood, not per connection
            _Guard.warned_at = now
            log.warning("more than %d connections open at once: refusing new ones", cap)
        return True

    def arm(self, transport: asyncio.BaseTransport) -> None:
        self.disarm()
        self._deadline = self._loop.call_later(self._head_seconds, self._too_slow, transport)

    def disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self, transport: asyncio.BaseTransport) -> None:
        self._deadline = None
        if not transport.is_closing():
            transport.close()


class _Guarded:
    """The guards, put before one of uvicorn's protocols in a class's bases: the connection cap at
    `connection_made`, the head deadline armed then and after each response, and the app told at
    `shutdown`. Each protocol says when a request head has arrived (it calls `_head_arrived`)."""

    head_seconds: ClassVar[float] = HEAD_SECONDS
    max_connections: ClassVar[int] = MAX_CONNECTIONS
    # What uvicorn's protocols have.
    loop: asyncio.AbstractEventLoop
    connections: set[Any]
    app_state: dict[str, Any]
    transport: asyncio.Transport

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = _Guard(self.loop, self.head_seconds)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        if _Guard.over_cap(self.connections, self.max_connections, self.loop):
            transport.abort()  # type: ignore[attr-defined]  # uvicorn's transports are asyncio.Transport
            return
        self._guard.arm(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard.disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def shutdown(self) -> None:
        lifecycle = self.app_state.get(LIFECYCLE_KEY)
        if isinstance(lifecycle, Lifecycle):
            lifecycle.begin_draining()
        super().shutdown()  # type: ignore[misc]

    def _head_arrived(self) -> None:
        self._guard.disarm()

    def _await_next_head(self) -> None:
        if not self.transport.is_closing():
            self._guard.arm(self.transport)


class GuardedH11Protocol(_Guarded, H11Protocol):
    """uvicorn's pure-Python h11 protocol, guarded."""

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:  # a request head arrived: the app has it now
            self._head_arrived()

    def on_response_complete(self) -> None:
        self._await_next_head()  # before uvicorn handles a pipelined request, which disarms it again
        super().on_response_complete()


if HttpToolsProtocol is not None:

    class GuardedHttpToolsProtocol(_Guarded, HttpToolsProtocol):
        """uvicorn's httptools protocol (llhttp's C parser, uvicorn's standard one for production), guarded."""

        def on_headers_complete(self) -> None:
            self._head_arrived()  # pipelined ones too: the app has it now
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            waiting = bool(self.pipeline)  # a pipelined request whose head is already here
            super().on_response_complete()
            if not waiting:
                self._await_next_head()

    GuardedProtocol: type[asyncio.Protocol] = GuardedHttpToolsProtocol
else:  # httptools has no wheel for this platform: the same guards on h11
    GuardedProtocol = GuardedH11Protocol


def raise_open_files_limit(wanted: int = MAX_CONNECTIONS + 1024) -> None:
    """Let the process open the connections it accepts plus its own to Slack and Yunxin: raise the soft
    limit of open files towards the hard one (many platforms start processes at 1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


# Allocations between two collections of the young generation (Python's default: 700). A command makes a
# few thousand objects, nearly all freed by their reference counts, but while its lookup waits (a burst's
# calls wait for the budget) about a hundred of them are alive: a burst of 200 holds some 20,000. Each
# young collection walks every one of those, for nothing: 3 to 6.5 ms a walk at 7,000, two or three walks
# a burst. At 50,000 a burst of 200 is not walked at all, and cyclic garbage waits for at most 50,000
# allocations (README, Benchmark: 5 to 9% less CPU side by side in bursts of 200).
YOUNG_GENERATION_ALLOCATIONS = 50_000


def freeze_startup_heap() -> None:
    """Once started: what start-up built (modules, settings, the app, its clients) lives as long as the
    process, so the cycle collector is told to leave it alone (`gc.freeze`). Without this, every full
    collection walked all of it again: measured, about a quarter of a millisecond of CPU per command.
    The young generation is made larger (YOUNG_GENERATION_ALLOCATIONS); the older ones keep Python's."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_ALLOCATIONS, middle, old)
