"""Ack first, then detach: Slack gets its answer the moment a listener acks, and the listener's work goes on
in a task of its own, after the ack has been written.

Slack gives up on a request after 3 seconds. Bolt (with `process_before_response`) answers Slack when a
listener returns, so `acked_then_detached` returns as soon as the listener has acked. The HTTP layer marks,
per request, when its answer has actually been written (`AckWatch`); `after_ack_sent()` waits for that
before the first network call, so nothing a listener sends can overtake its own ack. Socket Mode acks over
the socket and watches nothing: there `after_ack_sent()` returns at once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any

from bot.otel import span

log = logging.getLogger(__name__)

Ack = Callable[..., Awaitable[None]]
Listener = Callable[..., Awaitable[None]]

# Set for each HTTP request from Slack while it is handled; the event is set once its answer is written.
_ack_sent: ContextVar[asyncio.Event | None] = ContextVar("ack_sent", default=None)
ACK_SENT_WAIT_SECONDS = 3.0  # a bound in case the answer is never written (the client went away)


class AckWatch:
    """One HTTP request's ack: listeners started while it is handled wait until its answer is written.

    `with watch.handling(): response = await handler.handle(request)`, then have the server call
    `await watch.written()` once the response is out (Starlette: the response's background task)."""

    __slots__ = ("_sent", "_token")

    def __init__(self) -> None:
        self._sent = asyncio.Event()
        self._token: Token[asyncio.Event | None] | None = None

    def handling(self) -> AckWatch:
        """The watch itself, as the context manager of the request's handling: written out as __enter__
        and __exit__, without the generator and wrapper object contextlib.contextmanager makes each time."""
        return self

    def __enter__(self) -> None:
        self._token = _ack_sent.set(self._sent)  # tasks started inside copy this context

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is not None:
            self._sent.set()  # no answer will be written: nobody may wait for it
        assert self._token is not None
        _ack_sent.reset(self._token)
        self._token = None

    async def written(self) -> None:
        # Async on purpose: Starlette runs a plain function in a worker thread, where Event.set is unsafe.
        self._sent.set()


async def after_ack_sent() -> None:
    """Wait until the ack is on its way to Slack; call it before the first network call after `ack()`.

    Without this wait a listener's first calls (users.info, Yunxin, a response_url post) could leave before
    the ack, an answer could reach Slack before the "Looking up…" ack, and rendering a large answer could
    hold the ack back.
    """
    event = _ack_sent.get()
    if event is None or event.is_set():
        return
    # The bound is a timer that marks the answer as written itself: every listener of the request waits on
    # the same event and would give up at the same moment. asyncio.timeout cost twice the instructions.
    bound = asyncio.get_running_loop().call_later(ACK_SENT_WAIT_SECONDS, event.set)
    try:
        await event.wait()
    finally:
        bound.cancel()


def acked_then_detached(listener: Listener, running: set[asyncio.Task[None]], name: str = "slack request") -> Listener:
    """Run `listener` in a task of its own and return as soon as it has called `ack()` (or ended).

    Without this, Bolt runs listeners in the background and notices their ack by polling every 10 ms,
    which every answer then waits for. An error before the ack reaches Bolt as it would have; later
    ones are logged. `running` holds the tasks still working after their ack. With tracing on, the
    listener's whole work is one span, `name`. Bolt reads the listener's parameter names through
    `functools.wraps`.
    """

    @functools.wraps(listener)
    async def run(*, ack: Any, **kwargs: Any) -> None:
        # One future, resolved by the ack or by the listener's end, whichever comes first: waiting on it
        # costs no task of its own.
        loop = asyncio.get_running_loop()
        acked_or_ended: asyncio.Future[None] = loop.create_future()

        def tell(_: object = None) -> None:
            if not acked_or_ended.done():
                acked_or_ended.set_result(None)

        async def ack_and_tell(*args: Any, **values: Any) -> None:
            try:
                await ack(*args, **values)
            finally:
                tell()

        async def traced() -> None:
            with span(name):
                await listener(ack=ack_and_tell, **kwargs)

        work = loop.create_task(traced())  # what ensure_future does for a coroutine, without its checks
        work.add_done_callback(tell)
        await acked_or_ended
        if work.done():
            work.result()
            return
        running.add(work)
        work.add_done_callback(_forget_and_log(running))

    return run


def _forget_and_log(running: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
    def done(task: asyncio.Task[None]) -> None:
        running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a listener failed after its ack", exc_info=task.exception())

    return done
