"""What the Home remembers between requests: per environment the last good and the last failed Yunxin call
(calls the gate answered without calling Yunxin are no calls) and the call rate; per person, when their
Home was last published and what it showed."""

from __future__ import annotations

from bot.slack.activity import HOME_REPUBLISH_SECONDS, RATE_WINDOW_SECONDS, Activity, CallRate, Publications
from bot.yunxin.errors import BreakerOpen, CallsPaused, Timeout
from bot.yunxin.models import ChunkFailure, LookupResult


class Clock:
    def __init__(self, now: float = 1_780_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def result(*traces: str, failures: tuple[ChunkFailure, ...] = (), environment: str = "prod") -> LookupResult:
    return LookupResult(
        requested=["alice|1|bob"], trace_ids=list(traces), chunk_failures=list(failures), environment=environment
    )


def test_the_last_good_and_the_last_failed_call_are_kept_with_time_and_trace() -> None:
    clock = Clock()
    activity = Activity(clock)
    activity.saw(result("t-good-1"))
    clock.now += 5
    timeout = Timeout("no answer", trace_id="t-failed")
    activity.saw(result("t-failed", failures=(ChunkFailure(("alice|1|bob",), timeout),)))
    clock.now += 5
    activity.saw(result("t-good-2"))

    good, failed, rate = activity.of("prod")
    assert good is not None and (good.trace_id, good.at) == ("t-good-2", clock.now)
    assert failed is not None and (failed.trace_id, failed.at, failed.failure) == (
        "t-failed",
        clock.now - 5,
        "Yunxin did not answer in time",
    )
    assert rate == CallRate(3, 1)
    assert activity.of("staging") == (None, None, CallRate(0, 0))


def test_a_lookup_of_several_answered_calls_counts_each_and_keeps_its_last_as_the_last_good() -> None:
    clock = Clock()
    activity = Activity(clock)
    activity.saw(result("t-1", "t-2", "t-3"))
    good, failed, rate = activity.of("prod")
    assert good is not None and (good.trace_id, good.at, good.failure) == ("t-3", clock.now, None)
    assert failed is None
    assert rate == CallRate(3, 3)


def test_calls_the_gate_never_made_are_neither_counted_nor_failed_calls() -> None:
    activity = Activity(Clock())
    paused = CallsPaused(8, trace_id="t-416")
    opened = BreakerOpen(20, trace_id="t-last-failed", failures=5)
    for error in (paused, opened):
        activity.saw(result(str(error.trace_id), failures=(ChunkFailure(("alice|1|bob",), error),)))
    assert activity.of("prod") == (None, None, CallRate(0, 0))


def test_a_lookup_without_calls_or_environment_changes_nothing() -> None:
    activity = Activity(Clock())
    activity.saw(None)
    activity.saw(result())  # only malformed IDs: no call
    activity.saw(LookupResult(requested=["a|1|b"], trace_ids=["t"], environment=None))
    assert activity.of("prod") == (None, None, CallRate(0, 0))


def test_the_rate_counts_the_last_minute_and_its_busiest_second() -> None:
    clock = Clock()
    activity = Activity(clock)
    for _ in range(4):
        activity.saw(result("a", "b"))  # two calls at once, four times in one second
    clock.now += 10
    activity.saw(result("c"))
    assert activity.of("prod")[2] == CallRate(9, 8)
    clock.now += RATE_WINDOW_SECONDS - 5
    assert activity.of("prod")[2] == CallRate(1, 1)


def test_a_home_is_published_again_only_when_it_changed_or_its_time_came() -> None:
    clock = Clock(100.0)
    published = Publications(clock)
    assert published.claim("U1", "a")
    assert not published.claim("U1", "a")  # the same Home, moments later
    assert published.claim("U2", "a")  # someone else's
    assert published.claim("U1", "b")  # what it shows changed
    clock.now += HOME_REPUBLISH_SECONDS - 1
    assert not published.claim("U1", "b")
    clock.now += 1
    assert published.claim("U1", "b")  # refreshed once a minute
    published.release("U1")  # the publish failed: the next visit tries again
    assert published.claim("U1", "b")
