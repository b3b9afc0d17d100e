"""The lookup a button carries: encoded compactly, decoded strictly."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.actions import DETAILS_ACTION, REFRESH_ACTION, SHARE_ACTION, LookupRequest


def test_action_ids_are_stable() -> None:
    # Slack sends these back on every click: renaming one breaks the buttons of older messages.
    assert (SHARE_ACTION, REFRESH_ACTION, DETAILS_ACTION) == (
        "share_in_channel",
        "refresh_lookup",
        "conversation_details",
    )


def test_encode_is_compact_json_and_decodes_back() -> None:
    request = LookupRequest(("alice|1|bob", "alice|2|123"), environment="cn")
    value = request.encode()
    assert value == '{"v":1,"ids":["alice|1|bob","alice|2|123"],"env":"cn"}'
    assert LookupRequest.decode(value) == request
    assert LookupRequest.decode('{"v":1,"ids":["a|1|b"]}') == LookupRequest(("a|1|b",), None)


def test_encode_gives_none_when_the_value_would_pass_2000_characters() -> None:
    ids = tuple(f"user{i:04d}|1|peer{i:04d}" for i in range(200))
    assert LookupRequest(ids).encode() is None
    fitting = LookupRequest(ids[:80]).encode()
    assert fitting is not None and len(fitting) <= 2000


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not json",
        "[]",
        '{"ids":["a|1|b"]}',
        '{"v":2,"ids":["a|1|b"]}',
        '{"v":1}',
        '{"v":1,"ids":[]}',
        '{"v":1,"ids":"a|1|b"}',
        '{"v":1,"ids":[1]}',
        '{"v":1,"ids":[""]}',
        '{"v":1,"ids":["a|1|b"],"env":5}',
        json.dumps({"v": 1, "ids": ["x" * 2000]}),
    ],
)
def test_decode_refuses_anything_else(value: str) -> None:
    with pytest.raises(ValueError):
        LookupRequest.decode(value)


@settings(max_examples=60)
@given(
    ids=st.lists(st.text(min_size=1, max_size=70), min_size=1, max_size=40),
    environment=st.one_of(st.none(), st.text(max_size=30)),
)
def test_every_encodable_request_round_trips(ids: list[str], environment: str | None) -> None:
    request = LookupRequest(tuple(ids), environment)
    value = request.encode()
    if value is None:
        assert len(json.dumps({"v": 1, "ids": ids, "env": environment}, ensure_ascii=False)) > 2000
    else:
        assert len(value) <= 2000
        assert LookupRequest.decode(value) == request
