"""The built-in Yunxin sandbox: an emulator of the batch conversation query.

It answers `GET /im/v2/...` and `GET /im/v2.1/conversations/actions/conversation_ids` the way
Yunxin does: HTTP 200 with a JSON `code`, the same signature checks (AppKey, CurTime, CheckSum),
at most 100 IDs per call, lowercased accounts, unknown IDs in `failed_list`, and the trace ID
echoed back. It is a plain ASGI app, so it runs in-process behind `httpx.ASGITransport` (the bot's
sandbox mode) or on a real port under uvicorn (tests, the benchmark).

Its sample data is in `samples.py`.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from bot.settings import SANDBOX_APP_KEY, SANDBOX_APP_SECRET

from ..auth import MAX_NONCE_LENGTH, checksum
from .samples import SAMPLE_CONVERSATIONS

MAX_IDS_PER_CALL = 100
CHECKSUM_LIFETIME_SECONDS = 300
# The sandbox's own code for a conversation it does not hold. Yunxin's code for that is not known: no SDK
# defines one and no vendor page shows one, so the bot shows whatever code Yunxin sends and never relies
# on this value.
NOT_FOUND_CODE = 110404
TRACE_HEADER = "X-custom-traceid"
SIGNATURE_HEADERS = ("AppKey", "Nonce", "CurTime", "CheckSum")
PATHS = {
    "/im/v2/conversations/actions/conversation_ids": "v2",
    "/im/v2.1/conversations/actions/conversation_ids": "v2.1",
}

# What Java's Long.parseLong accepts: a fractional or empty CurTime is "not long".
_LONG = re.compile(r"-?[0-9]{1,19}")

# ---------------------------------------------------------------------------------------------
# Rendering a record in the shape of each API version
# ---------------------------------------------------------------------------------------------


def _without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _type_option(conversation_type: Any) -> dict[str, Any]:
    # v2 carries the delivery options of the conversation's own type; booleans are mostly strings.
    if conversation_type == 2:
        return {"team_option": {"mark_as_read": "false", "check_team_member_valid": True}}
    if conversation_type == 3:
        return {"superteam_option": {"ignore_chat_banned": "false", "check_team_member_valid": True}}
    return {"p2p_option": {"check_friend": True}}


def nested_last_message(message: Mapping[str, Any], conversation_type: Any) -> dict[str, Any]:
    """The v2 shape: the body under `message`, configuration beside it, booleans as strings."""
    body = _without_none(
        {
            "message_type": message.get("message_type"),
            "sub_type": message.get("sub_type"),
            "text": message.get("text"),
            "attachment": message.get("attachment"),
        }
    )
    return {
        "sender_no_sense": "false",
        "receiver_no_sense": "false",
        "extension": message.get("extension", ""),
        "message": body,
        "message_config": {
            "unread_enabled": "true",
            "mutil_sync_enabled": "true",
            "offline_enabled": "true",
            "history_enabled": "true",
            "roaming_enabled": "true",
            "conversation_update_enabled": "true",
        },
        "route_config": {"route_enabled": True, "route_environment": ""},
        "push_config": {
            "push_enabled": "true",
            "push_nick_enabled": "true",
            "push_content": "",
            "push_payload": "",
            "push_forcepush_all": "false",
            "push_forcepush_ids": [],
            "push_forcepush_content": "",
        },
        "antispam_config": {"antispam_enabled": True, "antispam_custom_message_enabled": False},
        **_type_option(conversation_type),
    }


def flat_last_message(message: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """The v2.1 shape: one flat object that also names the conversation's type and target."""
    conversation_type = record.get("type")
    receiver_id = record.get("receiver_id")
    team_id = None
    if conversation_type in (2, 3) and isinstance(receiver_id, str) and receiver_id.isdigit():
        team_id = int(receiver_id)
    return _without_none(
        {**message, "conversation_type": conversation_type, "receiver_id": receiver_id, "team_id": team_id}
    )


def render_conversation(conversation_id: str, record: Mapping[str, Any], version: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"conversation_id": conversation_id}
    answer.update((key, value) for key, value in record.items() if key != "last_message")
    message = record.get("last_message")
    if not message:
        answer["last_message"] = {}
    elif version == "v2":
        answer["last_message"] = nested_last_message(message, record.get("type"))
    else:
        answer["last_message"] = flat_last_message(message, record)
    return answer


# ---------------------------------------------------------------------------------------------
# The ASGI app
# ---------------------------------------------------------------------------------------------


def _envelope(code: int, msg: str, data: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "msg": msg}
    if data is not None:
        body["data"] = data
    return JSONResponse(body)


def split_conversation_ids(raw: str) -> list[str]:
    """The query parameter, already URL-decoded, split on commas; blank pieces dropped."""
    return [piece.strip() for piece in raw.split(",") if piece.strip()]


class SandboxApp:
    """An ASGI app answering like Yunxin's batch conversation query.

    `calls` counts every request received; `ids_per_call` records how many IDs each signed call
    asked for (refused ones included), so tests can see how a client split its work.
    """

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        conversations: Mapping[str, Mapping[str, Any]],
        latency_seconds: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._app_key = app_key
        self._app_secret = app_secret
        self._conversations = {key.lower(): record for key, record in conversations.items()}
        self._latency_seconds = latency_seconds
        self._clock = clock
        self._sleep = sleep
        self.calls = 0
        self.ids_per_call: list[int] = []

    def __repr__(self) -> str:
        return f"SandboxApp(app_key={self._app_key!r}, conversations={len(self._conversations)})"

    @property
    def max_ids_seen(self) -> int:
        return max(self.ids_per_call, default=0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _run_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        self.calls += 1
        request = Request(scope, receive)
        response = self._answer(request)
        trace_id = request.headers.get(TRACE_HEADER)
        if trace_id:
            response.headers[TRACE_HEADER] = trace_id
        if self._latency_seconds > 0:
            await self._sleep(self._latency_seconds)
        await response(scope, receive, send)

    def _answer(self, request: Request) -> JSONResponse:
        path = request.scope["path"]
        version = PATHS.get(path)
        if version is None or request.method != "GET":
            return JSONResponse({"code": 404, "msg": f"not found: {request.method} {path}"}, status_code=404)
        refusal = self.signature_problem(request.headers)
        if refusal is not None:
            return _envelope(414, refusal)
        ids = split_conversation_ids(request.query_params.get("conversation_ids", ""))
        if not ids:
            return _envelope(414, "conversation_ids is empty")
        self.ids_per_call.append(len(ids))
        if len(ids) > MAX_IDS_PER_CALL:
            return _envelope(414, f"conversation_ids holds {len(ids)} IDs; the limit is {MAX_IDS_PER_CALL} per call")
        return _envelope(200, "success", self._lookup(ids, version))

    def signature_problem(self, headers: Headers) -> str | None:
        """Yunxin's checks, in its order; None when the request is properly signed."""
        missing = [name for name in SIGNATURE_HEADERS if not headers.get(name)]
        if missing:
            return f"missing header: {', '.join(missing)}"
        if headers["AppKey"] != self._app_key:
            return "appkey"
        nonce = headers["Nonce"]
        if len(nonce) > MAX_NONCE_LENGTH:
            return f"Nonce longer than {MAX_NONCE_LENGTH} characters"
        cur_time = headers["CurTime"]
        if not _LONG.fullmatch(cur_time):
            return "CurTime not long"
        if abs(self._clock() - int(cur_time)) > CHECKSUM_LIFETIME_SECONDS:
            return "CurTime is expired"
        expected = checksum(self._app_secret, nonce, cur_time).encode()
        if not hmac.compare_digest(expected, headers["CheckSum"].encode()):
            return "checksum"
        return None

    def _lookup(self, ids: list[str], version: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        # Yunxin lowercases accounts: the ID answered may differ in case from the one asked.
        for conversation_id in dict.fromkeys(asked.lower() for asked in ids):
            record = self._conversations.get(conversation_id)
            if record is None:
                failed.append(
                    {
                        "conversation_id": conversation_id,
                        "error_code": NOT_FOUND_CODE,
                        "error_msg": "conversation not exist",
                    }
                )
            else:
                found.append(render_conversation(conversation_id, record, version))
        return {"success_list": found, "failed_list": failed}


async def _run_lifespan(receive: Receive, send: Send) -> None:
    # Nothing to set up or tear down; answering lets uvicorn start without a lifespan warning.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_sandbox_app(
    *,
    app_key: str = SANDBOX_APP_KEY,
    app_secret: str = SANDBOX_APP_SECRET,
    conversations: Mapping[str, Mapping[str, Any]] | None = None,
    latency_seconds: float = 0.0,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> SandboxApp:
    """The emulator; `conversations` replaces the sample data (same record format), `latency_seconds`
    delays every answer (through `sleep`), `clock` is what CurTime is checked against."""
    return SandboxApp(
        app_key=app_key,
        app_secret=app_secret,
        conversations=SAMPLE_CONVERSATIONS if conversations is None else conversations,
        latency_seconds=latency_seconds,
        clock=clock,
        sleep=sleep,
    )


def sandbox_transport(**kwargs: Any) -> httpx.AsyncBaseTransport:
    """An in-process transport to a fresh sandbox; keyword arguments go to `create_sandbox_app`."""
    return httpx.ASGITransport(app=create_sandbox_app(**kwargs))
