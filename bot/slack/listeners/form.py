"""The lookup form: opened by the Home tab's "Look up conversations" and the help's "Open the lookup form"
buttons; its submission is checked where the person can fix it (no IDs, too many, malformed ones show under
the input, as Slack's modals show errors), then looked up after the same access checks as the command, and
answered in the person's direct message with the bot.

The access check is for the channel the form was opened from (the help's), kept in the form's
private_metadata; a form opened from the Home tab is in no channel.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.yunxin.ids import InvalidId, split_text

from ..access import slack_error_code
from ..ack import Ack, after_ack_sent
from ..actions import LookupRequest
from ..pipeline import Ask, Deps, Event, Outcome, record, run_lookup
from ..render.form import (
    ENVIRONMENT_BLOCK,
    ENVIRONMENT_ELEMENT,
    IDS_BLOCK,
    IDS_ELEMENT,
    FormState,
    malformed_error,
    no_ids_error,
    render_form,
    too_many_error,
)
from ..render.notices import render_notice
from ..replies import DirectMessageReplies, Respond, ResponseUrlReplies
from .payloads import interaction_caller

log = logging.getLogger(__name__)

_QUOTES = "`'\"“”‘’"


async def open_form(
    deps: Deps, ack: Ack, body: dict[str, Any], client: AsyncWebClient, respond: Respond | None
) -> None:
    """Open the form at once (a trigger_id lives 3 s); from a message, a failure is said there."""
    await ack()
    caller = interaction_caller(body)
    t = deps.reader_t(caller.user_id)
    view = render_form(
        environments=deps.lookups.names,
        default=deps.lookups.default,
        state=FormState(caller.channel_id),
        sandbox=deps.lookups.config().sandbox,
        t=t,
    )
    await after_ack_sent()
    try:
        await client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)
    except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
        code = (slack_error_code(error) if isinstance(error, SlackApiError) else None) or type(error).__name__
        log.warning("views.open failed for the lookup form: %s", code)
        if respond is not None and body.get("response_url"):
            text = t.gettext("Couldn't open the lookup form (Slack answered {code}); try again.").format(code=code)
            await ResponseUrlReplies(respond, deps.settings.redact_message_text).notify(render_notice(text))


def _input(view: dict[str, Any], block_id: str, action_id: str) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    block = values.get(block_id) if isinstance(values, dict) else None
    element = block.get(action_id) if isinstance(block, dict) else None
    return element if isinstance(element, dict) else {}


def form_request(view: dict[str, Any]) -> LookupRequest:
    """The lookup a submitted form asks for: its IDs as typed, and the environment chosen (None: the default)."""
    text = _input(view, IDS_BLOCK, IDS_ELEMENT).get("value")
    tokens = [token.strip(_QUOTES) for token in split_text(text if isinstance(text, str) else "")]
    chosen = _input(view, ENVIRONMENT_BLOCK, ENVIRONMENT_ELEMENT).get("selected_option")
    environment = chosen.get("value") if isinstance(chosen, dict) else None
    return LookupRequest(
        tuple(token for token in tokens if token), environment if isinstance(environment, str) and environment else None
    )


async def submit_form(deps: Deps, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
    caller = interaction_caller(body)
    try:
        state = FormState.decode(str(view.get("private_metadata") or ""))
    except ValueError:
        state = FormState()  # not a form of ours as it was opened: looked up as from the Home tab
    ask = Ask(Event.FORM, replace(caller, channel_id=state.channel_id))
    t = deps.reader_t(caller.user_id)
    request = form_request(view)
    parsed = request.parsed
    invalid = [item for item in parsed if isinstance(item, InvalidId)]
    limit = deps.settings.max_ids_per_command
    errors, outcome = None, Outcome.INVALID
    if not parsed:
        errors, outcome = no_ids_error(t), Outcome.NO_IDS
    elif len(parsed) > limit:
        errors, outcome = too_many_error(len(parsed), limit, t), Outcome.TOO_MANY_IDS
    elif invalid:
        errors = malformed_error(invalid, t)
    if errors is not None:
        await ack(response_action="errors", errors=errors)
        record(deps, ask, outcome, request.ids)
        return
    await ack()  # closes the form; the answer comes in the direct message
    replies = DirectMessageReplies(client, caller.user_id, deps.settings.redact_message_text, request)
    await run_lookup(deps, ask, request, replies)
