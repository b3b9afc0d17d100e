"""Posting to a response_url (`SessionRespond`) as slack_sdk's AsyncWebhookClient posts: the same headers and a
body that reads back the same (compact UTF-8 JSON), one more try for a connection that failed and none for
anything else, and a 429's Retry-After still there for `post_with_retries` to wait out."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.web.internal_utils import get_user_agent
from slack_sdk.webhook.async_client import AsyncWebhookClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bot.slack.render.kit import message_json
from bot.slack.replies import posting
from bot.slack.replies.posting import SessionRespond, post_each, retry_after
from bot.standins.slack import SlackStandIn
from tests.loopback import LateHost, ServeAsgi

MESSAGE: dict[str, Any] = {
    "text": "*1* found · ünïcode",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*1* found"}}],
    "attachments": [{"blocks": [{"type": "table", "rows": [[{"type": "raw_text", "text": "p2p|1|a"}]]}]}],
    "response_type": "in_channel",
    "replace_original": False,
}


class Recorder:
    """A response_url that keeps each request's headers (as sent, in order) and body, and answers "ok"."""

    def __init__(self) -> None:
        self.requests: list[tuple[list[tuple[bytes, bytes]], bytes]] = []
        self.app = Starlette(routes=[Route("/response/{token}", self._post, methods=["POST"])])

    async def _post(self, request: Request) -> PlainTextResponse:
        self.requests.append((list(request.headers.raw), await request.body()))
        return PlainTextResponse("ok", headers={"X-Answer": "recorded"})


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as shared:
        yield shared


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """The retry's pauses taken (none is waited)."""
    taken: list[None] = []

    async def pause() -> None:
        taken.append(None)

    monkeypatch.setattr(posting, "_pause_before_retry", pause)
    return taken


async def test_a_post_is_the_headers_slack_sdk_sends_and_a_body_read_as_its_own(
    serve_asgi: ServeAsgi, session: aiohttp.ClientSession
) -> None:
    recorder = Recorder()
    async with serve_asgi(recorder.app) as base_url:
        url = f"{base_url}/response/T0-1-abc"
        await AsyncWebhookClient(url=url, session=session).send_dict(MESSAGE)
        fields = {name: value for name, value in MESSAGE.items() if name != "text"}
        response = await SessionRespond(url, session)(MESSAGE["text"], thread_ts=None, metadata=[], **fields)
    (sdk_headers, sdk_body), (headers, body) = recorder.requests

    def but_length(sent: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        return [(name, value) for name, value in sent if name != b"content-length"]

    assert but_length(headers) == but_length(sdk_headers)
    assert dict(headers)[b"content-length"] == str(len(body)).encode()
    assert json.loads(body) == json.loads(sdk_body) == MESSAGE
    assert body == json.dumps(MESSAGE, separators=(",", ":"), ensure_ascii=False).encode()
    assert len(body) < len(sdk_body)
    sent = dict(headers)
    assert sent[b"content-type"] == b"application/json;charset=utf-8"
    assert sent[b"user-agent"] == get_user_agent().encode()
    assert (response.status_code, response.body, response.headers["x-answer"]) == (200, "ok", "recorded")


# JSON's values as a message holds them, text with any code point (lone surrogates included) at every level.
_JSON_TEXT = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF))
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _JSON_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_JSON_TEXT, inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(_JSON_TEXT, _JSON_VALUES, max_size=5))
def test_a_body_reads_back_as_json_dumps_would_and_is_never_longer(message: dict[str, Any]) -> None:
    body = message_json(message)
    assert json.loads(body) == json.loads(json.dumps(message))
    assert len(body) <= len(json.dumps(message).encode())


def test_text_utf_8_cannot_carry_is_sent_escaped_as_json_dumps_sends_it() -> None:
    message = {"text": "half a pair: \ud83d", "blocks": []}
    assert message_json(message) == json.dumps(message).encode()


async def test_a_refused_connection_is_tried_once_more(
    late_hosts: Callable[[], LateHost], session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, recorder = late_hosts(), Recorder()
    pauses: list[None] = []
    async with contextlib.AsyncExitStack() as serving:

        async def come_up() -> None:  # the pause before the retry: the host comes up meanwhile
            pauses.append(None)
            await serving.enter_async_context(host.up(recorder.app))

        monkeypatch.setattr(posting, "_pause_before_retry", come_up)
        response = await SessionRespond(f"{host.url}/response/T0-1-abc", session)(text="hello")
    assert (response.status_code, response.body) == (200, "ok")
    assert len(pauses) == 1 and [json.loads(body) for _, body in recorder.requests] == [{"text": "hello"}]


async def test_a_connection_refused_again_is_raised_as_before(
    refused_url: Callable[[], str],
    session: aiohttp.ClientSession,
    pauses: list[None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"{refused_url()}/response/T0-1-abc"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(aiohttp.ClientConnectorError):
        await SessionRespond(url, session)(text="hello")
    assert len(pauses) == 1
    assert "trying once more" in caplog.text
    assert "T0-1-abc" not in caplog.text  # the response_url is a credential: never logged
    posted = await post_each(SessionRespond(url, session), [{"text": "hello"}], response_type="ephemeral", trace_ids=[])
    assert (posted.accepted, posted.status, posted.error) == (0, None, "ClientConnectorError")
    assert len(pauses) == 2


async def test_a_429_keeps_its_retry_after_and_no_status_is_tried_again(
    slack: SlackStandIn, session: aiohttp.ClientSession, pauses: list[None]
) -> None:
    url = slack.new_response_url()
    respond = SessionRespond(url, session)
    slack.fail_response_urls(429, retry_after=7, times=1)
    limited = await respond(text="hello")
    assert (limited.status_code, retry_after(limited)) == (429, 7.0)
    slack.fail_response_urls(500, times=1)
    assert (await respond(text="hello")).status_code == 500
    accepted = await respond(**MESSAGE)
    assert (accepted.status_code, accepted.body) == (200, "ok")
    assert slack.posts(url) == [MESSAGE] and pauses == []


async def test_a_post_after_the_shared_session_closed_still_goes(slack: SlackStandIn) -> None:
    url = slack.new_response_url()
    closed = aiohttp.ClientSession()
    await closed.close()
    assert (await SessionRespond(url, closed)(text="bye")).status_code == 200
    assert slack.posts(url) == [{"text": "bye"}]
