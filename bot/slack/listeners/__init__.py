"""Everything the app answers, in one table: each kind of thing Slack sends, the ID it comes with, and the
listener that reads it and hands it to the pipeline.

Every listener acks at once and goes on detached (`ack.acked_then_detached`). A listener takes `deps`
first, then the Bolt arguments it needs by name (Bolt reads the names from the function).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Literal, NamedTuple

from slack_bolt.async_app import AsyncApp

from ..ack import Listener, acked_then_detached
from ..actions import (
    DETAILS_ACTION,
    DETAILS_PICKER_ACTION,
    EXPORT_ACTION,
    PICKER_BACK_ACTION,
    PICKER_CHOICE_ACTION,
    REFRESH_ACTION,
    SHARE_ACTION,
)
from ..pipeline import COMMAND, Deps
from ..render.form import FORM_CALLBACK
from ..render.home import OPEN_FORM_ACTION
from ..render.workflow import WORKFLOW_CALLBACK
from . import buttons, command, details, export, form, home, shortcut, workflow
from .shortcut import SHORTCUT_CALLBACK


class Route(NamedTuple):
    kind: Literal["command", "action", "shortcut", "view", "event", "function"]
    key: str  # the command, the action_id, the callback_id or the event type Slack sends back
    listener: Callable[..., Awaitable[None]]


ROUTES: tuple[Route, ...] = (
    Route("command", COMMAND, command.conversation_command),
    Route("action", SHARE_ACTION, buttons.share_in_channel),
    Route("action", REFRESH_ACTION, buttons.refresh),
    Route("action", EXPORT_ACTION, export.download_csv),
    Route("action", DETAILS_ACTION, details.details),
    Route("action", DETAILS_PICKER_ACTION, details.details_list),
    # Clicks inside the Details modal: no response_url, so everything they answer goes into the modal.
    Route("action", PICKER_CHOICE_ACTION, details.choose_from_list),
    Route("action", PICKER_BACK_ACTION, details.back_to_list),
    Route("shortcut", SHORTCUT_CALLBACK, shortcut.look_up_in_message),
    # The App Home tab, and its (and the help's) lookup form, answered in the person's direct message.
    Route("event", "app_home_opened", home.home_opened),
    Route("action", OPEN_FORM_ACTION, form.open_form),
    Route("view", FORM_CALLBACK, form.submit_form),
    # The Workflow Builder step: Bolt's app.function, which acks function_executed itself as well.
    Route("function", WORKFLOW_CALLBACK, workflow.look_up_step),
)


def register_listeners(app: AsyncApp, deps: Deps) -> dict[str, Listener]:
    """Register every route with Bolt; return the slash commands' listeners by command, as registered, for
    the HTTP lane that runs them without Bolt's router (`slash.py`)."""
    running: set[asyncio.Task[None]] = set()  # listeners still working after their ack
    commands: dict[str, Listener] = {}
    for route in ROUTES:
        register: Callable[[str], Callable[..., Any]] = getattr(app, route.kind)
        # A partial keeps the listener's own parameter names, less `deps`, for Bolt to read.
        bound = functools.partial(route.listener, deps)
        listener = acked_then_detached(bound, running, name=f"slack {route.kind} {route.key}")
        register(route.key)(listener)
        if route.kind == "command":
            commands[route.key] = listener
    return commands
