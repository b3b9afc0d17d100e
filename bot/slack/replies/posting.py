"""Posting to Slack: the protocols a destination keeps, posting each message of an answer to a response_url
(with 429s waited out, within a bound), and what a refused post tells about the layout."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import random
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from slack_sdk.proxy_env_variable_loader import load_http_proxy_from_env
from slack_sdk.web.internal_utils import get_user_agent
from slack_sdk.webhook import WebhookResponse

from bot.yunxin.models import LookupResult

from ..ack import after_ack_sent
from ..i18n import EN, Translator
from ..render.kit import Message, message_json

log = logging.getLogger("bot.slack.replies")

# A response_url that answers 429: each post is sent again after its Retry-After, this many times at most and
# never waiting longer than this in all (Bolt's respond() does not retry at all).
RESPONSE_URL_RETRIES = 3
RESPONSE_URL_MAX_WAIT_SECONDS = 10.0
RESPONSE_URL_MAX_POSTS = 5
# What a refusal is counted as: Slack's own words for a refused layout, anything else by its HTTP status.
REFUSAL_ERRORS = frozenset({"invalid_blocks", "invalid_attachments", "msg_blocks_too_long", "invalid_blocks_format"})

# A post as slack_sdk's AsyncWebhookClient sends it (its headers and retry; its body as compact JSON, see
# message_json), without building a client per post and the retry machinery around it: those cost about
# 17 µs of CPU per post. Unlike its logger, ours never writes the URL: a response_url lets whoever holds it
# post as the bot for half an hour.
_WEBHOOK_HEADERS = {"Content-Type": "application/json;charset=utf-8", "User-Agent": get_user_agent()}
_WEBHOOK_TIMEOUT_SECONDS = 30  # its own session's timeout, used only once the shared one is closed
# Its default retry: a connection that failed, once, after 0.5 s and a random jitter of up to 1 s.
_CONNECTION_ERRORS = (aiohttp.ServerConnectionError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)


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
        if not self._session.closed:
            return await _post(self._session, self.response_url, message)
        # As slack_sdk does after shutdown has closed the shared session: a session for this post alone.
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=_WEBHOOK_TIMEOUT_SECONDS)) as session:
            return await _post(session, self.response_url, message)


async def _pause_before_retry() -> None:
    await asyncio.sleep(0.5 + random.random())


@functools.cache
def _webhook_proxy() -> str | None:
    """HTTPS_PROXY (or its kin), read once per process as a slack_sdk client reads it once when made: the
    environment does not change under a running bot, and reading it cost four lookups per post."""
    return load_http_proxy_from_env(log)


async def _post(session: aiohttp.ClientSession, url: str, message: dict[str, Any]) -> WebhookResponse:
    """POST `message` to `url` as AsyncWebhookClient.send_dict does: the same headers, proxy (HTTPS_PROXY...)
    and redirects (aiohttp's), the session's timeout, one retry of a failed connection, and a body Slack
    reads alike (`message_json`); any other error is raised, any status returned."""
    body = message_json(message)
    proxy = _webhook_proxy()
    for attempt in range(2):
        try:
            async with session.post(url, data=body, headers=_WEBHOOK_HEADERS, proxy=proxy) as response:
                answer = WebhookResponse(
                    url=url,
                    status_code=response.status,
                    body=await response.text(),
                    headers=response.headers,  # type: ignore[arg-type]  # a CIMultiDictProxy, as slack_sdk returns
                )
        except _CONNECTION_ERRORS as error:
            if attempt:
                raise
            log.info("response_url post: the connection failed (%s); trying once more", type(error).__name__)
            await _pause_before_retry()
            continue
        log.debug("posted to a response_url: HTTP %s", answer.status_code)
        return answer
    raise AssertionError("unreachable")


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


def retry_after(response: Any) -> float:
    headers = getattr(response, "headers", None) or {}
    for name, value in dict(headers).items():
        if str(name).lower() == "retry-after":
            text = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return max(0.0, float(str(text)))
            except ValueError:
                return 1.0
    return 1.0


async def post_with_retries(respond: Respond, fields: dict[str, Any]) -> Any:
    """One post, with a 429 waited out (its Retry-After) and sent again, within the bounds above."""
    waited = 0.0
    for attempt in range(RESPONSE_URL_RETRIES + 1):
        response = await respond(**fields)
        if getattr(response, "status_code", 200) != 429 or attempt == RESPONSE_URL_RETRIES:
            return response
        wait = retry_after(response)
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
            response = await post_with_retries(respond, fields)
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


def rows_shown(messages: Sequence[Message]) -> int:
    """How many IDs the tables of these messages list (each table's first row is its header)."""
    return sum(
        len(block.get("rows") or []) - 1
        for message in messages
        for attachment in message.get("attachments") or []
        for block in attachment.get("blocks") or []
        if block.get("type") == "table"
    )


def left_to_send(result: LookupResult, sent: Sequence[Message], posted: Posted) -> LookupResult:
    """What of `result` is still to send after Slack refused message `posted.accepted` of `sent`: all of it
    when it refused the first, else the IDs its accepted messages' tables did not list."""
    if not posted.accepted:
        return result
    return dataclasses.replace(result, requested=result.requested[rows_shown(sent[: posted.accepted]) :])
