"""The bot's calls to Yunxin under a burst of commands, counted where Yunxin would count them.

Identical lookups in flight at once share one call; distinct ones are spread by the process-wide budget so
that no second at Yunxin holds more than the rate plus the burst the budget lets go at once.
"""

from __future__ import annotations

import asyncio
import bisect

from bot.yunxin.budget import CallBudget
from tests.harness import BOB, BotFactory, ScriptedYunxin, eventually
from tests.messages import shown

BURST_COMMANDS = 20


async def test_identical_commands_in_a_burst_share_one_yunxin_call(
    start_bot: BotFactory, yunxin: ScriptedYunxin, yunxin_url: str
) -> None:
    yunxin.gate = asyncio.Event()  # Yunxin holds its answers until every lookup is waiting on one
    async with start_bot(yunxin_url=yunxin_url) as bot:
        sent = await asyncio.gather(*(bot.command(BOB) for _ in range(BURST_COMMANDS)))
        assert all(not s.delivery.timed_out and s.delivery.status == 200 for s in sent)

        async def all_waiting() -> bool:
            return bool(yunxin.calls) and await bot.in_flight() == BURST_COMMANDS

        await eventually(all_waiting)
        yunxin.gate.set()
        answers = await asyncio.gather(*(bot.only_answer(s) for s in sent))
    assert len(yunxin.calls) == 1
    assert all("*1* found" in shown(answer) for answer in answers)
    assert len({shown(answer) for answer in answers}) == 1


async def test_distinct_commands_in_a_burst_never_exceed_the_budget_in_any_second_at_yunxin(
    start_bot: BotFactory, yunxin: ScriptedYunxin, yunxin_url: str
) -> None:
    rate = 5
    burst = CallBudget(rate).burst  # the default the bot runs with
    async with start_bot(yunxin_url=yunxin_url, yunxin_max_calls_per_second=rate) as bot:
        sent = await asyncio.gather(*(bot.command(f"user{n}|1|sandbox_bob") for n in range(BURST_COMMANDS)))
        assert all(not s.delivery.timed_out and s.delivery.status == 200 for s in sent)
        await eventually(lambda: len(yunxin.calls) == BURST_COMMANDS)
        answers = await asyncio.gather(*(bot.only_answer(s) for s in sent))
    assert all("*1* failed" in shown(answer) for answer in answers)  # answered: not found, as the sandbox says
    arrivals = sorted(call.at for call in yunxin.calls)
    busiest = max(bisect.bisect_left(arrivals, start + 1.0) - index for index, start in enumerate(arrivals))
    assert busiest <= rate + burst
