"""Delivering answers: where each reply goes and how it gets there.

A `Destination` is where one lookup answers: `ResponseUrlReplies` posts to the request's response_url (the
command, the buttons, the shortcut), `ModalReplies` shows it in a modal (Details), `FileReplies` sends it as a
CSV file to the clicker's direct message with the bot (Download CSV), `DirectMessageReplies` posts it there as
messages (the lookup form). Each has two ways to speak: `notify`
for notices, refusals and errors (to the person who asked), and `answer` for the lookup's result, rendered
for that place in the language it is given. Both return False (and log) when Slack refused or could not be
reached; neither raises for a network failure.

No answer is lost to a layout: when Slack refuses a message holding a table (any 4xx from the response_url,
`invalid_blocks`, `invalid_attachments`, `msg_blocks_too_long`), the refusal is logged with the Yunxin trace
IDs and counted, and the same answer goes again as lists, the plain form Slack always takes. A 429 from a
response_url is waited out (its Retry-After) and the post sent again, a few times within a bound.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.metrics import Metrics
from bot.yunxin.models import LookupResult

from .access import slack_error_code
from .ack import after_ack_sent
from .actions import LookupRequest
from .i18n import EN, Translator
from .render.csv import render_csv
from .render.kit import Message
from .render.limits import has_table
from .render.lookup import render_lookup
from .render.modals import View, render_message_view
from .render.notices import render_notice

log = logging.getLogger(__name__)

# A response_url that answers 429: each post is sent again after its Retry-After, this many times at most and
# never waiting longer than this in all (Bolt's respond() does not retry at all).
RESPONSE_URL_RETRIES = 3
RESPONSE_URL_MAX_WAIT_SECONDS = 10.0
RESPONSE_URL_MAX_POSTS = 5
# What a refusal is counted as: Slack's own words for a refused layout, anything else by its HTTP status.
REFUSAL_ERRORS = frozenset({"invalid_blocks", "invalid_attachments", "msg_blocks_too_long", "invalid_blocks_format"})


class Respond(Protocol):
    """Bolt's `respond` (posts to response_url); returns a response with `status_code`."""

    def __call__(self, **kwargs: Any) -> Awaitable[Any]: ...


class Destination(Protocol):
    """Where one lookup's replies go."""

    @property
    def shared(self) -> bool:
        """Whether the answer is for a channel (shown in DEFAULT_LOCALE) rather than for the asker."""
        ...

    async def notify(self, message: Message) -> bool:
        """A notice, a refusal or an error, for the person who asked."""
        ...

    async def answer(self, result: LookupResult, t: Translator = EN) -> bool:
        """The lookup's result, rendered for this place in `t`'s language."""
        ...


class SessionRespond:
    """`respond()` for one response_url, posting through the app's shared session. It takes Bolt's
    keyword arguments (text, blocks, attachments, response_type, replace_original, thread_ts, ...) and, as
    Bolt does, leaves out the ones that are None or empty."""

    def __init__(self, response_url: str, session: aiohttp.ClientSession) -> None:
        self.response_url = response_url
        self._session = session

    async def __call__(self, text: str = "", **fields: Any) -> WebhookResponse:
        message = {"text": text, **{name: value for name, value in fields.items() if value is not None and value != []}}
        return await AsyncWebhookClient(url=self.response_url, session=self._session).send_dict(message)


@dataclass(frozen=True, slots=True)
class Posted:
    """How the posts of one answer went: how many Slack took, and why it stopped (None: it took them all)."""

    accepted: int
    status: int | None = None  # the HTTP status of the post refused; None: none was, or the network failed
    error: str = ""  # what Slack said (its body's first words), or the network error's name

    @property
    def ok(self) -> bool:
        return self.status is None and not self.error

    @property
    def refused_layout(self) -> bool:
        """Slack refused the message as it was (a 4xx other than a rate limit): another form may pass."""
        return self.status is not None and 400 <= self.status < 500 and self.status != 429


def _retry_after(response: Any) -> float:
    headers = getattr(response, "headers", None) or {}
    for name, value in dict(headers).items():
        if str(name).lower() == "retry-after":
            text = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return max(0.0, float(str(text)))
            except ValueError:
                return 1.0
    return 1.0


async def _post(respond: Respond, fields: dict[str, Any]) -> Any:
    """One post, with a 429 waited out (its Retry-After) and sent again, within the bounds above."""
    waited = 0.0
    for attempt in range(RESPONSE_URL_RETRIES + 1):
        response = await respond(**fields)
        if getattr(response, "status_code", 200) != 429 or attempt == RESPONSE_URL_RETRIES:
            return response
        wait = _retry_after(response)
        if waited + wait > RESPONSE_URL_MAX_WAIT_SECONDS:
            return response
        log.info("response_url answered 429; posting again in %g s", wait)
        await asyncio.sleep(wait)
        waited += wait
    raise AssertionError("unreachable")


async def post_each(
    respond: Respond,
    messages: Sequence[Message],
    *,
    response_type: str,
    trace_ids: Sequence[str],
    replace_first: bool = False,
    thread_ts: str | None = None,
    log_refusal: bool = True,
) -> Posted:
    """Post each message to response_url; stop at the first one Slack refuses (logged unless told not to)."""
    await after_ack_sent()
    traces = ", ".join(trace_ids) or "none"
    for index, message in enumerate(messages):
        fields: dict[str, Any] = {
            "text": message["text"],
            "blocks": message.get("blocks"),
            "attachments": message.get("attachments"),
            "response_type": response_type,
            "replace_original": replace_first and index == 0,
        }
        if thread_ts:
            fields["thread_ts"] = thread_ts
        try:
            response = await _post(respond, fields)
        except Exception as error:  # the network to Slack, not our logic: log, keep serving
            log.error(
                "could not deliver a reply to response_url: %s; Yunxin trace IDs %s", type(error).__name__, traces
            )
            return Posted(index, error=type(error).__name__)
        status = getattr(response, "status_code", 200)
        if status >= 300:
            body = str(getattr(response, "body", ""))[:100]
            if log_refusal:
                log.error("response_url refused a reply: HTTP %s %s; Yunxin trace IDs %s", status, body, traces)
            return Posted(index, status=status, error=body)
    return Posted(len(messages))


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
    posted = await post_each(
        respond,
        messages,
        response_type=response_type,
        trace_ids=trace_ids,
        replace_first=replace_first,
        thread_ts=thread_ts,
    )
    return posted.ok


def refusal_label(posted: Posted) -> str:
    word = posted.error.strip().split()[0] if posted.error.strip() else ""
    return word if word in REFUSAL_ERRORS else f"http_{posted.status}"


def _rows_shown(messages: Sequence[Message]) -> int:
    """How many IDs the tables of these messages list (each table's first row is its header)."""
    return sum(
        len(block.get("rows") or []) - 1
        for message in messages
        for attachment in message.get("attachments") or []
        for block in attachment.get("blocks") or []
        if block.get("type") == "table"
    )


@dataclass(frozen=True, slots=True)
class ResponseUrlReplies:
    """Replies through a response_url. Notices are always ephemeral; the answer is posted as
    `response_type`, marked as shared by `shared_by` or refreshed at `refreshed_at`, replacing the message
    clicked (`replace_first`) or in the thread `thread_ts`. With `tables`, a long answer is a table per
    message, sent again as lists if Slack refuses it (counted in `metrics`)."""

    respond: Respond
    redact_text: bool
    request: LookupRequest | None = None  # None: notices only (no request to answer with buttons)
    response_type: str = "ephemeral"
    shared_by: str | None = None
    refreshed_at: datetime | None = None
    replace_first: bool = False
    thread_ts: str | None = None
    tables: bool = True
    metrics: Metrics | None = None

    @property
    def shared(self) -> bool:
        return self.response_type == "in_channel"

    async def notify(self, message: Message) -> bool:
        return await deliver(self.respond, [message], response_type="ephemeral", trace_ids=[], thread_ts=self.thread_ts)

    def _render(self, result: LookupResult, t: Translator, *, tables: bool, max_messages: int) -> list[Message]:
        return render_lookup(
            result,
            redact_text=self.redact_text,
            request=self.request,
            shared_by=self.shared_by,
            refreshed_at=self.refreshed_at,
            max_messages=max_messages,
            tables=tables,
            t=t,
        )

    async def answer(self, result: LookupResult, t: Translator = EN) -> bool:
        messages = self._render(result, t, tables=self.tables, max_messages=RESPONSE_URL_MAX_POSTS)
        with_tables = any(has_table(message) for message in messages)
        posted = await post_each(
            self.respond,
            messages,
            response_type=self.response_type,
            trace_ids=result.trace_ids,
            replace_first=self.replace_first,
            thread_ts=self.thread_ts,
            log_refusal=not with_tables,
        )
        if posted.ok:
            return True
        if posted.refused_layout and self.metrics is not None:
            self.metrics.slack_refusals.labels(
                layout="table" if with_tables else "plain", error=refusal_label(posted)
            ).inc()
        if not (posted.refused_layout and with_tables):
            return False
        return await self._as_lists(result, t, messages, posted)

    async def _as_lists(self, result: LookupResult, t: Translator, sent: Sequence[Message], posted: Posted) -> bool:
        """The answer again in the plain form, after Slack refused message `posted.accepted` of `sent`: the
        whole answer when it refused the first, else the IDs its accepted messages did not list, in the
        posts the response_url has left."""
        log.warning(
            "Slack refused an answer with a table (HTTP %s %s) at message %d of %d; sending it again as lists; "
            "Yunxin trace IDs %s",
            posted.status,
            posted.error[:60],
            posted.accepted + 1,
            len(sent),
            ", ".join(result.trace_ids) or "none",
        )
        left = RESPONSE_URL_MAX_POSTS - posted.accepted
        rest = result
        if posted.accepted:
            rest = dataclasses.replace(result, requested=result.requested[_rows_shown(sent[: posted.accepted]) :])
        plain = self._render(rest, t, tables=False, max_messages=left)
        return await deliver(
            self.respond,
            plain,
            response_type=self.response_type,
            trace_ids=result.trace_ids,
            replace_first=self.replace_first and not posted.accepted,
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
        rest = result
        if posted.accepted:
            rest = dataclasses.replace(result, requested=result.requested[_rows_shown(messages[: posted.accepted]) :])
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
