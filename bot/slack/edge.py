"""The HTTP edge of /slack/events: what a request must be before anything reads it.

Anyone who can reach the host can send to the app's URL, so nothing of a request is parsed, logged or
handed to Bolt until it has passed, in this order:

1. size: at most `MAX_BODY_BYTES` (Slack's payloads are a few KiB), refused with 413 from its
   Content-Length or as soon as more arrives, never buffered whole; the whole body must arrive within
   `BODY_SECONDS` (408 otherwise);
2. signature: Slack's HMAC-SHA256 over the raw bytes, with a timestamp within 5 minutes (401); only
   Slack's certificate check (`ssl_check=1`, a few bytes) gets a bare 200 unsigned;
3. replay: a signature already seen within those 5 minutes is refused (401);
4. form: UTF-8, a form or JSON object Bolt can read, not nested beyond what json can parse (400);
5. shape: the fields Bolt and the listeners read have the types Slack sends (a quiet 200 otherwise:
   Slack signed it, so a 4xx would only show the person an error for Slack's own mistake).

A refusal is logged as one short line: method, path, reason and size, never the body or a header value.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from _codecs import escape_decode  # codecs' own; its module does not re-export it to type checkers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.types import Receive

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
BODY_SECONDS = 10.0
SIGNATURE_WINDOW_SECONDS = 300  # Slack's: a request older (or newer) than this is refused
REPLAY_ENTRIES_MAX = 100_000  # signatures remembered at most (a few MiB), oldest dropped first


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request does not reach the app, and the HTTP status it is answered with."""

    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class Verified:
    """A signed request from Slack: its body as text, that body parsed as Bolt parses it, and its headers
    as the server handed them over (`headers` decodes them)."""

    text: str
    payload: dict[str, Any]
    raw_headers: Sequence[tuple[bytes, bytes]]

    @property
    def headers(self) -> dict[str, str]:
        """The headers, names lowercase, decoded as Starlette decodes them; of a header sent twice, the
        first, as Starlette reads it. Decoded when asked for: a slash command of ours never asks."""
        headers: dict[str, str] = {}
        for name, value in self.raw_headers:
            headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        return headers


class ReplayCheck(Protocol):
    async def is_first(self, signature: str) -> bool: ...


class ReplayGuard:
    """Signatures seen within the signature window, in this process; `first_time(signature)` is False for a
    repeat. With REDIS_URL the replicas share one (bot/shared/replay.py), with this as its fallback."""

    def __init__(self, window: float = SIGNATURE_WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic):
        self._window = window
        self._clock = clock
        self._seen: dict[str, float] = {}  # insertion order is arrival order

    def first_time(self, signature: str) -> bool:
        now = self._clock()
        while self._seen:  # forget the oldest while they are out of the window, or too many
            oldest, at = next(iter(self._seen.items()))
            if at > now - self._window and len(self._seen) < REPLAY_ENTRIES_MAX:
                break
            del self._seen[oldest]
        if signature in self._seen:
            return False
        self._seen[signature] = now
        return True

    async def is_first(self, signature: str) -> bool:
        return self.first_time(signature)


class SlackEdge:
    """Checks each request to /slack/events; see the module's docstring for what and in which order."""

    def __init__(
        self,
        signing_secret: str,
        *,
        replay: ReplayCheck | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = signing_secret.encode()
        self._replay: ReplayCheck = replay if replay is not None else ReplayGuard()
        self._clock = clock

    def __repr__(self) -> str:
        return "SlackEdge(signing_secret=**********)"

    async def admit(self, request: Request) -> Verified | Refusal:
        # Read once into a dict (each lookup in Starlette's headers scans them all), reversed so that of a
        # header sent twice the first counts, as Starlette reads it; only the ones read here are decoded.
        raw_headers = request.scope["headers"]
        headers = dict(reversed(raw_headers))
        body = await _read_body(request.receive, _header(headers, b"content-length"))
        if isinstance(body, Refusal):
            return self._refused(request, body, 0)
        if _is_ssl_check(body):
            return Refusal(200, "ssl_check")
        signature = _header(headers, b"x-slack-signature") or ""
        refusal = self._signature_problem(_header(headers, b"x-slack-request-timestamp") or "", signature, body)
        if refusal is None and not await self._replay.is_first(signature):
            refusal = Refusal(401, "replayed")
        if refusal is not None:
            return self._refused(request, refusal, len(body))
        verified = _parsed(_header(headers, b"content-type"), body, raw_headers)
        if isinstance(verified, Refusal):
            return self._refused(request, verified, len(body))
        return verified

    def _signature_problem(self, timestamp: str, signature: str, body: bytes) -> Refusal | None:
        if not timestamp or not signature:
            return Refusal(401, "not signed")
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            return Refusal(401, "bad timestamp")
        if abs(self._clock() - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
            return Refusal(401, "stale timestamp")
        base = b"v0:" + timestamp.encode() + b":" + body
        expected = "v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return Refusal(401, "bad signature")
        return None  # signed by Slack; whether it is a replay is asked next

    def _refused(self, request: Request, refusal: Refusal, size: int) -> Refusal:
        # Only what the edge itself decided: no header value, no byte of the body.
        log.info("refused %s %s: %s (%d bytes)", request.method, request.url.path, refusal.reason, size)
        return refusal


def _header(headers: Mapping[bytes, bytes], name: bytes) -> str | None:
    """A header's value, decoded as Starlette decodes it."""
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")


async def _read_body(receive: Receive, declared: str | None) -> bytes | Refusal:
    """The body, from the ASGI messages themselves, as Starlette's request stream reads them (a message
    without `body` has none, one without `more_body` is the last, any other kind is passed over), without
    the async generator that stream is; all of it within BODY_SECONDS. `declared`: its Content-Length."""
    if declared is not None:
        if not declared.isascii() or not declared.isdigit():
            return Refusal(400, "bad content-length")
        if int(declared) > MAX_BODY_BYTES:
            return Refusal(413, f"body over {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_SECONDS):
            while True:
                message = await receive()
                kind = message["type"]
                if kind == "http.request":
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > MAX_BODY_BYTES:
                        return Refusal(413, f"body over {MAX_BODY_BYTES} bytes")
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
                elif kind == "http.disconnect":
                    return Refusal(400, "client went away")
    except TimeoutError:
        return Refusal(408, f"body not received within {BODY_SECONDS:g} s")
    return b"".join(chunks)


def _is_ssl_check(body: bytes) -> bool:
    """Slack's check of the URL's certificate (`ssl_check=1`), which it may send unsigned: a 200 is all it
    wants, and all it gets (nothing reaches Bolt)."""
    if len(body) > 1024 or b"ssl_check=1" not in body:
        return False
    try:
        return dict(parse_qsl(body.decode("ascii"), strict_parsing=True)).get("ssl_check") == "1"
    except (UnicodeDecodeError, ValueError):
        return False


def _parsed(content_type: str | None, body: bytes, raw_headers: Sequence[tuple[bytes, bytes]]) -> Verified | Refusal:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "body is not UTF-8")
    if (content_type or "").split(";")[0].strip().lower() not in _CONTENT_TYPES:
        return Refusal(400, "unsupported content type")
    if not text:
        return Refusal(400, "empty body")
    try:
        payload, is_form = _parse_like_bolt(text, content_type)
    except RecursionError:  # json's C decoder gives up about 1,000 levels deep
        return Refusal(400, "JSON nested too deep")
    except ValueError:
        return Refusal(400, "body is not a form or JSON object Slack sends")
    if not isinstance(payload, dict):
        return Refusal(400, "body is not a JSON object")
    problem = form_shape_problem(payload) if is_form else shape_problem(payload)
    if problem is not None:
        return Refusal(200, f"unexpected payload: {problem}")
    return Verified(text, payload, raw_headers)


_CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/json")


def _parse_like_bolt(text: str, content_type: str | None) -> tuple[Any, bool]:
    """The body as Bolt's `parse_body` reads it: JSON (by type or a leading `{`), an interaction's
    `payload` field, or the form's fields; strict where Bolt would raise. And whether it is a form's
    fields, every value a string."""
    if content_type == "application/json" or text.startswith("{"):
        return json.loads(text), False
    fields = form_fields(text)
    if "payload" in text:  # Bolt's own test, on the raw body
        payload = fields.get("payload")
        return (json.loads(payload), False) if payload is not None else ({}, True)
    return fields, True


def form_fields(text: str) -> dict[str, str]:
    """`dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))`, Bolt's reading of a form, in
    less time. A form whose escapes cannot make an `&` or `=` (no `%26`, no `%3D`), as Slack's are, is
    unquoted whole in one call and then split: the same fields as unquoting each name and value, since
    the separators are ASCII and stay where they were. Any other is read field by field."""
    if not text:
        return {}
    unquoted = _unquoted_whole(text)
    if unquoted is None:
        return _form_fields_one_by_one(text)
    fields: dict[str, str] = {}
    for field in unquoted.split("&"):
        name, equals, value = field.partition("=")
        if not equals:
            raise ValueError(f"bad query field: {field!r}")
        fields[name] = value
    return fields


def _unquoted_whole(text: str) -> str | None:
    """`unquote_plus(text)` when no escape in it stands for a separator and the bytes-escape decoder reads
    it (see unquote_plus_exactly); None otherwise."""
    if not text.isascii() or "%26" in text or "%3D" in text or "%3d" in text:
        return None
    return _escape_decoded(text)


def _form_fields_one_by_one(text: str) -> dict[str, str]:
    """form_fields for any text: a name or value with no `+` and no `%` is taken as it is, where parse_qsl
    unquotes every one in Python, and the others are unquoted by `unquote_plus_exactly`."""
    fields: dict[str, str] = {}
    for field in text.split("&"):
        name, equals, value = field.partition("=")
        if not equals:
            raise ValueError(f"bad query field: {field!r}")
        fields[unquote_plus_exactly(name) if "+" in name or "%" in name else name] = (
            unquote_plus_exactly(value) if "+" in value or "%" in value else value
        )
    return fields


def unquote_plus_exactly(quoted: str) -> str:
    r"""`unquote_plus(quoted)` (UTF-8, invalid bytes replaced), mostly in one C call: ASCII text, as Slack
    sends a form, is read by the bytes-escape decoder with each `%` written as `\x` and each `\` doubled
    (so it stays a `\`). That decoder refuses a `\x` without two hex digits after it, where unquote keeps
    the `%`: such text, and any that is not ASCII, goes to unquote_plus itself."""
    unquoted = _escape_decoded(quoted) if quoted.isascii() else None
    return unquote_plus(quoted) if unquoted is None else unquoted


def _escape_decoded(ascii_text: str) -> str | None:
    """`unquote_plus(ascii_text)` read by the bytes-escape decoder (see unquote_plus_exactly); None when the
    decoder refuses it."""
    escaped = ascii_text.replace("\\", "\\\\").replace("%", "\\x").replace("+", " ")
    try:
        return escape_decode(escaped)[0].decode("utf-8", "replace")
    except ValueError:
        return None


# The fields Bolt and the listeners read, and the types Slack sends them as. A field may be absent.
_OBJECTS = ("user", "channel", "container", "view", "message", "event", "state")
_OBJECTS_OR_NULL = ("team", "enterprise")
_STRINGS = (
    "type",
    "token",
    "team_id",
    "user_id",
    "channel_id",
    "enterprise_id",
    "command",
    "text",
    "response_url",
    "trigger_id",
    "callback_id",
    "api_app_id",
)
_IDS_IN = ("user", "team", "channel", "enterprise", "view")


def shape_problem(payload: dict[str, Any]) -> str | None:
    """The first field of an unexpected type, named; None when the payload is shaped as Slack sends it."""
    for name in _OBJECTS:
        if name in payload and not isinstance(payload[name], dict):
            return f"{name} is not an object"
    for name in _OBJECTS_OR_NULL:
        if payload.get(name) is not None and not isinstance(payload[name], dict | str):
            return f"{name} is not an object"
    for name in _STRINGS:
        if name in payload and not isinstance(payload[name], str):
            return f"{name} is not a string"
    for name in _IDS_IN:
        holder = payload.get(name)
        if isinstance(holder, dict) and "id" in holder and not isinstance(holder["id"], str):
            return f"{name}.id is not a string"
    for name in ("actions", "authorizations"):
        items = payload.get(name)
        if name in payload and (not isinstance(items, list) or not all(isinstance(i, dict) for i in items)):
            return f"{name} is not a list of objects"
    for action in payload.get("actions") or []:
        for key in ("action_id", "value", "block_id"):
            if key in action and not isinstance(action[key], str):
                return f"an action's {key} is not a string"
        if "selected_option" in action and not isinstance(action["selected_option"], dict):
            return "an action's selected_option is not an object"
    problem = _event_problem(payload.get("event")) or _view_problem(payload.get("view"))
    if problem is not None:
        return problem
    message = payload.get("message")
    if isinstance(message, dict):
        for key in ("text", "thread_ts", "ts"):
            if key in message and not isinstance(message[key], str):
                return f"message.{key} is not a string"
        attachments = message.get("attachments")
        if "attachments" in message and not isinstance(attachments, list):
            return "message.attachments is not a list"
    return None


# The fields shape_problem wants as objects or lists: of a form's fields, all strings, only these can be amiss.
_NOT_STRINGS = frozenset((*_OBJECTS, "actions", "authorizations"))


def form_shape_problem(fields: dict[str, str]) -> str | None:
    """shape_problem for a form's fields (a slash command's), in one set operation when, as Slack sends
    them, none of them should have been an object or a list."""
    return None if _NOT_STRINGS.isdisjoint(fields) else shape_problem(fields)


def _strings(holder: dict[str, Any], names: tuple[str, ...], where: str) -> str | None:
    for name in names:
        if name in holder and not isinstance(holder[name], str):
            return f"{where}.{name} is not a string"
    return None


def _event_problem(event: Any) -> str | None:
    """An Events API event's fields that Bolt and the listeners read (the Home tab, a workflow step run)."""
    if not isinstance(event, dict):
        return None
    problem = _strings(event, ("type", "user", "tab", "channel", "function_execution_id", "bot_access_token"), "event")
    if problem is not None:
        return problem
    for name in ("inputs", "function", "view"):
        if name in event and not isinstance(event[name], dict):
            return f"event.{name} is not an object"
    function = event.get("function")
    return _strings(function, ("callback_id",), "event.function") if isinstance(function, dict) else None


def _view_problem(view: Any) -> str | None:
    """A modal's fields that Bolt and the listeners read when it is submitted or clicked in."""
    if not isinstance(view, dict):
        return None
    problem = _strings(view, ("callback_id", "private_metadata", "type"), "view")
    if problem is not None:
        return problem
    state = view.get("state")
    if "state" in view and not isinstance(state, dict):
        return "view.state is not an object"
    values = state.get("values") if isinstance(state, dict) else None
    if values is None:
        return None
    if not isinstance(values, dict) or not all(isinstance(block, dict) for block in values.values()):
        return "view.state.values is not an object of objects"
    if not all(isinstance(element, dict) for block in values.values() for element in block.values()):
        return "view.state.values holds an element state that is not an object"
    return None
