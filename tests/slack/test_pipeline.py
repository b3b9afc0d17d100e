"""One lookup from after the ack to the last reply, through the whole app: access, Yunxin, the answer, the
record. Yunxin's failures each become one reply with the trace ID to quote, every request writes one
audit line, and `--env` picks among several Yunxin apps; the help's examples answer in sandbox mode."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from starlette.responses import JSONResponse

from bot.slack.actions import REFRESH_ACTION, LookupRequest
from bot.slack.pipeline import EXAMPLE_IDS, SANDBOX_EXAMPLE_IDS
from bot.yunxin.ids import ConversationId, parse_ids
from bot.yunxin.sandbox import SAMPLE_CONVERSATIONS
from tests.harness import (
    BOB,
    BOT_TOKEN,
    GUEST,
    HANG,
    MEMBER,
    SECOND_MEMBER,
    SIGNING_SECRET,
    TEAM,
    TEAM_CHAT,
    UNKNOWN,
    Bot,
    BotFactory,
)
from tests.messages import all_shown, button_value, shown

# --- Yunxin failing ---------------------------------------------------------------------------------


async def still_serving(bot: Bot) -> None:
    assert (await bot.get("/healthz")).status_code == 200
    answer = await (await bot.command(BOB)).reply()
    assert "*1* found" in shown(answer)


YUNXIN_FAILURES = [
    # Yunxin's code, its message, how many calls fail (a JSON code is never retried), what the reply says
    (416, "api freq control", 1, "rate limiting"),
    (503, "server busy", 1, "unavailable"),
    (414, "checksum", 1, "rejected the app's credentials"),
]


async def test_a_yunxin_failure_is_one_reply_with_what_failed_and_the_trace_id(
    start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # No pause after the 416, so that the next command reaches Yunxin (tests/faults has the pause's own test).
    async with start_bot(yunxin_rate_limit_pause_seconds=0) as bot:
        for code, msg, times, said in YUNXIN_FAILURES:
            calls_before = len(bot.yunxin.calls)
            bot.yunxin.fail_next(code, msg, times=times)
            sent = await bot.command(BOB)
            (reply,) = await sent.replies()
            await still_serving(bot)

            text = shown(reply)
            assert said in text, code
            assert bot.yunxin.trace_ids[calls_before + times - 1] in text  # the last attempt's trace ID
            assert "Traceback" not in text
            assert len(bot.slack.posts(sent.response_url)) == 1
    assert not [record for record in caplog.records if record.exc_info]


async def test_a_yunxin_that_does_not_answer_by_the_deadline_is_one_reply(start_bot: BotFactory) -> None:
    async with start_bot(yunxin_deadline_seconds=0.2) as bot:
        bot.yunxin.queue(HANG)
        sent = await bot.command(BOB)
        (reply,) = await sent.replies()
        await still_serving(bot)
    text = shown(reply)
    assert "did not answer in time" in text
    assert bot.yunxin.trace_ids[0] in text
    assert len(bot.slack.posts(sent.response_url)) == 1


async def test_a_failing_response_url_is_logged_with_the_trace_ids(
    bot: Bot, audit: AuditLog, caplog: pytest.LogCaptureFixture
) -> None:
    bot.slack.fail_response_urls(500)
    sent = await bot.command(BOB)
    assert sent.delivery.status == 200
    (line,) = await audit.lines(1)
    bot.slack.fail_response_urls(None)
    await still_serving(bot)

    trace_id = bot.yunxin.trace_ids[0]
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert any("500" in message and trace_id in message for message in errors)
    assert not [record for record in caplog.records if record.exc_info]
    assert line["outcome"] == "reply_failed"


# --- audit ------------------------------------------------------------------------------------------


class AuditLog:
    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self._caplog = caplog

    def records(self) -> list[logging.LogRecord]:
        return [record for record in self._caplog.records if record.name == "bot.audit"]

    async def lines(self, count: int = 1) -> list[dict[str, Any]]:
        """Wait until `count` audit lines are logged (a command writes its line when it is done)."""
        for _ in range(1000):
            records = self.records()
            if len(records) >= count:
                return [json.loads(record.getMessage()) for record in records]
            await asyncio.sleep(0.01)
        raise AssertionError(f"fewer than {count} audit lines were logged")


@pytest.fixture
def audit(caplog: pytest.LogCaptureFixture) -> AuditLog:
    caplog.set_level(logging.INFO, logger="bot.audit")
    return AuditLog(caplog)


async def test_each_command_and_share_writes_one_json_audit_line(bot: Bot, audit: AuditLog) -> None:
    answer = await (await bot.command(f"{BOB} {UNKNOWN} not-an-id", channel="C0AUDIT")).reply()
    await audit.lines(1)
    await (await bot.click_share(answer, user=SECOND_MEMBER)).reply()
    command, share = await audit.lines(2)

    assert command["event"] == "command" and share["event"] == "share"
    assert (command["user"], command["team"], command["channel"]) == (MEMBER, TEAM, "C0AUDIT")
    assert share["user"] == SECOND_MEMBER
    assert command["ids"] == [BOB, UNKNOWN, "not-an-id"]
    assert command["counts"] == {"found": 1, "failed": 1, "malformed": 1, "unanswered": 0}
    assert command["outcome"] == "partial"
    assert command["trace_ids"] == bot.yunxin.trace_ids[:1]
    assert isinstance(command["latency_ms"], float)
    assert len(audit.records()) == 2


async def test_the_audit_holds_no_secret_and_no_message_text(bot: Bot, audit: AuditLog) -> None:
    await (await bot.command(f"{BOB} {TEAM_CHAT}")).reply()
    (line,) = await audit.lines(1)
    written = audit.records()[0].getMessage()
    assert line["outcome"] == "ok"
    for secret in (BOT_TOKEN, SIGNING_SECRET, "sandbox-app-secret"):
        assert secret not in written
    assert "release notes" not in written and "Deploy done" not in written


async def test_refused_and_failed_commands_are_audited_with_their_outcome(bot: Bot, audit: AuditLog) -> None:
    await (await bot.command(BOB, user=GUEST)).reply()
    bot.yunxin.fail_next(414, "checksum")
    await (await bot.command(BOB)).reply()
    refused, failed = await audit.lines(2)
    assert (refused["user"], refused["outcome"]) == (GUEST, "refused")
    assert refused["trace_ids"] == []
    assert failed["outcome"] == "upstream_error"
    assert failed["trace_ids"] == bot.yunxin.trace_ids


async def test_an_id_yunxin_leaves_out_of_its_answer_is_reported_and_audited_as_partial(
    bot: Bot, audit: AuditLog
) -> None:
    empty = {"success_list": [], "failed_list": []}
    bot.yunxin.queue(lambda: JSONResponse({"code": 200, "msg": "success", "data": empty}))
    answer = await (await bot.command(BOB)).reply()
    (line,) = await audit.lines(1)
    assert "*1* unanswered" in shown(answer) and BOB in shown(answer)
    assert line["outcome"] == "partial"
    assert line["counts"]["unanswered"] == 1


async def test_commands_that_look_nothing_up_are_audited_too(start_bot: BotFactory, audit: AuditLog) -> None:
    async with start_bot(max_ids_per_command=2) as bot:
        await bot.command("help")
        await bot.command("a|1|b c|1|d e|1|f")
        help_line, too_many = await audit.lines(2)
    assert (help_line["event"], help_line["outcome"], help_line["ids"]) == ("command", "help", [])
    assert (too_many["outcome"], too_many["ids"]) == ("too_many_ids", ["a|1|b", "c|1|d", "e|1|f"])
    assert bot.yunxin.calls == []


# --- several Yunxin environments ----------------------------------------------------------------


async def test_an_unknown_environment_shows_usage_naming_the_known_ones(bot: Bot) -> None:
    sent = await bot.command(f"--env staging {BOB}")
    note = shown(await sent.reply())
    assert "unknown environment 'staging'" in note and "sandbox" in note
    assert bot.yunxin.calls == []


@pytest.fixture
def two_sandboxes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BLUE", "GREEN"):
        monkeypatch.setenv(f"YUNXIN_{name}_SANDBOX", "true")
    monkeypatch.setenv("YUNXIN_GREEN_ALLOWED_USER_IDS", "U0SOMEONEELSE")


async def test_env_picks_the_environment_and_every_answer_names_it(start_bot: BotFactory, two_sandboxes: None) -> None:
    async with start_bot(yunxin_environments=["blue", "green"]) as bot:
        default = await (await bot.command(BOB)).reply()
        assert "environment `blue`" in shown(default)
        answer = await (await bot.command(f"--env blue {BOB}")).reply()
        assert "environment `blue`" in shown(answer)
        assert LookupRequest.decode(button_value(answer, REFRESH_ACTION)).environment == "blue"
        refused = await (await bot.command(f"--env green {BOB}")).reply()
        assert "green environment" in shown(refused)
        unknown = await (await bot.command(f"--env purple {BOB}")).reply()
        assert "purple" in all_shown([unknown]) and "blue, green" in all_shown([unknown])


# --- the help's examples: in sandbox mode, conversations the sandbox holds, so trying one shows an answer;
# the product keeps its own copy of them instead of importing the sample data


def test_the_sandbox_examples_are_sample_conversations() -> None:
    assert set(SANDBOX_EXAMPLE_IDS) <= set(SAMPLE_CONVERSATIONS)


def test_every_example_is_a_valid_id() -> None:
    assert all(isinstance(parsed, ConversationId) for parsed in parse_ids([*EXAMPLE_IDS, *SANDBOX_EXAMPLE_IDS]))
