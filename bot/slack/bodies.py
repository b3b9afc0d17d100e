"""A signed body read as Bolt reads it (`parse_like_bolt`: JSON, an interaction's `payload`, or a form's
fields), and whether the fields Bolt and the listeners read have the types Slack sends (`shape_problem`).
The edge (edge.py) hands a body here only once it has passed the size, signature and replay checks."""

from __future__ import annotations

import json
from _codecs import escape_decode  # codecs' own; its module does not re-export it to type checkers
from typing import Any
from urllib.parse import unquote_plus


def parse_like_bolt(text: str, content_type: str | None) -> tuple[Any, bool]:
    """The body as Bolt's `parse_body` reads it: JSON (by type or a leading `{`), an interaction's
    `payload` field, or the form's fields; strict where Bolt would raise. And whether it is a form's
    fields, every value a string."""
    if content_type == "application/json" or text.startswith("{"):
        return json.loads(text), False
    fields = form_fields(text)
    if "payload" in text:  # Bolt's own test, on the raw body
        payload = fields.get("payload")
        return (json.loads(payload), False) if payload is not None else ({}, True)
    return fields, True


def form_fields(text: str) -> dict[str, str]:
    """`dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))`, Bolt's reading of a form, in
    less time. A form whose escapes cannot make an `&` or `=` (no `%26`, no `%3D`), as Slack's are, is
    unquoted whole in one call and then split: the same fields as unquoting each name and value, since
    the separators are ASCII and stay where they were. Any other is read field by field."""
    if not text:
        return {}
    unquoted = _unquoted_whole(text)
    return _fields(text, unquote=True) if unquoted is None else _fields(unquoted, unquote=False)


def _unquoted_whole(text: str) -> str | None:
    """`unquote_plus(text)` when no escape in it stands for a separator and the bytes-escape decoder reads
    it (see unquote_plus_exactly); None otherwise."""
    if not text.isascii() or "%26" in text or "%3D" in text or "%3d" in text:
        return None
    return _escape_decoded(text)


def _fields(text: str, *, unquote: bool) -> dict[str, str]:
    """The form's fields, split at each `&` and at the first `=` of each field (a field without one is
    refused, as parse_qsl's strict parsing refuses it). With `unquote`, each name and value is unquoted: one
    with no `+` and no `%` is taken as it is, where parse_qsl unquotes every one in Python, and the others
    by `unquote_plus_exactly`."""
    fields: dict[str, str] = {}
    for field in text.split("&"):
        name, equals, value = field.partition("=")
        if not equals:
            raise ValueError(f"bad query field: {field!r}")
        if unquote:
            name, value = _unquoted_part(name), _unquoted_part(value)
        fields[name] = value
    return fields


def _unquoted_part(part: str) -> str:
    return unquote_plus_exactly(part) if "+" in part or "%" in part else part


def unquote_plus_exactly(quoted: str) -> str:
    r"""`unquote_plus(quoted)` (UTF-8, invalid bytes replaced), mostly in one C call: ASCII text, as Slack
    sends a form, is read by the bytes-escape decoder with each `%` written as `\x` and each `\` doubled
    (so it stays a `\`). That decoder refuses a `\x` without two hex digits after it, where unquote keeps
    the `%`: such text, and any that is not ASCII, goes to unquote_plus itself."""
    unquoted = _escape_decoded(quoted) if quoted.isascii() else None
    return unquote_plus(quoted) if unquoted is None else unquoted


def _escape_decoded(ascii_text: str) -> str | None:
    """`unquote_plus(ascii_text)` read by the bytes-escape decoder (see unquote_plus_exactly); None when the
    decoder refuses it."""
    escaped = ascii_text.replace("\\", "\\\\").replace("%", "\\x").replace("+", " ")
    try:
        return escape_decode(escaped)[0].decode("utf-8", "replace")
    except ValueError:
        return None


# The fields Bolt and the listeners read, and the types Slack sends them as. A field may be absent.
_OBJECTS = ("user", "channel", "container", "view", "message", "event", "state")
_OBJECTS_OR_NULL = ("team", "enterprise")
_STRINGS = (
    "type",
    "token",
    "team_id",
    "user_id",
    "channel_id",
    "enterprise_id",
    "command",
    "text",
    "response_url",
    "trigger_id",
    "callback_id",
    "api_app_id",
)
_IDS_IN = ("user", "team", "channel", "enterprise", "view")


def shape_problem(payload: dict[str, Any]) -> str | None:
    """The first field of an unexpected type, named; None when the payload is shaped as Slack sends it."""
    for name in _OBJECTS:
        if name in payload and not isinstance(payload[name], dict):
            return f"{name} is not an object"
    for name in _OBJECTS_OR_NULL:
        if payload.get(name) is not None and not isinstance(payload[name], dict | str):
            return f"{name} is not an object"
    for name in _STRINGS:
        if name in payload and not isinstance(payload[name], str):
            return f"{name} is not a string"
    for name in _IDS_IN:
        holder = payload.get(name)
        if isinstance(holder, dict) and "id" in holder and not isinstance(holder["id"], str):
            return f"{name}.id is not a string"
    for name in ("actions", "authorizations"):
        items = payload.get(name)
        if name in payload and (not isinstance(items, list) or not all(isinstance(i, dict) for i in items)):
            return f"{name} is not a list of objects"
    for action in payload.get("actions") or []:
        for key in ("action_id", "value", "block_id"):
            if key in action and not isinstance(action[key], str):
                return f"an action's {key} is not a string"
        if "selected_option" in action and not isinstance(action["selected_option"], dict):
            return "an action's selected_option is not an object"
    problem = _event_problem(payload.get("event")) or _view_problem(payload.get("view"))
    if problem is not None:
        return problem
    message = payload.get("message")
    if isinstance(message, dict):
        for key in ("text", "thread_ts", "ts"):
            if key in message and not isinstance(message[key], str):
                return f"message.{key} is not a string"
        attachments = message.get("attachments")
        if "attachments" in message and not isinstance(attachments, list):
            return "message.attachments is not a list"
    return None


# The fields shape_problem wants as objects or lists: of a form's fields, all strings, only these can be amiss.
_NOT_STRINGS = frozenset((*_OBJECTS, "actions", "authorizations"))


def form_shape_problem(fields: dict[str, str]) -> str | None:
    """shape_problem for a form's fields (a slash command's), in one set operation when, as Slack sends
    them, none of them should have been an object or a list."""
    return None if _NOT_STRINGS.isdisjoint(fields) else shape_problem(fields)


def _strings(holder: dict[str, Any], names: tuple[str, ...], where: str) -> str | None:
    for name in names:
        if name in holder and not isinstance(holder[name], str):
            return f"{where}.{name} is not a string"
    return None


def _event_problem(event: Any) -> str | None:
    """An Events API event's fields that Bolt and the listeners read (the Home tab, a workflow step run)."""
    if not isinstance(event, dict):
        return None
    problem = _strings(event, ("type", "user", "tab", "channel", "function_execution_id", "bot_access_token"), "event")
    if problem is not None:
        return problem
    for name in ("inputs", "function", "view"):
        if name in event and not isinstance(event[name], dict):
            return f"event.{name} is not an object"
    function = event.get("function")
    return _strings(function, ("callback_id",), "event.function") if isinstance(function, dict) else None


def _view_problem(view: Any) -> str | None:
    """A modal's fields that Bolt and the listeners read when it is submitted or clicked in."""
    if not isinstance(view, dict):
        return None
    problem = _strings(view, ("callback_id", "private_metadata", "type"), "view")
    if problem is not None:
        return problem
    state = view.get("state")
    if "state" in view and not isinstance(state, dict):
        return "view.state is not an object"
    values = state.get("values") if isinstance(state, dict) else None
    if values is None:
        return None
    if not isinstance(values, dict) or not all(isinstance(block, dict) for block in values.values()):
        return "view.state.values is not an object of objects"
    if not all(isinstance(element, dict) for block in values.values() for element in block.values()):
        return "view.state.values holds an element state that is not an object"
    return None
