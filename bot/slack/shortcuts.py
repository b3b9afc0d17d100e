"""Beyond the slash command: the message shortcut, the Details modal (and the list of conversations a
long answer opens it from), and the Refresh button.

Each runs the same path as /conversation (ack first, then the caller's checks, then Yunxin) and
differs only in where the answer goes: the asker's thread, a modal, or the message in place.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.yunxin.ids import match_key
from bot.yunxin.models import LookupResult

from .access import Caller, slack_error_code
from .actions import LookupRequest, ModalState
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
from .modals import View, render_details_view, render_loading_view, render_message_view, render_picker_view

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


Show = Callable[[View], Awaitable[bool]]
Render = Callable[[LookupResult], View]


async def _open_modal(client: AsyncWebClient, body: dict[str, Any], respond: Respond, loading: View) -> str | None:
    """`views.open` with `loading` at once (a trigger_id lives 3 s); the new view's ID, or None once the
    clicker has been told it could not open."""
    await after_ack_sent()
    try:
        opened = await client.views_open(trigger_id=body.get("trigger_id", ""), view=loading)
        return str(opened["view"]["id"])
    except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
        code = slack_error_code(error) if isinstance(error, SlackApiError) else None
        code = code or type(error).__name__
        log.warning("views.open failed: %s", code)
        await ephemeral_notify(respond)(render_notice(f"Couldn't open the details (Slack answered {code}); try again."))
        return None


def _shown_in(client: AsyncWebClient, view_id: str) -> Show:
    """Replace what the modal `view_id` shows; False (logged) when Slack refuses."""

    async def show(view: View) -> bool:
        try:
            await client.views_update(view_id=view_id, view=view)
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
            log.error("views.update failed for %s: %s", view_id, type(error).__name__)
            return False
        return True

    return show


async def _look_up_into_modal(
    deps: Deps,
    show: Show,
    *,
    event: str,
    caller: Caller,
    request: LookupRequest,
    render: Render,
    started: float,
) -> None:
    """The lookup, through the same checks as every other, its answer (or a refusal, a notice) in the modal."""

    async def notify(message: Message) -> bool:
        return await show(render_message_view(message))

    async def answer(result: LookupResult) -> bool:
        return await show(render(result))

    await run_lookup(deps, event=event, caller=caller, request=request, notify=notify, answer=answer, started=started)


def _details(deps: Deps, back_to: ModalState | None = None) -> Render:
    """Render the first (the only) conversation of a lookup in full."""

    def render(result: LookupResult) -> View:
        return render_details_view(
            result.outcomes()[0],
            environment=result.environment,
            sandbox=result.sandbox,
            redact_text=deps.settings.redact_message_text,
            back_to=back_to,
        )

    return render


async def _look_up_into_new_modal(
    deps: Deps,
    ack: Ack,
    body: dict[str, Any],
    respond: Respond,
    client: AsyncWebClient,
    *,
    event: str,
    renderer: Callable[[LookupRequest, Caller], Render],
) -> None:
    """A click on a message: open a modal at once (its trigger_id lives 3 s), then fill it in with what
    `renderer` makes of the lookup the clicked button carries."""
    started = time.perf_counter()
    await ack()
    request = await button_request(body, ephemeral_notify(respond))
    if request is None:
        return
    view_id = await _open_modal(client, body, respond, render_loading_view(request.ids))
    if view_id is None:
        return
    caller = interaction_caller(body)
    show = _shown_in(client, view_id)
    render = renderer(request, caller)
    await _look_up_into_modal(deps, show, event=event, caller=caller, request=request, render=render, started=started)


async def handle_details(deps: Deps, ack: Ack, body: dict[str, Any], respond: Respond, client: AsyncWebClient) -> None:
    """Details: a modal with every field of the conversation."""
    await _look_up_into_new_modal(
        deps, ack, body, respond, client, event="details", renderer=lambda _request, _caller: _details(deps)
    )


def _listing(request: LookupRequest, caller: Caller) -> Render:
    """Render the list of a lookup's found conversations, keeping what a choice in it needs."""
    state = ModalState(request, caller.channel_id)
    return lambda result: render_picker_view(result, state)


async def handle_details_picker(
    deps: Deps, ack: Ack, body: dict[str, Any], respond: Respond, client: AsyncWebClient
) -> None:
    """Details… on a compact answer: a modal listing the found conversations the button carries, to choose
    one from."""
    await _look_up_into_new_modal(deps, ack, body, respond, client, event="details_list", renderer=_listing)


@dataclass(frozen=True, slots=True)
class _ModalClick:
    """A click inside a list modal, acked: where to show the answer, the list, and who clicked."""

    show: Show
    state: ModalState
    caller: Caller


async def _modal_click(ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> _ModalClick | None:
    """Ack a click inside a list modal and read what it refers to: the list (kept in the view) and the
    clicker, in the channel the modal was opened from. A view that is not one of ours shows a notice."""
    await ack()
    show = _shown_in(client, str((body.get("view") or {}).get("id") or ""))
    await after_ack_sent()
    try:
        state = ModalState.decode(str((body.get("view") or {}).get("private_metadata") or ""))
    except ValueError:
        await show(render_message_view(render_notice("This list is out of date; run the command again.")))
        return None
    return _ModalClick(show, state, replace(interaction_caller(body), channel_id=state.channel_id))


async def handle_picker_choice(deps: Deps, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
    """A conversation chosen in the list: the same modal shows its details, with a way back to the list."""
    started = time.perf_counter()
    click = await _modal_click(ack, body, client)
    if click is None:
        return
    show, state = click.show, click.state
    action = (body.get("actions") or [{}])[0]
    chosen = str((action.get("selected_option") or {}).get("value") or "")
    if match_key(chosen) not in {match_key(listed) for listed in state.request.ids}:
        await show(render_message_view(render_notice("That conversation is not in this list; run the command again.")))
        return
    await show(render_loading_view([chosen]))
    await _look_up_into_modal(
        deps,
        show,
        event="details",
        caller=click.caller,
        request=LookupRequest((chosen,), state.request.environment),
        render=_details(deps, back_to=state),
        started=started,
    )


async def handle_picker_back(deps: Deps, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Back to the list: look its conversations up again (their state may have changed) and list them."""
    started = time.perf_counter()
    click = await _modal_click(ack, body, client)
    if click is None:
        return
    request = click.state.request
    await click.show(render_loading_view(request.ids))
    await _look_up_into_modal(
        deps,
        click.show,
        event="details_list",
        caller=click.caller,
        request=request,
        render=_listing(request, click.caller),
        started=started,
    )
