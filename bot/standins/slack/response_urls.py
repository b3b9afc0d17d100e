"""The Slack stand-in's `response_url`s, where `respond()` posts: each takes 5 posts within 30 minutes, each
a message within Block Kit's limits, and keeps what it accepted and refused for tests to read or wait for.

Where Slack does not document its answer (a used-up or expired `response_url`, an unknown one), the
stand-in answers HTTP 404 with a short word in the body (`used_url`, `expired_url`, `no_service`): what
matters to the app is that it is a 4xx that `WebhookClient` returns rather than raises.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.slack.render.limits import problems

from .faults import Fault, RefusalRule
from .signed_requests import Origin
from .wire import (
    RESPONSE_URL_LIFETIME_SECONDS,
    RESPONSE_URL_MAX_POSTS,
    JsonObject,
    ReceivedPost,
    Refusal,
    RefusedPost,
    json_object,
)


@dataclass(slots=True)
class _ResponseUrl:
    created_at: float
    accepted: list[ReceivedPost] = field(default_factory=list)
    refused: list[RefusedPost] = field(default_factory=list)


class ResponseUrls:
    """The `response_url`s `SlackStandIn` hands out, and the posts they took or refused."""

    team_id: str
    _clock: Callable[[], float]
    _response_urls: dict[str, _ResponseUrl]
    _response_url_failure: Fault | None
    _refuse: RefusalRule | None
    _posted: asyncio.Condition

    if TYPE_CHECKING:

        @property
        def base_url(self) -> str: ...

    def new_response_url(self) -> str:
        token = secrets.token_urlsafe(16)
        self._response_urls[token] = _ResponseUrl(created_at=self._clock())
        return f"{self.base_url}/response/{token}"

    def new_origin(
        self, user_id: str, channel_id: str, *, team_id: str | None = None, enterprise_id: str | None = None
    ) -> Origin:
        """A request from `user_id` in `channel_id` of this workspace (or of `team_id`), answered at a new
        response_url of this stand-in."""
        return Origin(user_id, team_id or self.team_id, channel_id, self.new_response_url(), enterprise_id)

    def posts(self, response_url: str) -> list[JsonObject]:
        """The JSON bodies `response_url` accepted, in order of arrival."""
        return [post.body for post in self._response_url_state(response_url).accepted]

    def timed_posts(self, response_url: str) -> list[ReceivedPost]:
        return list(self._response_url_state(response_url).accepted)

    def refused_posts(self, response_url: str) -> list[RefusedPost]:
        return list(self._response_url_state(response_url).refused)

    async def wait_for_posts(
        self,
        response_url: str,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - a hang guard for callers, not a deadline on Slack
    ) -> list[JsonObject]:
        """Wait until `response_url` has accepted `count` posts; return all it has accepted."""
        state = self._response_url_state(response_url)
        try:
            async with asyncio.timeout(timeout), self._posted:
                await self._posted.wait_for(lambda: len(state.accepted) >= count)
        except TimeoutError:
            refused = "; ".join(f"{r.status} {r.error} {r.problems}" for r in state.refused) or "none"
            raise TimeoutError(
                f"response_url got {len(state.accepted)} of {count} posts within {timeout} s (refused: {refused})"
            ) from None
        return [post.body for post in state.accepted]

    def _response_url_state(self, response_url: str) -> _ResponseUrl:
        token = urlsplit(response_url).path.rsplit("/", 1)[-1]
        state = self._response_urls.get(token)
        if state is None or not response_url.startswith(self.base_url + "/response/"):
            raise ValueError("not a response_url this stand-in handed out")
        return state

    async def _response_url_post(self, request: Request) -> Response:
        state = self._response_urls.get(request.path_params["token"])
        if state is None:
            return PlainTextResponse("no_service", status_code=HTTPStatus.NOT_FOUND)
        fault = self._response_url_failure
        if fault is not None:
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._response_url_failure = None
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            return PlainTextResponse(fault.error, status_code=fault.status, headers=headers)
        now = self._clock()
        body = await request.body()
        try:
            message = self._accept(state, now, body)
        except Refusal as refusal:
            text = body.decode("utf-8", errors="replace")
            state.refused.append(RefusedPost(now, refusal.status, refusal.error, refusal.problems, text))
            return PlainTextResponse(refusal.error, status_code=refusal.status)
        state.accepted.append(ReceivedPost(now, message))
        async with self._posted:
            self._posted.notify_all()
        return PlainTextResponse("ok")

    def _accept(self, state: _ResponseUrl, now: float, body: bytes) -> JsonObject:
        if now - state.created_at > RESPONSE_URL_LIFETIME_SECONDS:
            raise Refusal(HTTPStatus.NOT_FOUND, "expired_url")
        if len(state.accepted) >= RESPONSE_URL_MAX_POSTS:
            raise Refusal(HTTPStatus.NOT_FOUND, "used_url")
        message = json_object(body)
        if message is None:
            raise Refusal(HTTPStatus.BAD_REQUEST, "invalid_payload", ["the body is not a JSON object"])
        _check_response_fields(message)
        if message.get("delete_original") is True:
            return message
        if not message.get("text") and not message.get("blocks"):
            raise Refusal(HTTPStatus.BAD_REQUEST, "no_text")
        if self._refuse is not None and self._refuse[0](message):
            raise Refusal(HTTPStatus.BAD_REQUEST, self._refuse[1], ["this Slack refuses that layout"])
        found = problems(message)
        if found:
            raise Refusal(HTTPStatus.BAD_REQUEST, "invalid_blocks", found)
        return message


def _check_response_fields(message: JsonObject) -> None:
    """Stricter than Slack, which silently ignores these mistakes (a misspelt response_type posts ephemerally)."""
    wrong = [
        f"{flag} must be a boolean"
        for flag in ("replace_original", "delete_original")
        if flag in message and not isinstance(message[flag], bool)
    ]
    if message.get("response_type", "ephemeral") not in ("ephemeral", "in_channel"):
        wrong.append("response_type must be ephemeral or in_channel")
    if wrong:
        raise Refusal(HTTPStatus.BAD_REQUEST, "invalid_payload", wrong)
