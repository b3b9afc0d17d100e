"""The edge of /slack/events, request by request: size, signature, replay, form and shape, in that order,
each refusal one short log line and never a byte of the body."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.requests import Request
from starlette.types import Message

from bot.slack import edge as edge_module
from bot.slack.edge import MAX_BODY_BYTES, SIGNATURE_WINDOW_SECONDS, Refusal, ReplayGuard, SlackEdge, Verified
from bot.standins.slack import sign

SECRET = "edge-signing-secret-1c3e"
NOW = 1_780_000_000
FORM = "application/x-www-form-urlencoded"


def request(
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    chunks: Sequence[bytes] | None = None,
    content_length: bool = True,
) -> Request:
    """A POST to /slack/events as the ASGI server hands it over, its body in `chunks` (default: one)."""
    sent = list(chunks) if chunks is not None else [body]
    raw = {"content-type": FORM, **(headers or {})}
    if content_length and chunks is None:
        raw["content-length"] = str(len(body))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/slack/events",
        "query_string": b"",
        "headers": [(name.lower().encode(), value.encode()) for name, value in raw.items()],
    }

    async def receive() -> Message:
        if sent:
            piece = sent.pop(0)
            return {"type": "http.request", "body": piece, "more_body": bool(sent)}
        return {"type": "http.disconnect"}

    return Request(scope, receive)


def from_messages(messages: list[Message], headers: dict[str, str]) -> Request:
    """A POST whose `receive` takes `messages` one by one off the list, then waits for ever (a client gone
    quiet)."""

    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/slack/events",
        "query_string": b"",
        "headers": [
            (name.lower().encode(), value.encode()) for name, value in {"content-type": FORM, **headers}.items()
        ],
    }
    return Request(scope, receive)


def signed(body: bytes, *, secret: str = SECRET, at: int = NOW, content_type: str = FORM) -> Request:
    return request(body, headers={"content-type": content_type, **sign(secret, at, body)})


def edge(replay: ReplayGuard | None = None) -> SlackEdge:
    return SlackEdge(SECRET, replay=replay, clock=lambda: NOW)


def command_body(text: str = "alice|1|bob") -> bytes:
    return urlencode({"command": "/conversation", "text": text, "user_id": "U1", "team_id": "T1"}).encode()


def interaction_body(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


async def test_a_signed_command_is_admitted_with_its_fields() -> None:
    admitted = await edge().admit(signed(command_body()))
    assert isinstance(admitted, Verified)
    assert admitted.payload["text"] == "alice|1|bob"
    assert admitted.text == command_body().decode()


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "not signed"),
        ({"x-slack-request-timestamp": "abc", "x-slack-signature": "v0=00"}, "bad timestamp"),
        ({"x-slack-request-timestamp": "１２３", "x-slack-signature": "v0=00"}, "bad timestamp"),
        ({"x-slack-request-timestamp": str(NOW), "x-slack-signature": "v0=" + "0" * 64}, "bad signature"),
        ({"x-slack-request-timestamp": str(NOW - SIGNATURE_WINDOW_SECONDS - 1), "x-slack-signature": "v0="}, "stale"),
    ],
)
async def test_an_unsigned_or_forged_request_is_refused_with_401(headers: dict[str, str], reason: str) -> None:
    admitted = await edge().admit(request(command_body(), headers=headers))
    assert isinstance(admitted, Refusal)
    assert admitted.status == 401 and reason in admitted.reason


async def test_a_rotated_secret_is_refused() -> None:
    admitted = await edge().admit(signed(command_body(), secret="the-old-secret"))
    assert admitted == Refusal(401, "bad signature")


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe not utf-8",
        b"payload=%7Bnot+json",
        b'{"type": "block_actions"',
        b"payload=" + b"%5B" * 10_000,
        b"[" * 10_000 + b"]" * 10_000,
        b"a=1&&&&=",
        b"payload=%5B1%2C2%5D",
    ],
    ids=["invalid-utf8", "payload-not-json", "broken-json", "deep-payload", "deep-json", "broken-form", "payload-list"],
)
async def test_a_signed_body_that_is_no_form_slack_sends_is_refused_with_400(body: bytes) -> None:
    admitted = await edge().admit(signed(body))
    assert isinstance(admitted, Refusal) and admitted.status == 400


async def test_the_same_unsigned_junk_is_refused_as_unsigned_before_anything_reads_it() -> None:
    for body in (b"\xff\xfe", b"payload=%7Bnot+json", b"[" * 10_000):
        assert await edge().admit(request(body)) == Refusal(401, "not signed")


async def test_a_content_type_slack_never_sends_is_refused() -> None:
    admitted = await edge().admit(signed(command_body(), content_type="text/plain"))
    assert admitted == Refusal(400, "unsupported content type")


async def test_a_json_body_is_read_as_bolt_reads_it() -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c", "token": "t"}).encode()
    admitted = await edge().admit(signed(body, content_type="application/json"))
    assert isinstance(admitted, Verified) and admitted.payload["challenge"] == "c"


async def test_a_body_declared_over_the_cap_is_refused_before_it_is_read() -> None:
    unread: list[Message] = [{"type": "http.request", "body": b"x" * 1024, "more_body": True}]
    big = from_messages(unread, {"content-length": str(10 * MAX_BODY_BYTES)})
    assert await edge().admit(big) == Refusal(413, f"body over {MAX_BODY_BYTES} bytes")
    assert len(unread) == 1


async def test_a_body_that_grows_past_the_cap_is_refused_as_it_arrives() -> None:
    chunks = [b"x" * 65536] * (MAX_BODY_BYTES // 65536 + 2)
    admitted = await edge().admit(request(b"", chunks=chunks, content_length=False))
    assert admitted == Refusal(413, f"body over {MAX_BODY_BYTES} bytes")


@pytest.mark.parametrize("declared", ["12a", "-1", "１２", " 12", ""])
async def test_a_content_length_that_is_no_number_is_refused_before_the_body_is_read(declared: str) -> None:
    body = command_body()
    assert await edge().admit(from_messages([], {"content-length": declared, **sign(SECRET, NOW, body)})) == Refusal(
        400, "bad content-length"
    )


async def test_a_body_declared_at_the_cap_is_read() -> None:
    body = command_body()
    admitted = await edge().admit(
        request(body, headers={"content-length": str(MAX_BODY_BYTES), **sign(SECRET, NOW, body)}, chunks=[body])
    )
    assert isinstance(admitted, Verified)


async def test_a_body_sent_in_pieces_is_read_whole() -> None:
    body = command_body()
    pieces: list[Message] = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.request", "more_body": True},  # no body: none
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": body[10:]},  # no more_body: the last
    ]
    admitted = await edge().admit(from_messages(pieces, sign(SECRET, NOW, body)))
    assert isinstance(admitted, Verified) and admitted.text == body.decode()


async def test_a_body_that_stops_arriving_is_refused_with_408(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(edge_module, "BODY_SECONDS", 0.05)
    caplog.set_level(logging.INFO, logger="bot.slack.edge")
    body = command_body()
    half = from_messages([{"type": "http.request", "body": body[:10], "more_body": True}], sign(SECRET, NOW, body))
    assert await edge().admit(half) == Refusal(408, "body not received within 0.05 s")
    assert await edge().admit(from_messages([], sign(SECRET, NOW, body))) == Refusal(
        408, "body not received within 0.05 s"
    )
    assert [record.getMessage() for record in caplog.records] == [
        "refused POST /slack/events: body not received within 0.05 s (0 bytes)"
    ] * 2


async def test_each_body_has_its_deadline_from_its_own_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edge_module, "BODY_SECONDS", 0.2)
    the_edge, body = edge(), command_body()
    first = asyncio.ensure_future(the_edge.admit(from_messages([], sign(SECRET, NOW, body))))
    await asyncio.sleep(0.1)
    second = asyncio.ensure_future(the_edge.admit(from_messages([], sign(SECRET, NOW, body))))
    # One read in time between them: admitted, and its task is not cancelled when a deadline comes later.
    assert isinstance(await the_edge.admit(request(body, headers=sign(SECRET, NOW, body))), Verified)
    assert await first == Refusal(408, "body not received within 0.2 s")
    assert not second.done()
    assert await second == Refusal(408, "body not received within 0.2 s")
    await asyncio.sleep(0.3)


async def test_a_read_cancelled_from_outside_stays_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edge_module, "BODY_SECONDS", 0.1)
    the_edge, body = edge(), command_body()
    reading = asyncio.ensure_future(the_edge.admit(from_messages([], sign(SECRET, NOW, body))))
    await asyncio.sleep(0.01)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    # The deadline that read had passes with nobody to cancel.
    await asyncio.sleep(0.2)
    assert await the_edge.admit(from_messages([], sign(SECRET, NOW, body))) == Refusal(
        408, "body not received within 0.1 s"
    )


async def test_a_client_that_goes_away_mid_body_is_refused_with_400() -> None:
    body = command_body()
    messages: list[Message] = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.disconnect"},
    ]
    assert await edge().admit(from_messages(messages, sign(SECRET, NOW, body))) == Refusal(400, "client went away")


async def test_a_replayed_signature_is_refused_within_the_window() -> None:
    guard = ReplayGuard()
    body = command_body()
    assert isinstance(await edge(guard).admit(signed(body)), Verified)
    assert await edge(guard).admit(signed(body)) == Refusal(401, "replayed")


def test_the_replay_guard_forgets_signatures_past_the_window() -> None:
    now = [0.0]
    guard = ReplayGuard(window=300, clock=lambda: now[0])
    assert guard.first_time("v0=a")
    now[0] = 299.0
    assert not guard.first_time("v0=a")
    now[0] = 600.0
    assert guard.first_time("v0=a")


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "user": "U1", "actions": []},
        {"type": "block_actions", "user": {"id": "U1"}, "actions": {"action_id": "x"}},
        {"type": "block_actions", "user": {"id": "U1"}, "channel": 5},
        {"type": "block_actions", "user": {"id": 7}},
        {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": 3}]},
        {"type": "block_actions", "user": {"id": "U1"}, "actions": ["share"]},
        {"type": "message_action", "user": {"id": "U1"}, "message": {"text": ["a"]}},
        {"type": 5},
        {"type": "block_actions", "team": ["T1"]},
        {"type": "view_submission", "user": {"id": "U1"}, "view": {"callback_id": 5}},
        {"type": "view_submission", "user": {"id": "U1"}, "view": {"state": []}},
        {"type": "view_submission", "user": {"id": "U1"}, "view": {"state": {"values": {"ids": "alice|1|bob"}}}},
        {"type": "view_submission", "user": {"id": "U1"}, "view": {"state": {"values": {"ids": {"ids": "x"}}}}},
        {"type": "view_submission", "user": {"id": "U1"}, "view": {"private_metadata": {"channel": "C1"}}},
    ],
)
async def test_a_signed_payload_of_unexpected_shape_gets_a_quiet_200(payload: dict[str, Any]) -> None:
    admitted = await edge().admit(signed(interaction_body(payload)))
    assert isinstance(admitted, Refusal)
    assert admitted.status == 200 and admitted.reason.startswith("unexpected payload")


@pytest.mark.parametrize(
    "event",
    [
        {"type": "app_home_opened", "user": {"id": "U1"}, "tab": "home"},
        {"type": "app_home_opened", "user": "U1", "tab": 1},
        {"type": ["app_home_opened"]},
        {"type": "function_executed", "function": "look_up_conversations"},
        {"type": "function_executed", "function": {"callback_id": 5}},
        {"type": "function_executed", "function": {"callback_id": "x"}, "inputs": ["alice|1|bob"]},
        {"type": "function_executed", "function_execution_id": 12},
    ],
)
async def test_a_signed_event_of_unexpected_shape_gets_a_quiet_200(event: dict[str, Any]) -> None:
    body = json.dumps({"type": "event_callback", "team_id": "T1", "event": event}).encode()
    admitted = await edge().admit(signed(body, content_type="application/json"))
    assert isinstance(admitted, Refusal)
    assert admitted.status == 200 and admitted.reason.startswith("unexpected payload")


async def test_a_form_holding_a_field_that_should_be_an_object_gets_a_quiet_200() -> None:
    admitted = await edge().admit(signed(urlencode({"command": "/conversation", "user": "U1"}).encode()))
    assert admitted == Refusal(200, "unexpected payload: user is not an object")


async def test_the_events_the_app_answers_are_admitted_as_slack_sends_them() -> None:
    for event in (
        {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home", "view": {"id": "V1"}},
        {"type": "function_executed", "function": {"callback_id": "x"}, "inputs": {}, "function_execution_id": "Fx1"},
    ):
        body = json.dumps({"type": "event_callback", "team_id": "T1", "event": event}).encode()
        admitted = await edge().admit(signed(body, content_type="application/json"))
        assert isinstance(admitted, Verified) and admitted.payload["event"] == event


async def test_a_refusal_logs_one_short_line_with_nothing_of_the_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack.edge")
    forged = b"text=x%0A2026-12-01 00:00:00,000 INFO bot.audit {}&response_url=https://hooks.slack.com/secret"
    await edge().admit(signed(forged, secret="rotated"))
    (line,) = [record.getMessage() for record in caplog.records]
    assert line == f"refused POST /slack/events: bad signature ({len(forged)} bytes)"


def test_the_signing_secret_is_not_in_the_repr() -> None:
    assert SECRET not in repr(edge())


async def test_slacks_certificate_check_gets_a_bare_200_even_unsigned() -> None:
    admitted = await edge().admit(request(b"ssl_check=1&token=legacy-verification-token"))
    assert admitted == Refusal(200, "ssl_check")
    # Anything more is no certificate check: refused as unsigned.
    assert await edge().admit(request(b"ssl_check=1&text=" + b"x" * 2000)) == Refusal(401, "not signed")
    assert await edge().admit(request(b"ssl_check=2")) == Refusal(401, "not signed")


async def test_of_a_header_sent_twice_the_first_counts() -> None:
    body = command_body()
    genuine = signed(body)
    forged = {"x-slack-signature": "v0=" + "0" * 64}
    for first_is_genuine in (True, False):
        headers = list(genuine.scope["headers"])
        extra = [(name.encode(), value.encode()) for name, value in forged.items()]
        scope = {**genuine.scope, "headers": headers + extra if first_is_genuine else extra + headers}

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        admitted = await edge().admit(Request(scope, receive))
        if first_is_genuine:
            assert (
                isinstance(admitted, Verified) and admitted.headers["x-slack-signature"] != forged["x-slack-signature"]
            )
        else:
            assert admitted == Refusal(401, "bad signature")
