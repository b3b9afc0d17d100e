"""The gate in one process (REDIS_URL unset): the pause after a 416 and the circuit breaker, on their own
and through the client, and the sliding-window budget the shared state and its fallback share keep."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from bot.settings import Settings
from bot.slack.render.yunxin_text import error_summary, error_text
from bot.yunxin.budget import CallTicket, LocalGate, SlidingWindowBudget
from bot.yunxin.client import YunxinClient
from bot.yunxin.errors import ADVICE, BreakerOpen, CallsPaused, RateLimited, Unavailable
from bot.yunxin.ids import parse_ids
from bot.yunxin.service import Lookups
from tests.factories import bot_settings, yunxin_app


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def gate(clock: FakeClock, **options: float) -> LocalGate:
    values = {"pause_seconds": 10.0, "breaker_failures": 3, "cooldown_seconds": 30.0, **options}
    return LocalGate(
        None,
        pause_seconds=values["pause_seconds"],
        breaker_failures=int(values["breaker_failures"]),
        cooldown_seconds=values["cooldown_seconds"],
        probe_lease_seconds=16.0,
        clock=clock,
        wall_clock=clock,
    )


async def test_a_416_pauses_every_call_for_the_pause_with_the_refused_calls_trace() -> None:
    clock = FakeClock()
    local = gate(clock)
    call = CallTicket()
    await local.admit(call, 1.0)
    await local.rate_limited(call, RateLimited("code 416: freq", trace_id="t-416", code=416))
    clock.now += 2.5
    with pytest.raises(CallsPaused) as paused:
        await local.admit(CallTicket(), 1.0)
    assert paused.value.seconds == 8 and paused.value.trace_id == "t-416"
    assert local.status().paused_until == pytest.approx(clock.now + 7.5)
    clock.now += 7.6
    await local.admit(CallTicket(), 1.0)
    assert local.status().paused_until is None


async def test_a_pause_of_zero_never_pauses() -> None:
    local = gate(FakeClock(), pause_seconds=0)
    call = CallTicket()
    await local.rate_limited(call, RateLimited("code 416", trace_id="t", code=416))
    await local.admit(CallTicket(), 1.0)


async def test_the_breaker_opens_after_a_run_lets_one_probe_through_and_closes_on_its_answer() -> None:
    clock = FakeClock()
    local = gate(clock)
    for n in range(3):
        call = CallTicket()
        await local.admit(call, 1.0)
        await local.failed(call, Unavailable("HTTP 500", trace_id=f"t-{n}"))
    with pytest.raises(BreakerOpen) as refused:
        await local.admit(CallTicket(), 1.0)
    assert refused.value.seconds == 30 and refused.value.trace_id == "t-2"
    assert local.status().breaker == "open"
    clock.now += 30
    probe, other = CallTicket(), CallTicket()
    await local.admit(probe, 1.0)
    assert probe.probe and local.status().breaker == "half_open"
    with pytest.raises(BreakerOpen):
        await local.admit(other, 1.0)
    await local.admit(probe, 1.0)  # the probe's own retry goes
    await local.answered(probe)
    await local.admit(other, 1.0)
    assert local.status().breaker == "closed"


async def test_a_failed_probe_opens_it_again_and_a_lost_probe_frees_its_place() -> None:
    clock = FakeClock()
    local = gate(clock, breaker_failures=1)
    call = CallTicket()
    await local.admit(call, 1.0)
    await local.failed(call, Unavailable("reset", trace_id="first"))
    clock.now += 30
    probe = CallTicket()
    await local.admit(probe, 1.0)
    await local.failed(probe, Unavailable("reset", trace_id="probe"))
    with pytest.raises(BreakerOpen) as refused:
        await local.admit(CallTicket(), 1.0)
    assert refused.value.trace_id == "probe"
    clock.now += 30
    lost = CallTicket()
    await local.admit(lost, 1.0)  # never reports
    clock.now += 17  # past its lease
    late = CallTicket()
    await local.admit(late, 1.0)
    assert late.probe


async def test_failures_far_apart_are_not_a_run() -> None:
    clock = FakeClock()
    local = gate(clock, breaker_failures=2)
    for _ in range(3):
        call = CallTicket()
        await local.admit(call, 1.0)
        await local.failed(call, Unavailable("down", trace_id="t"))
        clock.now += 61
    await local.admit(CallTicket(), 1.0)


def test_the_sliding_window_holds_its_limit_in_any_window() -> None:
    clock = FakeClock()
    budget = SlidingWindowBudget(limit=3, window=1.0, clock=clock)
    starts = []
    for step in range(30):
        clock.now += 0.13 * (step % 4)
        starts.append(clock.now + budget.reserve())
    starts.sort()
    for i, first in enumerate(starts):
        assert sum(1 for t in starts[i:] if t < first + 1.0) <= 3


@pytest.mark.parametrize(
    ("rate", "processes", "limit", "window"), [(50, 2, 25, 1.25), (5, 3, 1, 1.25), (1, 2, 1, 2.25)]
)
def test_each_processes_share(rate: float, processes: int, limit: int, window: float) -> None:
    share = SlidingWindowBudget.share(rate, processes)
    assert (share.limit, share.window) == (limit, pytest.approx(window))
    assert share.limit * processes / share.window <= rate


def test_the_messages_read_right() -> None:
    paused = CallsPaused(7.2, trace_id="0b6a3c1e")
    text = error_text(paused, 200)
    assert "*Yunxin is rate limiting this app; paused for 8 s*" in text
    assert "Trace ID to quote: `0b6a3c1e`" in text and ADVICE["paused"] in text
    assert error_summary(paused) == "Yunxin is rate limiting this app; paused for 8 s (trace `0b6a3c1e`)"
    assert str(paused).startswith("Yunxin is rate limiting this app; paused for 8 s: Yunxin answered 416")
    opened = BreakerOpen(29.5, trace_id="t-last", failures=5)
    text = error_text(opened, 200)
    assert "*Yunxin has not been answering; the bot stopped calling it for 30 s*" in text
    assert "5 calls in a row failed" in text and "`t-last`" in text


# --- through the client and the environments --------------------------------------------------------


def settings(**values: object) -> Settings:
    return bot_settings(
        yunxin_app_key="gate-app-key", yunxin_app_secret="gate-app-secret", yunxin_backup_base_url="none", **values
    )


def lookups_over(answer: httpx.MockTransport, **values: object) -> tuple[Lookups, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answer.handler(request)  # type: ignore[no-any-return]

    made = settings(**values)
    return Lookups.from_settings(made, transports={"default": httpx.MockTransport(record)}), sent


def envelope(code: int) -> httpx.MockTransport:
    body = {"code": code, "msg": "api freq control" if code == 416 else "x", "data": {}}
    return httpx.MockTransport(lambda request: httpx.Response(200, json=body))


async def test_after_a_416_the_next_lookups_are_answered_at_once_without_calling_yunxin() -> None:
    lookups, sent = lookups_over(envelope(416))
    try:
        first = await lookups.lookup(parse_ids(["alice|1|bob"]))
        refused_trace = first.chunk_failures[0].error.trace_id
        started = time.perf_counter()
        later = await lookups.lookup(parse_ids(["carol|1|dave"]))
        assert time.perf_counter() - started < 0.1
    finally:
        await lookups.aclose()
    assert len(sent) == 1
    (failure,) = later.chunk_failures
    assert isinstance(failure.error, CallsPaused)
    assert failure.error.trace_id == refused_trace
    assert failure.error.title == "Yunxin is rate limiting this app; paused for 10 s"
    assert lookups.gate_status()["default"].paused_until is not None


async def test_after_a_run_of_failures_lookups_fail_fast_with_the_last_trace() -> None:
    lookups, sent = lookups_over(httpx.MockTransport(lambda request: httpx.Response(500)), yunxin_breaker_failures=2)
    try:
        failed = [await lookups.lookup(parse_ids([f"user{n}|1|bob"])) for n in range(2)]
        started = time.perf_counter()
        fast = await lookups.lookup(parse_ids(["user9|1|bob"]))
        assert time.perf_counter() - started < 0.1
    finally:
        await lookups.aclose()
    assert len(sent) == 2
    (failure,) = fast.chunk_failures
    assert isinstance(failure.error, BreakerOpen)
    assert failure.error.trace_id == failed[-1].chunk_failures[0].error.trace_id
    assert lookups.gate_status()["default"].breaker == "open"


async def test_environments_of_one_appkey_share_one_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, key in (("PROD", "same-key"), ("PROD_EU", "same-key"), ("STAGING", "other-key")):
        monkeypatch.setenv(f"YUNXIN_{name}_APP_KEY", key)
        monkeypatch.setenv(f"YUNXIN_{name}_APP_SECRET", "secret")
    lookups = Lookups.from_settings(bot_settings(yunxin_environments="prod,prod_eu,staging"))
    try:
        gates = {name: lookups._client(name).gate for name in lookups.names}
    finally:
        await lookups.aclose()
    assert gates["prod"] is gates["prod_eu"] and gates["prod"] is not gates["staging"]
    assert set(lookups.gate_status()) == {"prod", "prod_eu", "staging"}


async def test_a_client_with_only_a_budget_never_pauses_or_opens() -> None:
    client = YunxinClient(yunxin_app(), transport=envelope(416), budget=SlidingWindowBudget(100))
    try:
        for _ in range(3):
            result = await client.get_conversations(parse_ids(["alice|1|bob"]))
            assert isinstance(result.chunk_failures[0].error, RateLimited)
            assert not isinstance(result.chunk_failures[0].error, CallsPaused)
    finally:
        await client.aclose()


async def test_the_wait_for_the_budget_ends_at_the_lookups_deadline() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"code": 200, "data": {}}))
    client = YunxinClient(
        yunxin_app(), transport=transport, budget=SlidingWindowBudget(1, window=60.0), deadline_seconds=0.3
    )
    try:
        await client.get_conversations(parse_ids(["alice|1|bob"]))
        async with asyncio.timeout(2):
            second = await client.get_conversations(parse_ids(["carol|1|bob"]))
    finally:
        await client.aclose()
    assert second.chunk_failures and second.chunk_failures[0].error.kind == "timeout"
