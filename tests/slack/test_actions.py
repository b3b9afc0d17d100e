"""Every ID Slack sends back (the command, action IDs, callbacks), pinned; and the lookup a button carries:
encoded compactly, decoded strictly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.actions import LookupRequest, encode_lookup
from bot.slack.listeners import ROUTES
from bot.slack.render.modals import DETAILS_CALLBACK

MANIFESTS = Path(__file__).parents[2] / "manifests"

# Slack sends these back with every command, click and shortcut, on messages and modals posted long ago:
# renaming one breaks the buttons already in people's channels. Change this list only with a migration.
ANSWERED = {
    ("command", "/conversation"),
    ("action", "share_in_channel"),
    ("action", "refresh_lookup"),
    ("action", "conversation_details"),
    ("action", "conversation_details_picker"),
    ("action", "conversation_details_choice"),
    ("action", "conversation_details_back"),
    ("action", "download_csv"),
    ("shortcut", "lookup_conversations_shortcut"),
    ("event", "app_home_opened"),
    ("action", "open_lookup_form"),
    ("view", "lookup_form"),
    ("function", "look_up_conversations"),
}


def test_every_id_slack_sends_back_is_pinned() -> None:
    answered = [(route.kind, route.key) for route in ROUTES]
    assert len(answered) == len(set(answered)), "a route is registered twice"
    assert set(answered) == ANSWERED
    assert DETAILS_CALLBACK == "conversation_details_view"


@pytest.mark.parametrize("manifest", sorted(MANIFESTS.glob("*.json")), ids=lambda path: path.name)
def test_the_manifests_declare_what_the_app_answers(manifest: Path) -> None:
    document = json.loads(manifest.read_text())
    features = document["features"]
    commands = {("command", command["command"]) for command in features["slash_commands"]}
    shortcuts = {("shortcut", shortcut["callback_id"]) for shortcut in features["shortcuts"]}
    events = {("event", event) for event in document["settings"]["event_subscriptions"]["bot_events"]}
    # function_executed is how Slack runs a step: its route is the function's, by callback_id.
    events.discard(("event", "function_executed"))
    functions = {("function", callback_id) for callback_id in document.get("functions", {})}
    answered = {"command", "shortcut", "event", "function"}
    registered = {(route.kind, route.key) for route in ROUTES if route.kind in answered}
    assert commands | shortcuts | events | functions == registered


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


@given(
    st.lists(st.text(min_size=1, max_size=80), min_size=1, max_size=40),
    st.one_of(st.none(), st.text(max_size=20)),
)
def test_encode_lookup_is_the_requests_encoding(ids: list[str], environment: str | None) -> None:
    assert encode_lookup(ids, environment) == LookupRequest(tuple(ids), environment).encode()
