"""Workflow steps (custom functions) on the Slack stand-in.

A step runs when a test starts one (`new_function_execution`, whose `event()` is what `function_executed`
carries): functions.completeSuccess and functions.completeError take that run's own token only (as Bolt
sends them), end it once (`execution_not_in_running_state` after that), and check its outputs against the
output parameters declared (`parameter_validation_failed`).
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .wire import API_APP_ID, JsonObject


@dataclass(slots=True)
class FunctionExecution:
    """One run of a workflow step (a custom function) the stand-in started: what the `function_executed` event
    carries (`event()`), the token it gave the app for this run alone, and how the app ended it. Slack takes
    one ending: `outputs` (functions.completeSuccess, checked against `output_parameters` as the manifest
    declares them) or `error` (functions.completeError); what it refused is in `refused`."""

    execution_id: str
    callback_id: str
    inputs: JsonObject
    output_parameters: dict[str, JsonObject]
    token: str
    outputs: JsonObject | None = None
    error: str | None = None
    refused: list[str] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.outputs is not None or self.error is not None

    def event(self) -> JsonObject:
        """The `function_executed` event, as the Events API delivers it inside an `event_callback`."""
        return {
            "type": "function_executed",
            "function": {
                "id": "Fn0STANDIN",
                "callback_id": self.callback_id,
                "title": self.callback_id,
                "type": "app",
                "app_id": API_APP_ID,
            },
            "inputs": self.inputs,
            "function_execution_id": self.execution_id,
            "workflow_execution_id": "Wx" + self.execution_id[2:],
            "event_ts": f"{time.time():.6f}",
            "bot_access_token": self.token,
        }


# Types of output parameters, and the Python values that are of them.
_OUTPUT_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "slack#/types/user_id": (str,),
    "slack#/types/channel_id": (str,),
}
# Methods that take the token of one function execution (Bolt calls them with it), not the bot token.
EXECUTION_METHODS = frozenset({"functions.completeSuccess", "functions.completeError"})


def output_problems(outputs: Any, parameters: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """How `outputs` breaks the output parameters a function declares (`parameter_validation_failed`)."""
    if not isinstance(outputs, dict):
        return ["outputs is not an object"]
    found = [f"{name} is not an output of this function" for name in outputs if name not in parameters]
    for name, parameter in parameters.items():
        if name not in outputs:
            if parameter.get("is_required"):
                found.append(f"the required output {name} is missing")
            continue
        kinds = _OUTPUT_TYPES.get(str(parameter.get("type")), ())
        value = outputs[name]
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if not isinstance(value, kinds) or wrong_bool:
            found.append(f"the output {name} is not of type {parameter.get('type')}")
    return found


class WorkflowSteps:
    """`SlackStandIn`'s workflow step runs (`executions`, by function_execution_id) and the functions.*
    methods that end them."""

    executions: dict[str, FunctionExecution]

    def new_function_execution(
        self, callback_id: str, inputs: JsonObject, *, output_parameters: Mapping[str, JsonObject]
    ) -> FunctionExecution:
        """Start a run of the step `callback_id` with `inputs`; send the app `execution.event()` (in an
        `event_callback`, see signed_requests.event_callback_payload) for it to run."""
        execution_id = f"Fx{secrets.token_hex(5).upper()}"
        token = f"xwfp-{secrets.token_hex(12)}"
        execution = FunctionExecution(execution_id, callback_id, dict(inputs), dict(output_parameters), token)
        self.executions[execution_id] = execution
        return execution

    def _execution_token_problem(self, params: JsonObject, token: str) -> str | None:
        """Why `token` may not call one of EXECUTION_METHODS for the run `params` names, if it may not."""
        execution = self.executions.get(str(params.get("function_execution_id", "")))
        if execution is None:
            return "function_execution_not_found"
        if not hmac.compare_digest(token.encode(), execution.token.encode()):
            return "invalid_auth"  # only the token the event gave for this run
        return None

    def _functions_complete_success(self, params: JsonObject) -> JsonObject:
        execution = self.executions[str(params["function_execution_id"])]
        if execution.ended:
            return {"ok": False, "error": "execution_not_in_running_state"}
        outputs = params.get("outputs")
        if isinstance(outputs, str):
            try:
                outputs = json.loads(outputs)
            except ValueError:
                outputs = None
        found = output_problems(outputs, execution.output_parameters)
        if found:
            execution.refused.extend(found)
            return {"ok": False, "error": "parameter_validation_failed", "errors": found}
        execution.outputs = outputs
        return {"ok": True}

    def _functions_complete_error(self, params: JsonObject) -> JsonObject:
        execution = self.executions[str(params["function_execution_id"])]
        if execution.ended:
            return {"ok": False, "error": "execution_not_in_running_state"}
        error = params.get("error")
        if not isinstance(error, str) or not error.strip():
            execution.refused.append("the error is not a non-empty string")
            return {"ok": False, "error": "invalid_arguments"}
        execution.error = error
        return {"ok": True}
