"""Slack misbehaving, seen through the whole app: response_urls that refuse replies, and users.info (the
access check) rate limited or failing. The ack is on time, the failure is told to the caller when it can
be and logged with the Yunxin trace ID when it cannot, and the bot stays healthy for the next command.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.harness import BOB, QUIET_SECONDS, Bot, ScriptedYunxin, eventually
from tests.messages import shown


async def good_command_answered(bot: Bot) -> bool:
    return "*1* found" in shown(await bot.only_answer(await bot.command(BOB), listen_on=False))


@pytest.mark.parametrize("status", [404, 500])
async def test_a_response_url_refusing_the_answer_is_logged_with_the_trace_id_and_the_bot_carries_on(
    status: int, wired_bot: Bot, yunxin: ScriptedYunxin, caplog: pytest.LogCaptureFixture
) -> None:
    wired_bot.slack.fail_response_urls(status)
    sent = await wired_bot.command(BOB)
    assert not sent.delivery.timed_out and sent.delivery.status == 200

    def refusals() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.levelno >= logging.ERROR and "response_url" in r.getMessage()]

    await eventually(refusals)
    await asyncio.sleep(QUIET_SECONDS)  # a second reply attempt would be logged by now
    (trace,) = yunxin.trace_ids
    refused = refusals()
    assert len(refused) == 1
    assert trace in refused[0].getMessage() and str(status) in refused[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]  # logged, not crashed
    assert wired_bot.slack.posts(sent.response_url) == []
    assert await wired_bot.healthy()
    wired_bot.slack.fail_response_urls(None)
    assert await good_command_answered(wired_bot)


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ({"status": 429, "retry_after": 7}, "Slack is rate limiting the access check (users.info); try again in 7 s"),
        ({"error": "internal_error"}, "Slack answered internal_error to users.info"),
        ({"status": 500, "error": "internal_error"}, "users.info"),
    ],
    ids=["rate limited", "an error", "HTTP 500"],
)
async def test_a_failing_access_check_tells_the_caller_and_asks_yunxin_nothing(
    fault: dict[str, object], says: str, wired_bot: Bot, yunxin: ScriptedYunxin
) -> None:
    wired_bot.slack.fail_method("users.info", times=1, **fault)  # type: ignore[arg-type]
    answer = await wired_bot.only_answer(await wired_bot.command(BOB))
    text = shown(answer)
    assert "Couldn't check your access" in text
    assert says in text
    assert yunxin.calls == []
    assert await wired_bot.healthy()
    assert await good_command_answered(wired_bot)  # a failure is not cached: the next command checks again
