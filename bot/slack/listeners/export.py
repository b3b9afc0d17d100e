"""Download CSV, under an answer: the lookup again, for the clicker (who passes the same checks as the command),
as a CSV file sent to their direct message with the bot, never to the channel. The clicker is told, where they
clicked, that the file is there."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from ..ack import Ack
from ..actions import StaleRequest
from ..pipeline import Ask, Deps, Event, run_lookup, stop
from ..replies import FileReplies, Respond, ResponseUrlReplies
from .payloads import button_request, interaction_caller


async def download_csv(deps: Deps, ack: Ack, body: dict[str, Any], respond: Respond, client: AsyncWebClient) -> None:
    ask = Ask(Event.EXPORT, interaction_caller(body))
    await ack()
    redact = deps.settings.redact_message_text
    notices = ResponseUrlReplies(respond, redact)
    try:
        request = button_request(body, deps.reader_t(ask.caller.user_id))
    except StaleRequest as error:
        await stop(deps, ask, error, notices)
        return
    await run_lookup(deps, ask, request, FileReplies(client, ask.caller.user_id, notices, redact))
