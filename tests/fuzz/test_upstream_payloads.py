"""Whatever Yunxin answers: read without an unexpected exception, and rendered within Slack's limits.

`read_answer` gets random statuses and bodies (random JSON, random bytes); the client gets, per call, an
answer built from the models' fields with the right types most of the time, or any JSON at all."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.actions import LookupRequest
from bot.slack.render.limits import problems
from bot.slack.render.lookup import render_lookup
from bot.yunxin.answers import CallAnswer, read_answer
from bot.yunxin.client import YunxinClient
from bot.yunxin.errors import YunxinError
from bot.yunxin.ids import parse_ids
from bot.yunxin.request import query_value
from tests.factories import yunxin_app

from .strategies import answers_for, conversation_ids, json_values

TRACE_ID = "fuzz-trace-0001"
STATUSES = [200] * 6 + [400, 404, 414, 416, 500, 502, 503, 504]
CONFIG = yunxin_app(name="fuzz")

bodies = st.one_of(json_values.map(lambda value: json.dumps(value).encode()), st.binary(max_size=300))


@settings(max_examples=300, deadline=None)
@given(status=st.sampled_from(STATUSES), body=bodies)
def test_read_answer_reads_any_body_or_raises_a_yunxin_error_naming_the_call(status: int, body: bytes) -> None:
    response = httpx.Response(status, content=body, request=httpx.Request("GET", "http://yunxin.invalid/"))
    try:
        answer = read_answer(response, TRACE_ID)
    except YunxinError as error:
        assert error.trace_id == TRACE_ID
        assert str(error).strip()
    else:
        assert isinstance(answer, CallAnswer)
        assert answer.trace_id == TRACE_ID


@settings(max_examples=300, deadline=None)
@given(body=answers_for([str(n) for n in range(3)]))
def test_read_answer_reads_any_well_typed_envelope(body: Any) -> None:
    response = httpx.Response(200, json=body, request=httpx.Request("GET", "http://yunxin.invalid/"))
    try:
        read_answer(response, TRACE_ID)
    except YunxinError as error:
        assert error.trace_id == TRACE_ID


@settings(max_examples=80, deadline=None)
@given(
    ids=st.lists(conversation_ids, min_size=1, max_size=250),
    redact=st.booleans(),
    shared_by=st.sampled_from([None, "U0SHARER"]),
    data=st.data(),
)
async def test_any_answers_through_the_client_render_within_slack_limits(
    ids: list[str], redact: bool, shared_by: str | None, data: st.DataObject
) -> None:
    async def yunxin(request: httpx.Request) -> httpx.Response:
        asked = request.url.params["conversation_ids"].split(",")
        status = data.draw(st.sampled_from(STATUSES), label="status")
        return httpx.Response(status, json=data.draw(answers_for(asked), label="answer"))

    transport = httpx.MockTransport(yunxin)
    async with YunxinClient(CONFIG, transport=transport) as client:
        result = await client.get_conversations(parse_ids(ids))
    messages = render_lookup(result, redact_text=redact, request=LookupRequest(tuple(ids)), shared_by=shared_by)
    assert 1 <= len(messages) <= 5
    for message in messages:
        assert problems(message) == [], message


ID_CHARACTERS = st.sampled_from("aZ09_.~-|,@ %+é漢/")


@given(st.lists(st.text(alphabet=ID_CHARACTERS, max_size=20) | st.text(max_size=10), max_size=5))
def test_the_query_value_is_the_one_urlencode_writes(ids: list[str]) -> None:
    joined = ",".join(ids)
    assert f"conversation_ids={query_value(joined)}" == urlencode({"conversation_ids": joined})
