"""/conversation and the Share button end to end: signed requests from the Slack stand-in through Bolt's
dispatch to the HTTP app on loopback, the Yunxin sandbox behind it, replies checked by the strict stand-in."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from starlette.responses import JSONResponse

from bot.slack.actions import SHARE_ACTION, LookupRequest
from bot.slack.listeners.payloads import parse_command_text
from bot.slack.render.kit import SANDBOX_LABEL
from bot.slack.render.limits import problems
from bot.yunxin.models import REDACTED
from bot.yunxin.sandbox import SAMPLE_CONVERSATIONS, SAMPLE_IDS
from tests.harness import (
    BOB,
    BOT_TOKEN,
    GUEST,
    HANG,
    MEMBER,
    SECOND_MEMBER,
    SIGNING_SECRET,
    TEAM,
    UNKNOWN,
    Bot,
    BotFactory,
    ScriptedYunxin,
)
from tests.harness import TEAM_CHAT as TEAM_WITH_CHANNEL_PING
from tests.messages import all_shown, button_value, shown

# --- parsing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "sandbox_alice|1|sandbox_bob sandbox_alice|2|8800000001",
        "sandbox_alice|1|sandbox_bob,sandbox_alice|2|8800000001",
        "sandbox_alice|1|sandbox_bob, sandbox_alice|2|8800000001",
        "sandbox_alice|1|sandbox_bob\nsandbox_alice|2|8800000001\n",
        "  `sandbox_alice|1|sandbox_bob`\r\n\tsandbox_alice|2|8800000001  ",
    ],
)
def test_ids_are_separated_by_spaces_commas_or_new_lines(text: str) -> None:
    parsed = parse_command_text(text)
    assert parsed.help_note is None
    assert parsed.ids == (BOB, TEAM_WITH_CHANNEL_PING)


@pytest.mark.parametrize("text", ["", "   ", "\n", "help", "HELP", "--help", "-h", "?"])
def test_empty_text_and_help_ask_for_usage(text: str) -> None:
    assert parse_command_text(text).help_note == ""


def test_an_unknown_option_asks_for_usage_with_a_note() -> None:
    assert parse_command_text(f"--verbose {BOB}").help_note == "Unknown option --verbose."


def test_env_option_names_the_environment() -> None:
    assert parse_command_text(f"--env Staging {BOB}").environment == "staging"
    assert parse_command_text(f"--env=prod {BOB}").ids == (BOB,)
    assert "needs an environment name" in str(parse_command_text("--env").help_note)


# --- the ack comes first ---------------------------------------------------------------------------


async def test_the_ack_is_sent_before_any_network_call(bot: Bot) -> None:
    start_up_calls = len(bot.slack.api_calls)
    sent = await bot.command(f"{BOB} {UNKNOWN}")
    await sent.reply()

    assert sent.delivery.status == 200 and not sent.delivery.timed_out
    assert "Looking up 2 conversations" in shown(sent.ack)
    (acked_at,) = bot.acks.sent
    later_api_calls = bot.slack.api_calls[start_up_calls:]
    assert [method for _, method, _ in later_api_calls] == ["users.info"]
    assert all(at >= acked_at for at, _, _ in later_api_calls)
    assert bot.yunxin.calls and all(call.at >= acked_at for call in bot.yunxin.calls)
    (first_post, *_) = bot.slack.timed_posts(sent.response_url)
    assert first_post.at >= acked_at


async def test_commands_at_the_same_moment_each_get_their_own_ack_and_answer(bot: Bot) -> None:
    ids = SAMPLE_IDS[:6]
    sent = await asyncio.gather(*(bot.command(conversation_id) for conversation_id in ids))
    answers = [await one.reply() for one in sent]

    assert [one.delivery.status for one in sent] == [200] * len(ids)
    assert not any(one.delivery.timed_out for one in sent)
    for conversation_id, answer in zip(ids, answers, strict=True):
        others = [other for other in ids if other != conversation_id]
        assert conversation_id in shown(answer)
        assert not [other for other in others if other in shown(answer)]
    assert len(bot.acks.sent) == len(ids)
    assert all(len(bot.slack.posts(one.response_url)) == 1 for one in sent)


async def test_auth_test_runs_once_at_start_up_and_never_on_a_request(bot: Bot) -> None:
    assert bot.api_methods() == ["auth.test"]
    for _ in range(3):
        await (await bot.command(BOB)).reply()
    assert bot.api_methods().count("auth.test") == 1


async def test_a_slow_yunxin_does_not_delay_the_ack(start_bot: BotFactory) -> None:
    async with start_bot(yunxin=ScriptedYunxin(latency_seconds=2.5)) as bot:
        sent = await bot.command(BOB)
        assert not sent.delivery.timed_out
        assert sent.delivery.status == 200
        assert "Looking up 1 conversation" in shown(sent.ack)
        assert BOB in shown(await sent.reply())


# --- help -------------------------------------------------------------------------------------------


async def test_empty_text_and_help_show_usage_with_an_example_and_call_nothing(bot: Bot) -> None:
    for text in ("", "help", "  help  "):
        sent = await bot.command(text)
        await bot.settle()

        assert sent.delivery.status == 200
        assert sent.ack["response_type"] == "ephemeral"
        usage = shown(sent.ack)
        assert "Usage:" in usage and "Example:" in usage
        assert SAMPLE_IDS[0] in usage  # in sandbox mode the example is a sample that answers
        assert SANDBOX_LABEL in usage
        assert problems(sent.ack) == []
        assert bot.slack.posts(sent.response_url) == []
    assert bot.api_methods() == ["auth.test"]
    assert bot.yunxin.calls == []


async def test_an_unknown_option_shows_usage_with_a_note(bot: Bot) -> None:
    sent = await bot.command(f"--all {BOB}")
    await bot.settle()

    usage = shown(sent.ack)
    assert "Unknown option --all." in usage and "Usage:" in usage
    assert bot.api_methods() == ["auth.test"]
    assert bot.yunxin.calls == []


async def test_an_unknown_environment_shows_usage_naming_the_known_ones(bot: Bot) -> None:
    sent = await bot.command(f"--env staging {BOB}")
    note = shown(await sent.reply())
    assert "unknown environment 'staging'" in note and "sandbox" in note
    assert bot.yunxin.calls == []


# --- the answer -------------------------------------------------------------------------------------


async def test_a_few_conversations_are_answered_in_sections_with_the_sandbox_label(bot: Bot) -> None:
    sent = await bot.command(f"{BOB}\n{TEAM_WITH_CHANNEL_PING}, {UNKNOWN}")
    (answer,) = await sent.replies()

    assert answer["response_type"] == "ephemeral"
    text = shown(answer)
    assert SANDBOX_LABEL in text
    assert "*2* found" in text and "*1* failed" in text
    assert "Hi Alice, the release notes for 4.2 are ready for review." in text
    assert "110404" in text and "conversation not exist" in text
    sections = [block for block in answer["blocks"] if block["type"] == "section"]
    assert any("fields" in block for block in sections)  # the detailed layout
    assert bot.slack.refused_posts(sent.response_url) == []


async def test_text_from_yunxin_is_escaped_so_it_cannot_notify_anyone(bot: Bot) -> None:
    answer = await (await bot.command(TEAM_WITH_CHANNEL_PING)).reply()
    text = shown(answer)
    assert "<!channel>" not in text and "<@U123>" not in text and "<b>" not in text
    assert "&lt;!channel&gt;" in text and "&lt;@U123&gt;" in text
    assert "R&amp;D sees errors &gt; 1%" in text


async def test_redact_message_text_hides_what_people_wrote(start_bot: BotFactory) -> None:
    async with start_bot(redact_message_text=True) as bot:
        answer = await (await bot.command(f"{BOB} {TEAM_WITH_CHANNEL_PING}")).reply()
    text = shown(answer)
    assert REDACTED in text
    assert "release notes" not in text and "Deploy done" not in text
    assert BOB in text and TEAM_WITH_CHANNEL_PING in text


async def test_malformed_ids_say_what_is_wrong_and_are_not_sent_to_yunxin(bot: Bot) -> None:
    answer = await (await bot.command(f"{BOB} alice|9|bob alice|2|notanumber justtext")).reply()
    text = shown(answer)
    assert "*3* malformed" in text
    for bad in ("alice|9|bob", "alice|2|notanumber", "justtext"):
        assert bad in text
    assert "the type must be 1 (one-to-one), 2 (team) or 3 (super team)" in text
    assert "a team target must be a numeric team ID" in text
    assert "expected owner|type|target" in text
    asked = bot.yunxin.calls[0].conversation_ids
    assert asked == BOB


async def test_three_hundred_ids_are_all_answered_in_at_most_five_posts(bot: Bot) -> None:
    known = list(SAMPLE_CONVERSATIONS)
    unknown = [f"sandbox_user{n:03d}|1|sandbox_peer{n:03d}" for n in range(300 - len(known))]
    ids = known + unknown
    sent = await bot.command(" ".join(ids))
    assert not sent.delivery.timed_out
    assert "Looking up 300 conversations" in shown(sent.ack)

    answers = await sent.replies(parts_announced(await sent.reply()))
    await bot.settle()

    assert len(answers) == len(bot.slack.posts(sent.response_url)) <= 5
    assert bot.slack.refused_posts(sent.response_url) == []
    text = all_shown(answers)
    assert [conversation_id for conversation_id in ids if conversation_id not in text] == []
    assert f"*{len(known)}* found" in text and f"*{len(unknown)}* failed" in text
    assert len(bot.yunxin.calls) == 3  # at most 100 IDs a call
    # Many conversations take the compact form: a line each, no per-conversation fields.
    assert not [block for answer in answers for block in answer["blocks"] if "fields" in block]


def parts_announced(first: dict[str, Any]) -> int:
    """How many messages an answer has: its first says "Part 1 of N" when it has more than one."""
    for block in first["blocks"]:
        for element in block.get("elements", []) if block["type"] == "context" else []:
            words = element.get("text", "").split()
            if words[:1] == ["Part"]:
                return int(words[-1])
    return 1


async def test_more_ids_than_allowed_get_a_clear_message_and_no_lookup(start_bot: BotFactory) -> None:
    async with start_bot(max_ids_per_command=3) as bot:
        sent = await bot.command(" ".join(SAMPLE_IDS[:4]))
        await bot.settle()
    text = shown(sent.ack)
    assert "4 IDs" in text and "at most 3" in text
    assert bot.api_methods() == ["auth.test"]
    assert bot.yunxin.calls == []
    assert bot.slack.posts(sent.response_url) == []


# --- the Share button -------------------------------------------------------------------------------


async def test_share_posts_the_lookup_again_in_the_channel(bot: Bot) -> None:
    answer = await (await bot.command(f"{BOB} {UNKNOWN}")).reply()
    assert LookupRequest.decode(button_value(answer, SHARE_ACTION)).ids == (BOB, UNKNOWN)
    calls_before = len(bot.yunxin.calls)

    click = await bot.click_share(answer, user=SECOND_MEMBER)
    assert click.delivery.status == 200 and not click.delivery.timed_out
    shared = await click.reply()

    assert shared["response_type"] == "in_channel"
    text = shown(shared)
    assert BOB in text and UNKNOWN in text
    assert f"<@{SECOND_MEMBER}>" in text
    assert len(bot.yunxin.calls) > calls_before  # looked up again, not copied
    assert [block["action_id"] for block in _buttons(shared)] != [SHARE_ACTION]
    assert SHARE_ACTION not in [element["action_id"] for element in _buttons(shared)]


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [element for block in message["blocks"] if block["type"] == "actions" for element in block["elements"]]


async def test_a_guest_clicking_share_is_refused_and_nothing_is_looked_up(bot: Bot) -> None:
    answer = await (await bot.command(BOB)).reply()
    calls_before = len(bot.yunxin.calls)

    refusal = await (await bot.click_share(answer, user=GUEST)).reply()

    assert refusal.get("response_type", "ephemeral") == "ephemeral"
    assert "guest" in shown(refusal)
    assert len(bot.yunxin.calls) == calls_before


async def test_a_share_button_with_a_tampered_value_is_answered_not_crashed(bot: Bot) -> None:
    answer = await (await bot.command(BOB)).reply()
    for block in answer["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            element["value"] = "not json"
    calls_before = len(bot.yunxin.calls)
    note = await (await bot.click_share(answer)).reply()
    assert "out of date" in shown(note)
    assert len(bot.yunxin.calls) == calls_before


# --- errors -----------------------------------------------------------------------------------------


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
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
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
    await (await bot.command(f"{BOB} {TEAM_WITH_CHANNEL_PING}")).reply()
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
