"""Per-environment access: an environment may be limited to some people (for example production to
the on-call user group) on top of the workspace-wide rules; the default environment's limits apply
when no --env is given."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.access import AccessPolicy, Caller, build_rules
from bot.standins.slack import SlackStandIn
from tests.harness import BOT_TOKEN, CHANNEL, GUEST, SECOND_MEMBER, TEAM
from tests.harness import MEMBER as DEVELOPER

ONCALL = SECOND_MEMBER  # the only member of the on-call group


@pytest.fixture(autouse=True)
def oncall_group(slack: SlackStandIn) -> None:
    slack.add_usergroup("S0ONCALL", [ONCALL])


def policy(slack: SlackStandIn, default: str = "prod") -> AccessPolicy:
    rules = build_rules(
        installed_team_id=TEAM,
        installed_enterprise_id=None,
        environments={"prod": ((), ("S0ONCALL",)), "staging": ((), ())},
        default_environment=default,
    )
    return AccessPolicy(rules, AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url))


def caller(user_id: str) -> Caller:
    return Caller(user_id=user_id, team_id=TEAM, enterprise_id=None, channel_id=CHANNEL)


async def test_a_limited_environment_admits_only_its_people(slack: SlackStandIn) -> None:
    access = policy(slack)
    assert (await access.check(caller(ONCALL), "prod")).allowed
    refused = await access.check(caller(DEVELOPER), "prod")
    assert not refused.allowed and "prod environment" in refused.reason


async def test_an_open_environment_admits_every_full_member(slack: SlackStandIn) -> None:
    assert (await policy(slack).check(caller(DEVELOPER), "staging")).allowed


async def test_without_env_the_default_environments_limits_apply(slack: SlackStandIn) -> None:
    assert not (await policy(slack, default="prod").check(caller(DEVELOPER))).allowed
    assert (await policy(slack, default="staging").check(caller(DEVELOPER))).allowed


async def test_workspace_rules_still_come_first(slack: SlackStandIn) -> None:
    slack.add_usergroup("S0ONCALL", [ONCALL, GUEST])
    decision = await policy(slack).check(caller(GUEST), "prod")
    assert not decision.allowed and "guest" in decision.reason
