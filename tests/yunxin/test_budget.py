"""The call budget: a token bucket whose waits respect the rate and the burst."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.yunxin.budget import BUDGET_TICK_SECONDS, CallBudget


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_goes_at_once_then_calls_follow_at_the_rate_on_ticks() -> None:
    clock = FakeClock()
    budget = CallBudget(rate=10, burst=3, clock=clock)  # tokens every 0.1 s; ticks 0.2 s apart (burst - 1)
    waits = [budget.reserve() for _ in range(6)]
    assert waits == pytest.approx([0, 0, 0, 0.2, 0.2, 0.4])


def test_the_bucket_refills_while_idle_but_never_beyond_the_burst() -> None:
    clock = FakeClock()
    budget = CallBudget(rate=10, burst=3, clock=clock)
    for _ in range(3):
        budget.reserve()
    clock.now += 60  # a long quiet spell refills only up to the burst
    assert [budget.reserve() for _ in range(4)] == pytest.approx([0, 0, 0, 0.2])


def test_partial_refill() -> None:
    clock = FakeClock()
    budget = CallBudget(rate=10, burst=2, clock=clock)
    assert [budget.reserve() for _ in range(2)] == pytest.approx([0, 0])
    clock.now += 0.1  # one token back
    assert [budget.reserve() for _ in range(2)] == pytest.approx([0, 0.1])


@pytest.mark.parametrize(("rate", "burst"), [(1, 1), (5, 1), (50, 10), (100, 4), (7.5, 3)])
def test_no_window_admits_more_than_burst_plus_rate_times_its_length(rate: float, burst: int) -> None:
    clock = FakeClock()
    budget = CallBudget(rate=rate, burst=burst, clock=clock)
    starts: list[float] = []
    # Callers arrive in uneven clumps; each call starts when its wait is over.
    for step in range(40):
        clock.now += 0.37 * (step % 3) / rate
        for _ in range(step % 4 + 1):
            starts.append(clock.now + budget.reserve())
    starts.sort()
    for i, first in enumerate(starts):
        for j in range(i, len(starts)):
            window = starts[j] - first
            assert j - i + 1 <= burst + rate * window + 1e-9


def test_default_burst_is_one_seconds_worth_and_at_least_one() -> None:
    fifty, half = CallBudget(rate=50, clock=FakeClock()), CallBudget(rate=0.5, clock=FakeClock())
    assert [fifty.reserve() == 0 for _ in range(52)] == [True] * 50 + [False] * 2
    assert [half.reserve() == 0 for _ in range(2)] == [True, False]
    assert CallBudget(rate=50).rate == pytest.approx(50)


@pytest.mark.parametrize("rate", [0, -1])
def test_rate_must_be_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        CallBudget(rate=rate)


@pytest.mark.parametrize("burst", [0, -3])
def test_burst_must_be_at_least_one(burst: int) -> None:
    with pytest.raises(ValueError, match="burst"):
        CallBudget(rate=10, burst=burst)


async def test_acquire_waits_the_reserved_time() -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    budget = CallBudget(rate=4, burst=1, clock=FakeClock(), sleep=fake_sleep)
    await budget.acquire()
    await budget.acquire()
    assert slept == pytest.approx([0.25])


# --- waiting calls go together, on ticks --------------------------------------------------------------

arrivals = st.lists(
    st.tuples(st.floats(min_value=0, max_value=0.5), st.integers(min_value=1, max_value=30)), min_size=1, max_size=40
)


def starts_of(budget: CallBudget, clock: FakeClock, clumps: list[tuple[float, int]]) -> list[float]:
    """When each call goes, for clumps of callers arriving `gap` seconds after the clump before."""
    starts: list[float] = []
    for gap, callers in clumps:
        clock.now += gap
        starts.extend(clock.now + budget.reserve() for _ in range(callers))
    return sorted(starts)


@settings(max_examples=300, deadline=None)
@given(rate=st.sampled_from([1, 5, 7.5, 10, 50, 100]), burst=st.integers(min_value=1, max_value=60), clumps=arrivals)
def test_every_call_spends_a_token_the_bucket_holds_when_it_goes(
    rate: float, burst: int, clumps: list[tuple[float, int]]
) -> None:
    # A bucket of `burst` tokens, refilled at `rate`, full at the start: no call may go while it is empty.
    clock = FakeClock()
    level, last = float(burst), clock.now
    for start in starts_of(CallBudget(rate=rate, burst=burst, clock=clock), clock, clumps):
        level = min(float(burst), level + (start - last) * rate) - 1
        last = start
        assert level >= -1e-6


@settings(max_examples=300, deadline=None)
@given(rate=st.sampled_from([1, 5, 7.5, 10, 50, 100]), burst=st.integers(min_value=1, max_value=60), clumps=arrivals)
def test_with_ticks_no_window_admits_more_than_burst_plus_rate_times_its_length(
    rate: float, burst: int, clumps: list[tuple[float, int]]
) -> None:
    clock = FakeClock()
    starts = starts_of(CallBudget(rate=rate, burst=burst, clock=clock), clock, clumps)
    for i, first in enumerate(starts):
        for j in range(i, len(starts)):
            assert j - i + 1 <= burst + rate * (starts[j] - first) + 1e-6


def test_calls_that_wait_go_together_on_ticks_and_never_more_than_a_burst_at_once() -> None:
    clock = FakeClock()
    budget = CallBudget(rate=50, clock=clock)  # the default: 50 at once, then the rest on ticks
    waits = [budget.reserve() for _ in range(200)]
    assert waits[:50] == [0] * 50
    ticks = sorted({round(wait, 6) for wait in waits[50:]})
    assert all(round(tick / BUDGET_TICK_SECONDS, 6).is_integer() for tick in ticks)
    assert max(waits.count(wait) for wait in waits[50:]) <= BUDGET_TICK_SECONDS * 50 + 1
    # Each waits at most a tick longer than its token's time: the tokens come 20 ms apart.
    late = [wait - (index - 49) / 50 for index, wait in enumerate(waits) if index >= 50]
    assert all(0 <= by < BUDGET_TICK_SECONDS + 1e-9 for by in late)


def test_a_burst_of_one_has_no_ticks_and_spaces_every_call() -> None:
    clock = FakeClock()
    budget = CallBudget(rate=4, burst=1, clock=clock)
    assert [budget.reserve() for _ in range(4)] == pytest.approx([0, 0.25, 0.5, 0.75])
