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

Reading the body (4) and judging its shape (5) are bodies.py's; this module decides the order and the answers.

A refusal is logged as one short line: method, path, reason and size, never the body or a header value.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import Receive

from .bodies import form_shape_problem, parse_like_bolt, shape_problem

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
        payload, is_form = parse_like_bolt(text, content_type)
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
