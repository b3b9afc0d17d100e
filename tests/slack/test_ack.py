"""The ack comes first: Slack has its answer before the listener's first network call, every command gets
its own, and a slow Yunxin never delays it."""

from __future__ import annotations

import asyncio

from bot.yunxin.sandbox import SAMPLE_IDS
from tests.harness import BOB, UNKNOWN, Bot, BotFactory, ScriptedYunxin
from tests.messages import shown


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


async def test_a_slow_yunxin_does_not_delay_the_ack(start_bot: BotFactory) -> None:
    async with start_bot(yunxin=ScriptedYunxin(latency_seconds=2.5)) as bot:
        sent = await bot.command(BOB)
        assert not sent.delivery.timed_out
        assert sent.delivery.status == 200
        assert "Looking up 1 conversation" in shown(sent.ack)
        assert BOB in shown(await sent.reply())
