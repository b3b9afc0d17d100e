"""Answers reach people, whatever Slack does with them, through the whole app and the strict Slack stand-in:
a long answer is tables within every limit; a Slack that refuses the tables gets the same answer as lists
(the refusal logged with the trace IDs, and counted); a response_url or users.info answering 429 is waited
out, and a person whose access check keeps meeting 429 is told so."""

from __future__ import annotations

import logging
import time

import pytest

from bot.slack.app import SLACK_RATE_LIMIT_RETRIES
from bot.slack.render.limits import has_table, problems
from tests.harness import BOB, MEMBER, UNKNOWN, Bot
from tests.messages import all_shown, shown
from tests.slack.render.test_table import table_rows, tables_of


def ids(count: int) -> list[str]:
    """`count` short IDs the sandbox does not hold (each answered as failed), after the one it holds."""
    return [BOB, *(f"u{n}|1|p{n}" for n in range(count - 1))]


async def test_forty_ids_are_answered_in_one_table(bot: Bot) -> None:
    asked = ids(40)
    sent = await bot.command(" ".join(asked))
    (answer,) = await sent.replies()
    assert problems(answer) == [] and has_table(answer)
    rows = table_rows([answer])
    assert [row[0] for row in rows] == asked
    assert rows[0][1] == "one-to-one" and rows[1][-1] == "✗ failed: 110404: conversation not exist"
    assert bot.slack.refused_posts(sent.response_url) == []


async def test_four_hundred_ids_are_answered_in_tables_within_five_posts(bot: Bot) -> None:
    asked = ids(400)
    sent = await bot.command(" ".join(asked))
    answers = await sent.whole_answer()
    assert len(bot.slack.posts(sent.response_url)) == len(answers) <= 5
    assert all(problems(answer) == [] and has_table(answer) for answer in answers)
    assert [row[0] for row in table_rows(answers)] == asked
    assert bot.slack.refused_posts(sent.response_url) == []


async def test_a_refused_table_is_sent_again_as_lists_logged_and_counted(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.slack.replies")
    bot.slack.refuse_messages()  # this Slack takes no table
    asked = ids(40)
    sent = await bot.command(" ".join(asked))
    (answer,) = await sent.replies()

    assert not has_table(answer) and problems(answer) == []
    text = shown(answer)
    assert all(f"`{conversation_id}`" in text for conversation_id in asked)
    assert "*1* found · *39* failed" in text
    (refused,) = bot.slack.refused_posts(sent.response_url)
    assert (refused.status, refused.error) == (400, "invalid_attachments")
    (line,) = [r.getMessage() for r in caplog.records if "refused an answer with a table" in r.getMessage()]
    assert all(trace in line for trace in bot.yunxin.trace_ids) and "\n" not in line
    assert 'conversation_bot_slack_refusals_total{error="invalid_attachments",layout="table"} 1.0' in (
        await bot.metrics()
    )


async def test_a_table_refused_after_some_posts_sends_the_rest_as_lists(bot: Bot) -> None:
    asked = ids(400)
    first_table_seen: list[bool] = []

    def second_table(message: dict[str, object]) -> bool:
        """Refuse every table but the first one this Slack sees."""
        if not has_table(message):
            return False
        first_table_seen.append(True)
        return len(first_table_seen) > 1

    bot.slack.refuse_messages(second_table, error="invalid_blocks")
    sent = await bot.command(" ".join(asked))
    first = await sent.reply()
    assert has_table(first)
    shown_first = [row[0] for row in table_rows([first])]
    rest = await bot.slack.wait_for_posts(sent.response_url, 2)
    await bot.settle()
    answers = bot.slack.posts(sent.response_url)
    assert len(answers) <= 5 and not any(has_table(answer) for answer in answers[1:])
    text = all_shown(answers[1:])
    assert all(f"`{i}`" in text for i in asked[len(shown_first) :]) and rest


async def test_a_response_url_answering_429_is_waited_out(bot: Bot) -> None:
    bot.slack.fail_response_urls(429, retry_after=1, times=1)
    started = time.monotonic()
    sent = await bot.command(BOB)
    (answer,) = await sent.replies()
    assert time.monotonic() - started >= 1.0
    assert "*1* found" in shown(answer)


async def test_users_info_answering_429_once_is_waited_out(bot: Bot) -> None:
    bot.slack.fail_method("users.info", status=429, retry_after=1, times=1)
    (answer,) = await (await bot.command(BOB, user=MEMBER)).replies()
    assert "*1* found" in shown(answer)
    assert bot.api_methods().count("users.info") == 2


async def test_users_info_answering_429_again_and_again_tells_the_person(bot: Bot) -> None:
    bot.slack.fail_method("users.info", status=429, retry_after=1, times=1 + SLACK_RATE_LIMIT_RETRIES)
    started = time.monotonic()
    (reply,) = await (await bot.command(f"{BOB} {UNKNOWN}")).replies()
    text = shown(reply)
    assert "Couldn't check your access" in text and "rate limiting" in text and "1 s" in text
    assert time.monotonic() - started < 10
    assert bot.yunxin.calls == []
    assert bot.api_methods().count("users.info") == 1 + SLACK_RATE_LIMIT_RETRIES


def test_tables_of_reads_attachments() -> None:
    assert tables_of([{"text": "t", "blocks": [], "attachments": [{"blocks": [{"type": "table", "rows": []}]}]}])
