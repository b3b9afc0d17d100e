"""Who may ask: the access matrix end to end (signed commands, users.info and user groups on the Slack
stand-in), then the policy and its cache on their own."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.access import AccessCheckFailed, AccessPolicy, Caller, TtlCache, account_refusal, build_rules
from bot.standins.slack import SlackStandIn
from tests.harness import (
    BOB,
    BOT_TOKEN,
    BOT_USER,
    CHANNEL,
    CONTACT,
    DEACTIVATED,
    GUEST,
    MEMBER,
    NOT_SLACK_ANSWERS,
    OTHER_TEAM,
    OUTSIDER,
    SECOND_MEMBER,
    SINGLE_CHANNEL_GUEST,
    TEAM,
    Bot,
    BotFactory,
    not_slack,
    workspace,
)
from tests.messages import shown

ONCALL_GROUP = "S0ONCALL"


async def ask(bot: Bot, **who: Any) -> str:
    """Run /conversation as someone; the text of the one reply they get."""
    sent = await bot.command(BOB, **who)
    assert sent.delivery.status == 200 and not sent.delivery.timed_out
    (reply,) = await sent.replies()
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    return shown(reply)


def answered(text: str) -> bool:
    return "*1* found" in text


def refused(text: str) -> bool:
    return "can't look up Yunxin conversations here" in text and CONTACT in text


# --- the default: full members of the installing workspace --------------------------------------------


async def test_a_full_member_is_answered(bot: Bot) -> None:
    assert answered(await ask(bot, user=MEMBER))
    assert len(bot.yunxin.calls) == 1


# Who is refused by default, and what the refusal says about why.
NOT_FULL_MEMBERS = {
    GUEST: "guest accounts",
    SINGLE_CHANNEL_GUEST: "guest accounts",
    BOT_USER: "bot users",
    DEACTIVATED: "your account is deactivated",
    OUTSIDER: "your account belongs to another workspace",
    "U0NOBODY": "Slack does not know your account",  # users.info answers user_not_found
}


async def test_who_is_not_a_full_member_is_refused_and_yunxin_is_not_called(bot: Bot) -> None:
    replies = {user: await ask(bot, user=user) for user in NOT_FULL_MEMBERS}
    wrong = {user: text for user, text in replies.items() if not (refused(text) and NOT_FULL_MEMBERS[user] in text)}
    assert wrong == {}
    assert not any("sandbox_bob" in text for text in replies.values())
    assert bot.yunxin.calls == []


async def test_a_command_from_another_workspace_is_refused_before_any_slack_call(bot: Bot) -> None:
    text = await ask(bot, user=OUTSIDER, team=OTHER_TEAM)
    assert refused(text) and "workspace is not one this app serves" in text
    assert bot.api_methods() == ["auth.test"]
    assert bot.yunxin.calls == []


# --- allow-lists --------------------------------------------------------------------------------------


async def test_allowed_team_ids_replace_the_installing_workspace(start_bot: BotFactory, slack: SlackStandIn) -> None:
    slack.add_user("U0ELSEWHERE", team_id=OTHER_TEAM)
    async with start_bot(allowed_team_ids=[OTHER_TEAM]) as bot:
        assert answered(await ask(bot, user="U0ELSEWHERE", team=OTHER_TEAM))
        assert refused(await ask(bot, user=MEMBER, team=TEAM))


async def test_allowed_team_ids_may_name_an_enterprise_grid_org(start_bot: BotFactory) -> None:
    async with workspace(enterprise_id="E0GRID") as grid:
        grid.add_user("U0SISTER", team_id="T0SISTER")  # a member of another workspace of the same org
        async with start_bot(slack=grid, allowed_team_ids=["E0GRID"]) as bot:
            text = await ask(bot, user="U0SISTER", team="T0SISTER", enterprise_id="E0GRID")
            outside = await ask(bot, user="U0SISTER", team="T0SISTER")  # the same person, outside the org
    assert answered(text)
    assert refused(outside)


async def test_allowed_user_ids_admit_only_those_people(start_bot: BotFactory) -> None:
    async with start_bot(allowed_user_ids=[SECOND_MEMBER]) as bot:
        assert answered(await ask(bot, user=SECOND_MEMBER))
        text = await ask(bot, user=MEMBER)
    assert refused(text) and "not on the list" in text
    assert len(bot.yunxin.calls) == 1


async def test_a_listed_guest_is_still_refused(start_bot: BotFactory) -> None:
    # The lists narrow who may ask; they never admit someone the default rules refuse.
    async with start_bot(allowed_user_ids=[GUEST]) as bot:
        assert refused(await ask(bot, user=GUEST))
    assert bot.yunxin.calls == []


async def test_allowed_usergroup_ids_admit_members_and_the_list_is_cached(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    slack.add_usergroup(ONCALL_GROUP, [SECOND_MEMBER])
    async with start_bot(allowed_usergroup_ids=[ONCALL_GROUP]) as bot:
        assert answered(await ask(bot, user=SECOND_MEMBER))
        assert refused(await ask(bot, user=MEMBER))
        assert answered(await ask(bot, user=SECOND_MEMBER))
    assert bot.api_methods().count("usergroups.users.list") == 1


async def test_with_user_and_group_lists_both_set_either_admits(start_bot: BotFactory, slack: SlackStandIn) -> None:
    slack.add_usergroup(ONCALL_GROUP, [SECOND_MEMBER])
    async with start_bot(allowed_user_ids=[MEMBER], allowed_usergroup_ids=[ONCALL_GROUP]) as bot:
        assert answered(await ask(bot, user=MEMBER))
        assert answered(await ask(bot, user=SECOND_MEMBER))
        slack.add_user("U0THIRD")
        assert refused(await ask(bot, user="U0THIRD"))


async def test_allowed_channel_ids_limit_where_lookups_run(start_bot: BotFactory) -> None:
    async with start_bot(allowed_channel_ids=["C0ONCALL"]) as bot:
        assert answered(await ask(bot, channel="C0ONCALL"))
        text = await ask(bot, channel=CHANNEL)
    assert refused(text) and "not enabled in this channel" in text
    assert len(bot.yunxin.calls) == 1


# --- Slack's answers: cached, rate limited, failing ----------------------------------------------------


async def test_users_info_is_cached_so_a_second_command_makes_no_second_call(bot: Bot) -> None:
    assert answered(await ask(bot))
    assert answered(await ask(bot))
    assert bot.api_methods().count("users.info") == 1


async def test_users_info_rate_limited_tells_the_caller_when_to_try_again(bot: Bot) -> None:
    bot.slack.fail_method("users.info", status=429, retry_after=7, times=1)
    text = await ask(bot)
    assert "Couldn't check your access" in text
    assert "rate limiting" in text and "7 s" in text
    assert bot.yunxin.calls == []
    assert answered(await ask(bot))  # a failure is not cached


# A users.info failure (as fail_method takes it), and what the caller is told.
USERS_INFO_FAILURES = [
    ({"status": 500}, "Slack answered internal_error to users.info"),
    ({"error": "fatal_error"}, "Slack answered fatal_error to users.info"),
    ({"error": "missing_scope"}, "lacks a Slack scope"),
]


async def test_users_info_failing_gives_a_clear_message(bot: Bot) -> None:
    for fault, said in USERS_INFO_FAILURES:
        bot.slack.fail_method("users.info", times=1, **fault)
        text = await ask(bot)
        assert "Couldn't check your access" in text and said in text
        assert "Traceback" not in text
    assert bot.yunxin.calls == []


@pytest.mark.parametrize("kind", NOT_SLACK_ANSWERS)
async def test_an_answer_that_is_not_slacks_json_gives_a_clear_message(serve_asgi: Any, kind: str) -> None:
    async with serve_asgi(not_slack(kind)) as url:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=url + "/api/", retry_handlers=[])
        policy = AccessPolicy(build_rules(installed_team_id=TEAM, installed_enterprise_id=None), client)
        with pytest.raises(AccessCheckFailed) as failed:
            await policy.check(Caller(user_id=MEMBER, team_id=TEAM, enterprise_id=None, channel_id=CHANNEL))
    status = NOT_SLACK_ANSWERS[kind][1]
    assert str(failed.value) == f"Slack answered HTTP {status} to users.info; try again in a minute."


async def test_user_groups_on_a_free_plan_give_a_clear_message(start_bot: BotFactory, slack: SlackStandIn) -> None:
    slack.paid_plan = False
    async with start_bot(allowed_usergroup_ids=[ONCALL_GROUP]) as bot:
        text = await ask(bot)
    assert "needs a paid Slack plan" in text and "ALLOWED_USER_IDS" in text
    assert bot.yunxin.calls == []


# --- the policy and its cache on their own --------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_ttl_cache_keeps_a_value_until_it_expires() -> None:
    clock = FakeClock()
    cache: TtlCache[str, int] = TtlCache(60.0, clock)
    loads: list[str] = []

    async def load() -> int:
        loads.append("x")
        return len(loads)

    assert await cache.get("U1", load) == 1
    clock.now += 59
    assert await cache.get("U1", load) == 1
    clock.now += 2
    assert await cache.get("U1", load) == 2


async def test_ttl_cache_shares_one_load_between_concurrent_misses_and_caches_no_failure() -> None:
    cache: TtlCache[str, int] = TtlCache(60.0)
    release = asyncio.Event()
    loads = 0

    async def slow_load() -> int:
        nonlocal loads
        loads += 1
        await release.wait()
        return 7

    waiting = [asyncio.ensure_future(cache.get("U1", slow_load)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [7] * 5
    assert loads == 1

    async def failing_load() -> int:
        raise AccessCheckFailed("slack is down")

    with pytest.raises(AccessCheckFailed):
        await cache.get("U2", failing_load)

    async def good_load() -> int:
        return 8

    assert await cache.get("U2", good_load) == 8


async def test_users_info_is_asked_again_once_the_cache_expires(slack: SlackStandIn) -> None:
    clock = FakeClock()
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    policy = AccessPolicy(build_rules(installed_team_id=TEAM, installed_enterprise_id=None), client, clock=clock)
    caller = Caller(user_id=MEMBER, team_id=TEAM, enterprise_id=None, channel_id=CHANNEL)

    assert (await policy.check(caller)).allowed
    clock.now += 30
    assert (await policy.check(caller)).allowed
    clock.now += 31
    slack.add_user(MEMBER, deleted=True)
    decision = await policy.check(caller)

    assert not decision.allowed and "deactivated" in decision.reason
    assert [method for _, method, _ in slack.api_calls].count("users.info") == 2


@pytest.mark.parametrize("teams", [5, "T0STANDIN", [["T0STANDIN"]], None])
def test_an_enterprise_user_of_odd_shape_names_no_workspace_rather_than_breaking_the_check(teams: object) -> None:
    user = {"id": "U1", "team_id": "T0ELSEWHERE", "enterprise_user": {"enterprise_id": 7, "teams": teams}}
    assert account_refusal(user, frozenset({"T0STANDIN"})) == "your account belongs to another workspace"
