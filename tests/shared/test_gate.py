"""The shared Yunxin gate against a real Valkey: replicas (each with its own connection) spend one budget,
see one pause after a 416, and one breaker that opens for all and lets exactly one probe through."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.yunxin.errors import BreakerOpen, BudgetSpent, CallsPaused, RateLimited, Timeout, Unavailable
from tests.shared.helpers import APP_KEY, APP_SECRET, replica_gates, ticket
from tests.shared.valkey import Valkey

WINDOW = 1.0


def busiest_window(times: list[float], window: float = WINDOW) -> int:
    """The most of `times` that fall in any half-open window [t, t + window)."""
    ordered = sorted(times)
    best = 0
    for i, start in enumerate(ordered):
        best = max(best, sum(1 for t in ordered[i:] if t < start + window))
    return best


async def test_the_budget_holds_for_every_replica_in_any_one_second_window(valkey_server: Valkey, prefix: str) -> None:
    rate = 10
    async with replica_gates(valkey_server.url, prefix, 3, yunxin_max_calls_per_second=rate) as gates:
        let_go: list[float] = []

        async def one(index: int) -> None:
            await gates[index % 3].admit(ticket(), max_wait=10.0)
            let_go.append(time.monotonic())

        started = time.monotonic()
        async with asyncio.timeout(10):
            await asyncio.gather(*(one(i) for i in range(3 * rate)))
    assert len(let_go) == 3 * rate  # everyone waited, nobody failed
    assert busiest_window(let_go) <= rate
    assert time.monotonic() - started >= 2 * WINDOW  # 30 calls at 10 a second: two full windows of waiting
    assert sum(1 for t in let_go if t - started < 0.5) == rate  # the first second's worth went at once


async def test_no_room_before_the_deadline_waits_until_it_then_says_so_and_reserves_nothing(
    valkey_server: Valkey, prefix: str
) -> None:
    async with replica_gates(valkey_server.url, prefix, 2, yunxin_max_calls_per_second=2) as (one, other):
        await one.admit(ticket(), 1.0)
        await other.admit(ticket(), 1.0)
        started = time.monotonic()
        with pytest.raises(BudgetSpent) as spent:
            await one.admit(ticket(), max_wait=0.2)
        assert 0.18 <= time.monotonic() - started < 0.6
        assert isinstance(spent.value, Timeout) and "budget" in spent.value.detail
        started = time.monotonic()
        await other.admit(ticket(), max_wait=5.0)  # the refused call took no place: this one is the third
        assert time.monotonic() - started < 1.2


async def test_a_416_pauses_every_replica_with_the_refused_calls_trace_id(valkey_server: Valkey, prefix: str) -> None:
    async with replica_gates(valkey_server.url, prefix, 3, yunxin_rate_limit_pause_seconds=0.6) as gates:
        call = ticket()
        await gates[0].admit(call, 1.0)
        await gates[0].rate_limited(call, RateLimited("code 416: freq", trace_id="trace-416", code=416))
        for gate in gates:
            with pytest.raises(CallsPaused) as paused:
                await gate.admit(ticket(), 1.0)
            assert paused.value.trace_id == "trace-416"
            assert paused.value.title == "Yunxin is rate limiting this app; paused for 1 s"
            assert gate.status().paused_until is not None
        await asyncio.sleep(0.7)
        for gate in gates:
            await gate.admit(ticket(), 1.0)


async def test_the_breaker_opens_for_everyone_and_exactly_one_probe_closes_it(
    valkey_server: Valkey, prefix: str
) -> None:
    settings = {"yunxin_breaker_failures": 3, "yunxin_breaker_cooldown_seconds": 0.5}
    async with replica_gates(valkey_server.url, prefix, 3, **settings) as gates:
        for index, gate in enumerate(gates):  # one failure from each replica: a run of three
            call = ticket()
            await gate.admit(call, 1.0)
            await gate.failed(call, Unavailable("HTTP 500", trace_id=f"trace-{index}"))
        for gate in gates:
            with pytest.raises(BreakerOpen) as refused:
                await gate.admit(ticket(), 1.0)
            assert refused.value.trace_id == "trace-2"  # the last failure's
            assert refused.value.title == "Yunxin has not been answering; the bot stopped calling it for 1 s"
            assert gate.status().breaker == "open"
        await asyncio.sleep(0.6)
        calls = [ticket() for _ in range(6)]
        outcomes = await asyncio.gather(
            *(gates[i % 3].admit(call, 1.0) for i, call in enumerate(calls)), return_exceptions=True
        )
        probes = [call for call, outcome in zip(calls, outcomes, strict=True) if outcome is None]
        assert len(probes) == 1 and probes[0].probe
        assert all(isinstance(outcome, BreakerOpen) for outcome in outcomes if outcome is not None)
        (probe,) = probes
        holder = gates[calls.index(probe) % 3]
        await holder.answered(probe)
        for gate in gates:
            call = ticket()
            await gate.admit(call, 1.0)
            assert not call.probe and call.failures_seen == 0


async def test_a_failed_probe_opens_the_breaker_again(valkey_server: Valkey, prefix: str) -> None:
    settings = {"yunxin_breaker_failures": 1, "yunxin_breaker_cooldown_seconds": 0.3}
    async with replica_gates(valkey_server.url, prefix, 2, **settings) as (one, other):
        call = ticket()
        await one.admit(call, 1.0)
        await one.failed(call, Timeout("no answer", trace_id="first"))
        await asyncio.sleep(0.4)
        probe = ticket()
        await other.admit(probe, 1.0)
        assert probe.probe
        await other.failed(probe, Timeout("no answer", trace_id="probe"))
        with pytest.raises(BreakerOpen) as refused:
            await one.admit(ticket(), 1.0)
        assert refused.value.trace_id == "probe"


async def test_a_success_between_failures_ends_the_run(valkey_server: Valkey, prefix: str) -> None:
    async with replica_gates(valkey_server.url, prefix, 2, yunxin_breaker_failures=3) as (one, other):
        for gate in (one, other):
            call = ticket()
            await gate.admit(call, 1.0)
            await gate.failed(call, Unavailable("reset", trace_id="x"))
        call = ticket()
        await one.admit(call, 1.0)
        assert call.failures_seen == 2  # so its success is told
        await one.answered(call)
        for gate in (one, other):
            call = ticket()
            await gate.admit(call, 1.0)
            await gate.failed(call, Unavailable("reset", trace_id="y"))
        await one.admit(ticket(), 1.0)  # two in a row, not four: still closed


async def test_the_keys_are_the_appkeys_and_hold_no_secret(valkey_server: Valkey, prefix: str) -> None:
    async with replica_gates(valkey_server.url, prefix, 1, yunxin_breaker_failures=1) as (gate,):
        call = ticket()
        await gate.admit(call, 1.0)
        await gate.failed(call, Unavailable("down", trace_id="t"))
        keys = valkey_server.keys(f"{prefix}:*")
        client = valkey_server.client()
        values = [client.dump(key) or b"" for key in keys]
        client.close()
    assert keys and all(key.startswith(f"{prefix}:yunxin:{{{APP_KEY}}}:") for key in keys)
    assert not any(APP_SECRET.encode() in value for value in values)


async def test_the_scripts_load_again_after_the_server_forgot_them(valkey_server: Valkey, prefix: str) -> None:
    async with replica_gates(valkey_server.url, prefix, 1) as (gate,):
        await gate.admit(ticket(), 1.0)
        client = valkey_server.client()
        client.script_flush()
        client.close()
        await gate.admit(ticket(), 1.0)
        assert not gate._state.degraded


async def test_one_gate_call_is_one_round_trip_well_under_a_millisecond(valkey_server: Valkey, prefix: str) -> None:
    async with replica_gates(valkey_server.url, prefix, 1, yunxin_max_calls_per_second=1000) as (gate,):
        await gate.admit(ticket(), 1.0)
        started = time.perf_counter()
        for _ in range(200):
            await gate.admit(ticket(), 1.0)
        per_call = (time.perf_counter() - started) / 200
    assert per_call < 0.005  # a loose bound for a busy CI machine; the bench measures it
