"""Three processes of the Procfile's web: line sharing one Valkey behave as one bot: one call budget at
Yunxin, one pause after a 416, one circuit breaker with one probe, one replay guard and one users.info
cache; and with Valkey killed mid-burst every command is still answered, shared again once it is back."""

from __future__ import annotations

import asyncio
import time

import pytest

from .fleet import RATE, USERS, Fleet, distinct_ids, no_traceback, send_all

pytestmark = pytest.mark.asyncio(loop_scope="module")  # one fleet for the module (conftest's same_fleet)
RUNS_A_SECOND = 1.0


async def test_a_burst_spread_over_the_fleet_keeps_to_one_budget_at_yunxin_and_loses_nothing(same_fleet: Fleet) -> None:
    fleet = same_fleet
    sent = await send_all(fleet, distinct_ids("burst", 4 * RATE))
    assert all(s.status == 200 and s.ack_seconds < 3 for s in sent)
    answers = await asyncio.gather(*(fleet.answer(s) for s in sent))
    assert all("*1* failed" in text and "unanswered" not in text for text in answers)  # answered: not found
    arrivals = sorted(a.at for a in await fleet.yunxin.arrivals())
    assert len(arrivals) == 4 * RATE
    assert {s.replica for s in sent} == {0, 1, 2}
    assert await fleet.yunxin.busiest_second() <= RATE
    assert arrivals[-1] - arrivals[0] >= 3 * RUNS_A_SECOND  # 40 calls at 10 a second: waited, not refused
    assert no_traceback(fleet)


async def test_a_416_pauses_every_replica_and_each_answers_at_once_with_the_refused_calls_trace(
    same_fleet: Fleet,
) -> None:
    fleet = same_fleet
    await fleet.yunxin.control(limit_next=1)
    first = await fleet.command(distinct_ids("limited", 1)[0], replica=0)
    assert "Yunxin is rate limiting this app" in await fleet.answer(first)
    (refused,) = await fleet.yunxin.arrivals()
    later = [await fleet.command(text, replica=n) for n, text in enumerate(distinct_ids("paused", 3))]
    texts = [await fleet.answer(s) for s in later]
    for text in texts:
        assert "Yunxin is rate limiting this app; paused for" in text
        assert refused.trace_id in text
    assert max([await fleet.answered_within(s) for s in later]) < 1.0  # at once, not after a call
    assert len(await fleet.yunxin.arrivals()) == 1  # nobody called Yunxin during the pause
    await asyncio.sleep(2.2)
    after = await fleet.command(distinct_ids("after", 1)[0], replica=2)
    assert "*1* failed" in await fleet.answer(after)
    assert len(await fleet.yunxin.arrivals()) == 2


async def test_yunxin_down_opens_the_breaker_for_all_and_one_probe_closes_it(same_fleet: Fleet) -> None:
    fleet = same_fleet
    await fleet.yunxin.control(down=True)
    for n, text in enumerate(distinct_ids("down", 3)):  # one failure on each replica: a run of three
        assert "Yunxin is unavailable" in await fleet.answer(await fleet.command(text, replica=n))
    last_failure = (await fleet.yunxin.arrivals())[-1].trace_id
    fast = [await fleet.command(text, replica=n) for n, text in enumerate(distinct_ids("open", 3))]
    for s in fast:
        text = await fleet.answer(s)
        assert "Yunxin has not been answering; the bot stopped calling it for" in text
        assert last_failure in text
        assert await fleet.answered_within(s) < 1.0
    assert len(await fleet.yunxin.arrivals()) == 3

    await asyncio.sleep(2.2)  # the cool-down
    await fleet.yunxin.control(down=False, hold=True)  # Yunxin holds the probe's answer while the others ask
    asked = await send_all(fleet, distinct_ids("probe", 3))
    async with asyncio.timeout(10):
        while len(await fleet.yunxin.arrivals()) < 4:  # noqa: ASYNC110 (another process)
            await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)
    assert len(await fleet.yunxin.arrivals()) == 4  # exactly one probe, fleet-wide
    await fleet.yunxin.control(hold=False)
    texts = [await fleet.answer(s) for s in asked]
    assert sum("*1* failed" in text for text in texts) == 1
    assert sum("Yunxin has not been answering" in text for text in texts) == 2
    closed = [await fleet.command(text, replica=n) for n, text in enumerate(distinct_ids("closed", 3))]
    assert all("*1* failed" in text for text in [await fleet.answer(s) for s in closed])
    assert "the circuit breaker is closed for every replica" in fleet.logs()


async def test_one_replay_guard_and_one_users_info_cache_for_the_fleet(same_fleet: Fleet) -> None:
    fleet = same_fleet
    from urllib.parse import urlencode

    from bot.standins.slack import Origin, deliver, slash_command_form

    origin = Origin(USERS[3], "T0FLEET", "C0FLEET", fleet.slack.new_response_url(), None)
    body = urlencode(slash_command_form(origin, text=distinct_ids("replay", 1)[0])).encode()
    when = int(time.time())
    first = await deliver(fleet.replicas[0].events, "fleet-signing-secret-6b1e", body, timestamp=when)
    again = [
        await deliver(replica.events, "fleet-signing-secret-6b1e", body, timestamp=when) for replica in fleet.replicas
    ]
    assert first.status == 200
    assert [d.status for d in again] == [401, 401, 401]
    await fleet.slack.wait_for_posts(origin.response_url, 1, timeout=10)
    await asyncio.sleep(0.3)
    assert len(fleet.slack.posts(origin.response_url)) == 1

    # One after another: the cache is shared, not concurrent misses on three replicas coalesced.
    for n, text in enumerate(distinct_ids("who", 3)):
        await fleet.answer(await fleet.command(text, replica=n, user=USERS[4]))
    looked_up = [params.get("user") for _, method, params in fleet.slack.api_calls if method == "users.info"]
    assert looked_up.count(USERS[4]) == 1
