"""Redis down, slow, or back: every operation is answered by the fallbacks within the timeout, one warning per
outage and one line when it is back, and the state is shared again without anyone's help."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.shared import open_shared_state
from bot.shared.errors import Unreachable
from bot.shared.state import SharedState, describe
from bot.yunxin.errors import CallsPaused, RateLimited
from tests.factories import bot_settings
from tests.shared.helpers import replica_gates, shared_states, ticket
from tests.shared.valkey import Valkey

LOGGER = "bot.shared.state"
# Hang guards.
RECOVERY_LIMIT_SECONDS = 5.0


def outage_lines(caplog: pytest.LogCaptureFixture) -> tuple[list[str], list[str]]:
    messages = [record.getMessage() for record in caplog.records if record.name == LOGGER]
    return [m for m in messages if "is not answering" in m], [m for m in messages if "answers again" in m]


async def until(condition: object, limit: float = RECOVERY_LIMIT_SECONDS) -> None:
    async with asyncio.timeout(limit):
        while not condition():  # type: ignore[operator]  # noqa: ASYNC110 (state another task changes)
            await asyncio.sleep(0.05)


async def test_redis_down_at_start_starts_degraded_then_shares_once_it_is_up(
    own_valkey: Valkey, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.shared")
    await own_valkey.kill_async()
    settings = bot_settings(redis_url=own_valkey.url, redis_key_prefix=prefix)
    state = await open_shared_state(settings)
    assert state is not None
    try:
        assert state.degraded and state.outages == 1
        with pytest.raises(Unreachable):
            await state.run(lambda client: client.ping())
        await own_valkey.start_async()
        await until(lambda: not state.degraded)
        assert await state.run(lambda client: client.ping())
    finally:
        await state.aclose()
    down, back = outage_lines(caplog)
    assert len(down) == 1 and len(back) == 1
    assert "redis://127.0.0.1" in down[0] and "answers again after" in back[0]


async def test_killed_mid_burst_every_call_is_let_through_then_shared_again(
    own_valkey: Valkey, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.shared")
    options = {"timeout": 0.1, "processes": 2, "recheck_seconds": 0.2}
    async with replica_gates(own_valkey.url, prefix, 2, state_options=options, yunxin_max_calls_per_second=20) as gates:
        for index in range(10):
            await gates[index % 2].admit(ticket(), 1.0)
        await own_valkey.kill_async()
        started = time.monotonic()
        for index in range(10):  # the share: 10 a second each, so none of these waits
            await gates[index % 2].admit(ticket(), 1.0)
        assert time.monotonic() - started < 1.0
        assert all(gate._state.degraded for gate in gates)
        await own_valkey.start_async()
        await until(lambda: not any(gate._state.degraded for gate in gates))
        # What each replica let through alone is in the shared window again.
        await until(lambda: own_valkey.client().llen(f"{prefix}:yunxin:{{fleet-app-key}}:window") >= 10)
        call = ticket()
        await gates[0].admit(call, 1.0)
        await gates[0].rate_limited(call, RateLimited("code 416", trace_id="after", code=416))
        with pytest.raises(CallsPaused):  # shared again: the other replica is paused too
            await gates[1].admit(ticket(), 1.0)
        assert [gate._state.outages for gate in gates] == [1, 1]
    down, back = outage_lines(caplog)
    assert len(down) == 2 and len(back) == 2  # one of each per replica


async def test_a_slow_redis_costs_each_call_at_most_the_timeout_then_none(
    valkey_server: Valkey, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.shared")
    async with replica_gates(valkey_server.url, prefix, 1, state_options={"timeout": 0.1, "recheck_seconds": 0.2}) as (
        gate,
    ):
        await gate.admit(ticket(), 1.0)
        client = valkey_server.client()
        client.execute_command("CLIENT", "PAUSE", "2500", "ALL")
        client.close()
        waits = []
        for _ in range(6):
            started = time.monotonic()
            await gate.admit(ticket(), 1.0)
            waits.append(time.monotonic() - started)
        # Each of the first three: the timeout, then once more for five times as long (its answer may just
        # be late); the third in a row makes an outage: degraded, so nobody asks any more.
        assert all(wait < 0.9 for wait in waits[:3])
        assert all(wait < 0.05 for wait in waits[3:])
        assert gate._state.degraded
        await until(lambda: not gate._state.degraded)
    down, back = outage_lines(caplog)
    assert len(down) == 1 and len(back) == 1


async def test_a_unix_socket_url_works(valkey_server: Valkey, prefix: str) -> None:
    async with replica_gates(valkey_server.unix_url, prefix, 1) as (gate,):
        await gate.admit(ticket(), 1.0)
        assert not gate._state.degraded
    assert valkey_server.keys(f"{prefix}:*")


async def test_while_down_each_replica_spends_only_its_share(own_valkey: Valkey, prefix: str) -> None:
    await own_valkey.kill_async()
    async with replica_gates(
        own_valkey.url, prefix, 1, state_options={"processes": 3}, yunxin_max_calls_per_second=30
    ) as (gate,):
        let_go = []
        started = time.monotonic()
        for _ in range(11):
            await gate.admit(ticket(), 5.0)
            let_go.append(time.monotonic() - started)
    assert sum(1 for t in let_go if t < 0.5) == 10  # 30 / 3 a second for this one
    assert let_go[-1] >= 1.0


def test_the_url_shown_never_has_the_password() -> None:
    assert describe("redis://:s3cret@redis.internal:6380/2") == "redis://redis.internal:6380/2"
    assert describe("rediss://user:s3cret@cache.example.com") == "rediss://cache.example.com"
    assert describe("unix:///run/redis/redis.sock?db=1") == "unix:///run/redis/redis.sock"
    assert "s3cret" not in repr(SharedState("redis://:s3cret@127.0.0.1:1/0"))


async def test_closing_a_degraded_state_ends_its_checks(own_valkey: Valkey, prefix: str) -> None:
    await own_valkey.kill_async()
    async with shared_states(own_valkey.url, prefix, 1, recheck_seconds=0.05) as (state,):
        with pytest.raises(Unreachable):
            await state.run(lambda client: client.ping())
        assert state.degraded
    await asyncio.sleep(0.2)  # nothing left running to complain after the close
