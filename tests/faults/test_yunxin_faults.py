"""Yunxin misbehaving, seen through the whole app: a signed /conversation over HTTP, the bot's real transport
to a Yunxin on loopback. Each time the ack is on time, exactly one answer comes, it says what failed and
shows the trace ID of the failed call (the one logged too), and the bot stays healthy for the next command.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.harness import (
    BOB,
    HANG,
    Bot,
    BotFactory,
    Fault,
    ScriptedYunxin,
    envelope,
    html_page,
    http_status,
)
from tests.loopback import LateHost
from tests.messages import shown, shown_trace_ids

from .proxy import DroppingProxy


@dataclass(frozen=True)
class Case:
    faults: list[Fault]
    says: list[str]  # what the answer must say, in the bot's words
    calls: int  # Yunxin calls the command makes (retries included)
    settings: dict[str, Any]


CASES: dict[str, Case] = {
    "HTTP 500 with an HTML page": Case([lambda: html_page(500)], ["Yunxin is unavailable", "HTTP 500"], 1, {}),
    "HTTP 200 with an HTML body": Case(
        [lambda: html_page(200)], ["Yunxin sent an answer the bot cannot read", "not JSON"], 1, {}
    ),
    "code 414, checksum": Case(
        [lambda: envelope(414, "checksum")], ["Yunxin rejected the app's credentials", "code 414"], 1, {}
    ),
    "code 414, parameter": Case(
        [lambda: envelope(414, "parameter error")], ["Yunxin rejected the request", "code 414"], 1, {}
    ),
    # Never retried: calling again only lengthens Yunxin's block. Without the pause that follows a 416, the
    # next command reaches Yunxin at once (the pause has a test of its own, below).
    "code 416": Case(
        [lambda: envelope(416, "frequency control")],
        ["Yunxin is rate limiting this app"],
        1,
        {"yunxin_rate_limit_pause_seconds": 0},
    ),
    "code 503": Case([lambda: envelope(503, "server busy")], ["Yunxin is unavailable", "code 503"], 1, {}),
    # HTTP 503 is worth one retry on the same host (there is no backup here).
    "HTTP 503": Case([lambda: http_status(503)] * 2, ["Yunxin is unavailable", "HTTP 503"], 2, {}),
    "slower than the deadline": Case(
        [HANG], ["Yunxin did not answer in time", "0.5 s deadline"], 1, {"yunxin_deadline_seconds": 0.5}
    ),
}


def logged_with(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and text in r.getMessage()]


async def answers_a_good_command(bot: Bot) -> bool:
    answer = await bot.only_answer(await bot.command(BOB), listen_on=False)
    return "*1* found" in shown(answer) and not shown_trace_ids(answer)


@pytest.mark.parametrize("name", list(CASES))
async def test_a_yunxin_fault_gets_one_clear_answer_with_its_trace_id(
    name: str,
    start_bot: BotFactory,
    yunxin: ScriptedYunxin,
    yunxin_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = CASES[name]
    for fault in case.faults:
        yunxin.queue(fault)
    async with start_bot(yunxin_url=yunxin_url, **case.settings) as bot:
        answer = await bot.only_answer(await bot.command(BOB))
        text = shown(answer)
        for words in case.says:
            assert words in text
        assert len(yunxin.calls) == case.calls
        # The trace ID shown is the last attempt's, the one Yunxin's support can find; the log has it too.
        assert set(shown_trace_ids(answer)) == {yunxin.trace_ids[-1]}
        assert len(logged_with(caplog, yunxin.trace_ids[-1])) == 1
        assert await bot.healthy()
        assert await answers_a_good_command(bot)


async def test_after_a_416_no_call_goes_to_yunxin_until_the_pause_is_over(
    start_bot: BotFactory, yunxin: ScriptedYunxin, yunxin_url: str
) -> None:
    pause = 1.0
    yunxin.queue(lambda: envelope(416, "frequency control"))
    async with start_bot(yunxin_url=yunxin_url, yunxin_rate_limit_pause_seconds=pause) as bot:
        limited = await bot.only_answer(await bot.command(BOB), listen_on=False)
        paused_at = time.monotonic()
        (trace,) = set(shown_trace_ids(limited))
        assert trace == yunxin.trace_ids[-1]
        # Within the pause a command is answered at once, quoting the refused call's trace ID, and Yunxin is
        # not called.
        paused = await bot.only_answer(await bot.command(BOB))
        assert "Yunxin is rate limiting this app; paused for 1 s" in shown(paused)
        assert set(shown_trace_ids(paused)) == {trace}
        assert len(yunxin.calls) == 1
        assert await bot.healthy()
        await asyncio.sleep(max(0.0, pause - (time.monotonic() - paused_at)) + 0.1)
        assert await answers_a_good_command(bot)
        assert len(yunxin.calls) == 2


@pytest.mark.parametrize("drop", ["reset", "close"])
async def test_a_connection_dropped_after_the_request_is_retried_once_then_answered_as_unavailable(
    drop: str, start_bot: BotFactory, yunxin_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with DroppingProxy(yunxin_url) as proxy, start_bot(yunxin_url=proxy.url) as bot:
        proxy.drop = drop
        answer = await bot.only_answer(await bot.command(BOB))
        text = shown(answer)
        assert "Yunxin is unavailable" in text
        assert "the connection was reset" in text
        assert len(proxy.dropped_traces) == 2  # the first try and one retry
        assert set(shown_trace_ids(answer)) == {proxy.dropped_traces[-1]}
        assert len(logged_with(caplog, proxy.dropped_traces[-1])) == 1
        assert await bot.healthy()
        proxy.drop = None
        assert await answers_a_good_command(bot)


async def test_the_primary_host_down_the_backup_answers(
    start_bot: BotFactory,
    yunxin: ScriptedYunxin,
    yunxin_url: str,
    late_hosts: Callable[[], LateHost],
    caplog: pytest.LogCaptureFixture,
) -> None:
    primary = late_hosts()
    async with start_bot(yunxin_url=primary.url, yunxin_backup_base_url=yunxin_url) as bot:
        answer = await bot.only_answer(await bot.command(BOB))
        assert "*1* found" in shown(answer)
        assert not shown_trace_ids(answer)  # nothing failed for the reader
        assert len(yunxin.calls) == 1  # the backup, after the primary refused (twice: try and retry)
        assert logged_with(caplog, "primary host unreachable; the backup")
        assert await bot.healthy()
        assert await answers_a_good_command(bot)


async def test_both_hosts_down_gets_one_answer_naming_both_then_the_bot_recovers(
    start_bot: BotFactory,
    yunxin: ScriptedYunxin,
    late_hosts: Callable[[], LateHost],
    caplog: pytest.LogCaptureFixture,
) -> None:
    primary, backup = late_hosts(), late_hosts()
    async with start_bot(yunxin_url=primary.url, yunxin_backup_base_url=backup.url) as bot:
        answer = await bot.only_answer(await bot.command(BOB))
        text = shown(answer)
        assert "Yunxin is unavailable" in text
        assert "could not reach" in text and "connection refused" in text
        primary_host, backup_host = primary.url.removeprefix("http://"), backup.url.removeprefix("http://")
        assert primary_host in text and backup_host in text
        (trace,) = set(shown_trace_ids(answer))
        assert len(logged_with(caplog, trace)) == 1
        assert await bot.healthy()
        async with primary.up(yunxin):
            assert await answers_a_good_command(bot)
