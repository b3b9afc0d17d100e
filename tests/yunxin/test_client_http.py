"""YunxinClient over real HTTP against the sandbox served by uvicorn on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

import pytest

from bot.settings import SANDBOX_APP_KEY, SANDBOX_APP_SECRET, YunxinAppConfig
from bot.yunxin.client import YunxinClient
from bot.yunxin.errors import CredentialsRejected, Unavailable
from bot.yunxin.ids import parse_ids
from bot.yunxin.models import Found
from bot.yunxin.sandbox import NOT_FOUND_CODE, SAMPLE_IDS, SandboxApp, create_sandbox_app
from tests.factories import yunxin_app
from tests.loopback import ServeAsgi

BOB = "sandbox_alice|1|sandbox_bob"
SUPER_TEAM = "sandbox_alice|3|9900000001"


def app_config(
    base_url: str,
    *,
    backup: str | None = None,
    secret: str = SANDBOX_APP_SECRET,
    version: Literal["v2", "v2.1"] = "v2",
) -> YunxinAppConfig:
    return yunxin_app(
        name="http-test",
        app_key=SANDBOX_APP_KEY,
        app_secret=secret,
        base_url=base_url,
        backup_base_url=backup,
        api_version=version,
    )


@pytest.fixture
def sandbox() -> SandboxApp:
    return create_sandbox_app()


@pytest.fixture
async def sandbox_url(serve_asgi: ServeAsgi, sandbox: SandboxApp) -> AsyncIterator[str]:
    async with serve_asgi(sandbox) as base_url:
        yield base_url


def many_ids(count: int) -> list[str]:
    """`count` distinct IDs: the sample P2P conversation first, then IDs the sandbox does not hold."""
    return [BOB] + [f"sandbox_user{n}|1|sandbox_bob" for n in range(count - 1)]


@pytest.mark.parametrize(
    ("count", "calls"),
    [(1, [1]), (100, [100]), (101, [1, 100]), (250, [50, 100, 100])],
)
async def test_ids_are_split_into_calls_the_server_accepts(
    sandbox: SandboxApp, sandbox_url: str, count: int, calls: list[int]
) -> None:
    async with YunxinClient(app_config(sandbox_url)) as client:
        result = await client.get_conversations(parse_ids(many_ids(count)))
    # The sandbox refuses more than 100 IDs per call, so no chunk failure proves the split.
    assert result.chunk_failures == []
    assert sorted(sandbox.ids_per_call) == calls
    assert sandbox.calls == len(calls)
    assert sandbox.max_ids_seen <= 100
    assert result.counts() == {"found": 1, "failed": count - 1, "malformed": 0, "unanswered": 0}
    assert all(f.error_code == NOT_FOUND_CODE for f in result.failed)
    assert len(result.trace_ids) == len(calls)


async def test_v2_answers_are_read_through_real_http(sandbox_url: str) -> None:
    async with YunxinClient(app_config(sandbox_url, version="v2")) as client:
        result = await client.get_conversations(parse_ids(["Sandbox_Alice|1|Sandbox_Bob"]))
    (outcome,) = result.outcomes()
    assert isinstance(outcome, Found)  # matched although Yunxin answered in lowercase
    assert outcome.conversation.conversation_id == BOB
    last = outcome.conversation.last_message
    assert last is not None and last.message is not None
    assert last.message.text == "Hi Alice, the release notes for 4.2 are ready for review."
    assert last.sender_no_sense is False  # the string "false" read as a boolean


async def test_v2_1_answers_keep_int64_ids_exact(sandbox_url: str) -> None:
    async with YunxinClient(app_config(sandbox_url, version="v2.1")) as client:
        result = await client.get_conversations(parse_ids([SUPER_TEAM]))
    (conversation,) = result.found
    assert conversation.last_message is not None
    assert conversation.last_message.message_server_id == 2**53 + 1
    assert conversation.last_message.team_id == 9900000001


async def test_every_sample_id_comes_back_over_http(sandbox_url: str) -> None:
    async with YunxinClient(app_config(sandbox_url)) as client:
        result = await client.get_conversations(parse_ids(SAMPLE_IDS))
    assert [o.status for o in result.outcomes()] == ["found"] * (len(SAMPLE_IDS) - 1) + ["failed"]


async def test_a_wrong_secret_is_reported_with_a_trace_id_and_never_shown(sandbox_url: str) -> None:
    secret = "wrong-secret-7f3a9c"
    async with YunxinClient(app_config(sandbox_url, secret=secret)) as client:
        result = await client.get_conversations(parse_ids([BOB]))
        shown_client = repr(client)
    assert result.all_failed
    (error,) = result.errors
    assert isinstance(error, CredentialsRejected)
    assert error.code == 414
    assert error.trace_id
    assert error.trace_id in result.trace_ids
    for text in (str(error), repr(error), shown_client, repr(result)):
        assert secret not in text


async def test_a_refused_primary_fails_over_to_the_backup(
    sandbox: SandboxApp, sandbox_url: str, refused_url: Callable[[], str]
) -> None:
    async with YunxinClient(app_config(refused_url(), backup=sandbox_url)) as client:
        result = await client.get_conversations(parse_ids([BOB]))
    assert result.chunk_failures == []
    assert [c.conversation_id for c in result.found] == [BOB]
    assert sandbox.calls == 1


async def test_both_hosts_down_is_unavailable(refused_url: Callable[[], str]) -> None:
    primary, backup = refused_url(), refused_url()
    async with YunxinClient(app_config(primary, backup=backup)) as client:
        result = await client.get_conversations(parse_ids([BOB]))
    assert result.all_failed
    (error,) = result.errors
    assert isinstance(error, Unavailable)
    assert error.trace_id
    for url in (primary, backup):
        assert url.removeprefix("http://") in error.detail


async def test_failover_runs_down_a_list_of_hosts_in_order(
    sandbox: SandboxApp, sandbox_url: str, refused_url: Callable[[], str]
) -> None:
    hosts = [refused_url(), refused_url(), sandbox_url]
    config = yunxin_app(app_key=SANDBOX_APP_KEY, app_secret=SANDBOX_APP_SECRET, base_url=None, base_urls=hosts)
    async with YunxinClient(config) as client:
        result = await client.get_conversations(parse_ids([BOB]))
    assert result.chunk_failures == []
    assert [c.conversation_id for c in result.found] == [BOB]
    assert sandbox.calls == 1


async def test_a_cookie_set_by_an_answer_is_never_sent_back(serve_asgi: ServeAsgi) -> None:
    cookies_seen: list[str | None] = []

    async def set_cookie_then_answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        cookies_seen.append(headers.get(b"cookie", b"").decode() or None)
        body = b'{"code": 200, "data": {"success_list": [], "failed_list": []}}'
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"set-cookie", b"session=abc; Path=/")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async with serve_asgi(set_cookie_then_answer) as base_url, YunxinClient(app_config(base_url)) as client:
        for _ in range(2):
            await client.get_conversations(parse_ids([BOB]))
    assert cookies_seen == [None, None]
