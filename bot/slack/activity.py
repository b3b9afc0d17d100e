"""What the App Home shows of each Yunxin environment's recent calls, and when a person's Home was last
published.

`Activity.saw(result)` is the pipeline's record stage telling it about each lookup (one line there): per
environment, the last call Yunxin answered and the last that failed, each with its time and trace ID, and
when each call went, for the call rate. Calls the gate answered without calling Yunxin (paused after a
416, the breaker open) are no calls: they are neither counted nor remembered as failed calls.

`Publications` keeps, per person, what their Home last showed and when, so that a Home is re-published
at most once per `HOME_REPUBLISH_SECONDS` unless what it shows has changed.

Both are this process's own: with several replicas each knows the lookups it ran itself.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from bot.yunxin.errors import NOT_CALLED_KINDS
from bot.yunxin.models import LookupResult

# The call rate is read over this window (the Home shows the calls of the last minute and its busiest second).
RATE_WINDOW_SECONDS = 60.0
# A person's Home is published again for an unchanged state at most this often (it refreshes the call rate
# and the times shown); any change of what it shows publishes at once.
HOME_REPUBLISH_SECONDS = 60.0
# Bounds on what is remembered: calls within the window (Yunxin's limit is far below this per minute), people.
_CALLS_KEPT_MAX = 60_000
_PEOPLE_KEPT_MAX = 10_000


class SeenCall(NamedTuple):
    """One call as the Home shows it: when (wall clock, seconds) and its trace ID; a failed call's `failure` is
    its error's title (in English, as bot/yunxin writes it). A named tuple, immutable as a frozen dataclass,
    and made for every lookup at a quarter of the cost: the dataclass's __init__ sets each field through
    object.__setattr__."""

    at: float
    trace_id: str
    failure: str | None = None


@dataclass(frozen=True, slots=True)
class CallRate:
    """The calls of the last RATE_WINDOW_SECONDS, and the most in any one second of it."""

    calls: int
    busiest_second: int


@dataclass(slots=True)
class EnvironmentActivity:
    last_good: SeenCall | None = None
    last_failed: SeenCall | None = None
    _starts: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=_CALLS_KEPT_MAX))

    def rate(self, now: float) -> CallRate:
        while self._starts and self._starts[0] <= now - RATE_WINDOW_SECONDS:
            self._starts.popleft()
        per_second = collections.Counter(int(start) for start in self._starts)
        return CallRate(len(self._starts), max(per_second.values(), default=0))


class Activity:
    """Per environment, the last good and the last failed Yunxin call and the recent call times."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._environments: dict[str, EnvironmentActivity] = {}

    def saw(self, result: LookupResult | None) -> None:
        """Note the calls of one lookup (None: it made none)."""
        if result is None or not result.environment or not result.trace_ids:
            return
        now = self._clock()
        seen = self._environments.get(result.environment)
        if seen is None:  # made once per environment, not for every lookup as setdefault's argument
            seen = self._environments[result.environment] = EnvironmentActivity()
        if not result.chunk_failures:  # nearly every lookup: each of its calls answered
            seen._starts.extend([now] * len(result.trace_ids))
            seen.last_good = SeenCall(now, result.trace_ids[-1])
            return
        failed: dict[str, str] = {}
        not_called: set[str] = set()
        for failure in result.chunk_failures:
            trace = failure.error.trace_id
            if not trace:
                continue
            if failure.error.kind in NOT_CALLED_KINDS:
                not_called.add(trace)  # the trace of an earlier call, which that call's own lookup noted
            else:
                failed[trace] = failure.error.title
        for trace in result.trace_ids:
            if trace in not_called and trace not in failed:
                continue
            seen._starts.append(now)
            if trace in failed:
                seen.last_failed = SeenCall(now, trace, failed[trace])
            else:
                seen.last_good = SeenCall(now, trace)

    def of(self, environment: str) -> tuple[SeenCall | None, SeenCall | None, CallRate]:
        """The last good call, the last failed call and the call rate of `environment`."""
        seen = self._environments.get(environment)
        if seen is None:
            return None, None, CallRate(0, 0)
        return seen.last_good, seen.last_failed, seen.rate(self._clock())


class Publications:
    """When each person's Home was published, and a digest of what it showed."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: dict[str, tuple[str, float]] = {}

    def claim(self, user_id: str, digest: str) -> bool:
        """Whether to publish `user_id`'s Home showing `digest` now; True also takes the turn, so that two
        events at once publish once. Give it back with `release` when the publish failed."""
        now = self._clock()
        last = self._last.get(user_id)
        if last is not None and last[0] == digest and now - last[1] < HOME_REPUBLISH_SECONDS:
            return False
        if len(self._last) >= _PEOPLE_KEPT_MAX and user_id not in self._last:
            self._last.clear()
        self._last[user_id] = (digest, now)
        return True

    def release(self, user_id: str) -> None:
        self._last.pop(user_id, None)


@dataclass
class HomeState:
    """What the Home tab needs to remember between requests: the calls seen, and the Homes published."""

    activity: Activity = field(default_factory=Activity)
    published: Publications = field(default_factory=Publications)

    def saw(self, result: LookupResult | None) -> None:
        self.activity.saw(result)
