"""The sandbox answers like Yunxin: signature checks, the 100-ID limit, both shapes, lowercasing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.settings import SANDBOX_APP_KEY, SANDBOX_APP_SECRET
from bot.yunxin import sandbox
from bot.yunxin.auth import checksum
from bot.yunxin.errors import CredentialsRejected, classify_code
from bot.yunxin.models import Conversation
from bot.yunxin.sandbox import NOT_FOUND_CODE, SAMPLE_CONVERSATIONS, SAMPLE_IDS, SandboxApp, create_sandbox_app

NOW = 1772442903  # 2026-03-02 09:15:03 UTC, the sandbox's clock in these tests
NONCE = "0123456789abcdef0123456789abcdef"
BOB = "sandbox_alice|1|sandbox_bob"
SUPER_TEAM = "sandbox_alice|3|9900000001"
REVOKED = "sandbox_alice|1|sandbox_carol"
UNKNOWN = "sandbox_alice|1|sandbox_nobody"


def signed(
    *, app_key: str = SANDBOX_APP_KEY, secret: str = SANDBOX_APP_SECRET, nonce: str = NONCE, cur_time: str = str(NOW)
) -> dict[str, str]:
    return {"AppKey": app_key, "Nonce": nonce, "CurTime": cur_time, "CheckSum": checksum(secret, nonce, cur_time)}


def path(version: str = "v2") -> str:
    return f"/im/{version}/conversations/actions/conversation_ids"


@pytest.fixture
def app() -> SandboxApp:
    return create_sandbox_app(clock=lambda: NOW)


async def send(
    app: SandboxApp, url: str, *, headers: dict[str, str] | None = None, method: str = "GET", **kwargs: Any
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as client:
        return await client.request(method, url, headers=signed() if headers is None else headers, **kwargs)


async def query(app: SandboxApp, ids: list[str], *, version: str = "v2", **kwargs: Any) -> httpx.Response:
    return await send(app, path(version), params={"conversation_ids": ",".join(ids)}, **kwargs)


def data_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 200, body
    data: dict[str, Any] = body["data"]
    return data


# --- signature ---------------------------------------------------------------------------------


async def test_a_properly_signed_call_is_answered(app: SandboxApp) -> None:
    data = data_of(await query(app, [BOB]))
    assert [c["conversation_id"] for c in data["success_list"]] == [BOB]
    assert data["failed_list"] == []


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (signed(secret="not-the-secret"), "checksum"),
        (signed(app_key="someone-elses-key"), "appkey"),
        (signed(cur_time=str(NOW - 301)), "CurTime is expired"),
        (signed(cur_time=str(NOW + 301)), "CurTime is expired"),
        (signed(cur_time=f"{NOW}.0"), "CurTime not long"),
        (signed(cur_time=f"{NOW * 1000}"), "CurTime is expired"),  # milliseconds by mistake
        ({**signed(), "CheckSum": signed()["CheckSum"].upper()}, "checksum"),
    ],
    ids=["bad checksum", "wrong appkey", "stale curtime", "future curtime", "fractional curtime", "millis", "upper"],
)
async def test_bad_credentials_are_refused_with_414(app: SandboxApp, headers: dict[str, str], message: str) -> None:
    response = await query(app, [BOB], headers=headers)
    assert response.status_code == 200  # Yunxin reports errors in the body
    body = response.json()
    assert body == {"code": 414, "msg": message}
    # The client reads each of these as a credentials problem, not a bad request.
    assert isinstance(classify_code(body["code"], body["msg"], trace_id=None), CredentialsRejected)


@pytest.mark.parametrize("header", ["AppKey", "Nonce", "CurTime", "CheckSum"])
async def test_a_missing_header_is_refused(app: SandboxApp, header: str) -> None:
    headers = {name: value for name, value in signed().items() if name != header}
    body = (await query(app, [BOB], headers=headers)).json()
    assert body["code"] == 414
    assert header in body["msg"]
    assert "data" not in body


async def test_a_nonce_longer_than_128_characters_is_refused(app: SandboxApp) -> None:
    assert data_of(await query(app, [BOB], headers=signed(nonce="n" * 128)))
    body = (await query(app, [BOB], headers=signed(nonce="n" * 129))).json()
    assert body["code"] == 414
    assert "128" in body["msg"]


async def test_curtime_exactly_300_seconds_away_is_still_valid(app: SandboxApp) -> None:
    assert data_of(await query(app, [BOB], headers=signed(cur_time=str(NOW - 300))))
    assert data_of(await query(app, [BOB], headers=signed(cur_time=str(NOW + 300))))


async def test_the_signature_is_checked_with_the_configured_credentials() -> None:
    app = create_sandbox_app(app_key="k2", app_secret="s2", clock=lambda: NOW)
    assert data_of(await query(app, [BOB], headers=signed(app_key="k2", secret="s2")))
    assert (await query(app, [BOB])).json()["msg"] == "appkey"


# --- the conversation_ids parameter ------------------------------------------------------------


async def test_more_than_100_ids_are_refused(app: SandboxApp) -> None:
    ids = [f"sandbox_user{n}|1|sandbox_bob" for n in range(101)]
    body = (await query(app, ids)).json()
    assert body["code"] == 414
    assert "100" in body["msg"]
    assert data_of(await query(app, ids[:100]))
    assert app.ids_per_call == [101, 100]
    assert app.max_ids_seen == 101


@pytest.mark.parametrize("params", [{"conversation_ids": ""}, {"conversation_ids": " , ,"}, {}])
async def test_an_empty_parameter_is_refused(app: SandboxApp, params: dict[str, str]) -> None:
    body = (await send(app, path(), params=params)).json()
    assert body["code"] == 414
    assert "conversation_ids" in body["msg"]
    assert app.ids_per_call == []


async def test_the_parameter_is_url_decoded_then_split_on_commas(app: SandboxApp) -> None:
    encoded = f"{BOB},{UNKNOWN}".replace("|", "%7C").replace(",", "%2C")
    data = data_of(await send(app, f"{path()}?conversation_ids={encoded}"))
    assert [c["conversation_id"] for c in data["success_list"]] == [BOB]
    assert [f["conversation_id"] for f in data["failed_list"]] == [UNKNOWN]


async def test_accounts_are_lowercased_as_yunxin_does(app: SandboxApp) -> None:
    data = data_of(await query(app, ["Sandbox_Alice|1|SANDBOX_BOB", "SANDBOX_ALICE|1|Sandbox_Nobody"]))
    assert [c["conversation_id"] for c in data["success_list"]] == [BOB]
    assert [f["conversation_id"] for f in data["failed_list"]] == [UNKNOWN]


async def test_an_unknown_id_goes_to_the_failed_list(app: SandboxApp) -> None:
    data = data_of(await query(app, [UNKNOWN]))
    assert data["success_list"] == []
    assert data["failed_list"] == [
        {"conversation_id": UNKNOWN, "error_code": NOT_FOUND_CODE, "error_msg": "conversation not exist"}
    ]


async def test_an_id_asked_twice_is_answered_once(app: SandboxApp) -> None:
    data = data_of(await query(app, [BOB, BOB.upper(), UNKNOWN, UNKNOWN]))
    assert len(data["success_list"]) == 1
    assert len(data["failed_list"]) == 1


# --- the two shapes ----------------------------------------------------------------------------


async def test_v2_nests_the_last_message_and_sends_booleans_as_strings(app: SandboxApp) -> None:
    (conversation,) = data_of(await query(app, [BOB], version="v2"))["success_list"]
    last = conversation["last_message"]
    assert last["message"] == {
        "message_type": 0,
        "sub_type": 0,
        "text": "Hi Alice, the release notes for 4.2 are ready for review.",
    }
    assert last["sender_no_sense"] == "false"
    assert last["message_config"]["history_enabled"] == "true"
    assert "p2p_option" in last
    assert "message_server_id" not in last
    assert conversation["stick_top"] is True
    assert conversation["group_ids"] == [1, 4]
    assert conversation["server_extension"] == '{"label":"vip","priority":1}'


async def test_v2_1_flattens_the_last_message_and_keeps_int64_exact(app: SandboxApp) -> None:
    response = await query(app, [SUPER_TEAM], version="v2.1")
    assert "9007199254740993" in response.text
    (conversation,) = data_of(response)["success_list"]
    last = conversation["last_message"]
    assert last["message_server_id"] == 2**53 + 1
    assert last["conversation_type"] == 3
    assert last["team_id"] == 9900000001
    assert last["receiver_id"] == "9900000001"
    assert last["text"].startswith("今晚")
    assert "message" not in last


@pytest.mark.parametrize("version", ["v2", "v2.1"])
async def test_a_revoked_last_message_is_empty_with_a_revoke_notification(app: SandboxApp, version: str) -> None:
    (conversation,) = data_of(await query(app, [REVOKED], version=version))["success_list"]
    assert conversation["message_state"] == 1
    assert conversation["last_message"] == {}
    assert conversation["revoke_notification"]["revoke_id"] == "sandbox_carol"
    assert Conversation.model_validate(conversation).is_revoked


@pytest.mark.parametrize("version", ["v2", "v2.1"])
async def test_every_sample_id_reads_the_same_in_both_shapes(app: SandboxApp, version: str) -> None:
    *known, unknown = SAMPLE_IDS
    data = data_of(await query(app, SAMPLE_IDS, version=version))
    assert [c["conversation_id"] for c in data["success_list"]] == known
    assert [f["conversation_id"] for f in data["failed_list"]] == [unknown]
    for answer in data["success_list"]:
        conversation = Conversation.model_validate(answer)
        neutral = SAMPLE_CONVERSATIONS[answer["conversation_id"]]["last_message"]
        if neutral is None:
            assert conversation.is_revoked
            continue
        assert conversation.last_message is not None
        assert conversation.last_message.kind == neutral["message_type"]
        assert conversation.last_message.body_text == neutral.get("text")


def test_the_sample_data_covers_what_the_rendering_must_handle() -> None:
    samples = [SAMPLE_CONVERSATIONS[i] for i in SAMPLE_IDS[:-1]]
    messages = [s["last_message"] for s in samples if s["last_message"]]
    assert {s["type"] for s in samples} == {1, 2, 3}
    assert {m["message_type"] for m in messages} >= {0, 1, 100}
    assert any(len(m.get("text", "")) > 3000 for m in messages)
    assert any(all(token in m.get("text", "") for token in ("<!channel>", "<@U123>", "&")) for m in messages)
    assert SAMPLE_IDS[-1] not in SAMPLE_CONVERSATIONS
    assert all(key == key.lower() and key.startswith("sandbox_") for key in SAMPLE_CONVERSATIONS)


async def test_custom_conversations_replace_the_samples() -> None:
    mine = {"Sandbox_X|1|sandbox_y": {"type": 1, "receiver_id": "sandbox_y", "unread_count": 9}}
    app = create_sandbox_app(conversations=mine, clock=lambda: NOW)
    data = data_of(await query(app, ["sandbox_x|1|sandbox_y", BOB]))
    assert data["success_list"] == [
        {
            "conversation_id": "sandbox_x|1|sandbox_y",
            "type": 1,
            "receiver_id": "sandbox_y",
            "unread_count": 9,
            "last_message": {},
        }
    ]
    assert [f["conversation_id"] for f in data["failed_list"]] == [BOB]


# --- everything else ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/im/v2/conversations"),
        ("GET", "/"),
        ("POST", path()),
        ("GET", "/im/v3/conversations/actions/conversation_ids"),
    ],
)
async def test_other_paths_and_methods_answer_404(app: SandboxApp, method: str, url: str) -> None:
    response = await send(app, url, method=method)
    assert response.status_code == 404
    assert response.json()["code"] == 404


async def test_the_trace_id_is_echoed_on_answers_and_refusals(app: SandboxApp) -> None:
    ok = await query(app, [BOB], headers={**signed(), "X-custom-traceid": "trace-ok"})
    refused = await query(app, [BOB], headers={**signed(secret="wrong"), "X-custom-traceid": "trace-refused"})
    assert ok.headers["X-custom-traceid"] == "trace-ok"
    assert refused.headers["x-custom-traceid"] == "trace-refused"
    assert "x-custom-traceid" not in (await query(app, [BOB])).headers


async def test_calls_count_every_request(app: SandboxApp) -> None:
    await query(app, [BOB])
    await query(app, [BOB], headers=signed(secret="wrong"))
    await send(app, "/nowhere")
    assert app.calls == 3
    assert app.ids_per_call == [1]  # only signed calls get as far as reading the IDs


async def test_latency_delays_each_answer() -> None:
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    app = create_sandbox_app(latency_seconds=0.25, clock=lambda: NOW, sleep=record)
    await query(app, [BOB])
    await send(app, "/nowhere")
    assert delays == [0.25, 0.25]


async def test_sandbox_transport_serves_a_fresh_sandbox() -> None:
    async with httpx.AsyncClient(transport=sandbox.sandbox_transport(clock=lambda: NOW)) as client:
        response = await client.get(f"http://sandbox.test{path()}", params={"conversation_ids": BOB}, headers=signed())
    assert [c["conversation_id"] for c in data_of(response)["success_list"]] == [BOB]


def test_repr_does_not_show_the_secret(app: SandboxApp) -> None:
    assert SANDBOX_APP_SECRET not in repr(app)
