"""Replies in the person's direct message with the bot: the CSV file of Download CSV, and the lookup form's
answer."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from bot.yunxin.models import LookupResult

from ..access import slack_error_code
from ..ack import after_ack_sent
from ..actions import LookupRequest
from ..i18n import EN, Translator
from ..render.csv import render_csv
from ..render.kit import Message
from ..render.limits import has_table
from ..render.lookup import render_lookup
from ..render.notices import render_notice
from .posting import REFUSAL_ERRORS, RESPONSE_URL_MAX_POSTS, Posted, left_to_send, refusal_label
from .response_url import ResponseUrlReplies

log = logging.getLogger("bot.slack.replies")


@dataclass(frozen=True, slots=True)
class FileReplies:
    """The answer as a CSV file in the direct message of `user_id` with the bot (never the channel):
    `conversations.open`, then `files_upload_v2`. Notices, and word of where the file went, go ephemerally
    through `notices`."""

    client: AsyncWebClient
    user_id: str
    notices: ResponseUrlReplies
    redact_text: bool

    @property
    def shared(self) -> bool:
        return False

    async def notify(self, message: Message) -> bool:
        return await self.notices.notify(message)

    async def answer(self, result: LookupResult, t: Translator = EN) -> bool:
        await after_ack_sent()
        content = render_csv(result, redact=self.redact_text).encode("utf-8")
        moment = datetime.now(UTC)
        count = len(result.requested)
        try:
            opened = await self.client.conversations_open(users=self.user_id)
            channel = str(opened["channel"]["id"])
            await self.client.files_upload_v2(
                channel=channel,
                content=content,
                filename=f"yunxin-conversations-{moment:%Y%m%d-%H%M%S}.csv",
                title=t.ngettext("Yunxin conversations: {count} ID", "Yunxin conversations: {count} IDs", count).format(
                    count=count
                ),
                initial_comment=t.gettext(
                    "The lookup you downloaded, one row per ID, with the Yunxin trace IDs to quote to support."
                ),
            )
        except (SlackApiError, SlackClientError, OSError, TimeoutError, KeyError, TypeError) as error:
            code = (slack_error_code(error) if isinstance(error, SlackApiError) else None) or type(error).__name__
            log.warning(
                "could not send the CSV to %s's direct message: %s; Yunxin trace IDs %s",
                self.user_id,
                code,
                ", ".join(result.trace_ids) or "none",
            )
            text = t.gettext("Couldn't send you the file (Slack answered {code}); try again.").format(code=code)
            await self.notices.notify(render_notice(text))
            return False
        text = t.ngettext(
            "The CSV of {count} ID is in your direct messages with the bot.",
            "The CSV of {count} IDs is in your direct messages with the bot.",
            count,
        ).format(count=count)
        await self.notices.notify(render_notice(text))
        return True


@dataclass(frozen=True, slots=True)
class DirectMessageReplies:
    """Replies in the direct message of `user_id` with the bot (the lookup form's answer): `conversations.open`,
    then `chat.postMessage` of the messages a command's answer has, with the same blocks, tables and buttons
    (as lists again when Slack refuses a table). Notices, refusals and errors go there too."""

    client: AsyncWebClient
    user_id: str
    redact_text: bool
    request: LookupRequest | None = None  # None: notices only
    metrics: Metrics | None = None

    @property
    def shared(self) -> bool:
        return False

    async def notify(self, message: Message) -> bool:
        return (await self._post([message], ())).ok

    def _render(self, result: LookupResult, t: Translator, *, tables: bool, max_messages: int) -> list[Message]:
        return render_lookup(
            result,
            redact_text=self.redact_text,
            request=self.request,
            max_messages=max_messages,
            tables=tables,
            t=t,
        )

    async def answer(self, result: LookupResult, t: Translator = EN) -> bool:
        messages = self._render(result, t, tables=True, max_messages=RESPONSE_URL_MAX_POSTS)
        posted = await self._post(messages, result.trace_ids)
        with_tables = any(has_table(message) for message in messages)
        if posted.ok or posted.error not in REFUSAL_ERRORS or not with_tables:
            return posted.ok
        if self.metrics is not None:
            self.metrics.slack_refusals.labels(layout="table", error=refusal_label(posted)).inc()
        rest = left_to_send(result, messages, posted)
        plain = self._render(rest, t, tables=False, max_messages=RESPONSE_URL_MAX_POSTS - posted.accepted)
        return (await self._post(plain, result.trace_ids)).ok

    async def _post(self, messages: Sequence[Message], trace_ids: Sequence[str]) -> Posted:
        """Post each message to the direct message; stop at the first one Slack refuses."""
        await after_ack_sent()
        traces = ", ".join(trace_ids) or "none"
        try:
            opened = await self.client.conversations_open(users=self.user_id)
            channel = str(opened["channel"]["id"])
        except (SlackApiError, SlackClientError, OSError, TimeoutError, KeyError, TypeError) as error:
            code = (slack_error_code(error) if isinstance(error, SlackApiError) else None) or type(error).__name__
            log.error("could not open the direct message with %s: %s; Yunxin trace IDs %s", self.user_id, code, traces)
            return Posted(0, error=code)
        for index, message in enumerate(messages):
            try:
                await self.client.chat_postMessage(
                    channel=channel,
                    text=message["text"],
                    blocks=message.get("blocks"),
                    attachments=message.get("attachments"),
                )
            except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
                code = (slack_error_code(error) if isinstance(error, SlackApiError) else None) or type(error).__name__
                log.error(
                    "chat.postMessage to %s's direct message failed: %s; Yunxin trace IDs %s",
                    self.user_id,
                    code,
                    traces,
                )
                return Posted(index, error=code)
        return Posted(len(messages))
