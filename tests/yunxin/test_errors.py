"""The error tree: classification of Yunxin's codes, and messages safe to show."""

from __future__ import annotations

import pytest

from bot.yunxin.errors import (
    ADVICE,
    ERROR_KINDS,
    CredentialsRejected,
    MalformedResponse,
    RateLimited,
    RequestRejected,
    Timeout,
    Unavailable,
    YunxinError,
    classify_code,
)


@pytest.mark.parametrize(
    ("code", "msg", "expected"),
    [
        (414, "checksum", CredentialsRejected),
        (414, "CheckSum is wrong", CredentialsRejected),
        (414, "CurTime is expired", CredentialsRejected),
        (414, "appkey not exists", CredentialsRejected),
        (414, "parameter error: conversation_ids", RequestRejected),
        (414, "", RequestRejected),
        (416, "frequency control", RateLimited),
        (500, "server error", Unavailable),
        (503, "busy", Unavailable),
        (514, "service unavailable", Unavailable),
        (403, "forbidden", RequestRejected),
        (404, "not found", RequestRejected),
        (417, "repeat operation", RequestRejected),
        (419, "over quantity limit", RequestRejected),
        (12345, "something new", RequestRejected),
    ],
)
def test_codes_are_classified(code: int, msg: str, expected: type[YunxinError]) -> None:
    error = classify_code(code, msg, trace_id="trace-1")
    assert type(error) is expected
    assert error.code == code
    assert error.trace_id == "trace-1"
    assert f"code {code}" in str(error)


def test_message_is_trimmed_and_blank_messages_are_named() -> None:
    assert classify_code(404, "   ", trace_id=None).detail == "code 404: no message"
    assert len(classify_code(404, "x" * 1000, trace_id=None).detail) < 220


def test_str_names_the_problem_and_the_trace_id() -> None:
    error = Unavailable("HTTP 500 from open.yunxinapi.com", trace_id="abc-123")
    assert str(error) == "Yunxin is unavailable: HTTP 500 from open.yunxinapi.com (trace ID abc-123)"
    assert str(Timeout("no answer")) == "Yunxin did not answer in time: no answer"


def test_repr_shows_detail_code_and_trace() -> None:
    error = RateLimited("code 416: frequency control", trace_id="t-1", code=416)
    assert repr(error) == "RateLimited(detail='code 416: frequency control', code=416, trace_id='t-1')"


@pytest.mark.parametrize(
    "kind",
    [CredentialsRejected, RequestRejected, RateLimited, Unavailable, Timeout, MalformedResponse, YunxinError],
)
def test_every_kind_is_distinct_and_has_advice(kind: type[YunxinError]) -> None:
    assert issubclass(kind, YunxinError)
    assert ADVICE[kind.kind]
    kinds = [CredentialsRejected, RequestRejected, RateLimited, Unavailable, Timeout, MalformedResponse, YunxinError]
    assert len({k.kind for k in kinds}) == len(kinds)


def test_every_error_kind_has_advice() -> None:
    assert set(ADVICE) == ERROR_KINDS
