"""The Workflow Builder step "Look up Yunxin conversations" through the whole app: `function_executed` signed as
Slack sends it (over HTTP and Socket Mode), acked at once, the command's access checks for the person the
workflow names, then exactly one ending with the step's own token: functions.completeSuccess with outputs as
the manifest declares them (checked against the lookup), or functions.completeError saying why, also when
the lookup runs past the step's bound."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bot.slack.listeners import workflow
from bot.slack.render.workflow import (
    INPUT_CHANNEL,
    INPUT_ENVIRONMENT,
    INPUT_IDS,
    INPUT_USER,
    OUTPUT_FAILED,
    OUTPUT_FAILED_IDS,
    OUTPUT_FOUND,
    OUTPUT_SUMMARY,
    OUTPUT_TRACE_IDS,
    WORKFLOW_CALLBACK,
)
from bot.standins.slack import FunctionExecution
from tests.harness import (
    BOB,
    CONTACT,
    GUEST,
    MEMBER,
    TEAM_CHAT,
    UNKNOWN,
    Bot,
    BotFactory,
    SocketBot,
    eventually,
)

MANIFEST = Path(__file__).parents[3] / "manifests" / "socket-mode.json"
OUTPUT_PARAMETERS: dict[str, Any] = json.loads(MANIFEST.read_text())["functions"][WORKFLOW_CALLBACK][
    "output_parameters"
]


def run(bot: Bot | SocketBot, **inputs: Any) -> FunctionExecution:
    """A run of the step with these inputs (the person is MEMBER unless `user_id=` says otherwise)."""
    values = {INPUT_USER: MEMBER, **inputs}
    return bot.slack.new_function_execution(WORKFLOW_CALLBACK, values, output_parameters=OUTPUT_PARAMETERS)


async def ended(bot: Bot, execution: FunctionExecution) -> FunctionExecution:
    delivery = await bot.event(execution.event())
    assert (delivery.status, delivery.timed_out, delivery.body) == (200, False, "")
    await eventually(lambda: execution.ended)
    assert execution.refused == []
    return execution


def completions(bot: Bot | SocketBot) -> list[str]:
    return [method for method in bot.api_methods() if method.startswith("functions.")]


async def test_the_outputs_are_the_lookups(bot: Bot) -> None:
    execution = await ended(bot, run(bot, **{INPUT_IDS: f"{TEAM_CHAT}\n{BOB}, {UNKNOWN}"}))
    outputs = execution.outputs
    assert outputs is not None and execution.error is None
    assert (outputs[OUTPUT_FOUND], outputs[OUTPUT_FAILED]) == (2, 1)
    lines = outputs[OUTPUT_SUMMARY].splitlines()
    assert (
        lines[0] == "Yunxin conversations: 2 of 3 found, 1 failed · environment sandbox · SANDBOX DATA, not production"
    )
    assert lines[1].startswith(f"{TEAM_CHAT}: found, team, 17 unread, updated ")
    assert lines[2].startswith(f"{BOB}: found, one-to-one, 2 unread")
    assert lines[3] == f"{UNKNOWN}: 110404: conversation not exist"
    assert outputs[OUTPUT_FAILED_IDS] == lines[3]
    assert outputs[OUTPUT_TRACE_IDS] == ", ".join(bot.yunxin.trace_ids)
    assert [call.conversation_ids for call in bot.yunxin.calls] == [f"{TEAM_CHAT},{BOB},{UNKNOWN}"]
    assert "Deploy done" not in json.dumps(outputs)  # no message text
    assert "<!channel>" not in json.dumps(outputs)
    assert completions(bot) == ["functions.completeSuccess"]


async def test_a_refused_person_fails_the_step_saying_whom_to_ask(bot: Bot) -> None:
    execution = await ended(bot, run(bot, **{INPUT_IDS: BOB, INPUT_USER: GUEST}))
    assert execution.outputs is None and execution.error is not None
    assert "You can't look up Yunxin conversations here." in execution.error
    assert "guest accounts cannot look up conversations" in execution.error and CONTACT in execution.error
    assert bot.yunxin.calls == [] and completions(bot) == ["functions.completeError"]


@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        ({INPUT_IDS: BOB, INPUT_USER: ""}, "set its Person input to"),
        ({INPUT_IDS: "  "}, "No conversation IDs"),
        ({INPUT_IDS: 5}, "No conversation IDs"),
        ({INPUT_IDS: "a|1|b c|1|d e|1|f"}, "That is 3 IDs; one step looks up at most 2."),
        ({INPUT_IDS: BOB, INPUT_ENVIRONMENT: "purple"}, "unknown environment 'purple'; known: sandbox"),
    ],
)
async def test_inputs_that_cannot_be_looked_up_fail_the_step(
    start_bot: BotFactory, inputs: dict[str, Any], said: str
) -> None:
    async with start_bot(max_ids_per_command=2) as bot:
        execution = await ended(bot, run(bot, **inputs))
    assert execution.error is not None and said in execution.error
    assert bot.yunxin.calls == []


async def test_malformed_ids_are_failed_ids_as_in_the_commands_answer(bot: Bot) -> None:
    execution = await ended(bot, run(bot, **{INPUT_IDS: f"{BOB} junk"}))
    assert execution.outputs is not None
    assert (execution.outputs[OUTPUT_FOUND], execution.outputs[OUTPUT_FAILED]) == (1, 1)
    assert execution.outputs[OUTPUT_FAILED_IDS] == "junk: expected owner|type|target, for example alice|1|bob"


async def test_with_lookups_limited_to_channels_the_channel_input_is_checked(start_bot: BotFactory) -> None:
    async with start_bot(allowed_channel_ids=["C0ONCALL"]) as bot:
        elsewhere = await ended(bot, run(bot, **{INPUT_IDS: BOB}))
        there = await ended(bot, run(bot, **{INPUT_IDS: BOB, INPUT_CHANNEL: "C0ONCALL"}))
    assert elsewhere.error is not None and "lookups are not enabled in this channel" in elsewhere.error
    assert there.outputs is not None and there.outputs[OUTPUT_FOUND] == 1


async def test_a_lookup_past_the_steps_bound_fails_it_saying_so(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workflow, "STEP_MAX_SECONDS", 0.5)
    bot.yunxin.gate = asyncio.Event()  # Yunxin holds every call
    try:
        execution = await ended(bot, run(bot, **{INPUT_IDS: BOB}))
    finally:
        bot.yunxin.gate.set()
    assert execution.error is not None and "did not finish within 0.5 s" in execution.error
    assert completions(bot) == ["functions.completeError"]


def test_the_step_is_bounded_by_the_lookups_deadline_within_slacks_limit() -> None:
    from tests.factories import bot_settings

    assert workflow.step_seconds(bot_settings()) == 20.0  # the 15 s deadline and 5 s to answer
    assert workflow.step_seconds(bot_settings(yunxin_deadline_seconds=120)) == workflow.STEP_MAX_SECONDS < 60


@pytest.fixture
def two_sandboxes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BLUE", "GREEN"):
        monkeypatch.setenv(f"YUNXIN_{name}_SANDBOX", "true")
    monkeypatch.setenv("YUNXIN_GREEN_ALLOWED_USER_IDS", "U0SOMEONEELSE")


async def test_the_environment_input_picks_it_with_its_own_access(start_bot: BotFactory, two_sandboxes: None) -> None:
    async with start_bot(yunxin_environments=["blue", "green"]) as bot:
        blue = await ended(bot, run(bot, **{INPUT_IDS: BOB, INPUT_ENVIRONMENT: "Blue"}))
        green = await ended(bot, run(bot, **{INPUT_IDS: BOB, INPUT_ENVIRONMENT: "green"}))
    assert blue.outputs is not None and "environment blue" in blue.outputs[OUTPUT_SUMMARY]
    assert green.error is not None and "green environment" in green.error


async def test_over_socket_mode_the_step_is_acked_on_the_socket_and_completed(socket_bot: SocketBot) -> None:
    execution = run(socket_bot, **{INPUT_IDS: BOB})
    ack = await socket_bot.event(execution.event())
    assert not ack.timed_out and ack.problems == []
    await eventually(lambda: execution.ended)
    assert execution.outputs is not None and execution.outputs[OUTPUT_FOUND] == 1
    assert execution.refused == [] and completions(socket_bot) == ["functions.completeSuccess"]
    assert socket_bot.slack.stray_messages == []
