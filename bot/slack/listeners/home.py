"""The App Home tab (`app_home_opened`): what the person opening it may do, how each Yunxin environment they
may use is doing, and a button to the lookup form, published with `views.publish`.

Publishing is rate-aware: a person's Home is published again only when what it shows has changed, or once
`HOME_REPUBLISH_SECONDS` have passed (to refresh its call rate and times); visits in between publish
nothing (Slack keeps showing the last view). The access check behind it is the command's, through its
caches, so a visit costs Slack at most one users.info a minute.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.yunxin.budget import GateStatus

from ..access import AccessCheckFailed, Caller, slack_error_code
from ..ack import Ack, after_ack_sent
from ..i18n import Translator, for_locale
from ..pipeline import COMMAND, Deps
from ..render.home import EnvironmentFacts, HomeAccess, HomeFacts, home_digest, render_home

log = logging.getLogger(__name__)

_CLOSED = GateStatus(None, "closed", None, 0)


def event_caller(body: dict[str, Any], user_id: str) -> Caller:
    """The person an Events API event is about, in the workspace (and org) the event came from."""
    return Caller(user_id, body.get("team_id") or None, body.get("enterprise_id") or None, None)


async def home_facts(deps: Deps, caller: Caller) -> tuple[HomeFacts, Translator]:
    """What `caller`'s Home shows, and the language to show it in (theirs once the access check has read it).

    With ALLOWED_CHANNEL_IDS the check runs as in one of those channels, so that the Home tells whether the
    person may ask there (the Home itself is in no channel)."""
    rules = deps.access.rules
    channels_limited = bool(rules.allowed_channel_ids)
    probe = replace(caller, channel_id=min(rules.allowed_channel_ids)) if channels_limited else caller
    contact = deps.settings.access_contact
    t = deps.reader_t(caller.user_id)
    usable: list[str] = []
    refusal = ""
    try:
        for name in deps.lookups.names:
            decision = await deps.access.check(probe, name)
            if decision.locale:
                t = for_locale(decision.locale, deps.channel_t.locale)
            if decision.allowed:
                usable.append(name)
            elif not refusal or name == deps.lookups.default:
                refusal = decision.reason
    except AccessCheckFailed as error:
        log.warning("access check failed for the Home of %s: %s", caller.user_id, error)
        return HomeFacts(HomeAccess(False, failed=str(error)), (), contact, COMMAND, channels_limited), t
    if not usable:
        return HomeFacts(HomeAccess(False, reason=refusal), (), contact, COMMAND, channels_limited), t
    gates = deps.lookups.gate_status()
    environments = []
    for name in usable:
        good, failed, rate = deps.home.activity.of(name)
        environments.append(
            EnvironmentFacts(
                name=name,
                default=name == deps.lookups.default and len(deps.lookups.names) > 1,
                sandbox=deps.lookups.config(name).sandbox,
                gate=gates.get(name, _CLOSED),
                last_good=good,
                last_failed=failed,
                rate=rate,
                budget_per_second=deps.settings.yunxin_max_calls_per_second,
            )
        )
    return HomeFacts(HomeAccess(True), environments, contact, COMMAND, channels_limited), t


async def home_opened(
    deps: Deps, ack: Ack, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
) -> None:
    await ack()
    user_id = event.get("user")
    if event.get("tab") != "home" or not isinstance(user_id, str) or not user_id:
        return  # the Messages tab, or an event about no one: nothing to publish
    await after_ack_sent()
    facts, t = await home_facts(deps, event_caller(body, user_id))
    now = time.time()
    if not deps.home.published.claim(user_id, home_digest(facts, now=now, t=t)):
        return
    try:
        await client.views_publish(user_id=user_id, view=render_home(facts, now=now, t=t))
    except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
        deps.home.published.release(user_id)  # the next visit tries again
        code = (slack_error_code(error) if isinstance(error, SlackApiError) else None) or type(error).__name__
        log.warning("views.publish failed for the Home of %s: %s", user_id, code)
