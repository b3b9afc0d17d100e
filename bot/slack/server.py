"""The HTTP server's own guards, which uvicorn lacks: `--http bot.slack.server:GuardedH11Protocol`.

uvicorn's h11 protocol waits for ever for a connection that sends nothing, or sends its request head a
byte at a time, so an idle flood holds file descriptors the app needs for Slack and Yunxin. This protocol
closes a connection whose request head has not arrived `HEAD_SECONDS` after it opened (or after its
previous response), and refuses connections beyond `MAX_CONNECTIONS` open at once. Slow bodies are the
edge's to bound (`edge.BODY_SECONDS`). When the server begins its graceful shutdown (SIGTERM), the app is
told at once, so `/readyz` answers 503 from that moment.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any, ClassVar

from uvicorn.protocols.http.h11_impl import H11Protocol

from .lifecycle import LIFECYCLE_KEY, Lifecycle

log = logging.getLogger(__name__)

HEAD_SECONDS = 10.0
MAX_CONNECTIONS = 1000
FLOOD_WARNING_SECONDS = 60.0


class GuardedH11Protocol(H11Protocol):
    head_seconds: ClassVar[float] = HEAD_SECONDS
    max_connections: ClassVar[int] = MAX_CONNECTIONS
    _warned_at: ClassVar[float] = float("-inf")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            now = self.loop.time()
            if now - GuardedH11Protocol._warned_at > FLOOD_WARNING_SECONDS:  # one line per flood, not per connection
                GuardedH11Protocol._warned_at = now
                log.warning("more than %d connections open at once: refusing new ones", self.max_connections)
            transport.abort()
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:  # a request head arrived: the app has it now
            self._disarm()

    def on_response_complete(self) -> None:
        self._arm()  # before uvicorn handles a pipelined request, which disarms it again
        super().on_response_complete()

    def shutdown(self) -> None:
        lifecycle = self.app_state.get(LIFECYCLE_KEY)
        if isinstance(lifecycle, Lifecycle):
            lifecycle.begin_draining()
        super().shutdown()

    def _arm(self) -> None:
        self._disarm()
        self._head_deadline = self.loop.call_later(self.head_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def raise_open_files_limit(wanted: int = MAX_CONNECTIONS + 1024) -> None:
    """Let the process open the connections it accepts plus its own to Slack and Yunxin: raise the soft
    limit of open files towards the hard one (many platforms start processes at 1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
