"""The Home tab as the reader sees it: an environment healthy, paused after a 416, with its breaker open or
letting its probe through, its last call failed; a refused reader told whom to ask; within Slack's limits
for a Home view, in English and Chinese; and the digest that tells an unchanged Home from a changed one."""

from __future__ import annotations

import pytest

from bot.slack.activity import CallRate, SeenCall
from bot.slack.i18n import EN, translator
from bot.slack.render.home import (
    OPEN_FORM_ACTION,
    EnvironmentFacts,
    HomeAccess,
    HomeFacts,
    home_digest,
    render_home,
)
from bot.slack.render.view_limits import view_problems
from bot.yunxin.budget import GateStatus
from tests.messages import shown

NOW = 1_780_000_000.0
CLOSED = GateStatus(None, "closed", None, 0)
ALLOWED = HomeAccess(True)
ZH = translator("zh_CN")


def environment(name: str = "prod", gate: GateStatus = CLOSED, **facts: object) -> EnvironmentFacts:
    values: dict[str, object] = {
        "name": name,
        "default": False,
        "sandbox": False,
        "gate": gate,
        "last_good": SeenCall(NOW - 30, "trace-good-1"),
        "last_failed": None,
        "rate": CallRate(12, 5),
        "budget_per_second": 50.0,
    }
    return EnvironmentFacts(**{**values, **facts})  # type: ignore[arg-type]


def home(*environments: EnvironmentFacts, access: HomeAccess = ALLOWED, **facts: object) -> HomeFacts:
    return HomeFacts(access, environments, **{"contact": "#help-yunxin-bot", **facts})  # type: ignore[arg-type]


def buttons(view: dict[str, object]) -> list[str]:
    return [
        element["action_id"]
        for block in view["blocks"]  # type: ignore[attr-defined]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_a_healthy_environment_shows_its_last_good_call_rate_and_budget() -> None:
    view = render_home(home(environment()), now=NOW)
    assert view_problems(view, "home") == []
    text = shown({"blocks": view["blocks"]})
    assert "You can look up Yunxin conversations." in text
    assert "`prod`" in text and "*Healthy*" in text
    assert "Last good call: <!date^1779999970^" in text and "trace `trace-good-1`" in text
    assert "Calls: 12 in the last minute, at most 5 in one second · budget 50 per second" in text
    assert "`/conversation ID [ID …]`" in text and "*Look up in Yunxin*" in text and "*Share in channel*" in text
    assert buttons(view) == [OPEN_FORM_ACTION]


def test_a_paused_environment_says_until_when() -> None:
    paused = GateStatus(NOW + 8, "closed", None, 0)
    text = shown({"blocks": render_home(home(environment(gate=paused)), now=NOW)["blocks"]})
    assert "*Paused*: Yunxin answered 416 (rate limited)" in text
    assert f"until <!date^{int(NOW + 8)}^" in text


def test_a_broken_environment_says_the_breaker_is_open_and_what_failed() -> None:
    broken = GateStatus(None, "open", NOW + 25, 5)
    failed = SeenCall(NOW - 2, "trace-failed-9", "Yunxin is unavailable")
    view = render_home(home(environment(gate=broken, last_failed=failed)), now=NOW)
    text = shown({"blocks": view["blocks"]})
    assert "*Circuit breaker open*: 5 calls in a row failed" in text
    assert f"one call tries again at <!date^{int(NOW + 25)}^" in text
    assert "Last failed call: <!date^1779999998^" in text and "trace `trace-failed-9`" in text
    assert "Yunxin is unavailable" in text


@pytest.mark.parametrize(
    ("gate", "good", "failed", "said"),
    [
        (GateStatus(None, "half_open", None, 5), None, None, "*Recovering*"),
        (
            CLOSED,
            SeenCall(NOW - 9, "g"),
            SeenCall(NOW - 1, "f", "Yunxin did not answer in time"),
            "*The last call failed*",
        ),
        (CLOSED, None, None, "*No calls yet*"),
        # A pause that has just ended is no pause.
        (GateStatus(NOW - 1, "closed", None, 0), SeenCall(NOW - 9, "g"), None, "*Healthy*"),
    ],
)
def test_each_state_says_itself(gate: GateStatus, good: SeenCall | None, failed: SeenCall | None, said: str) -> None:
    text = shown(
        {"blocks": render_home(home(environment(gate=gate, last_good=good, last_failed=failed)), now=NOW)["blocks"]}
    )
    assert said in text


def test_several_environments_each_have_their_own_state_and_the_default_is_named() -> None:
    facts = home(
        environment("prod", default=True),
        environment("staging", gate=GateStatus(NOW + 5, "closed", None, 0), sandbox=True),
    )
    text = shown({"blocks": render_home(facts, now=NOW)["blocks"]})
    assert "`prod` (default)" in text and "`staging`" in text
    assert "SANDBOX DATA" in text and "*Paused*" in text
    assert "--env NAME" in text


def test_a_refused_reader_is_told_why_and_whom_to_ask_and_offered_no_form() -> None:
    refused = home(access=HomeAccess(False, reason="guest accounts cannot look up conversations"))
    view = render_home(refused, now=NOW)
    assert view_problems(view, "home") == []
    text = shown({"blocks": view["blocks"]})
    assert "You can't look up Yunxin conversations." in text
    assert "guest accounts cannot look up conversations" in text
    assert "To get access, ask #help-yunxin-bot." in text
    assert "Yunxin environments" not in text and "How to use it" not in text
    assert buttons(view) == []


def test_an_access_check_that_could_not_be_made_says_so() -> None:
    failed = home(access=HomeAccess(False, failed="Slack answered HTTP 502 to users.info; try again in a minute."))
    text = shown({"blocks": render_home(failed, now=NOW)["blocks"]})
    assert "Couldn't check your access: Slack answered HTTP 502 to users.info" in text


def test_with_lookups_limited_to_some_channels_the_home_offers_no_form() -> None:
    view = render_home(home(environment(), channels_limited=True), now=NOW)
    text = shown({"blocks": view["blocks"]})
    assert "run `/conversation` there" in text and "opens a form" not in text
    assert buttons(view) == []


def test_the_home_holds_no_secret_and_escapes_what_it_shows() -> None:
    odd = environment("<!channel>", last_failed=SeenCall(NOW, "<@U123>", "Yunxin is unavailable"))
    facts = home(odd, contact="<!here> & co", channels_limited=True)
    text = shown({"blocks": render_home(facts, now=NOW)["blocks"]})
    assert "<!channel>" not in text and "<@U123>" not in text and "<!here>" not in text
    assert "&lt;!channel&gt;" in text and "&amp; co" in text


def test_the_home_is_within_slacks_limits_with_many_environments() -> None:
    many = home(*(environment(f"env{i:02d}" + "x" * 60) for i in range(60)))
    view = render_home(many, now=NOW)
    assert view_problems(view, "home") == []
    assert "…and 40 more environments." in shown({"blocks": view["blocks"]})


def test_the_home_reads_in_chinese() -> None:
    facts = home(environment(gate=GateStatus(None, "open", NOW + 25, 5)))
    view = render_home(facts, now=NOW, t=ZH)
    assert view_problems(view, "home") == []
    text = shown({"blocks": view["blocks"]})
    assert "云信会话" in text and "`/conversation ID [ID …]`" in text
    assert "You can look up" not in text and "Circuit breaker open" not in text


def test_the_digest_ignores_live_figures_and_sees_every_change_of_state() -> None:
    base = home(environment())
    digest = home_digest(base, now=NOW)
    busier = home(environment(rate=CallRate(40, 9)))
    assert home_digest(busier, now=NOW + 3) == digest  # the rate and the time shown are live
    # A gate's times, computed afresh on each look, differ by microseconds: still the same pause.
    paused = home(environment(gate=GateStatus(NOW + 8.0000001, "closed", None, 0)))
    assert home_digest(paused, now=NOW) == home_digest(
        home(environment(gate=GateStatus(NOW + 8, "closed", None, 0))), now=NOW
    )
    changed = [
        paused,
        home(environment(last_good=SeenCall(NOW, "trace-good-2"))),
        home(environment(last_failed=SeenCall(NOW, "trace-failed-1", "Yunxin is unavailable"))),
        home(access=HomeAccess(False, reason="your account is deactivated")),
    ]
    assert all(home_digest(facts, now=NOW) != digest for facts in changed)
    assert home_digest(base, now=NOW, t=ZH) != home_digest(base, now=NOW, t=EN)
