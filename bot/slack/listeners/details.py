"""The Details modal: a conversation's every field, and the list of found conversations a long answer's
"Details…" button opens, to choose one from (with a way back to the list).

A click on a message opens the modal at once with a loading view (its trigger_id lives 3 s), then the
lookup runs through the pipeline and fills it in. Clicks inside the modal carry no response_url and no
channel: their answers go into the modal, and the channel comes from the state the modal keeps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.yunxin.ids import match_key
from bot.yunxin.models import LookupResult

from ..access import Caller, slack_error_code
from ..ack import Ack, after_ack_sent
from ..actions import LookupRequest, ModalState, StaleRequest
from ..i18n import Translator
from ..pipeline import Ask, Deps, Event, run_lookup, stop
from ..render.modals import View, render_details_view, render_loading_view, render_picker_view
from ..render.notices import render_notice
from ..replies import ModalReplies, Respond, ResponseUrlReplies, Show, shown_in
from .payloads import button_request, interaction_caller

log = logging.getLogger(__name__)

Render = Callable[[LookupResult, Translator], View]


def _details(deps: Deps, back_to: ModalState | None = None) -> Render:
    """Render the first (the only) conversation of a lookup in full."""

    def render(result: LookupResult, t: Translator) -> View:
        return render_details_view(
            result.outcomes()[0],
            environment=result.environment,
            sandbox=result.sandbox,
            redact_text=deps.settings.redact_message_text,
            back_to=back_to,
            t=t,
        )

    return render


def _listing(request: LookupRequest, caller: Caller) -> Render:
    """Render the list of a lookup's found conversations, keeping what a choice in it needs."""
    state = ModalState(request, caller.channel_id)
    return lambda result, t: render_picker_view(result, state, t)


async def details(deps: Deps, ack: Ack, body: dict[str, Any], respond: Respond, client: AsyncWebClient) -> None:
    """Details: a modal with every field of the conversation the button names."""
    await _into_new_modal(deps, ack, body, respond, client, Event.DETAILS, lambda _request, _caller: _details(deps))


async def details_list(deps: Deps, ack: Ack, body: dict[str, Any], respond: Respond, client: AsyncWebClient) -> None:
    """Details… on a compact answer: a modal listing the found conversations the button carries."""
    await _into_new_modal(deps, ack, body, respond, client, Event.DETAILS_LIST, _listing)


async def _into_new_modal(
    deps: Deps,
    ack: Ack,
    body: dict[str, Any],
    respond: Respond,
    client: AsyncWebClient,
    event: Event,
    renderer: Callable[[LookupRequest, Caller], Render],
) -> None:
    """A click on a message: open a modal at once, then fill it in with what `renderer` makes of the lookup
    the clicked button carries."""
    ask = Ask(event, interaction_caller(body))
    await ack()
    t = deps.reader_t(ask.caller.user_id)
    notices = ResponseUrlReplies(respond, deps.settings.redact_message_text)
    try:
        request = button_request(body, t)
    except StaleRequest as error:
        await stop(deps, ask, error, notices)
        return
    view_id = await _open_modal(client, body, notices, render_loading_view(request.ids, t), t)
    if view_id is None:
        return
    replies = ModalReplies(shown_in(client, view_id), renderer(request, ask.caller), t)
    await run_lookup(deps, ask, request, replies)


async def _open_modal(
    client: AsyncWebClient, body: dict[str, Any], notices: ResponseUrlReplies, loading: View, t: Translator
) -> str | None:
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
        text = t.gettext("Couldn't open the details (Slack answered {code}); try again.").format(code=code)
        await notices.notify(render_notice(text))
        return None


async def _modal_click(
    deps: Deps, ack: Ack, body: dict[str, Any], client: AsyncWebClient, event: Event
) -> tuple[Ask, Show, ModalState] | None:
    """Ack a click inside a list modal and read what it refers to: the list (kept in the view) and the
    clicker, in the channel the modal was opened from. A view that is not one of ours shows a notice."""
    ask = Ask(event, interaction_caller(body))
    await ack()
    t = deps.reader_t(ask.caller.user_id)
    show = shown_in(client, str((body.get("view") or {}).get("id") or ""))
    await after_ack_sent()
    try:
        state = ModalState.decode(str((body.get("view") or {}).get("private_metadata") or ""))
    except ValueError:
        stale = StaleRequest(t.gettext("This list is out of date; run the command again."))
        await stop(deps, ask, stale, ModalReplies(show, t=t))
        return None
    return replace(ask, caller=replace(ask.caller, channel_id=state.channel_id)), show, state


async def choose_from_list(deps: Deps, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
    """A conversation chosen in the list: the same modal shows its details, with a way back to the list."""
    click = await _modal_click(deps, ack, body, client, Event.DETAILS)
    if click is None:
        return
    ask, show, state = click
    action = (body.get("actions") or [{}])[0]
    chosen = str((action.get("selected_option") or {}).get("value") or "")
    t = deps.reader_t(ask.caller.user_id)
    if match_key(chosen) not in {match_key(listed) for listed in state.request.ids}:
        stale = StaleRequest(t.gettext("That conversation is not in this list; run the command again."))
        await stop(deps, ask, stale, ModalReplies(show, t=t))
        return
    await show(render_loading_view([chosen], t))
    request = LookupRequest((chosen,), state.request.environment)
    await run_lookup(deps, ask, request, ModalReplies(show, _details(deps, back_to=state), t))


async def back_to_list(deps: Deps, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Back to the list: look its conversations up again (their state may have changed) and list them."""
    click = await _modal_click(deps, ack, body, client, Event.DETAILS_LIST)
    if click is None:
        return
    ask, show, state = click
    request = state.request
    t = deps.reader_t(ask.caller.user_id)
    await show(render_loading_view(request.ids, t))
    await run_lookup(deps, ask, request, ModalReplies(show, _listing(request, ask.caller), t))
