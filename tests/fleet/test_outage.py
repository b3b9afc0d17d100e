"""Valkey killed in the middle of a burst to three web processes: every command is still answered, each
replica spends its own share of the budget meanwhile, and once Valkey is back the fleet shares state again."""

from __future__ import annotations

import asyncio

from tests.shared.valkey import Valkey

from .fleet import RATE, Fleet, distinct_ids, no_traceback, send_all


async def test_valkey_killed_mid_burst_every_command_is_answered_then_the_fleet_shares_again(
    fleet: Fleet, fleet_valkey: Valkey
) -> None:
    texts = distinct_ids("outage", 3 * RATE)
    sent = await send_all(fleet, texts[:RATE])
    await asyncio.sleep(0.3)
    await fleet_valkey.kill_async()
    sent += await send_all(fleet, texts[RATE:])
    assert all(s.status == 200 and s.ack_seconds < 3 for s in sent)
    answers = await asyncio.gather(*(fleet.answer(s) for s in sent))
    assert all("*1* failed" in text and "unanswered" not in text for text in answers)
    assert len(await fleet.yunxin.arrivals()) == 3 * RATE
    # Each replica spends its share (10 a second / YUNXIN_FLEET_SIZE=3, so 3) while Valkey is away; the
    # shared calls it just made count against its share.
    assert await fleet.yunxin.busiest_second() <= RATE + 3
    assert fleet.logs().count("is not answering") == 3  # one warning per replica

    await fleet_valkey.start_async()
    async with asyncio.timeout(10):
        while fleet.logs().count("answers again") < 3:  # noqa: ASYNC110 (other processes)
            await asyncio.sleep(0.1)
    await fleet.yunxin.control(limit_next=1)  # shared again: a 416 on one replica pauses the others
    assert "rate limiting" in await fleet.answer(await fleet.command(distinct_ids("back", 1)[0], replica=0))
    paused = await fleet.command(distinct_ids("back-paused", 1)[0], replica=1)
    assert "paused for" in await fleet.answer(paused)
    assert no_traceback(fleet)
