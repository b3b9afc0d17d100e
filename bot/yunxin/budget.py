"""What each Yunxin call passes before it is sent, and reports after: the call budget, the pause after a
416, and the circuit breaker.

Yunxin answers 416 past its per-app rate and then blocks the app for a while; during an incident many
people ask at once. Spending from one budget makes a burst of commands queue briefly instead. After a 416
no call goes to that app for a pause (a retry only lengthens the block), and after a run of calls that
failed as unavailable or timed out the breaker opens: lookups fail at once instead of each waiting for
its deadline, until one probe call finds Yunxin answering again.

`CallGate` is that interface. `LocalGate` keeps it in this process (REDIS_URL unset, or Redis down);
`bot.shared.gate.SharedGate` keeps it in Redis for every replica that shares it.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from .errors import BreakerOpen, CallsPaused, YunxinError

log = logging.getLogger(__name__)

# The budget's window: "per second". Its calls are spaced by a little more than the second, so that the
# jitter between the moment a call is let go and its arrival at Yunxin cannot squeeze one more call into
# a second as Yunxin counts it. 0.1 s was not enough: with three replicas and Valkey starved of CPU on two
# cores, a capture of loopback saw up to 65 calls of a 50/s budget in one second; with 0.25 s, 50 in every
# run (README, Benchmark).
WINDOW_SECONDS = 1.0
WINDOW_MARGIN_SECONDS = 0.25
# Calls that wait for the budget go together on ticks this far apart, not one every 1/rate seconds. Each
# wake-up of the process costs about as much CPU as the call it lets go, so a burst of 200 commands spread
# one by one cost twice the CPU per command of 50 at once (README, Benchmark). A waiting call goes at most
# this much later; it still spends a token the bucket already holds when it goes, so no window admits more
# calls than before (the tests simulate the bucket). Side by side, ticks of 0.25 s cost a tenth less CPU
# per command in bursts of 200 than ticks of 0.1 s.
BUDGET_TICK_SECONDS = 0.25
# Failures further apart than this are not "in a row": the count starts again.
FAILURE_MEMORY_SECONDS = 60.0


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
        # Never so long that one tick lets go more calls than the burst: with burst 1 there are no ticks.
        self._tick = min(BUDGET_TICK_SECONDS, (self._burst - 1) * self._interval)

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
        wait = start - (self._burst - 1) * self._interval - now
        if wait <= 0:
            return 0.0
        if self._tick <= 0:
            return wait
        # The call goes at the first tick once its token is in the bucket (see BUDGET_TICK_SECONDS); a
        # token due on a tick, give or take float rounding, goes on that tick.
        return math.ceil((now + wait) / self._tick - 1e-9) * self._tick - now

    async def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await self._sleep(wait)


class SlidingWindowBudget:
    """At most `limit` calls in any window of `window` seconds: each call starts no sooner than `window`
    after the `limit`-th call before it. What the shared budget keeps in Redis, and the share of it each
    process keeps while Redis is down."""

    def __init__(
        self,
        limit: int,
        window: float = WINDOW_SECONDS + WINDOW_MARGIN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if window <= 0:
            raise ValueError("window must be positive")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._starts: collections.deque[float] = collections.deque(maxlen=limit)  # the last `limit`, in order

    @classmethod
    def share(
        cls,
        rate: float,
        processes: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> SlidingWindowBudget:
        """The budget of one of `processes` that together may make `rate` calls per second: a whole number
        of calls per second each (so that no second holds more), or one call per several seconds."""
        each = rate / processes
        if each >= 1:
            return cls(int(each), WINDOW_SECONDS + WINDOW_MARGIN_SECONDS, clock, sleep)
        return cls(1, WINDOW_SECONDS / each + WINDOW_MARGIN_SECONDS, clock, sleep)

    def reserve(self) -> float:
        """Take one call from the budget; return how long to wait before making it."""
        now = self._clock()
        start = now
        if len(self._starts) == self.limit:
            start = max(start, self._starts[0] + self.window)
        self._starts.append(start)
        return start - now

    async def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await self._sleep(wait)

    def note(self, start: float) -> None:
        """Count a call another budget let go at `start` (this clock), as if this one had: when the shared
        budget hands over to this process's share, the calls it just made count against the share."""
        starts = sorted([*self._starts, start])
        self._starts.clear()
        self._starts.extend(starts[-self.limit :])

    def recent(self) -> list[float]:
        """How many seconds ago each call of the last window started (negative: one yet to start)."""
        now = self._clock()
        return [now - start for start in self._starts if start > now - self.window]


class Budget(Protocol):
    async def acquire(self) -> None: ...


@dataclass(slots=True)
class CallTicket:
    """One upstream call, across its attempts: what the gate told it, for what it reports afterwards."""

    token: str = field(default_factory=lambda: os.urandom(8).hex())  # secrets.token_hex(8), without its layers
    probe: bool = False  # the breaker's one probe call
    failures_seen: int = 0  # failures in a row when it was let through: a success must reset them
    local: bool = False  # let through by this process's own state (Redis down), so reported there


BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class GateStatus:
    """What one Yunxin app's gate knows, for /metrics. Times are wall-clock (time.time()) seconds."""

    paused_until: float | None  # a 416 paused the calls until then; None: not paused
    breaker: BreakerState  # half_open: the cool-down is over and one probe call may go (or is out)
    breaker_until: float | None  # while open, when a probe may go
    failures: int  # failed calls in a row, as last seen


class CallGate:
    """What a Yunxin client consults before each attempt (`admit`) and tells after each call (`answered`,
    `failed`, `rate_limited`). This base lets every call through at once and remembers nothing."""

    async def admit(self, call: CallTicket, max_wait: float) -> None:
        """Wait until the budget has room, at most `max_wait` seconds (BudgetSpent beyond it, when the gate
        can tell in advance), or raise CallsPaused / BreakerOpen at once."""

    async def answered(self, call: CallTicket) -> None:
        """Yunxin answered the call (any answer but 5xx, a timeout or no connection)."""

    async def failed(self, call: CallTicket, error: YunxinError) -> None:
        """The call failed as unavailable or timed out."""

    async def rate_limited(self, call: CallTicket, error: YunxinError) -> None:
        """Yunxin answered the call with 416."""

    def status(self) -> GateStatus:
        return GateStatus(None, "closed", None, 0)


class LocalGate(CallGate):
    """The budget, the pause and the breaker, kept in this process.

    `pause_seconds` 0 never pauses; `breaker_failures` 0 never opens. While the breaker is open no call
    goes; once `cooldown_seconds` are over, one call (the probe) goes, and closes the breaker when Yunxin
    answers it or opens it again when it fails. A probe that never reports frees its place after
    `probe_lease_seconds`."""

    def __init__(
        self,
        budget: Budget | None = None,
        *,
        name: str = "yunxin",
        pause_seconds: float = 0.0,
        breaker_failures: int = 0,
        cooldown_seconds: float = 30.0,
        probe_lease_seconds: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.budget = budget
        self._name = name
        self._pause_seconds = pause_seconds
        self._breaker_failures = breaker_failures
        self._cooldown = cooldown_seconds
        self._lease = probe_lease_seconds
        self._clock = clock
        self._wall = wall_clock
        self._paused_until = 0.0
        self._pause_trace: str | None = None
        self._failures = 0
        self._last_failure = 0.0
        self._open_until: float | None = None  # None: closed
        self._open_trace: str | None = None
        self._probe: str | None = None  # the probe call's token
        self._probe_until = 0.0

    def check_pause(self) -> None:
        """Raise CallsPaused while a 416 this process saw pauses the calls."""
        left = self._paused_until - self._clock()
        if left > 0:
            raise CallsPaused(left, trace_id=self._pause_trace)

    async def admit(self, call: CallTicket, max_wait: float) -> None:
        self.check_pause()
        now = self._clock()
        if self._open_until is not None:
            if now < self._open_until:
                raise self._open_error(self._open_until - now)
            if self._probe is not None and self._probe != call.token and now < self._probe_until:
                raise self._open_error(self._probe_until - now)
            self._probe, self._probe_until, call.probe = call.token, now + self._lease, True
        call.failures_seen = self._failures
        call.local = True
        if self.budget is not None:
            await self.budget.acquire()

    def _open_error(self, seconds: float) -> BreakerOpen:
        return BreakerOpen(seconds, trace_id=self._open_trace, failures=self._breaker_failures)

    async def answered(self, call: CallTicket) -> None:
        self.note_answered()

    def note_answered(self) -> None:
        if self._open_until is not None:
            log.warning("Yunxin (%s) answers again: the circuit breaker is closed", self._name)
        self._failures = 0
        self._open_until = None
        self._probe = None

    async def failed(self, call: CallTicket, error: YunxinError) -> None:
        if self._breaker_failures <= 0:
            return
        now = self._clock()
        if now - self._last_failure > FAILURE_MEMORY_SECONDS:
            self._failures = 0
        self._failures += 1
        self._last_failure = now
        if self._open_until is not None:
            if call.probe and self._probe == call.token:  # the probe failed: open again
                self._open(now, error, "the probe call failed")
            return  # a call let through before the breaker opened: the probe decides
        if self._failures >= self._breaker_failures:
            self._open(now, error, f"{self._failures} calls in a row failed")

    def _open(self, now: float, error: YunxinError, why: str) -> None:
        self._open_until = now + self._cooldown
        self._open_trace = error.trace_id
        self._probe = None
        log.warning(
            "Yunxin (%s): %s (the last: %s); the circuit breaker is open: no call for %g s",
            self._name,
            why,
            error.kind,
            self._cooldown,
        )

    async def rate_limited(self, call: CallTicket, error: YunxinError) -> None:
        self.note_answered()
        self.pause(self._pause_seconds, error.trace_id)

    def pause(self, seconds: float, trace_id: str | None) -> None:
        """No call goes for `seconds` (from now), as after a 416 to the call `trace_id`."""
        if seconds <= 0:
            return
        if self._paused_until <= self._clock():
            # The refused call's trace ID is in the lookup's own warning.
            log.warning("Yunxin (%s) answered 416: no call to it for %g s", self._name, seconds)
        self._paused_until = self._clock() + seconds
        self._pause_trace = trace_id

    def status(self) -> GateStatus:
        now, wall = self._clock(), self._wall()
        paused = wall + (self._paused_until - now) if self._paused_until > now else None
        if self._open_until is None:
            return GateStatus(paused, "closed", None, self._failures)
        if now < self._open_until:
            return GateStatus(paused, "open", wall + (self._open_until - now), self._failures)
        return GateStatus(paused, "half_open", None, self._failures)


class BudgetGate(LocalGate):
    """A budget alone: no pause, no breaker (a client given only a budget, as in tests and tools)."""

    def __init__(self, budget: Budget) -> None:
        super().__init__(budget)
