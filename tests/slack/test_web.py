"""The HTTP app uvicorn serves: Slack's signature checks, /healthz, /metrics and a graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltResponse
from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from starlette.responses import JSONResponse
from starlette.types import Message

from bot.slack import ack
from bot.slack.ack import AckWatch, after_ack_sent
from bot.slack.actions import SHARE_ACTION, LookupRequest
from bot.slack.web import _Answer
from bot.standins.slack import SlackStandIn, send_block_action, slash_command_form
from tests.harness import BOB, Bot, BotFactory, ScriptedYunxin, block_action
from tests.messages import shown


def nothing_ran(bot: Bot, *response_urls: str) -> bool:
    return (
        bot.api_methods() == ["auth.test"]
        and bot.yunxin.calls == []
        and all(bot.slack.posts(url) == [] for url in response_urls)
    )


# --- Slack's signature ----------------------------------------------------------------------------------


async def test_requests_slack_did_not_sign_are_answered_401_and_nothing_runs(bot: Bot) -> None:
    forged = await bot.command(BOB, secret="not-the-signing-secret")
    stale = await bot.command(BOB, timestamp=int(time.time()) - 6 * 60)  # Slack's limit is 5 minutes
    unsigned_from = bot.origin()
    unsigned_url = unsigned_from.response_url
    form = slash_command_form(unsigned_from, text=BOB)
    unsigned = await bot.http.post(
        bot.events_url, content=urlencode(form), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    click = bot.origin()
    click_url = click.response_url
    payload = block_action(SHARE_ACTION, click, value=str(LookupRequest((BOB,)).encode()))
    forged_click = await send_block_action(bot.events_url, "not-the-signing-secret", payload)
    await bot.settle()

    statuses = [forged.delivery.status, stale.delivery.status, unsigned.status_code, forged_click.status]
    assert statuses == [401, 401, 401, 401]
    assert nothing_ran(bot, forged.response_url, stale.response_url, unsigned_url, click_url)


# --- health and metrics -----------------------------------------------------------------------------


async def test_healthz_answers_while_the_app_serves(bot: Bot) -> None:
    health = await bot.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "in_flight": 0}


async def test_metrics_count_commands_and_yunxin_calls(bot: Bot) -> None:
    await (await bot.command(BOB)).reply()
    await bot.settle()

    metrics = await bot.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = metrics.text.splitlines()
    assert 'conversation_bot_commands_total{kind="command",outcome="ok"} 1.0' in lines
    assert 'conversation_bot_commands_total{kind="command",outcome="help"} 1.0' in lines
    assert 'conversation_bot_yunxin_calls_total{result="200"} 1.0' in lines
    assert any(line.startswith("conversation_bot_yunxin_call_seconds_count") for line in lines)


# --- shutdown ---------------------------------------------------------------------------------------


async def test_a_lookup_in_flight_at_shutdown_still_posts_its_answer(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    slow_yunxin = ScriptedYunxin(latency_seconds=0.5)
    async with start_bot(yunxin=slow_yunxin, stop_slack_too=False) as bot:
        sent = await bot.command(BOB)
        assert sent.delivery.status == 200
        await slow_yunxin.called.wait()  # the Yunxin call has started; the sandbox answers 0.5 s later
        assert await bot.in_flight() == 1
    # The app has shut down; its last lookup was answered on the way out.
    (answer,) = slack.posts(sent.response_url)
    assert "*1* found" in shown(answer)


async def test_shutdown_waits_for_lookups_only_so_long(
    start_bot: BotFactory, slack: SlackStandIn, yunxin: ScriptedYunxin, caplog: pytest.LogCaptureFixture
) -> None:
    release = yunxin.gate = asyncio.Event()  # holds the call until after the app has shut down
    yunxin.queue(lambda: JSONResponse({"code": 200, "msg": "success", "data": {}}))
    async with start_bot(drain_seconds=0.1, stop_slack_too=False) as bot:
        sent = await bot.command(BOB)
        await yunxin.called.wait()
    assert any("shut down with 1 lookups unfinished" in r.getMessage() for r in caplog.records)
    release.set()
    # The abandoned lookup's asker is told the bot restarted, not left at "Looking up…".
    (notice,) = await slack.wait_for_posts(sent.response_url, 1, timeout=10.0)
    assert "restarted" in shown(notice) and "run the command again" in shown(notice)
    assert [record for record in caplog.records if record.levelno >= logging.ERROR and record.exc_info] == []


# --- routing --------------------------------------------------------------------------------------------


async def test_other_methods_and_a_root_path_are_routed_as_before(bot: Bot) -> None:
    assert (await bot.get("/slack/events")).status_code == 405
    # Behind a proxy that mounts the app under /bot, a POST goes through Starlette's routing to the same
    # handler: here its edge refuses it, unsigned.
    sent: list[Message] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/bot/slack/events",
        "raw_path": b"/bot/slack/events",
        "root_path": "/bot",
        "query_string": b"",
        "headers": [(b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", b"3")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"a=b", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await bot.acks.app(scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 401


# --- the answer as written -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        BoltResponse(status=200, body={"text": "Looking up 2 conversations\u2026", "response_type": "ephemeral"}),
        BoltResponse(status=200, body=""),
        BoltResponse(status=200, body="é plain text"),
        BoltResponse(status=404, body={"error": "unhandled request"}),
        BoltResponse(status=500, body=""),
        BoltResponse(status=204, body=""),
        BoltResponse(status=200, body="x", headers={"X-Extra": "1", "Content-Length": "1", "Multi": ["a", "b"]}),
    ],
)
async def test_an_answer_is_written_byte_for_byte_as_starlette_writes_it(answer: BoltResponse) -> None:
    async def receive() -> Message:
        raise AssertionError("nothing is read")

    written: dict[str, list[Message]] = {"ours": [], "starlette": []}
    scope = {"type": "http", "method": "POST", "path": "/slack/events"}
    watch = AckWatch()
    with watch.handling():
        waiting = asyncio.ensure_future(after_ack_sent())
    await _Answer(answer, watch)(scope, receive, lambda message: _append(written["ours"], message))
    await to_starlette_response(answer)(scope, receive, lambda message: _append(written["starlette"], message))
    assert written["ours"] == written["starlette"]
    await asyncio.wait_for(waiting, 1.0)  # the watch is marked written: the listener's wait is over


async def _append(messages: list[Message], message: Message) -> None:
    messages.append(message)


async def test_a_listener_waits_for_an_answer_never_written_only_so_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ack, "ACK_SENT_WAIT_SECONDS", 0.05)
    watch = AckWatch()
    with watch.handling():  # two listeners of one request, whose answer is never written
        waiting = [asyncio.ensure_future(after_ack_sent()) for _ in range(2)]
    await asyncio.sleep(0.01)
    assert not any(task.done() for task in waiting)
    await asyncio.wait_for(asyncio.gather(*waiting), 1.0)
    await watch.written()  # written late after all: nothing is left waiting, nothing fails
