"""Beyond the slash command: the message shortcut, the Details modal and the Refresh button.

Each runs the same path as /conversation (ack first, then the caller's checks, then Yunxin) and
differs only in where the answer goes: the asker's thread, a modal, or the message in place.
"""

from __future__ import annotations

import html
import logging
import re
import time
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.yunxin.ids import match_key
from bot.yunxin.models import LookupResult

from .access import slack_error_code
from .actions import LookupRequest
from .blocks import render_notice
from .commands import (
    Ack,
    Deps,
    Message,
    Respond,
    after_ack_sent,
    answer_with_messages,
    button_request,
    ephemeral_notify,
    interaction_caller,
    record,
    run_lookup,
)
from .modals import render_details_view, render_loading_view, render_message_view

log = logging.getLogger(__name__)

SHORTCUT_CALLBACK = "lookup_conversations_shortcut"

# owner|type|target anywhere in text: in code spans, quotes, after punctuation. The look-arounds
# keep a match from starting or ending inside a longer run of account characters.
_ACCOUNT_CHARS = r"A-Za-z0-9_@.\-"
_ID_IN_TEXT = re.compile(
    rf"(?<![{_ACCOUNT_CHARS}|])([{_ACCOUNT_CHARS}]{{1,32}}\|[123]\|[{_ACCOUNT_CHARS}]{{1,32}})(?![{_ACCOUNT_CHARS}|])"
)


def find_ids(text: str) -> list[str]:
    """Every conversation ID quoted in a message, once each, in order of appearance."""
    seen: set[str] = set()
    found: list[str] = []
    for match in _ID_IN_TEXT.finditer(html.unescape(text)):
        candidate = match.group(1).strip(".")  # a sentence may end right after an ID
        key = match_key(candidate)
        if key not in seen:
            seen.add(key)
            found.append(candidate)
    return found


def _message_text(message: dict[str, Any]) -> str:
    """The message's text and its attachments' texts, where pasted IDs may sit."""
    parts = [str(message.get("text") or "")]
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, dict):
            parts.extend(str(attachment.get(key) or "") for key in ("pretext", "text", "fallback"))
    return "\n".join(parts)


async def handle_message_shortcut(deps: Deps, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
    """ "Look up in Yunxin" on a message: answer the asker only, in that channel or thread."""
    started = time.perf_counter()
    await ack()
    message = body.get("message") or {}
    thread_ts = message.get("thread_ts")
    notify = ephemeral_notify(respond, thread_ts)
    caller = interaction_caller(body)
    ids = find_ids(_message_text(message))
    if not ids:
        await notify(render_notice("No Yunxin conversation IDs (owner|type|target) found in that message."))
        record(deps, "shortcut", caller, ids, "no_ids", started)
        return
    limit = deps.settings.max_ids_per_command
    if len(ids) > limit:
        await notify(render_notice(f"That message quotes {len(ids)} IDs; one lookup takes at most {limit}."))
        record(deps, "shortcut", caller, ids, "too_many_ids", started)
        return
    request = LookupRequest(tuple(ids))
    await run_lookup(
        deps,
        event="shortcut",
        caller=caller,
        request=request,
        notify=notify,
        answer=answer_with_messages(deps, respond, request, thread_ts=thread_ts),
        started=started,
    )


async def handle_refresh(deps: Deps, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
    """Refresh: the lookup again, replacing the message that holds the button."""
    started = time.perf_counter()
    await ack()
    notify = ephemeral_notify(respond)
    request = await button_request(body, notify)
    if request is None:
        return
    caller = interaction_caller(body)
    shared = not (body.get("container") or {}).get("is_ephemeral", True)
    await run_lookup(
        deps,
        event="refresh",
        caller=caller,
        request=request,
        notify=notify,
        answer=answer_with_messages(
            deps,
            respond,
            request,
            response_type="in_channel" if shared else "ephemeral",
            shared_by=caller.user_id if shared else None,
            refreshed_at=datetime.now(UTC),
            replace_first=True,
        ),
        started=started,
    )


async def handle_details(deps: Deps, ack: Ack, body: dict[str, Any], respond: Respond, client: AsyncWebClient) -> None:
    """Details: open a modal at once (trigger_id lives 3 s), fill it in when the lookup returns."""
    started = time.perf_counter()
    await ack()
    request = await button_request(body, ephemeral_notify(respond))
    if request is None:
        return
    await after_ack_sent()
    try:
        loading = render_loading_view(request.ids[0])
        opened = await client.views_open(trigger_id=body.get("trigger_id", ""), view=loading)
        view_id = str(opened["view"]["id"])
    except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
        code = slack_error_code(error) if isinstance(error, SlackApiError) else None
        code = code or type(error).__name__
        log.warning("views.open failed: %s", code)
        await ephemeral_notify(respond)(render_notice(f"Couldn't open the details (Slack answered {code}); try again."))
        return

    async def show(view: dict[str, Any]) -> bool:
        try:
            await client.views_update(view_id=view_id, view=view)
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
            log.error("views.update failed for %s: %s", view_id, type(error).__name__)
            return False
        return True

    async def notify(message: Message) -> bool:
        return await show(render_message_view(message))

    async def answer(result: LookupResult) -> bool:
        view = render_details_view(
            result.outcomes()[0],
            environment=result.environment,
            sandbox=result.sandbox,
            redact_text=deps.settings.redact_message_text,
        )
        return await show(view)

    await run_lookup(
        deps,
        event="details",
        caller=interaction_caller(body),
        request=request,
        notify=notify,
        answer=answer,
        started=started,
    )
