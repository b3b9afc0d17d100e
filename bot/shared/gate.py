"""The Yunxin gate of one app (AppKey), shared by every replica through Redis: the call budget (at most
YUNXIN_MAX_CALLS_PER_SECOND calls in any one-second window, fleet-wide), the pause after a 416, and the
circuit breaker with its one fleet-wide probe. See scripts.py for the keys and the scripts.

Before each attempt: one round trip (GATE). After a call: nothing when it was answered and nothing was
wrong before; one round trip (REPORT) after a failure, a 416, or an answer that closes the breaker.
While Redis is down every part falls back to this process's own LocalGate, whose budget is this
process's share (the budget divided by YUNXIN_FLEET_SIZE).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

from bot.settings import Settings, YunxinAppConfig
from bot.yunxin.budget import (
    FAILURE_MEMORY_SECONDS,
    CallGate,
    CallTicket,
    GateStatus,
    LocalGate,
    SlidingWindowBudget,
)
from bot.yunxin.errors import BreakerOpen, BudgetSpent, CallsPaused, YunxinError
from bot.yunxin.service import probe_lease_seconds

from . import scripts
from .errors import Unreachable
from .state import reply_items

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from .state import SharedState

log = logging.getLogger(__name__)


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


class SharedGate(CallGate):
    def __init__(self, state: SharedState, config: YunxinAppConfig, settings: Settings) -> None:
        self._state = state
        self._name = config.name
        tag = "{" + config.app_key + "}"  # one cluster slot for the app's keys
        self._keys = [state.key("yunxin", tag, part) for part in ("window", "pause", "breaker", "probe", "fails")]
        self._taken = state.key("yunxin", tag, "taken")
        self._told = state.key("yunxin", tag, "told")
        whole = SlidingWindowBudget.share(settings.yunxin_max_calls_per_second, 1)
        self._limit, self._window = whole.limit, whole.window
        self._threshold = settings.yunxin_breaker_failures
        self._cooldown = settings.yunxin_breaker_cooldown_seconds
        self._pause = settings.yunxin_rate_limit_pause_seconds
        self._lease = probe_lease_seconds(settings)
        self._share = SlidingWindowBudget.share(settings.yunxin_max_calls_per_second, state.processes)
        # The calls this process let go alone (Redis down), which Redis learns of when it is back.
        self._alone = SlidingWindowBudget(self._share.limit, self._share.window)
        self.fallback = LocalGate(
            self._share,
            name=config.name,
            pause_seconds=self._pause,
            breaker_failures=self._threshold,
            cooldown_seconds=self._cooldown,
            probe_lease_seconds=self._lease,
        )
        # What the last gate reply said, for status(): (monotonic time it ends, kind) or None.
        self._paused_until: float | None = None
        self._open_until: float | None = None
        self._half_open = False
        self._failures = 0
        state.on_recovery(self._hand_over)

    def __repr__(self) -> str:
        return f"SharedGate(name={self._name!r}, limit={self._limit}, window={self._window:g})"

    async def admit(self, call: CallTicket, max_wait: float) -> None:
        self.fallback.check_pause()  # a 416 this process could not tell Redis about
        args: list[str | int] = [self._limit, _ms(self._window), _ms(max_wait), call.token, _ms(self._lease)]
        keys = [*self._keys, f"{self._taken}:{secrets.token_hex(8)}"]  # this attempt's

        async def gate(client: aioredis.Redis) -> list[Any]:
            return reply_items(await self._state.gate_script(keys=keys, args=args, client=client))

        try:
            # Asked twice (after a timeout), the attempt's key gives the same start, never a second one.
            status, millis, extra = await self._state.run(gate)
        except Unreachable:
            await self.fallback.admit(call, max_wait)
            self._alone.note(time.monotonic())
            return
        now = time.monotonic()
        seconds = int(millis) / 1000
        if status in (scripts.GO, scripts.PROBE):
            call.probe = status == scripts.PROBE
            call.failures_seen = int(extra or 0)
            call.local = False
            self._paused_until = self._open_until = None
            self._half_open = call.probe
            self._failures = call.failures_seen
            self._share.note(now + seconds)  # should Redis go, this process's own share knows of it
            if seconds > 0:
                await asyncio.sleep(seconds)
            return
        trace = str(extra) or None
        if status == scripts.PAUSED:
            self._paused_until = now + seconds
            raise CallsPaused(seconds, trace_id=trace)
        if status == scripts.OPEN:
            self._open_until = now + seconds
            raise BreakerOpen(seconds, trace_id=trace, failures=self._threshold)
        # OVER: no room before the lookup's deadline; nothing was reserved. Wait as if queued, then say so.
        await asyncio.sleep(max_wait)
        raise BudgetSpent("the call budget had no room for this call before the lookup's deadline")

    async def answered(self, call: CallTicket) -> None:
        if call.local:
            self.fallback.note_answered()
            return
        if not call.probe and call.failures_seen == 0:
            return  # the happy path: nothing to reset, no round trip
        try:
            closed = await self._report("answered", call, None)
        except Unreachable:
            self.fallback.note_answered()
            return
        self._open_until, self._half_open, self._failures = None, False, 0
        if closed:
            log.warning("Yunxin (%s) answers again: the circuit breaker is closed for every replica", self._name)

    async def failed(self, call: CallTicket, error: YunxinError) -> None:
        if self._threshold <= 0:
            return
        if call.local:
            await self.fallback.failed(call, error)
            return
        try:
            opened = await self._report("failed", call, error.trace_id)
        except Unreachable:
            await self.fallback.failed(call, error)
            return
        if opened:
            self._open_until, self._half_open = time.monotonic() + self._cooldown, False
            why = "the probe call failed" if opened == 2 else f"{self._threshold} calls in a row failed"
            log.warning(
                "Yunxin (%s): %s (the last: %s); the circuit breaker is open for every replica: no call for %g s",
                self._name,
                why,
                error.kind,
                self._cooldown,
            )

    async def rate_limited(self, call: CallTicket, error: YunxinError) -> None:
        try:
            await self._report("limited", call, error.trace_id)
        except Unreachable:
            self.fallback.note_answered()
            self.fallback.pause(self._pause, error.trace_id)  # at least this process keeps away
            return
        if self._pause > 0:
            self._paused_until = time.monotonic() + self._pause
            log.warning("Yunxin (%s) answered 416: no replica calls it for %g s", self._name, self._pause)

    async def _report(self, outcome: str, call: CallTicket, trace_id: str | None) -> int:
        args: list[str | int] = [
            outcome,
            call.token,
            trace_id or "",
            self._threshold,
            _ms(self._cooldown),
            _ms(self._pause),
            _ms(FAILURE_MEMORY_SECONDS),
        ]

        async def report(client: aioredis.Redis) -> int:
            keys = [*self._keys[1:], f"{self._told}:{call.token}"]
            return int(await self._state.report_script(keys=keys, args=args, client=client))

        return await self._state.run(report)

    async def _hand_over(self) -> None:
        """Redis is back: the calls this process made from its share in the last window join the shared one."""
        ages = [_ms(age) for age in self._alone.recent()]
        if not ages:
            return
        args: list[str | int] = [self._limit, _ms(self._window), *ages]

        async def merge(client: aioredis.Redis) -> int:
            return int(await self._state.merge_script(keys=self._keys[:1], args=args, client=client))

        await self._state.run(merge)

    def status(self) -> GateStatus:
        if self._state.degraded:
            return self.fallback.status()
        now, wall = time.monotonic(), time.time()
        paused = wall + (self._paused_until - now) if self._paused_until and self._paused_until > now else None
        if self._open_until is not None and self._open_until > now:
            return GateStatus(paused, "open", wall + (self._open_until - now), self._failures)
        if self._open_until is not None or self._half_open:
            return GateStatus(paused, "half_open", None, self._failures)
        return GateStatus(paused, "closed", None, self._failures)
