"""The App Home tab through the whole app: `app_home_opened` signed as Slack sends it (over HTTP and Socket
Mode), the Home published with views.publish within a Home view's limits, showing each environment the person
may use as it is (healthy after a lookup, paused after a 416, its breaker open after calls failed), a refused
person whom to ask, and published again only when what it shows changed (or its minute is up)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.slack.activity import HOME_REPUBLISH_SECONDS
from bot.slack.render.home import OPEN_FORM_ACTION
from bot.slack.render.view_limits import view_problems
from bot.standins.slack import app_home_opened_event, deliver
from tests.harness import (
    BOB,
    CONTACT,
    GUEST,
    MEMBER,
    QUIET_SECONDS,
    SIGNING_SECRET,
    UNKNOWN,
    Bot,
    BotFactory,
    SocketBot,
    eventually,
    http_status,
)
from tests.messages import shown


def home_text(bot: Bot | SocketBot, user: str = MEMBER) -> str:
    return shown({"blocks": bot.slack.home_views[user]["blocks"]})


def publishes(bot: Bot | SocketBot, user: str = MEMBER) -> int:
    return sum(
        1 for _, method, params in bot.slack.api_calls if method == "views.publish" and params["user_id"] == user
    )


async def open_home(bot: Bot, user: str = MEMBER, *, count: int = 1) -> str:
    """`user` opens the Home tab; wait until their Home has been published `count` times in all."""
    delivery = await bot.event(app_home_opened_event(user))
    assert (delivery.status, delivery.timed_out) == (200, False)
    await eventually(lambda: publishes(bot, user) >= count)
    return home_text(bot, user)


def buttons(view: dict[str, Any]) -> list[str]:
    return [e["action_id"] for block in view["blocks"] if block["type"] == "actions" for e in block["elements"]]


async def test_opening_the_home_publishes_what_the_person_may_do(bot: Bot) -> None:
    text = await open_home(bot)
    view = bot.slack.home_views[MEMBER]
    assert view_problems(view, "home") == []
    assert "You can look up Yunxin conversations." in text
    assert "`sandbox`" in text and "SANDBOX DATA" in text and "*No calls yet*" in text
    assert "budget 50 per second" in text
    assert "`/conversation ID [ID …]`" in text and "*Look up in Yunxin*" in text
    assert buttons(view) == [OPEN_FORM_ACTION]
    assert bot.api_methods()[-2:] == ["users.info", "views.publish"]
    assert bot.yunxin.calls == []


async def test_after_a_lookup_the_home_shows_the_last_good_call_and_the_rate(bot: Bot) -> None:
    await (await bot.command(f"{BOB} {UNKNOWN}")).reply()
    (trace,) = bot.yunxin.trace_ids
    text = await open_home(bot)
    assert "*Healthy*" in text
    assert "Last good call: <!date^" in text and f"trace `{trace}`" in text
    assert "Calls: 1 in the last minute, at most 1 in one second" in text


async def test_after_a_416_the_home_says_the_environment_is_paused(bot: Bot) -> None:
    bot.yunxin.fail_next(416, "api freq control")
    await (await bot.command(BOB)).reply()
    (trace,) = bot.yunxin.trace_ids
    text = await open_home(bot)
    assert "*Paused*: Yunxin answered 416 (rate limited)" in text
    assert "Last failed call: <!date^" in text and f"trace `{trace}`" in text
    assert "Yunxin is rate limiting this app" in text


async def test_after_calls_failed_the_home_says_the_breaker_is_open(start_bot: BotFactory) -> None:
    async with start_bot(yunxin_breaker_failures=1) as bot:
        bot.yunxin.queue(lambda: http_status(503), times=4)
        await (await bot.command(BOB)).reply()
        text = await open_home(bot)
    assert "*Circuit breaker open*: 1 call in a row failed" in text
    assert f"trace `{bot.yunxin.trace_ids[-1]}`" in text and "Yunxin is unavailable" in text


async def test_a_refused_person_is_told_whom_to_ask_and_offered_nothing_else(bot: Bot) -> None:
    text = await open_home(bot, GUEST)
    assert "You can't look up Yunxin conversations." in text
    assert "guest accounts cannot look up conversations" in text and f"ask {CONTACT}" in text
    assert "`sandbox`" not in text and buttons(bot.slack.home_views[GUEST]) == []


async def test_the_home_is_published_again_only_when_what_it_shows_changed(bot: Bot) -> None:
    await open_home(bot)
    for _ in range(3):
        assert (await bot.event(app_home_opened_event(MEMBER))).status == 200
    await asyncio.sleep(QUIET_SECONDS)
    assert publishes(bot) == 1  # the same Home, moments later: Slack keeps showing it
    await (await bot.command(BOB)).reply()
    text = await open_home(bot, count=2)  # a lookup since: the Home shows another call
    assert "*Healthy*" in text
    assert HOME_REPUBLISH_SECONDS == 60


async def test_the_messages_tab_publishes_nothing(bot: Bot) -> None:
    assert (await bot.event(app_home_opened_event(MEMBER, tab="messages"))).status == 200
    await bot.settle()
    await asyncio.sleep(QUIET_SECONDS)
    assert "views.publish" not in bot.api_methods() and "users.info" not in bot.api_methods()


async def test_a_refused_publish_is_tried_again_on_the_next_visit(bot: Bot) -> None:
    bot.slack.fail_method("views.publish", error="internal_error", times=1)
    assert (await bot.event(app_home_opened_event(MEMBER))).status == 200
    await eventually(lambda: publishes(bot) == 1)
    assert MEMBER not in bot.slack.home_views
    await open_home(bot, count=2)
    assert MEMBER in bot.slack.home_views


@pytest.fixture
def two_sandboxes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BLUE", "GREEN"):
        monkeypatch.setenv(f"YUNXIN_{name}_SANDBOX", "true")
    monkeypatch.setenv("YUNXIN_GREEN_ALLOWED_USER_IDS", "U0SOMEONEELSE")


async def test_the_home_lists_only_the_environments_the_person_may_use(
    start_bot: BotFactory, two_sandboxes: None
) -> None:
    async with start_bot(yunxin_environments=["blue", "green"]) as bot:
        text = await open_home(bot)
    assert "`blue`" in text and "(default)" in text
    assert "`green`" not in text


async def test_the_events_url_answers_slacks_url_verification(bot: Bot) -> None:
    payload = {"token": "standin-verification-token", "challenge": "c-3f9a", "type": "url_verification"}
    body = json.dumps(payload).encode()
    delivery = await deliver(bot.events_url, SIGNING_SECRET, body, client=bot.http, content_type="application/json")
    assert delivery.status == 200 and "c-3f9a" in delivery.body


async def test_over_socket_mode_the_event_is_acked_on_the_socket(socket_bot: SocketBot) -> None:
    ack = await socket_bot.event(app_home_opened_event(MEMBER))
    assert not ack.timed_out and ack.problems == [] and ack.response_url is None
    await eventually(lambda: MEMBER in socket_bot.slack.home_views)
    assert "You can look up Yunxin conversations." in home_text(socket_bot)
    assert socket_bot.slack.stray_messages == []
