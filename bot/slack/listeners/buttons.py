"""The buttons under an answer: Share in channel (the lookup again, posted for the channel) and Refresh
(the lookup again, replacing the message in place). The clicker passes the same checks as the command."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..ack import Ack
from ..actions import LookupRequest, StaleRequest
from ..pipeline import Ask, Deps, Event, run_lookup, stop
from ..replies import Respond, ResponseUrlReplies
from .payloads import button_request, interaction_caller


async def share_in_channel(deps: Deps, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
    clicked = await _clicked(deps, ack, body, respond, Event.SHARE)
    if clicked is None:
        return
    ask, request = clicked
    redact = deps.settings.redact_message_text
    shared = ResponseUrlReplies(
        respond, redact, request, response_type="in_channel", shared_by=ask.caller.user_id, metrics=deps.metrics
    )
    await run_lookup(deps, ask, request, shared)


async def refresh(deps: Deps, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
    clicked = await _clicked(deps, ack, body, respond, Event.REFRESH)
    if clicked is None:
        return
    ask, request = clicked
    shared = not (body.get("container") or {}).get("is_ephemeral", True)
    replies = ResponseUrlReplies(
        respond,
        deps.settings.redact_message_text,
        request,
        response_type="in_channel" if shared else "ephemeral",
        shared_by=ask.caller.user_id if shared else None,
        refreshed_at=datetime.now(UTC),
        replace_first=True,
        metrics=deps.metrics,
    )
    await run_lookup(deps, ask, request, replies)


async def _clicked(
    deps: Deps, ack: Ack, body: dict[str, Any], respond: Respond, event: Event
) -> tuple[Ask, LookupRequest] | None:
    """Ack the click and read the lookup its button carries; None once a stale button has been answered."""
    ask = Ask(event, interaction_caller(body))
    await ack()
    try:
        return ask, button_request(body, deps.reader_t(ask.caller.user_id))
    except StaleRequest as error:
        await stop(deps, ask, error, ResponseUrlReplies(respond, deps.settings.redact_message_text))
        return None
