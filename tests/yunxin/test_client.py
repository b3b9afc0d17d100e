"""YunxinClient against a strict in-memory Yunxin (httpx.MockTransport): chunking, both response
shapes, every error kind, retries, failover, the deadline, shared calls, trace IDs and secrecy."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest
from pydantic import SecretStr

from bot.settings import YunxinAppConfig
from bot.yunxin.answers import MAX_ANSWER_BYTES, MAX_JSON_DEPTH, THREAD_PARSE_BYTES
from bot.yunxin.client import MAX_IDS_PER_CALL, YunxinClient
from bot.yunxin.errors import (
    CALL_LABELS,
    KNOWN_CODES,
    CredentialsRejected,
    MalformedResponse,
    RateLimited,
    RequestRejected,
    Timeout,
    Unavailable,
    YunxinError,
)
from bot.yunxin.ids import parse_ids
from bot.yunxin.models import Failed, Found, LookupResult, Unanswered
from bot.yunxin.request import TRACE_HEADER, new_trace_id
from bot.yunxin.sandbox import NOT_FOUND_CODE, SandboxApp, create_sandbox_app
from tests.factories import yunxin_app

APP_KEY = "test-app-key"
SECRET = "Zq7-UNMISTAKABLE-app-secret-41f9"  # distinctive, so a leak anywhere is found
PRIMARY = "open.yunxinapi.com"
BACKUP = "backup.yunxin.test"  # any second host: Yunxin documents no open-bak

Reply = Callable[["Call"], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Call:
    """One request as the fake Yunxin received it."""

    request: httpx.Request
    host: str
    ids: list[str]
    trace_id: str
    nonce: str
    checksum: str


@dataclass
class FakeYunxin:
    """Answers the batch conversation query the way Yunxin does, and checks every request as
    strictly as Yunxin would: path, headers, a fresh Nonce, whole-second CurTime, the CheckSum, at
    most 100 IDs. A bad signature is answered with 414 like Yunxin; anything the real service
    would refuse outright is also noted in `violations`, which the fixture asserts is empty."""

    app_key: str = APP_KEY
    secret: str = SECRET
    version: str = "v2"
    path_prefix: str = ""  # the SDKs' hosts take /nimserver
    shape: Literal["v2", "v2.1"] = "v2"
    missing: set[str] = field(default_factory=set)  # IDs answered in failed_list
    hosts_down: set[str] = field(default_factory=set)  # hosts that refuse connections
    script: deque[Reply] = field(default_factory=deque)  # replies for the next calls, in order
    rule: Callable[[Call], Reply | None] | None = None  # a reply chosen by what was asked
    calls: list[Call] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def _signatures(self) -> SandboxApp:
        """The sandbox, for its signature check (the one Yunxin makes), with this fake's key and secret."""
        return create_sandbox_app(app_key=self.app_key, app_secret=self.secret)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        problem = self._protocol_problem(request)
        if problem:
            self.violations.append(problem)
            return envelope(414, problem)
        call = Call(
            request=request,
            host=request.url.host,
            ids=request.url.params["conversation_ids"].split(","),
            trace_id=request.headers[TRACE_HEADER],
            nonce=request.headers["Nonce"],
            checksum=request.headers["CheckSum"],
        )
        if any(earlier.nonce == call.nonce for earlier in self.calls):
            self.violations.append(f"nonce {call.nonce} reused")
        self.calls.append(call)
        if call.host in self.hosts_down:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if len(call.ids) > MAX_IDS_PER_CALL:
            self.violations.append(f"{len(call.ids)} IDs in one call")
            return envelope(414, "conversation_ids: at most 100")
        if self._signatures().signature_problem(request.headers) == "checksum":  # a wrong secret, as Yunxin says
            return envelope(414, "checksum error")
        scripted = self.script.popleft() if self.script else None
        chosen = scripted or (self.rule(call) if self.rule else None)
        if chosen is not None:
            return await chosen(call)
        return self.answer(call.ids)

    def _protocol_problem(self, request: httpx.Request) -> str | None:
        headers = request.headers
        if request.method != "GET":
            return f"method {request.method}"
        if request.url.path != f"{self.path_prefix}/im/{self.version}/conversations/actions/conversation_ids":
            return f"path {request.url.path}"
        if set(request.url.params) != {"conversation_ids"} or not request.url.params["conversation_ids"]:
            return f"query {request.url.query!r}"
        # The signature as the sandbox checks it (AppKey, Nonce, CurTime, CheckSum); a wrong CheckSum alone is
        # a wrong secret, which Yunxin answers and tests ask for, not a mistake of the client's.
        problem = self._signatures().signature_problem(request.headers)
        if problem not in (None, "checksum"):
            return f"signature: {problem}"
        if not headers.get("Nonce"):
            return "Nonce empty"
        if len(headers.get("CheckSum", "")) != 40 or headers["CheckSum"] != headers["CheckSum"].lower():
            return "CheckSum is not 40 lowercase hex characters"
        if not headers.get(TRACE_HEADER):
            return "no trace ID"
        return None

    def answer(self, ids: list[str]) -> httpx.Response:
        """The normal answer: Yunxin lowercases accounts, so IDs come back lowercased."""
        found = [conversation_entry(i.lower(), self.shape) for i in ids if i.lower() not in self.missing]
        failed = [
            {"conversation_id": i.lower(), "error_code": NOT_FOUND_CODE, "error_msg": "conversation not exist"}
            for i in ids
            if i.lower() in self.missing
        ]
        return envelope(200, "success", {"success_list": found, "failed_list": failed})


def envelope(code: int, msg: str, data: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.Response(200, json={"code": code, "msg": msg, "data": data if data is not None else {}})


def conversation_entry(conversation_id: str, shape: Literal["v2", "v2.1"]) -> dict[str, Any]:
    owner, kind, target = conversation_id.split("|")
    entry: dict[str, Any] = {
        "conversation_id": conversation_id,
        "sender_id": owner,
        "receiver_id": target,
        "type": int(kind),
        "stick_top": "false",
        "unread_count": 1,
        "update_time": 1700000000123,
        "some_future_field": {"x": 1},
    }
    if shape == "v2":
        entry["last_message"] = {
            "sender_no_sense": "false",
            "message": {"message_type": 0, "text": f"hello from {owner}"},
        }
    else:
        entry["last_message"] = {
            "message_server_id": 9007199254740993,
            "sender_id": owner,
            "message_type": 0,
            "text": f"hello from {owner}",
        }
    return entry


def reply_json(body: Any, status: int = 200) -> Reply:
    async def reply(call: Call) -> httpx.Response:
        return httpx.Response(status, json=body)

    return reply


def reply_bytes(content: bytes, headers: dict[str, str] | None = None) -> Reply:
    async def reply(call: Call) -> httpx.Response:
        return httpx.Response(200, content=content, headers={"Content-Type": "application/json", **(headers or {})})

    return reply


def reply_code(code: int, msg: str) -> Reply:
    return reply_json({"code": code, "msg": msg, "data": {}})


def reply_text(text: str, status: int) -> Reply:
    async def reply(call: Call) -> httpx.Response:
        return httpx.Response(status, text=text, headers={"Content-Type": "text/html"})

    return reply


def reply_raise(error: type[httpx.TransportError]) -> Reply:
    async def reply(call: Call) -> httpx.Response:
        raise error("simulated", request=call.request)

    return reply


def reply_never() -> Reply:
    async def reply(call: Call) -> httpx.Response:
        await asyncio.Event().wait()  # nothing ever sets it
        raise AssertionError("unreachable")

    return reply


def ids_of(count: int, prefix: str = "u") -> list[str]:
    return [f"{prefix}{n}|1|peer{n}" for n in range(count)]


def app_config(**changes: Any) -> YunxinAppConfig:
    values: dict[str, Any] = {
        "app_key": APP_KEY,
        "app_secret": SECRET,
        "base_url": f"https://{PRIMARY}",
        "backup_base_url": f"https://{BACKUP}",
        **changes,
    }
    return yunxin_app(**values)


@pytest.fixture
def fake() -> FakeYunxin:
    return FakeYunxin()


@pytest.fixture
async def make_client(fake: FakeYunxin) -> AsyncIterator[Callable[..., YunxinClient]]:
    """Build clients on the fake; close them after the test and check the fake saw no violation."""
    made: list[YunxinClient] = []

    def make(config: YunxinAppConfig | None = None, **options: Any) -> YunxinClient:
        client = YunxinClient(config or app_config(), transport=fake.transport(), **options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()
    assert fake.violations == []


@pytest.fixture
def client(make_client: Callable[..., YunxinClient]) -> YunxinClient:
    return make_client()


def found_ids(result: LookupResult) -> list[str]:
    return [o.conversation_id for o in result.outcomes() if isinstance(o, Found)]


# Chunking ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "chunk_sizes"), [(1, [1]), (100, [100]), (101, [100, 1]), (250, [100, 100, 50])])
async def test_ids_are_sent_in_calls_of_at_most_100(
    client: YunxinClient, fake: FakeYunxin, count: int, chunk_sizes: list[int]
) -> None:
    ids = ids_of(count)
    result = await client.get_conversations(parse_ids(ids))
    assert sorted(len(call.ids) for call in fake.calls) == sorted(chunk_sizes)
    sent = [i for call in fake.calls for i in call.ids]
    assert sorted(sent) == sorted(ids)  # each ID exactly once
    assert result.requested == ids
    assert found_ids(result) == ids
    assert result.chunk_failures == []
    assert sorted(result.trace_ids) == sorted(call.trace_id for call in fake.calls)


async def test_the_id_list_travels_url_encoded_in_one_parameter(client: YunxinClient, fake: FakeYunxin) -> None:
    await client.get_conversations(parse_ids(["alice|1|bob", "carol|2|123"]))
    (call,) = fake.calls
    assert call.request.url.query == b"conversation_ids=alice%7C1%7Cbob%2Ccarol%7C2%7C123"


async def test_malformed_ids_are_reported_and_never_sent(client: YunxinClient, fake: FakeYunxin) -> None:
    result = await client.get_conversations(parse_ids(["alice|1|bob", "bad id", "carol|9|x", "ALICE|1|BOB"]))
    assert [call.ids for call in fake.calls] == [["alice|1|bob"]]
    assert [o.status for o in result.outcomes()] == ["found", "malformed", "malformed"]


async def test_only_malformed_ids_make_no_call(client: YunxinClient, fake: FakeYunxin) -> None:
    result = await client.get_conversations(parse_ids(["nonsense", "a|5|b"]))
    assert fake.calls == []
    assert [o.status for o in result.outcomes()] == ["malformed", "malformed"]
    assert result.all_failed is False


async def test_an_empty_lookup_makes_no_call(client: YunxinClient, fake: FakeYunxin) -> None:
    result = await client.get_conversations(parse_ids([]))
    assert fake.calls == []
    assert result.outcomes() == []


# Answers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["v2", "v2.1"])
async def test_both_response_shapes(make_client: Callable[..., YunxinClient], fake: FakeYunxin, shape: str) -> None:
    fake.shape = shape  # type: ignore[assignment]
    result = await make_client().get_conversations(parse_ids(["Alice|1|Bob", "carol|2|123"]))
    outcomes = result.outcomes()
    assert [o.status for o in outcomes] == ["found", "found"]
    first = outcomes[0]
    assert isinstance(first, Found)
    assert first.conversation_id == "Alice|1|Bob"  # as asked, though Yunxin answered in lower case
    last = first.conversation.last_message
    assert last is not None
    assert last.body_text == "hello from alice"
    assert last.kind_label == "text"
    if shape == "v2.1":
        assert last.message_server_id == 9007199254740993


async def test_api_version_v21_uses_its_path(make_client: Callable[..., YunxinClient], fake: FakeYunxin) -> None:
    fake.version = "v2.1"
    result = await make_client(app_config(api_version="v2.1")).get_conversations(parse_ids(["a|1|b"]))
    assert fake.calls[0].request.url.path == "/im/v2.1/conversations/actions/conversation_ids"
    assert found_ids(result) == ["a|1|b"]


async def test_ids_yunxin_could_not_return_are_failed(client: YunxinClient, fake: FakeYunxin) -> None:
    fake.missing = {"a|1|gone"}
    result = await client.get_conversations(parse_ids(["a|1|b", "A|1|GONE"]))
    found, failed = result.outcomes()
    assert isinstance(found, Found)
    assert isinstance(failed, Failed)
    assert failed.failure.error_code == NOT_FOUND_CODE


async def test_an_id_left_out_of_both_lists_is_unanswered_without_error(client: YunxinClient, fake: FakeYunxin) -> None:
    fake.script.append(reply_json({"code": 200, "msg": "ok", "data": {"success_list": [], "failed_list": []}}))
    result = await client.get_conversations(parse_ids(["a|1|b"]))
    (outcome,) = result.outcomes()
    assert isinstance(outcome, Unanswered)
    assert outcome.error is None


async def test_a_success_without_data_is_not_an_error(client: YunxinClient, fake: FakeYunxin) -> None:
    fake.script.append(reply_json({"code": 200, "msg": "ok"}))
    result = await client.get_conversations(parse_ids(["a|1|b"]))
    assert result.chunk_failures == []
    assert [o.status for o in result.outcomes()] == ["unanswered"]


async def test_the_code_may_arrive_as_text(client: YunxinClient, fake: FakeYunxin) -> None:
    data = {"success_list": [{"conversation_id": "a|1|b"}]}
    fake.script.append(reply_json({"code": "200", "msg": "ok", "data": data}))
    result = await client.get_conversations(parse_ids(["a|1|b"]))
    assert found_ids(result) == ["a|1|b"]


async def test_requests_are_signed_with_the_configured_secret(client: YunxinClient, fake: FakeYunxin) -> None:
    await client.get_conversations(parse_ids(["a|1|b"]))
    (call,) = fake.calls
    headers = call.request.headers
    assert headers["AppKey"] == APP_KEY
    assert headers["CheckSum"] == hashlib.sha1((SECRET + headers["Nonce"] + headers["CurTime"]).encode()).hexdigest()


async def test_a_wrong_secret_is_rejected_by_the_fake(make_client: Callable[..., YunxinClient]) -> None:
    client = make_client(app_config(app_secret=SecretStr("not-the-secret")))
    result = await client.get_conversations(parse_ids(["a|1|b"]))
    assert [type(e) for e in result.errors] == [CredentialsRejected]


# Errors ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    replies: list[Reply]
    error: type[YunxinError]
    calls: int
    detail_part: str
    hosts_down: tuple[str, ...] = ()


SCENARIOS: dict[str, Scenario] = {
    "414 checksum": Scenario([reply_code(414, "checksum")], CredentialsRejected, 1, "code 414"),
    "414 CurTime expired": Scenario([reply_code(414, "CurTime is expired")], CredentialsRejected, 1, "CurTime"),
    "414 other": Scenario([reply_code(414, "parameter error")], RequestRejected, 1, "parameter error"),
    "403": Scenario([reply_code(403, "forbidden")], RequestRejected, 1, "code 403"),
    "416": Scenario([reply_code(416, "freq")], RateLimited, 1, "code 416"),
    "414 in desc": Scenario([reply_json({"code": 414, "desc": "checksum"})], CredentialsRejected, 1, "checksum"),
    "503 code": Scenario([reply_code(503, "busy")], Unavailable, 1, "code 503"),
    "514 code": Scenario([reply_code(514, "unavailable")], Unavailable, 1, "code 514"),
    "500 code": Scenario([reply_code(500, "server error")], Unavailable, 1, "code 500"),
    "HTTP 500 HTML": Scenario([reply_text("<html>oops</html>", 500)], Unavailable, 1, "HTTP 500"),
    "HTTP 200 HTML": Scenario([reply_text("<html><body>login</body></html>", 200)], MalformedResponse, 1, "not JSON"),
    "HTTP 404 HTML": Scenario([reply_text("<html>no such path</html>", 404)], RequestRejected, 1, "HTTP 404"),
    # A status other than 200 is an error whatever its body says, as the SDKs read it: the body is not read.
    "HTTP 400 with a success body": Scenario(
        [reply_json({"code": 200, "data": {"success_list": [{"conversation_id": "a|1|b"}]}}, 400)],
        RequestRejected,
        1,
        f"HTTP 400 from {PRIMARY}",
    ),
    "HTTP 429 with a JSON code": Scenario([reply_json({"code": 416}, 429)], RequestRejected, 1, "HTTP 429"),
    "HTTP 201": Scenario([reply_json({"code": 200, "data": {}}, 201)], RequestRejected, 1, "HTTP 201"),
    "HTTP 500 with a success body": Scenario([reply_json({"code": 200, "data": {}}, 500)], Unavailable, 1, "HTTP 500"),
    "HTTP 504 JSON": Scenario([reply_json({"code": 504, "msg": "gateway timeout"}, 504)], Unavailable, 1, "HTTP 504"),
    "JSON without envelope": Scenario([reply_json({"hello": "world"})], MalformedResponse, 1, "envelope"),
    "JSON list": Scenario([reply_json([1, 2])], MalformedResponse, 1, "envelope"),
    "code not a number": Scenario([reply_json({"code": "ok", "msg": ""})], MalformedResponse, 1, "not a number"),
    "code true": Scenario([reply_json({"code": True})], MalformedResponse, 1, "not a number"),
    "read timeout": Scenario([reply_raise(httpx.ReadTimeout)], Timeout, 1, "did not answer within 5 s"),
    "502 twice on each host": Scenario(
        [reply_text("bad gateway", 502)] * 4, Unavailable, 4, f"could not reach {PRIMARY} or {BACKUP}"
    ),
    "connection refused everywhere": Scenario([], Unavailable, 4, "connection refused", hosts_down=(PRIMARY, BACKUP)),
    "connection reset everywhere": Scenario([reply_raise(httpx.ReadError)] * 4, Unavailable, 4, "reset"),
    "connect timeout everywhere": Scenario([reply_raise(httpx.ConnectTimeout)] * 4, Unavailable, 4, "connect"),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_every_error_kind_carries_the_trace_id_sent_and_never_the_secret(
    make_client: Callable[..., YunxinClient],
    fake: FakeYunxin,
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    scenario = SCENARIOS[name]
    fake.script.extend(scenario.replies)
    fake.hosts_down = set(scenario.hosts_down)
    caplog.set_level(logging.DEBUG)
    client = make_client()

    result = await client.get_conversations(parse_ids(["a|1|b", "c|2|3"]))

    assert len(fake.calls) == scenario.calls
    (error,) = result.errors
    assert type(error) is scenario.error
    assert scenario.detail_part in error.detail
    sent_traces = [call.trace_id for call in fake.calls]
    assert error.trace_id == sent_traces[-1]
    assert len(set(sent_traces)) == len(sent_traces)  # a fresh trace ID per attempt
    assert error.trace_id in str(error)
    assert result.trace_ids == [error.trace_id]
    assert result.all_failed is True
    assert all(isinstance(o, Unanswered) and o.error is error for o in result.outcomes())
    assert_secret_absent(fake, [str(error), repr(error), error.detail, repr(client), repr(client.config)], caplog)


def assert_secret_absent(fake: FakeYunxin, texts: list[str], caplog: pytest.LogCaptureFixture) -> None:
    """Neither the AppSecret nor any CheckSum sent may appear in the texts or any log record."""
    forbidden = [SECRET, *(call.checksum for call in fake.calls)]
    logged = [record.getMessage() for record in caplog.records]
    logged += [repr(vars(record)) for record in caplog.records]
    for text in texts + logged:
        for secret in forbidden:
            assert secret not in text


async def test_rate_limited_is_reported_at_once_and_never_retried(client: YunxinClient, fake: FakeYunxin) -> None:
    # Yunxin blocks an app that keeps calling past 416; the SDKs never retry a JSON code, nor does the bot.
    fake.script.append(reply_code(416, "freq"))  # the next call would succeed: it must not be made
    result = await client.get_conversations(parse_ids(["a|1|b"]))
    assert [type(e) for e in result.errors] == [RateLimited]
    assert [call.host for call in fake.calls] == [PRIMARY]
    assert result.errors[0].trace_id == fake.calls[0].trace_id


@pytest.mark.parametrize("code", [403, 414, 416, 500, 503, 514])
async def test_no_json_code_is_retried_or_failed_over(client: YunxinClient, fake: FakeYunxin, code: int) -> None:
    fake.script.append(reply_code(code, "no"))
    result = await client.get_conversations(parse_ids(["a|1|b"]))
    assert len(result.errors) == 1
    assert len(fake.calls) == 1


async def test_msg_is_read_before_desc(client: YunxinClient, fake: FakeYunxin) -> None:
    fake.script.append(reply_json({"code": 403, "msg": "forbidden", "desc": "older text"}))
    (error,) = (await client.get_conversations(parse_ids(["a|1|b"]))).errors
    assert error.detail == "code 403: forbidden"


class WatchedBody(httpx.AsyncByteStream):
    """A response body that notes whether anyone read it."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.read = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.read = True
        yield self.content


@pytest.mark.parametrize("status", [400, 404, 500, 502, 503])
async def test_the_body_of_a_status_other_than_200_is_never_read(
    client: YunxinClient, fake: FakeYunxin, status: int
) -> None:
    bodies: list[WatchedBody] = []

    async def reply(call: Call) -> httpx.Response:
        bodies.append(WatchedBody(json.dumps({"code": 200, "data": {}}).encode()))
        return httpx.Response(status, stream=bodies[-1], headers={"Content-Type": "application/json"})

    fake.rule = lambda call: reply
    result = await client.get_conversations(parse_ids(["a|1|b"]))
    assert len(result.errors) == 1
    assert bodies and not any(body.read for body in bodies)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def in_a_conversation(value: str) -> str:
    """A success answering one conversation with a field `x` of `value`: 4 levels deep before `x`'s own."""
    return '{"code": 200, "data": {"success_list": [{"conversation_id": "a|1|b", "x": ' + value + "}]}}"


@pytest.mark.parametrize(
    "body",
    [
        nested(10_000),  # Python's json gives up with a RecursionError
        nested(100_000),  # the same, parsed in a worker thread (it is over THREAD_PARSE_BYTES)
        in_a_conversation(nested(10_000)),
        in_a_conversation(nested(MAX_JSON_DEPTH - 3)),  # one level past the limit
    ],
    ids=["10,000 levels", "100,000 levels", "10,000 levels in a conversation", "one level past the limit"],
)
async def test_deeply_nested_json_is_an_answer_the_bot_cannot_read(
    client: YunxinClient, fake: FakeYunxin, body: str
) -> None:
    fake.script.append(reply_bytes(body.encode()))
    result = await client.get_conversations(parse_ids(["a|1|b"]))
    (error,) = result.errors
    assert type(error) is MalformedResponse
    assert "nested" in error.detail
    assert str(error).startswith("Yunxin sent an answer the bot cannot read: ")
    assert error.trace_id == fake.calls[-1].trace_id
    assert len(fake.calls) == 1


async def test_json_nested_up_to_the_limit_is_read(client: YunxinClient, fake: FakeYunxin) -> None:
    fake.script.append(reply_bytes(in_a_conversation(nested(MAX_JSON_DEPTH - 4)).encode()))
    result = await client.get_conversations(parse_ids(["a|1|b"]))
    assert found_ids(result) == ["a|1|b"]


async def test_an_answer_over_the_cap_is_refused(client: YunxinClient, fake: FakeYunxin) -> None:
    fake.script.append(reply_bytes(b'{"code": 200, "msg": "' + b"x" * MAX_ANSWER_BYTES + b'"}'))
    (error,) = (await client.get_conversations(parse_ids(["a|1|b"]))).errors
    assert type(error) is MalformedResponse
    assert error.detail == "it is larger than 8 MiB"
    assert error.trace_id == fake.calls[-1].trace_id


async def test_a_body_that_does_not_decompress_is_malformed(client: YunxinClient, fake: FakeYunxin) -> None:
    fake.script.append(reply_bytes(b"not gzip at all", headers={"Content-Encoding": "gzip"}))
    (error,) = (await client.get_conversations(parse_ids(["a|1|b"]))).errors
    assert type(error) is MalformedResponse
    assert "Content-Encoding" in error.detail


async def test_an_answer_big_enough_to_be_parsed_off_the_loop_is_read(client: YunxinClient, fake: FakeYunxin) -> None:
    ids = ids_of(100)
    padding = "p" * (THREAD_PARSE_BYTES // 50)
    items = [{**conversation_entry(i, "v2"), "padding": padding} for i in ids]
    body = json.dumps({"code": 200, "data": {"success_list": items}}).encode()
    assert len(body) > THREAD_PARSE_BYTES
    fake.script.append(reply_bytes(body))
    result = await client.get_conversations(parse_ids(ids))
    assert found_ids(result) == ids


@pytest.mark.parametrize("status", [502, 503])
async def test_502_or_503_is_retried_once_then_succeeds(client: YunxinClient, fake: FakeYunxin, status: int) -> None:
    fake.script.append(reply_text("<html>bad gateway</html>", status))
    result = await client.get_conversations(parse_ids(["a|1|b"]))
    assert found_ids(result) == ["a|1|b"]
    assert [call.host for call in fake.calls] == [PRIMARY, PRIMARY]
    assert result.trace_ids == [fake.calls[-1].trace_id]


async def test_connection_refused_on_the_primary_fails_over_to_the_backup(
    client: YunxinClient, fake: FakeYunxin, caplog: pytest.LogCaptureFixture
) -> None:
    fake.hosts_down = {PRIMARY}
    caplog.set_level(logging.DEBUG)
    result = await client.get_conversations(parse_ids(["a|1|b"]))
    assert found_ids(result) == ["a|1|b"]
    assert [call.host for call in fake.calls] == [PRIMARY, PRIMARY, BACKUP]
    assert result.trace_ids == [fake.calls[-1].trace_id]
    assert any(BACKUP in record.getMessage() and record.levelno == logging.WARNING for record in caplog.records)
    assert_secret_absent(fake, [], caplog)


HOSTS = ["first.yunxin.test", "second.yunxin.test", "third.yunxin.test"]


@pytest.fixture
def three_hosts(fake: FakeYunxin) -> YunxinAppConfig:
    """An app with three hosts, each with the /nimserver prefix of the SDKs' hosts."""
    fake.path_prefix = "/nimserver"
    return app_config(base_url=None, backup_base_url=None, base_urls=[f"https://{host}/nimserver" for host in HOSTS])


async def test_failover_tries_each_host_in_order_with_one_retry_each(
    make_client: Callable[..., YunxinClient],
    fake: FakeYunxin,
    three_hosts: YunxinAppConfig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.hosts_down = set(HOSTS[:2])
    result = await make_client(three_hosts).get_conversations(parse_ids(["a|1|b"]))
    assert found_ids(result) == ["a|1|b"]
    assert [call.host for call in fake.calls] == [HOSTS[0], HOSTS[0], HOSTS[1], HOSTS[1], HOSTS[2]]
    assert {call.request.url.path for call in fake.calls} == {"/nimserver/im/v2/conversations/actions/conversation_ids"}
    assert len({call.trace_id for call in fake.calls}) == 5
    assert result.trace_ids == [fake.calls[-1].trace_id]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert HOSTS[0] in warning and HOSTS[1] in warning and HOSTS[2] in warning


async def test_every_host_down_names_each_once(
    make_client: Callable[..., YunxinClient], fake: FakeYunxin, three_hosts: YunxinAppConfig
) -> None:
    fake.hosts_down = set(HOSTS)
    result = await make_client(three_hosts).get_conversations(parse_ids(["a|1|b"]))
    (error,) = result.errors
    assert isinstance(error, Unavailable)
    names = f"{HOSTS[0]}, {HOSTS[1]} or {HOSTS[2]}"
    assert error.detail == f"could not reach {names} (connection refused or host unreachable)"
    assert len(fake.calls) == 6
    assert error.trace_id == fake.calls[-1].trace_id


async def test_failover_ends_at_the_lookups_deadline(
    make_client: Callable[..., YunxinClient], fake: FakeYunxin, three_hosts: YunxinAppConfig
) -> None:
    async def slow_refusal(call: Call) -> httpx.Response:
        await asyncio.sleep(0.04)  # a host that takes its time to fail to connect
        raise httpx.ConnectTimeout("simulated", request=call.request)

    fake.rule = lambda call: slow_refusal
    started = time.monotonic()
    result = await make_client(three_hosts, deadline_seconds=0.1).get_conversations(parse_ids(["a|1|b"]))
    assert time.monotonic() - started < 0.5
    (error,) = result.errors
    assert isinstance(error, Timeout)
    assert "deadline" in error.detail
    every_attempt = [HOSTS[0], HOSTS[0], HOSTS[1], HOSTS[1], HOSTS[2], HOSTS[2]]
    assert 1 <= len(fake.calls) < len(every_attempt)  # about 3 fit in the deadline; the rest are never made
    assert [call.host for call in fake.calls] == every_attempt[: len(fake.calls)]
    assert error.trace_id == fake.calls[-1].trace_id


async def test_without_a_backup_a_refused_connection_is_retried_once_on_the_primary(
    make_client: Callable[..., YunxinClient], fake: FakeYunxin
) -> None:
    fake.hosts_down = {PRIMARY}
    result = await make_client(app_config(backup_base_url=None)).get_conversations(parse_ids(["a|1|b"]))
    assert [call.host for call in fake.calls] == [PRIMARY, PRIMARY]
    (error,) = result.errors
    assert isinstance(error, Unavailable)
    assert error.detail == f"{PRIMARY}: connection refused or host unreachable"


async def test_timeout_and_rejections_are_not_retried_on_the_backup(client: YunxinClient, fake: FakeYunxin) -> None:
    fake.script.append(reply_raise(httpx.ReadTimeout))
    result = await client.get_conversations(parse_ids(["a|1|b"]))
    assert [call.host for call in fake.calls] == [PRIMARY]
    assert [type(e) for e in result.errors] == [Timeout]


async def test_the_deadline_ends_a_call_that_never_answers(
    make_client: Callable[..., YunxinClient], fake: FakeYunxin
) -> None:
    hung = ids_of(1, "hung")
    fake.rule = lambda call: reply_never() if call.ids == hung else None
    client = make_client(deadline_seconds=0.05)
    result = await client.get_conversations(parse_ids(ids_of(100) + hung))  # the hung ID is a call of its own
    (failure,) = result.chunk_failures
    assert failure.ids == tuple(hung)
    assert isinstance(failure.error, Timeout)
    assert "deadline" in failure.error.detail
    hung_call = next(call for call in fake.calls if call.ids == hung)
    assert failure.error.trace_id == hung_call.trace_id
    assert len(found_ids(result)) == 100


async def test_a_call_abandoned_at_the_deadline_does_not_keep_running(
    make_client: Callable[..., YunxinClient], fake: FakeYunxin
) -> None:
    fake.rule = lambda call: reply_never() if len(fake.calls) == 1 else None
    client = make_client(deadline_seconds=0.05, concurrency=1)
    first = await client.get_conversations(parse_ids(["a|1|b"]))
    assert [type(e) for e in first.errors] == [Timeout]
    # The abandoned call must free its place: the same lookup again makes a fresh call and succeeds.
    second = await client.get_conversations(parse_ids(["a|1|b"]))
    assert found_ids(second) == ["a|1|b"]
    assert len(fake.calls) == 2


async def test_one_failing_chunk_spoils_only_its_own_ids(client: YunxinClient, fake: FakeYunxin) -> None:
    ids = ids_of(250)
    doomed = ids[150]
    fake.rule = lambda call: reply_code(503, "busy") if doomed in call.ids else None
    result = await client.get_conversations(parse_ids(ids))
    (failure,) = result.chunk_failures
    assert doomed in failure.ids
    assert len(failure.ids) == 100
    outcomes = result.outcomes()
    assert [o.conversation_id for o in outcomes] == ids
    for outcome in outcomes:
        if outcome.conversation_id in failure.ids:
            assert isinstance(outcome, Unanswered) and outcome.error is failure.error
        else:
            assert isinstance(outcome, Found)
    assert len(result.found) == 150
    assert result.all_failed is False
    assert len(result.trace_ids) == 3


async def test_an_unexpected_bug_in_one_call_is_contained(client: YunxinClient, fake: FakeYunxin) -> None:
    async def explode(call: Call) -> httpx.Response:
        raise RuntimeError("a bug")

    fake.rule = lambda call: explode if "u0|1|peer0" in call.ids else None
    result = await client.get_conversations(parse_ids(ids_of(101)))
    (failure,) = result.chunk_failures
    assert type(failure.error) is YunxinError
    assert "unexpected error" in failure.error.detail
    assert "a bug" not in str(failure.error)
    assert len(found_ids(result)) == 1


# Metric labels -----------------------------------------------------------------------------------


async def test_metric_labels_stay_a_fixed_set_whatever_codes_yunxin_sends(
    make_client: Callable[..., YunxinClient], fake: FakeYunxin
) -> None:
    labels: list[str] = []
    codes = iter([*range(1000, 1200), *KNOWN_CODES])
    fake.rule = lambda call: reply_code(next(codes), "some new code")
    client = make_client(on_call=lambda label, seconds: labels.append(label))
    for n in range(200 + len(KNOWN_CODES)):
        await client.get_conversations(parse_ids([f"u{n}|1|peer"]))
    assert len(labels) == 200 + len(KNOWN_CODES)
    assert set(labels) <= CALL_LABELS
    assert set(labels) == {"other", *(str(code) for code in KNOWN_CODES)}
    assert labels.count("other") == 200


LABELS = {
    "success": ([], "200"),
    "a documented code": ([reply_code(419, "over quantity limit")], "419"),
    "an unknown code": ([reply_code(110404, "?")], "other"),
    "an HTTP status": ([reply_text("<html>no</html>", 404)], "request_rejected"),
    "HTTP 500": ([reply_text("<html>oops</html>", 500)], "unavailable"),
    "a read timeout": ([reply_raise(httpx.ReadTimeout)], "timeout"),
    "not JSON": ([reply_text("<html>login</html>", 200)], "malformed_response"),
}


@pytest.mark.parametrize("name", list(LABELS))
async def test_each_attempt_is_reported_with_its_label(
    make_client: Callable[..., YunxinClient], fake: FakeYunxin, name: str
) -> None:
    replies, label = LABELS[name]
    fake.script.extend(replies)
    seen: list[tuple[str, float]] = []
    await make_client(on_call=lambda *reported: seen.append(reported)).get_conversations(parse_ids(["a|1|b"]))
    assert [reported for reported, _ in seen] == [label]
    assert label in CALL_LABELS


async def test_an_attempt_ended_by_a_bug_is_not_counted_as_an_answer(
    make_client: Callable[..., YunxinClient], fake: FakeYunxin
) -> None:
    async def explode(call: Call) -> httpx.Response:
        raise RuntimeError("a bug")

    fake.script.append(explode)
    seen: list[str] = []
    await make_client(on_call=lambda label, seconds: seen.append(label)).get_conversations(parse_ids(["a|1|b"]))
    assert seen == ["error"]


# Sharing -----------------------------------------------------------------------------------------


def hold_answers(fake: FakeYunxin) -> tuple[asyncio.Event, asyncio.Event]:
    """`fake` holds each answer until the second event is set; the first is set once a call has come."""
    called, release = asyncio.Event(), asyncio.Event()

    async def held(call: Call) -> httpx.Response:
        called.set()
        await release.wait()
        return fake.answer(call.ids)

    fake.rule = lambda call: held
    return called, release


async def test_identical_concurrent_lookups_share_one_upstream_call(client: YunxinClient, fake: FakeYunxin) -> None:
    called, gate = hold_answers(fake)
    lookups = asyncio.gather(
        client.get_conversations(parse_ids(["a|1|b", "c|2|3"])),
        client.get_conversations(parse_ids(["C|2|3", "A|1|B"])),  # the same conversations, asked differently
        client.get_conversations(parse_ids(["a|1|b", "c|2|3"])),
    )
    first_call = asyncio.ensure_future(called.wait())
    # Hold the upstream answer until it is asked for (or the lookups end without asking).
    either: list[asyncio.Future[Any]] = [lookups, first_call]
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    first_call.cancel()
    gate.set()
    results = await lookups
    assert len(fake.calls) == 1
    assert [found_ids(r) for r in results] == [["a|1|b", "c|2|3"], ["C|2|3", "A|1|B"], ["a|1|b", "c|2|3"]]


async def test_every_lookup_sharing_a_call_that_never_answers_gets_its_trace_id(
    make_client: Callable[..., YunxinClient], fake: FakeYunxin
) -> None:
    fake.rule = lambda call: reply_never()
    client = make_client(deadline_seconds=0.05)
    results = await asyncio.gather(
        client.get_conversations(parse_ids(["a|1|b"])), client.get_conversations(parse_ids(["A|1|B"]))
    )
    (call,) = fake.calls
    for result in results:
        (error,) = result.errors
        assert isinstance(error, Timeout)
        assert error.trace_id == call.trace_id


async def test_a_lookup_that_gives_up_leaves_the_shared_call_to_the_others(
    make_client: Callable[..., YunxinClient], fake: FakeYunxin
) -> None:
    called, answer = hold_answers(fake)
    labels: list[str] = []
    client = make_client(deadline_seconds=0.15, on_call=lambda label, seconds: labels.append(label))
    first = asyncio.ensure_future(client.get_conversations(parse_ids(["a|1|b"])))
    await called.wait()
    await asyncio.sleep(0.1)
    later = asyncio.ensure_future(client.get_conversations(parse_ids(["A|1|B"])))  # joins; its deadline is later
    cancelled = asyncio.ensure_future(client.get_conversations(parse_ids(["a|1|b"])))
    await asyncio.sleep(0)
    cancelled.cancel()  # one sharer cancelled, one (first) timed out: neither ends the call
    timed_out = await first
    assert [type(e) for e in timed_out.errors] == [Timeout]
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    answer.set()
    assert found_ids(await later) == ["A|1|B"]
    assert len(fake.calls) == 1
    assert labels == ["200"]


async def test_a_shared_call_ends_when_its_last_lookup_is_cancelled(
    make_client: Callable[..., YunxinClient], fake: FakeYunxin
) -> None:
    called = asyncio.Event()

    async def never(call: Call) -> httpx.Response:
        called.set()
        await asyncio.Event().wait()  # nothing ever sets it
        raise AssertionError("unreachable")

    fake.rule = lambda call: never if len(fake.calls) == 1 else None
    labels: list[str] = []
    client = make_client(on_call=lambda label, seconds: labels.append(label))
    lookups = [asyncio.ensure_future(client.get_conversations(parse_ids(["a|1|b"]))) for _ in range(2)]
    await called.wait()
    for lookup in lookups:
        lookup.cancel()
    for lookup in lookups:
        with pytest.raises(asyncio.CancelledError):
            await lookup
    assert labels == ["timeout"]  # the call was ended, and counted, before the lookups ended
    # Nothing of it is left to join: the same lookup again makes a fresh call.
    assert found_ids(await client.get_conversations(parse_ids(["a|1|b"]))) == ["a|1|b"]
    assert len(fake.calls) == 2


async def test_a_failed_shared_call_gives_every_lookup_its_error_and_asyncio_nothing_to_report(
    client: YunxinClient, fake: FakeYunxin
) -> None:
    async def explode(call: Call) -> httpx.Response:
        raise RuntimeError("a bug")

    fake.rule = lambda call: explode
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda loop, context: reported.append(context))
    try:
        results = await asyncio.gather(
            client.get_conversations(parse_ids(["a|1|b"])), client.get_conversations(parse_ids(["A|1|B"]))
        )
        gc.collect()  # a task whose exception nobody retrieved reports it when collected
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    (call,) = fake.calls
    for result in results:
        (error,) = result.errors
        assert "unexpected error" in error.detail
        assert error.trace_id == call.trace_id
    assert reported == []


async def test_a_later_identical_lookup_makes_a_fresh_call(client: YunxinClient, fake: FakeYunxin) -> None:
    await client.get_conversations(parse_ids(["a|1|b"]))
    await client.get_conversations(parse_ids(["a|1|b"]))
    assert len(fake.calls) == 2


async def test_different_lookups_are_not_shared(client: YunxinClient, fake: FakeYunxin) -> None:
    await asyncio.gather(client.get_conversations(parse_ids(["a|1|b"])), client.get_conversations(parse_ids(["a|1|c"])))
    assert sorted(call.ids[0] for call in fake.calls) == ["a|1|b", "a|1|c"]


# Secrecy -----------------------------------------------------------------------------------------


async def test_the_secret_is_absent_from_reprs_and_logs_of_a_full_lookup(
    client: YunxinClient, fake: FakeYunxin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.hosts_down = {PRIMARY}
    result = await client.get_conversations(parse_ids(ids_of(120)))
    assert len(found_ids(result)) == 120
    assert caplog.records  # the failover warning, at least: the check below looks at something
    texts = [repr(client), repr(client.config), str(client.config), repr(result), json.dumps(result.trace_ids)]
    assert_secret_absent(fake, texts, caplog)


def test_a_trace_id_is_a_random_uuid4_in_its_canonical_form() -> None:
    traces = [new_trace_id() for _ in range(400)]
    for trace in traces:
        parsed = uuid.UUID(trace)
        assert str(parsed) == trace  # lowercase, dashed as str(uuid.uuid4()) writes it
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert len(set(traces)) == len(traces)
    assert {trace[19] for trace in traces} == set("89ab")  # every variant digit turns up


def _client_frames_in_cycles(garbage: list[Any]) -> list[str]:
    return sorted(
        f"{item.f_code.co_filename.rsplit('/', 1)[-1]}:{item.f_code.co_name}"
        for item in garbage
        if type(item).__name__ == "frame" and "/bot/yunxin/" in item.f_code.co_filename
    )


@pytest.mark.parametrize("failure", ["malformed body", "an error code", "hosts unreachable"])
async def test_a_failed_answer_leaves_no_reference_cycle_holding_its_frames(
    make_client: Callable[..., YunxinClient], fake: FakeYunxin, failure: str
) -> None:
    """A failed call's error is kept in the result, and its traceback holds the frames it passed through, the
    answer's body among their locals: were one of those frames to hold the error in turn, the body would wait
    for the cycle collector, whose young generation is large (bot/slack/server.py), instead of going with the
    result."""
    if failure == "malformed body":
        fake.rule = lambda call: reply_bytes(b"<html>" + b"x" * 4096)
    elif failure == "an error code":
        fake.rule = lambda call: reply_code(414, "parameter error " + "x" * 4096)
    else:
        fake.hosts_down = {PRIMARY, BACKUP}
    client = make_client()
    await client.get_conversations(parse_ids(["warm|1|up"]))  # the first call also sets up what every call shares
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = await client.get_conversations(parse_ids(["a|1|b"]))
        assert result.chunk_failures
        del result
        gc.collect()
        assert _client_frames_in_cycles(gc.garbage) == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
