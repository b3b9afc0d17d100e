"""The Slack stand-in refuses what Slack refuses, and plays Slack's side of requests to the app faithfully."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.standins.slack import (
    RESPONSE_URL_LIFETIME_SECONDS,
    Delivery,
    Origin,
    SlackStandIn,
    block_actions_payload,
    message_action_payload,
    send_block_action,
    send_message_shortcut,
    send_slash_command,
    sign,
    slash_command_form,
)

TOKEN = "xoxb-standin-token"
SECRET = "standin-signing-secret"
# Where the requests below come from, unless a test says otherwise.
ORIGIN = Origin(user_id="U0", team_id="T0", channel_id="C0", response_url="http://127.0.0.1:9/r")


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.fixture
async def standin() -> Any:
    """The stand-in as it comes (its default token and team), with one person and one user group."""
    async with SlackStandIn(usergroups={"S0ONCALL": ["U0ALICE"]}) as stand_in:
        stand_in.add_user("U0ALICE", name="alice")
        yield stand_in


def web_client(slack: SlackStandIn, token: str = TOKEN) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack.api_url)


# --- Web API -----------------------------------------------------------------------------------


async def test_auth_test_answers_who_the_bot_is(standin: SlackStandIn) -> None:
    answer = await web_client(standin).auth_test()
    assert (answer["team_id"], answer["user_id"]) == ("T0STANDIN", "U0STANDINBOT")
    assert answer["bot_id"]
    assert "enterprise_id" not in answer.data


async def test_auth_test_names_the_enterprise_on_grid() -> None:
    async with SlackStandIn(enterprise_id="E0GRID") as slack:
        answer = await web_client(slack).auth_test()
        user = (await web_client(slack).users_info(user="U0STANDINBOT"))["user"]
    assert answer["enterprise_id"] == "E0GRID"
    assert user["enterprise_user"]["enterprise_id"] == "E0GRID"


async def test_a_wrong_token_is_refused(standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as refused:
        await web_client(standin, token="xoxb-not-the-token").auth_test()
    assert refused.value.response["error"] == "invalid_auth"


async def test_a_missing_token_is_refused_and_a_form_token_accepted(standin: SlackStandIn) -> None:
    async with httpx.AsyncClient() as http:
        missing = await http.post(standin.api_url + "auth.test")
        in_form = await http.post(standin.api_url + "auth.test", data={"token": TOKEN})
    assert missing.json() == {"ok": False, "error": "not_authed"}
    assert in_form.json()["ok"] is True


async def test_an_unknown_method_is_refused(standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as refused:
        await web_client(standin).api_call("conversations.nonexistent")
    assert refused.value.response["error"] == "unknown_method"


async def test_users_info_answers_stored_users_and_refuses_unknown_ones() -> None:
    users = {"U0GUEST": {"is_restricted": True, "name": "guest"}}
    async with SlackStandIn(users=users) as slack:
        slack.add_user("U0GONE", deleted=True)
        slack.add_user("U0OTHER", team_id="T0OTHER")
        client = web_client(slack)
        guest = (await client.users_info(user="U0GUEST"))["user"]
        gone = (await client.users_info(user="U0GONE"))["user"]
        other = (await client.users_info(user="U0OTHER"))["user"]
        with pytest.raises(SlackApiError) as refused:
            await client.users_info(user="U0NOBODY")
    assert (guest["id"], guest["name"], guest["is_restricted"], guest["team_id"]) == (
        "U0GUEST",
        "guest",
        True,
        "T0STANDIN",
    )
    assert guest["is_app_user"] is False and guest["is_bot"] is False
    assert gone["deleted"] is True
    assert other["team_id"] == "T0OTHER"
    assert refused.value.response["error"] == "user_not_found"


async def test_usergroup_members_unknown_groups_and_free_plans(standin: SlackStandIn) -> None:
    client = web_client(standin)
    assert (await client.usergroups_users_list(usergroup="S0ONCALL"))["users"] == ["U0ALICE"]
    with pytest.raises(SlackApiError) as unknown:
        await client.usergroups_users_list(usergroup="S0NONE")
    standin.paid_plan = False
    with pytest.raises(SlackApiError) as free:
        await client.usergroups_users_list(usergroup="S0ONCALL")
    assert unknown.value.response["error"] == "no_such_subteam"
    assert free.value.response["error"] == "plan_upgrade_required"


async def test_post_message_refuses_51_blocks_and_accepts_50(standin: SlackStandIn) -> None:
    client = web_client(standin)
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C0GENERAL", text="too many", blocks=[section("x")] * 51)
    accepted = await client.chat_postMessage(channel="C0GENERAL", text="fits", blocks=[section("x")] * 50)
    assert refused.value.response["error"] == "invalid_blocks"
    assert refused.value.response["errors"]
    assert accepted["ok"] is True
    assert [message["text"] for message in standin.messages] == ["fits"]


async def test_post_message_needs_text_and_a_channel_the_bot_can_post_in() -> None:
    async with SlackStandIn(bot_channels={"C0BOT"}) as slack:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            no_text = await http.post(slack.api_url + "chat.postMessage", json={"channel": "C0BOT"})
        with pytest.raises(SlackApiError) as not_in_channel:
            await web_client(slack).chat_postMessage(channel="D0DIRECT", text="hello")
    assert no_text.json() == {"ok": False, "error": "no_text"}
    assert not_in_channel.value.response["error"] == "channel_not_found"


async def test_post_message_takes_form_encoded_blocks(standin: SlackStandIn) -> None:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        too_many = json.dumps([section("x")] * 51)
        answer = await http.post(standin.api_url + "chat.postMessage", data={"channel": "C0", "blocks": too_many})
        garbled = await http.post(standin.api_url + "chat.postMessage", data={"channel": "C0", "blocks": "[{"})
    assert answer.json()["error"] == "invalid_blocks"
    assert garbled.json()["error"] == "invalid_blocks_format"


async def test_injected_rate_limit_answers_429_with_retry_after(standin: SlackStandIn) -> None:
    standin.fail_method("users.info", status=429, retry_after=7, times=1)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        limited = await http.post(standin.api_url + "users.info", data={"user": "U0ALICE"})
        after = await http.post(standin.api_url + "users.info", data={"user": "U0ALICE"})
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert limited.json() == {"ok": False, "error": "ratelimited"}
    assert after.json()["user"]["id"] == "U0ALICE"


async def test_injected_errors_last_until_used_up_and_reach_the_sdk(standin: SlackStandIn) -> None:
    standin.fail_method("auth.test", error="account_inactive", times=2)
    client = web_client(standin)
    errors = []
    for _ in range(2):
        with pytest.raises(SlackApiError) as failed:
            await client.auth_test()
        errors.append(failed.value.response["error"])
    assert errors == ["account_inactive", "account_inactive"]
    assert (await client.auth_test())["ok"] is True
    with pytest.raises(ValueError, match="needs an error code"):
        standin.fail_method("auth.test", status=200)


async def test_every_api_call_is_recorded_without_the_token(standin: SlackStandIn) -> None:
    client = web_client(standin)
    await client.users_info(user="U0ALICE")
    await client.usergroups_users_list(usergroup="S0ONCALL")
    methods = [(method, params) for _, method, params in standin.api_calls]
    assert methods == [("users.info", {"user": "U0ALICE"}), ("usergroups.users.list", {"usergroup": "S0ONCALL"})]
    times = [at for at, _, _ in standin.api_calls]
    assert times == sorted(times)
    assert TOKEN not in repr(standin.api_calls)


# --- response_url ------------------------------------------------------------------------------


async def test_respond_path_is_accepted_and_recorded_in_order(standin: SlackStandIn) -> None:
    url = standin.new_response_url()
    webhook = AsyncWebhookClient(url)
    first = await webhook.send(text="one", blocks=[section("one")], response_type="ephemeral")
    second = await webhook.send(text="two", replace_original=True)
    assert (first.status_code, first.body, second.status_code) == (200, "ok", 200)
    assert [post["text"] for post in standin.posts(url)] == ["one", "two"]
    arrivals = [post.at for post in standin.timed_posts(url)]
    assert arrivals == sorted(arrivals)


async def test_the_sixth_post_to_a_response_url_is_refused(standin: SlackStandIn) -> None:
    url = standin.new_response_url()
    async with httpx.AsyncClient() as http:
        statuses = [(await http.post(url, json={"text": f"post {n}"})).status_code for n in range(5)]
        sixth = await http.post(url, json={"text": "post 5"})
    assert statuses == [200] * 5
    assert (sixth.status_code, sixth.text) == (404, "used_url")
    assert len(standin.posts(url)) == 5
    assert [refused.error for refused in standin.refused_posts(url)] == ["used_url"]


async def test_a_response_url_expires_after_30_minutes() -> None:
    now = [1000.0]
    async with SlackStandIn(clock=lambda: now[0]) as slack:
        url = slack.new_response_url()
        async with httpx.AsyncClient() as http:
            in_time = await http.post(url, json={"text": "in time"})
            now[0] += RESPONSE_URL_LIFETIME_SECONDS + 1
            late = await http.post(url, json={"text": "late"})
    assert in_time.status_code == 200
    assert (late.status_code, late.text) == (404, "expired_url")


async def test_invalid_blocks_are_refused_with_the_problems_recorded(standin: SlackStandIn) -> None:
    url = standin.new_response_url()
    async with httpx.AsyncClient() as http:
        answer = await http.post(url, json={"text": "too many", "blocks": [section("x")] * 51})
    assert (answer.status_code, answer.text) == (400, "invalid_blocks")
    [refused] = standin.refused_posts(url)
    assert any("51 blocks" in problem for problem in refused.problems), refused.problems
    assert standin.posts(url) == []


async def test_malformed_posts_are_refused(standin: SlackStandIn) -> None:
    url = standin.new_response_url()
    async with httpx.AsyncClient() as http:
        no_text = await http.post(url, json={"response_type": "ephemeral"})
        not_json = await http.post(url, content=b"text=hello")
        wrong_type = await http.post(url, json={"text": "hi", "response_type": "in-channel"})
        string_flag = await http.post(url, json={"text": "hi", "replace_original": "true"})
        deleted = await http.post(url, json={"delete_original": True})
        unknown = await http.post(standin.base_url + "/response/not-a-token", json={"text": "hi"})
    assert (no_text.status_code, no_text.text) == (400, "no_text")
    assert (not_json.status_code, not_json.text) == (400, "invalid_payload")
    assert (wrong_type.status_code, string_flag.status_code) == (400, 400)
    assert deleted.status_code == 200
    assert unknown.status_code == 404


async def test_failing_response_urls_answer_the_status_asked_for(standin: SlackStandIn) -> None:
    url = standin.new_response_url()
    standin.fail_response_urls(500)
    response = await AsyncWebhookClient(url).send(text="lost")
    standin.fail_response_urls(None)
    recovered = await AsyncWebhookClient(url).send(text="kept")
    assert response.status_code == 500
    assert recovered.status_code == 200
    assert [post["text"] for post in standin.posts(url)] == ["kept"]


async def test_wait_for_posts_returns_once_they_arrive(standin: SlackStandIn) -> None:
    url = standin.new_response_url()

    async def post_later() -> None:
        await asyncio.sleep(0.05)
        for text in ("a", "b"):
            await AsyncWebhookClient(url).send(text=text)

    poster = asyncio.create_task(post_later())
    posts = await standin.wait_for_posts(url, count=2)
    await poster
    assert [post["text"] for post in posts] == ["a", "b"]


async def test_wait_for_posts_explains_a_timeout_with_the_refusals(standin: SlackStandIn) -> None:
    url = standin.new_response_url()
    await AsyncWebhookClient(url).send(text="bad", blocks=[section("x")] * 51)
    with pytest.raises(TimeoutError, match="invalid_blocks"):
        await standin.wait_for_posts(url, timeout=0.05)


async def test_posts_of_a_foreign_url_is_a_mistake(standin: SlackStandIn) -> None:
    with pytest.raises(ValueError, match="not a response_url"):
        standin.posts("https://hooks.standin.com/commands/T0/1/abc")


# --- Slack's side of requests to the app -------------------------------------------------------


def test_sign_matches_what_slack_sdk_verifies_and_a_tampered_body_fails() -> None:
    body = b"token=x&team_id=T0STANDIN&text=acc1%7C1%7Cacc2"
    now = int(time.time())
    headers = sign(SECRET, now, body)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + b"&user_id=U0MALLORY", headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
    assert not verifier.is_valid_request(body, sign(SECRET, now - 6 * 60, body))  # stale: replayed


class RecordingApp:
    """An app stand-in that checks each request's signature as Bolt does and keeps what it got."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.requests: list[tuple[bytes, dict[str, str]]] = []
        self.asgi = Starlette(routes=[Route("/slack/events", self.events, methods=["POST"])])

    async def events(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        self.requests.append((body, headers))
        await asyncio.sleep(self.delay)
        valid = SignatureVerifier(SECRET).is_valid_request(body, headers)
        return PlainTextResponse("", status_code=200 if valid else 401)


async def slash_command(base_url: str, origin: Origin = ORIGIN, **options: Any) -> Delivery:
    """The stand-in's slash command from `origin` to a test app (`client=` reuses a client)."""
    return await send_slash_command(base_url + "/slack/events", SECRET, origin, text="acc1|1|acc2", **options)


def form_fields(body: bytes) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(body.decode(), keep_blank_values=True).items()}


async def test_slash_command_sends_slacks_fields_signed(serve_asgi: Any) -> None:
    app = RecordingApp()
    async with serve_asgi(app.asgi) as base_url:
        origin = Origin(user_id="U0ALICE", team_id="T0STANDIN", channel_id="C0GENERAL", response_url="r")
        delivery = await slash_command(base_url, origin)
    assert (delivery.status, delivery.timed_out) == (200, False)
    [(body, headers)] = app.requests
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    form = form_fields(body)
    assert form["text"] == "acc1|1|acc2"
    assert form["command"] == "/conversation"
    assert (form["user_id"], form["team_id"], form["channel_id"]) == ("U0ALICE", "T0STANDIN", "C0GENERAL")
    assert form["is_enterprise_install"] == "false"
    assert "enterprise_id" not in form
    expected = {"token", "team_domain", "channel_name", "user_name", "api_app_id", "response_url", "trigger_id"}
    assert expected <= form.keys()


async def test_slash_command_from_enterprise_grid_and_a_stale_one(serve_asgi: Any) -> None:
    app = RecordingApp()
    async with serve_asgi(app.asgi) as base_url, httpx.AsyncClient() as http:
        grid = await slash_command(base_url, dataclasses.replace(ORIGIN, enterprise_id="E0GRID"), client=http)
        stale = await slash_command(base_url, timestamp=int(time.time()) - 600, client=http)
    assert (grid.status, stale.status) == (200, 401)
    form = parse_qs(app.requests[0][0].decode())
    assert form["enterprise_id"] == ["E0GRID"]


def test_the_origins_fields_as_keywords_build_the_same_form_as_an_origin() -> None:
    grid = dataclasses.replace(ORIGIN, enterprise_id="E0GRID")
    by_origin = slash_command_form(grid, text="acc1|1|acc2")
    by_keywords = slash_command_form(text="acc1|1|acc2", **dataclasses.asdict(grid))
    assert by_origin.pop("trigger_id") and by_keywords.pop("trigger_id")  # a new one each time
    assert list(by_keywords.items()) == list(by_origin.items())
    assert (by_origin["user_id"], by_origin["enterprise_id"]) == ("U0", "E0GRID")
    assert by_origin["response_url"] == ORIGIN.response_url
    with pytest.raises(TypeError, match="not both"):
        slash_command_form(ORIGIN, text="x", user_id="U1")


async def test_interactions_send_the_payload_form_field(serve_asgi: Any) -> None:
    app = RecordingApp()
    click = block_actions_payload(ORIGIN, action_id="share", value="acc1|1|acc2")
    shortcut = message_action_payload(
        ORIGIN, callback_id="lookup_conversations_shortcut", message_text="see acc1|1|acc2"
    )
    async with serve_asgi(app.asgi) as base_url:
        clicked = await send_block_action(base_url + "/slack/events", SECRET, click)
        shortcut_run = await send_message_shortcut(base_url + "/slack/events", SECRET, shortcut)
        with pytest.raises(ValueError, match="message_action"):
            await send_message_shortcut(base_url + "/slack/events", SECRET, click)
    assert (clicked.status, shortcut_run.status) == (200, 200)
    payloads = [json.loads(parse_qs(body.decode())["payload"][0]) for body, _ in app.requests]
    assert payloads == [click, shortcut]
    assert payloads[0]["actions"][0]["value"] == "acc1|1|acc2"
    assert payloads[1]["message"]["text"] == "see acc1|1|acc2"


def test_a_click_is_on_a_button_or_on_a_menu() -> None:
    option = {"text": {"type": "plain_text", "text": "acc1|1|acc2"}, "value": "picked"}
    (chosen,) = block_actions_payload(ORIGIN, action_id="details", selected_option=option)["actions"]
    assert chosen["type"] == "static_select" and chosen["selected_option"] == option and "value" not in chosen
    (clicked,) = block_actions_payload(ORIGIN, action_id="share", value="acc1|1|acc2")["actions"]
    assert clicked["type"] == "button" and clicked["value"] == "acc1|1|acc2" and "selected_option" not in clicked
    for neither_or_both in ({}, {"value": "v", "selected_option": option}):
        with pytest.raises(ValueError, match="one of the two"):
            block_actions_payload(ORIGIN, action_id="x", **neither_or_both)


async def test_an_app_slower_than_3_seconds_times_out(serve_asgi: Any) -> None:
    app = RecordingApp(delay=3.5)
    async with serve_asgi(app.asgi) as base_url:
        delivery = await slash_command(base_url)
    assert delivery.timed_out is True
    assert delivery.status == 0
    assert len(app.requests) == 1


async def test_the_stand_in_needs_starting_and_can_be_restarted() -> None:
    slack = SlackStandIn()
    with pytest.raises(RuntimeError, match="start"):
        _ = slack.api_url
    await slack.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            await slack.start()
        assert (await web_client(slack).auth_test())["ok"] is True
    finally:
        await slack.stop()
    await slack.start()
    try:
        assert (await web_client(slack).auth_test())["ok"] is True
    finally:
        await slack.stop()
