"""The Workflow Builder step "Look up Yunxin conversations" (a custom step, `function_executed`).

Inputs (manifests' `functions.look_up_conversations`): the IDs (text, required), the environment's name
(optional), the person who started the workflow (required: `function_executed` names no user, so the
workflow passes "Person who used this workflow"), and the channel it runs in (optional; needed when
ALLOWED_CHANNEL_IDS is set). The step runs the command's access checks for that person, then the lookup,
and ends with `complete(outputs=...)` (render/workflow.py) or `fail(error=...)` saying why, once.

It never runs past Slack's limit silently: the whole step is bounded by `step_seconds` (the lookup's
deadline and a margin, at most STEP_MAX_SECONDS, under the 60 s Slack gives a step), and fails with a
message saying so when that passes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.settings import Settings
from bot.yunxin.ids import split_text
from bot.yunxin.models import LookupResult

from ..access import Caller, slack_error_code
from ..ack import Ack
from ..actions import LookupRequest
from ..i18n import EN, Translator
from ..pipeline import Ask, Deps, Event, Outcome, record, run_lookup
from ..render.kit import Message
from ..render.workflow import (
    INPUT_CHANNEL,
    INPUT_ENVIRONMENT,
    INPUT_IDS,
    INPUT_USER,
    step_error,
    step_outputs,
)

log = logging.getLogger(__name__)

STEP_MARGIN_SECONDS = 5.0
STEP_MAX_SECONDS = 55.0
_QUOTES = "`'\"“”‘’"

Complete = Callable[..., Awaitable[Any]]
Fail = Callable[..., Awaitable[Any]]


def step_seconds(settings: Settings) -> float:
    """How long one step may run: the lookup's deadline and a margin to answer, within Slack's limit."""
    return min(settings.yunxin_deadline_seconds + STEP_MARGIN_SECONDS, STEP_MAX_SECONDS)


@dataclass
class StepReplies:
    """Where a step's lookup answers: its outputs complete the step, a notice (a refusal, an error, the bot
    restarting) fails it with what the notice says. Whichever comes first ends the step; nothing after."""

    complete: Complete
    fail: Fail
    t: Translator = EN
    finished: bool = False

    @property
    def shared(self) -> bool:
        return True  # outputs go into messages a workflow posts for others: in DEFAULT_LOCALE

    async def notify(self, message: Message) -> bool:
        return await self.end_with_error(step_error(message, self.t))

    async def answer(self, result: LookupResult, t: Translator = EN) -> bool:
        if self.finished:
            return False
        try:
            await self.complete(outputs=step_outputs(result, t))
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
            code = _code(error)
            log.error(
                "functions.completeSuccess failed: %s; Yunxin trace IDs %s", code, ", ".join(result.trace_ids) or "none"
            )
            await self.end_with_error(
                self.t.gettext("Slack did not take the step's outputs ({code}).").format(code=code)
            )
            return False
        self.finished = True
        return True

    async def end_with_error(self, error: str) -> bool:
        if self.finished:
            return False
        self.finished = True
        try:
            await self.fail(error=error)
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as failure:
            log.error("functions.completeError failed: %s", _code(failure))
            return False
        return True


def _code(error: Exception) -> str:
    return (slack_error_code(error) if isinstance(error, SlackApiError) else None) or type(error).__name__


def _text(inputs: dict[str, Any], name: str) -> str:
    value = inputs.get(name)
    return value.strip() if isinstance(value, str) else ""


async def look_up_step(
    deps: Deps, ack: Ack, body: dict[str, Any], inputs: dict[str, Any] | None, complete: Complete, fail: Fail
) -> None:
    await ack()
    inputs = inputs if isinstance(inputs, dict) else {}
    user_id = _text(inputs, INPUT_USER)
    caller = Caller(
        user_id, body.get("team_id") or None, body.get("enterprise_id") or None, _text(inputs, INPUT_CHANNEL) or None
    )
    ask = Ask(Event.WORKFLOW, caller)
    t = deps.reader_t(user_id) if user_id else deps.channel_t
    step = StepReplies(complete, fail, t)
    tokens = [token.strip(_QUOTES) for token in split_text(_text(inputs, INPUT_IDS))]
    request = LookupRequest(tuple(token for token in tokens if token), _text(inputs, INPUT_ENVIRONMENT).lower() or None)
    distinct, limit = len(request.parsed), deps.settings.max_ids_per_command
    problem = None
    if not user_id:
        problem, outcome = (
            t.gettext(
                "The step needs the person who started the workflow: set its Person input to "
                "\u201cPerson who used this workflow\u201d."
            ),
            Outcome.INVALID,
        )
    elif not distinct:
        problem, outcome = (
            t.gettext("No conversation IDs: give the step at least one owner|type|target, for example alice|1|bob."),
            Outcome.NO_IDS,
        )
    elif distinct > limit:
        problem, outcome = (
            t.gettext("That is {count} IDs; one step looks up at most {limit}.").format(count=distinct, limit=limit),
            Outcome.TOO_MANY_IDS,
        )
    if problem is not None:
        await step.end_with_error(problem)
        record(deps, ask, outcome, request.ids)
        return
    seconds = step_seconds(deps.settings)
    try:
        async with asyncio.timeout(seconds):
            await run_lookup(deps, ask, request, step)
    except TimeoutError:
        log.warning("a workflow step's lookup ran past %g s; the step was failed", seconds)
        await step.end_with_error(
            t.gettext(
                "The lookup did not finish within {seconds} s, so the step stopped; try again with fewer IDs, or "
                "in a minute."
            ).format(seconds=f"{seconds:g}")
        )
    if not step.finished:
        await step.end_with_error(t.gettext("The lookup ended without an answer; try again."))
