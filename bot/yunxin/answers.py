"""Reading Yunxin's answers as its SDKs read them: only an HTTP 200 body is parsed, in bounded memory (read
in chunks, dropped at MAX_ANSWER_BYTES), refused past MAX_JSON_DEPTH, and read as the code/msg/data
envelope into conversations and failures, or the matching YunxinError."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import TypeAdapter
from pydantic_core import from_json

from .errors import MalformedResponse, RequestRejected, Unavailable, classify_code
from .models import Conversation, FailedConversation
from .transport import WireAnswer

# The largest answer read, after gzip. The sandbox's largest record is 5.5 KB; with a 5,000-character
# last message, a 5,000-character attachment and 1 KiB extensions it is 24 KB (39 KB with every
# character \u-escaped), so 100 of them make at most ~3.8 MiB. A larger answer is not Yunxin's: it is
# read no further (the body is read in chunks and dropped at the cap), so memory stays bounded.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
# JSON nested deeper than this is refused: a real answer nests about 8 levels, and deeper data would
# only break later readers (Python's own json gives up near 1,000 levels with a RecursionError).
MAX_JSON_DEPTH = 64
# Answers larger than this are parsed in a worker thread, so a big one does not hold up the event loop.
THREAD_PARSE_BYTES = 64 * 1024
# Answers up to this size have their brackets counted before their depth is walked (see
# _may_nest_deeper_than): a few conversations, ~15 brackets each, at ~1 bracket per 100 bytes.
COUNT_BRACKETS_BYTES = 8 * 1024

# Each list is read in one call into pydantic-core, not one model_validate per entry, and straight through
# the adapter's validator: TypeAdapter.validate_python only passes its default keywords on, in Python.
_CONVERSATIONS = TypeAdapter(list[Conversation]).validator
_FAILURES = TypeAdapter(list[FailedConversation]).validator


@dataclass(frozen=True, slots=True)
class CallAnswer:
    """What one successful call returned."""

    found: list[Conversation]
    failed: list[FailedConversation]
    trace_id: str


def read_answer(response: httpx.Response, trace_id: str) -> CallAnswer:
    """Read one HTTP response, already read, as Yunxin's envelope, or raise the matching YunxinError."""
    check_status(response.status_code, response.request.url.host, trace_id)
    if len(response.content) > MAX_ANSWER_BYTES:
        raise too_large(trace_id)
    return parse_answer(response.content, trace_id)


def parse_answer(content: bytes | bytearray, trace_id: str) -> CallAnswer:
    """Read the body of an HTTP 200 as Yunxin's envelope, or raise the matching YunxinError."""
    # Only an answer big enough to be parsed in a worker thread (see client.py) needs json's object hook; on
    # the event loop it would be a Python call per object for nothing, and the faster parser reads it.
    threaded = len(content) > THREAD_PARSE_BYTES
    try:
        body: Any = json.loads(content, object_hook=_let_the_loop_run) if threaded else _read_json(content)
    except RecursionError:
        raise MalformedResponse("JSON nested too deeply to read", trace_id=trace_id) from None
    except ValueError:  # not JSON, or not text at all (UnicodeDecodeError is a ValueError)
        start = bytes(content[:40]).decode("utf-8", "replace").strip().replace("\n", " ")
        raise MalformedResponse(
            f"HTTP 200 with a body that is not JSON (it starts {start!r})", trace_id=trace_id
        ) from None
    if _may_nest_deeper_than(content, MAX_JSON_DEPTH) and _nested_deeper_than(body, MAX_JSON_DEPTH):
        raise MalformedResponse(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", trace_id=trace_id)
    if not isinstance(body, dict) or "code" not in body:
        raise MalformedResponse("JSON without the code/msg/data envelope", trace_id=trace_id)
    code = body.get("code")
    if isinstance(code, bool) or not isinstance(code, int | str) or not str(code).strip().isdigit():
        raise MalformedResponse(f"the code field is {code!r}, not a number", trace_id=trace_id)
    code = int(code)
    if code != 200:
        # Older APIs put the message in `desc`; the SDKs read either.
        raise classify_code(code, str(body.get("msg") or body.get("desc") or ""), trace_id=trace_id)
    data = body.get("data")
    data = data if isinstance(data, dict) else {}
    found = _CONVERSATIONS.validate_python(_items(data.get("success_list")))
    failed = _FAILURES.validate_python(_items(data.get("failed_list")))
    return CallAnswer(found, failed, trace_id)


def _read_json(content: bytes | bytearray) -> Any:
    """What json.loads reads from `content`, in about half its instructions: pydantic-core's parser reads
    JSON as json.loads does (numbers, big integers, NaN and Infinity, duplicate keys, escapes: see
    tests/yunxin/test_answers.py), and whatever it refuses (UTF-16 or -32, a UTF-8 BOM, lone surrogates,
    nesting past its 200 levels, anything not JSON) is handed to json.loads, which has the last word."""
    try:
        return from_json(content)
    except ValueError:
        return json.loads(content)


def _let_the_loop_run(value: dict[str, Any]) -> dict[str, Any]:
    """Called for each JSON object decoded. json's C decoder holds the GIL for a whole document, so a
    thread parsing a big answer would still stall the event loop; running a line of Python between
    objects lets the interpreter hand the GIL over as usual (every 5 ms)."""
    return value


def _may_nest_deeper_than(content: bytes | bytearray, limit: int) -> bool:
    """False when the raw body cannot nest deeper than `limit`: every level opens a bracket, so a body with
    no more '[' and '{' bytes than the limit has no more levels (brackets inside strings, or bytes of other
    characters in UTF-16 or -32, only add to the count). Counting is done in C, but byte by byte: past
    COUNT_BRACKETS_BYTES a real answer holds more brackets than the limit anyway, and goes straight to the walk."""
    return len(content) > COUNT_BRACKETS_BYTES or content.count(b"[") + content.count(b"{") > limit


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether decoded JSON nests objects and arrays more than `limit` levels deep: walked level by level,
    keeping only the containers of each. json.loads makes plain dicts and lists, so `type() is` tells
    them apart, at half the cost of isinstance."""
    containers = [value] if type(value) is dict or type(value) is list else []
    for _ in range(limit):
        if not containers:
            return False
        containers = [
            child
            for item in containers
            for child in (item.values() if type(item) is dict else item)
            if type(child) is dict or type(child) is list
        ]
    return bool(containers)


def too_large(trace_id: str) -> MalformedResponse:
    return MalformedResponse(f"it is larger than {MAX_ANSWER_BYTES // 2**20} MiB", trace_id=trace_id)


async def read_capped(response: WireAnswer, trace_id: str) -> bytearray:
    """The body, decoded, read chunk by chunk and given up as soon as it passes MAX_ANSWER_BYTES."""
    declared = response.headers.get("Content-Length", "")
    if "Content-Encoding" not in response.headers and declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise too_large(trace_id)
    body = bytearray()
    async for chunk in response.aiter_bytes():
        if len(body) + len(chunk) > MAX_ANSWER_BYTES:
            raise too_large(trace_id)
        body += chunk
    return body


def check_status(status: int, host: str, trace_id: str) -> None:
    """Any HTTP status but 200 is an error, whatever the body says: Yunxin answers its own errors with
    HTTP 200 and a JSON code, and the SDKs never parse another status's body (a proxy's or a gateway's)."""
    if status == 200:
        return
    if status >= 500:
        raise Unavailable(f"HTTP {status} from {host}", trace_id=trace_id)
    raise RequestRejected(f"HTTP {status} from {host}", trace_id=trace_id)


def _items(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
