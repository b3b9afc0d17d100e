"""The client with its call budget: every attempt spends from it, shared calls spend once, and what the
metrics hook reports is the call itself, not the wait for the budget."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.settings import YunxinAppConfig
from bot.yunxin.client import YunxinClient
from bot.yunxin.ids import parse_ids
from tests.factories import yunxin_app

BOB = "alice|1|bob"


def config(backup: str | None = None) -> YunxinAppConfig:
    return yunxin_app(name="budget-test", backup_base_url=backup)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now


class CountingBudget:
    """Spends `wait` seconds of the fake clock per call, as a budget that had to queue it."""

    def __init__(self, clock: Clock, wait: float = 0.0) -> None:
        self.clock = clock
        self.wait = wait
        self.spent = 0

    async def acquire(self) -> None:
        self.spent += 1
        self.clock.now += self.wait


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"code": 200, "data": {"success_list": [], "failed_list": []}})


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_the_reported_duration_is_the_call_not_the_wait_for_the_budget(clock: Clock) -> None:
    budget = CountingBudget(clock, wait=5.0)  # queued 5 s behind a burst
    seen: list[tuple[str, float]] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        clock.now += 0.25  # Yunxin takes 250 ms
        return ok(request)

    transport = httpx.MockTransport(answer)
    client = YunxinClient(
        config(),
        transport=transport,
        budget=budget,
        clock=clock.perf_counter,
        on_call=lambda *r: seen.append(r),  # type: ignore[arg-type]
    )
    async with client:
        await client.get_conversations(parse_ids([BOB]))
    assert seen == [("200", pytest.approx(0.25))]


async def test_every_attempt_spends_from_the_budget_retries_and_failover_included(clock: Clock) -> None:
    budget = CountingBudget(clock)
    answers = iter([httpx.Response(503), httpx.Response(503)])  # the primary twice, then the backup answers

    def answer(request: httpx.Request) -> httpx.Response:
        return next(answers, None) or ok(request)

    transport = httpx.MockTransport(answer)
    async with YunxinClient(
        config(backup="http://backup.yunxin.invalid"), transport=transport, budget=budget
    ) as client:  # type: ignore[arg-type]
        result = await client.get_conversations(parse_ids([BOB]))
    assert result.chunk_failures == []
    assert budget.spent == 3


async def test_identical_lookups_in_flight_spend_once(clock: Clock) -> None:
    budget = CountingBudget(clock)
    called, release = asyncio.Event(), asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        called.set()
        await release.wait()
        return ok(request)

    async with YunxinClient(config(), transport=httpx.MockTransport(answer), budget=budget) as client:  # type: ignore[arg-type]
        lookups = asyncio.gather(*(client.get_conversations(parse_ids([BOB])) for _ in range(10)))
        # All ten lookups join in one turn of the loop; the shared call starts in the next one.
        await called.wait()
        release.set()
        results = await lookups
    assert budget.spent == 1
    assert len({tuple(result.trace_ids) for result in results}) == 1


async def test_a_call_abandoned_at_the_lookups_deadline_is_counted_as_timed_out(clock: Clock) -> None:
    seen: list[tuple[str, float]] = []

    async def never(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    transport = httpx.MockTransport(never)
    client = YunxinClient(config(), transport=transport, deadline_seconds=0.05, on_call=lambda *r: seen.append(r))
    async with client:
        result = await client.get_conversations(parse_ids([BOB]))
    assert result.chunk_failures[0].error.kind == "timeout"
    assert [label for label, _ in seen] == ["timeout"]
