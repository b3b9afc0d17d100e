"""The stand-in's App Home, workflow steps and modal submissions, as strict as Slack: views.publish holds a
Home view to its limits; a step run takes only its own token and one ending, with outputs as the function
declares them; a direct message the bot opened takes its posts; Events API events go as signed JSON and
submissions as Slack sends them, and an errors ack must name the modal's inputs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.standins.slack import (
    Origin,
    SlackStandIn,
    app_home_opened_event,
    event_callback_payload,
    send_event,
    send_view_submission,
    view_submission_ack_problems,
    view_submission_payload,
)
from tests.standins.test_slack import SECRET, TOKEN, RecordingApp, section

OUTPUTS = {
    "summary": {"type": "string", "is_required": True},
    "found_count": {"type": "integer", "is_required": True},
    "trace_ids": {"type": "string", "is_required": False},
}
HOME = {"type": "home", "blocks": [section("Hello")]}


@pytest.fixture
async def standin() -> Any:
    async with SlackStandIn(bot_channels=["C0GENERAL"]) as stand_in:
        stand_in.add_user("U0ALICE", name="alice")
        yield stand_in


def client(slack: SlackStandIn, token: str = TOKEN) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack.api_url)


async def api_error(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return str(raised.value.response["error"])


# --- views.publish -------------------------------------------------------------------------------


async def test_views_publish_keeps_each_persons_home(standin: SlackStandIn) -> None:
    answer = await client(standin).views_publish(user_id="U0ALICE", view=HOME)
    assert answer["view"]["type"] == "home"
    assert standin.home_views == {"U0ALICE": HOME}


async def test_views_publish_refuses_what_slack_refuses(standin: SlackStandIn) -> None:
    web = client(standin)
    assert await api_error(web.views_publish(user_id="U0NOBODY", view=HOME)) == "user_not_found"
    assert await api_error(web.views_publish(user_id=standin.bot_user_id, view=HOME)) == "user_not_found"
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": [section("x")]}
    assert await api_error(web.views_publish(user_id="U0ALICE", view=modal)) == "invalid_arguments"
    too_many = {"type": "home", "blocks": [section("x")] * 101}
    assert await api_error(web.views_publish(user_id="U0ALICE", view=too_many)) == "invalid_arguments"
    assert await api_error(client(standin, "xoxb-wrong").views_publish(user_id="U0ALICE", view=HOME)) == "invalid_auth"
    assert standin.home_views == {}


# --- workflow steps ------------------------------------------------------------------------------


async def test_a_step_run_completes_once_with_its_own_token(standin: SlackStandIn) -> None:
    run = standin.new_function_execution("look_up", {"ids": "alice|1|bob"}, output_parameters=OUTPUTS)
    event = run.event()
    assert (event["type"], event["function"]["callback_id"], event["inputs"]) == (
        "function_executed",
        "look_up",
        {"ids": "alice|1|bob"},
    )
    assert event["function_execution_id"] == run.execution_id and event["bot_access_token"] == run.token
    step = client(standin, run.token)
    assert (
        await api_error(client(standin).functions_completeSuccess(function_execution_id=run.execution_id, outputs={}))
        == "invalid_auth"
    )  # the bot token is not this run's
    await step.functions_completeSuccess(
        function_execution_id=run.execution_id, outputs={"summary": "1 found", "found_count": 1}
    )
    assert run.outputs == {"summary": "1 found", "found_count": 1} and run.ended
    again = step.functions_completeError(function_execution_id=run.execution_id, error="late")
    assert await api_error(again) == "execution_not_in_running_state"
    assert run.error is None


async def test_outputs_must_be_the_functions_outputs(standin: SlackStandIn) -> None:
    run = standin.new_function_execution("look_up", {}, output_parameters=OUTPUTS)
    step = client(standin, run.token)
    for outputs, problem in [
        ({"found_count": 1}, "the required output summary is missing"),
        ({"summary": "x", "found_count": "1"}, "the output found_count is not of type integer"),
        ({"summary": "x", "found_count": True}, "the output found_count is not of type integer"),
        ({"summary": "x", "found_count": 1, "extra": 2}, "extra is not an output of this function"),
    ]:
        call = step.functions_completeSuccess(function_execution_id=run.execution_id, outputs=outputs)
        assert await api_error(call) == "parameter_validation_failed"
        assert run.refused[-1] == problem
    assert not run.ended


async def test_a_step_run_fails_once_with_a_readable_error(standin: SlackStandIn) -> None:
    run = standin.new_function_execution("look_up", {}, output_parameters=OUTPUTS)
    step = client(standin, run.token)
    assert await api_error(step.functions_completeError(function_execution_id=run.execution_id, error=" ")) == (
        "invalid_arguments"
    )
    await step.functions_completeError(function_execution_id=run.execution_id, error="You can't look up")
    assert run.error == "You can't look up"
    unknown = step.functions_completeError(function_execution_id="Fx0NONE", error="x")
    assert await api_error(unknown) == "function_execution_not_found"


# --- direct messages -----------------------------------------------------------------------------


async def test_the_bot_posts_in_a_direct_message_it_opened(standin: SlackStandIn) -> None:
    web = client(standin)
    assert await api_error(web.chat_postMessage(channel="D0UNOPENED", text="hi")) == "channel_not_found"
    channel = (await web.conversations_open(users="U0ALICE"))["channel"]["id"]
    await web.chat_postMessage(channel=channel, text="hi", blocks=[section("hi")])
    assert standin.dm_channel("U0ALICE") == channel
    assert standin.messages[-1]["channel"] == channel


# --- Slack's side: events and submissions --------------------------------------------------------


async def test_an_event_goes_as_signed_json_in_an_event_callback(serve_asgi: Any) -> None:
    app = RecordingApp()
    payload = event_callback_payload(app_home_opened_event("U0ALICE"), team_id="T0", bot_user_id="U0BOT")
    async with serve_asgi(app.asgi) as base_url:
        delivery = await send_event(base_url + "/slack/events", SECRET, payload)
        with pytest.raises(ValueError, match="event_callback"):
            await send_event(base_url + "/slack/events", SECRET, {"type": "block_actions"})
    assert delivery.status == 200
    [(body, headers)] = app.requests
    assert headers["content-type"] == "application/json"
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    sent = json.loads(body)
    assert (sent["type"], sent["team_id"], sent["event"]["type"], sent["event"]["user"], sent["event"]["tab"]) == (
        "event_callback",
        "T0",
        "app_home_opened",
        "U0ALICE",
        "home",
    )
    assert sent["authorizations"][0]["user_id"] == "U0BOT" and sent["event_id"].startswith("Ev")


FORM = {
    "id": "V0FORM",
    "type": "modal",
    "callback_id": "lookup_form",
    "private_metadata": '{"v":1}',
    "blocks": [{"type": "input", "block_id": "ids", "label": {"type": "plain_text", "text": "IDs"}, "element": {}}],
}


async def test_a_submission_carries_the_view_and_its_values_and_no_channel(serve_asgi: Any) -> None:
    app = RecordingApp()
    origin = Origin("U0ALICE", "T0", "C0", "http://127.0.0.1:9/r")
    values = {"ids": {"ids": {"type": "plain_text_input", "value": "alice|1|bob"}}}
    payload = view_submission_payload(origin, view=FORM, values=values)
    async with serve_asgi(app.asgi) as base_url:
        assert (await send_view_submission(base_url + "/slack/events", SECRET, payload)).status == 200
    assert payload["type"] == "view_submission" and "channel" not in payload and "response_url" not in payload
    assert payload["view"]["state"]["values"] == values and payload["view"]["id"] == "V0FORM"
    assert payload["view"]["private_metadata"] == '{"v":1}' and payload["user"]["id"] == "U0ALICE"


@pytest.mark.parametrize(
    ("ack", "problems"),
    [
        (None, []),
        ({}, []),
        ({"response_action": "errors", "errors": {"ids": "Not an ID"}}, []),
        (
            {"response_action": "errors", "errors": {"nope": "x"}},
            ["errors names 'nope', not an input block of the view"],
        ),
        ({"response_action": "errors", "errors": {"ids": ""}}, ["the error for 'ids' is not a non-empty string"]),
        ({"response_action": "errors", "errors": {}}, ["response_action errors needs a non-empty errors object"]),
        ({"response_action": "update"}, ["response_action update needs a view"]),
        ({"text": "done"}, ["a submission's ack is empty or a response_action, not ['text']"]),
    ],
)
def test_what_slack_does_with_a_submissions_ack(ack: dict[str, Any] | None, problems: list[str]) -> None:
    assert view_submission_ack_problems(ack, FORM) == problems
