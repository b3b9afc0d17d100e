"""A process-wide budget of Yunxin calls per second.

Yunxin answers 416 past its per-app rate and then blocks the app for a while; during an incident
many people ask at once. Spending from one budget makes a burst of commands queue briefly instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class CallBudget:
    """A token bucket: `rate` calls per second on average, up to `burst` at once.

    The default burst is one second's worth, so the 50 people who ask at once when an incident starts
    are answered together rather than queued behind each other; any window of one second then holds
    at most `2 * rate` calls, which keeps the default rate (50) within Yunxin's standard 100 calls/s.
    """

    def __init__(
        self,
        rate: float,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst is not None and burst < 1:
            raise ValueError("burst must be at least 1")  # 0 would add a needless wait to every call
        self._interval = 1.0 / rate
        self._burst = burst if burst is not None else max(1, int(rate))
        self._clock = clock
        self._sleep = sleep
        self._next_free = 0.0  # theoretical arrival time of the next call

    @property
    def rate(self) -> float:
        return 1.0 / self._interval

    @property
    def burst(self) -> int:
        return self._burst

    def reserve(self) -> float:
        """Take one call from the budget; return how long to wait before making it."""
        now = self._clock()
        start = max(self._next_free, now)
        self._next_free = start + self._interval
        return max(0.0, start - (self._burst - 1) * self._interval - now)

    async def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await self._sleep(wait)
