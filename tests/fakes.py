"""Listeners called directly, where the wire is not the point: a listener (bot/slack/listeners) takes `deps`
first, then Bolt's arguments by name. Here are Bolt's `ack` and `respond` that keep what they are given, a
users.info that knows everyone as a full member of the workspace, and `Deps` around the in-process sandbox.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from bot.slack.access import AccessPolicy, build_rules
from bot.slack.pipeline import Deps
from bot.standins.slack import Origin
from bot.yunxin.service import Lookups
from tests.factories import bot_settings
from tests.harness import CHANNEL, MEMBER, TEAM

# Where a payload handed to a listener comes from; its response_url is never posted to (BoltRecorder.respond
# keeps the replies instead).
ORIGIN = Origin(MEMBER, TEAM, CHANNEL, "https://hooks.slack.invalid/commands/T0STANDIN/1/fake")


class MemberDirectory:
    """users.info for a workspace where everyone asking is a full member of TEAM."""

    async def users_info(self, user: str, include_locale: bool = False) -> dict[str, Any]:
        return {"ok": True, "user": {"id": user, "team_id": TEAM, "name": user.lower()}}


class BoltRecorder:
    """ack() and respond() as Bolt gives them, keeping what the listener sent."""

    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []

    async def ack(self, **message: Any) -> None:
        self.acks.append(message)

    async def respond(self, **message: Any) -> Any:
        self.replies.append(message)
        return SimpleNamespace(status_code=200, body="ok")


@contextlib.asynccontextmanager
async def fake_deps(**settings: Any) -> AsyncIterator[Deps]:
    """Deps for the sandbox (settings by field name over `yunxin_sandbox=True`) and MemberDirectory."""
    app_settings = bot_settings(**{"yunxin_sandbox": True, **settings})
    lookups = Lookups.from_settings(app_settings)
    rules = build_rules(installed_team_id=TEAM, installed_enterprise_id=None)
    try:
        yield Deps(app_settings, lookups, AccessPolicy(rules, MemberDirectory()))  # type: ignore[arg-type]
    finally:
        await lookups.aclose()
