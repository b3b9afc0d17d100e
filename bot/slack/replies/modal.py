"""Replies inside an open modal (Details)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.yunxin.models import LookupResult

from ..i18n import EN, Translator
from ..render.kit import Message
from ..render.modals import View, render_message_view

log = logging.getLogger("bot.slack.replies")

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
    render: Callable[[LookupResult, Translator], View] | None = None
    t: Translator = EN  # the language of the notices shown in it

    @property
    def shared(self) -> bool:
        return False

    async def notify(self, message: Message) -> bool:
        return await self.show(render_message_view(message, self.t))

    async def answer(self, result: LookupResult, t: Translator = EN) -> bool:
        if self.render is None:
            raise TypeError("these modal replies show notices only")
        return await self.show(self.render(result, t))
