"""Delivering answers: where each reply goes and how it gets there.

A `Destination` is where one lookup answers: `ResponseUrlReplies` posts to the request's response_url (the
command, the buttons, the shortcut), `ModalReplies` shows it in a modal (Details). Each has two ways to
speak: `notify` for notices, refusals and errors (to the person who asked), and `answer` for the lookup's
result, rendered for that place. Both return False (and log) when Slack refused or could not be reached;
neither raises for a network failure.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.yunxin.models import LookupResult

from .ack import after_ack_sent
from .actions import LookupRequest
from .render.kit import Message
from .render.lookup import render_lookup
from .render.modals import View, render_message_view

log = logging.getLogger(__name__)


class Respond(Protocol):
    """Bolt's `respond` (posts to response_url); returns a response with `status_code`."""

    def __call__(self, **kwargs: Any) -> Awaitable[Any]: ...


class Destination(Protocol):
    """Where one lookup's replies go."""

    async def notify(self, message: Message) -> bool:
        """A notice, a refusal or an error, for the person who asked."""
        ...

    async def answer(self, result: LookupResult) -> bool:
        """The lookup's result, rendered for this place."""
        ...


class SessionRespond:
    """`respond()` for one response_url, posting through the app's shared session. It takes Bolt's
    keyword arguments (text, blocks, response_type, replace_original, thread_ts, ...) and, as Bolt does,
    leaves out the ones that are None or empty."""

    def __init__(self, response_url: str, session: aiohttp.ClientSession) -> None:
        self.response_url = response_url
        self._session = session

    async def __call__(self, text: str = "", **fields: Any) -> WebhookResponse:
        message = {"text": text, **{name: value for name, value in fields.items() if value is not None and value != []}}
        return await AsyncWebhookClient(url=self.response_url, session=self._session).send_dict(message)


async def deliver(
    respond: Respond,
    messages: Sequence[Message],
    *,
    response_type: str,
    trace_ids: Sequence[str],
    replace_first: bool = False,
    thread_ts: str | None = None,
) -> bool:
    """Post each message to response_url; stop and log at the first one Slack refuses."""
    await after_ack_sent()
    for index, message in enumerate(messages):
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        try:
            response = await respond(
                text=message["text"],
                blocks=message.get("blocks"),
                response_type=response_type,
                replace_original=replace_first and index == 0,
                **extra,
            )
        except Exception as error:  # the network to Slack, not our logic: log, keep serving
            log.error(
                "could not deliver a reply to response_url: %s; Yunxin trace IDs %s",
                type(error).__name__,
                ", ".join(trace_ids) or "none",
            )
            return False
        status = getattr(response, "status_code", 200)
        if status >= 300:
            log.error(
                "response_url refused a reply: HTTP %s %s; Yunxin trace IDs %s",
                status,
                str(getattr(response, "body", ""))[:100],
                ", ".join(trace_ids) or "none",
            )
            return False
    return True


@dataclass(frozen=True, slots=True)
class ResponseUrlReplies:
    """Replies through a response_url. Notices are always ephemeral; the answer is posted as
    `response_type`, marked as shared by `shared_by` or refreshed at `refreshed_at`, replacing the message
    clicked (`replace_first`) or in the thread `thread_ts`."""

    respond: Respond
    redact_text: bool
    request: LookupRequest | None = None  # None: notices only (no request to answer with buttons)
    response_type: str = "ephemeral"
    shared_by: str | None = None
    refreshed_at: datetime | None = None
    replace_first: bool = False
    thread_ts: str | None = None

    async def notify(self, message: Message) -> bool:
        return await deliver(self.respond, [message], response_type="ephemeral", trace_ids=[], thread_ts=self.thread_ts)

    async def answer(self, result: LookupResult) -> bool:
        messages = render_lookup(
            result,
            redact_text=self.redact_text,
            request=self.request,
            shared_by=self.shared_by,
            refreshed_at=self.refreshed_at,
        )
        return await deliver(
            self.respond,
            messages,
            response_type=self.response_type,
            trace_ids=result.trace_ids,
            replace_first=self.replace_first,
            thread_ts=self.thread_ts,
        )


Show = Callable[[View], Awaitable[bool]]


def shown_in(client: AsyncWebClient, view_id: str) -> Show:
    """Replace what the modal `view_id` shows; False (logged) when Slack refuses."""

    async def show(view: View) -> bool:
        try:
            await client.views_update(view_id=view_id, view=view)
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
            log.error("views.update failed for %s: %s", view_id, type(error).__name__)
            return False
        return True

    return show


@dataclass(frozen=True, slots=True)
class ModalReplies:
    """Replies inside an open modal: notices as a message view, the answer as `render` makes it (None:
    notices only)."""

    show: Show
    render: Callable[[LookupResult], View] | None = None

    async def notify(self, message: Message) -> bool:
        return await self.show(render_message_view(message))

    async def answer(self, result: LookupResult) -> bool:
        if self.render is None:
            raise TypeError("these modal replies show notices only")
        return await self.show(self.render(result))
