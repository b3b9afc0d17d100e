"""Slack's side of requests to the app: the exact form bodies Slack sends for a slash command or an
interaction, the JSON bodies of Events API events (`event_callback`: the Home tab opened, a workflow step
run), signed as Slack signs them, and the 3-second ack Slack holds the app to (and what Slack makes of a
modal submission's ack)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from .wire import (
    ACK_SECONDS,
    API_APP_ID,
    SLACK_USER_AGENT,
    TEAM_DOMAIN,
    VERIFICATION_TOKEN,
    JsonObject,
    trigger_id_value,
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """How the app answered one request from Slack. `timed_out`: no answer within 3 s, so the user
    saw `operation_timeout` (status 0, empty body)."""

    status: int
    body: str
    headers: dict[str, str]
    seconds: float
    timed_out: bool


def sign(signing_secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The two headers Slack signs a request with: HMAC-SHA256 over `v0:{timestamp}:{body}`."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request to the app comes from: who sent it, from which workspace (and Enterprise Grid org)
    and channel, and the response_url Slack gives with it for the app's answers."""

    user_id: str
    team_id: str
    channel_id: str
    response_url: str
    enterprise_id: str | None = None


def _origin(origin: Origin | None, fields: dict[str, Any]) -> Origin:
    """`origin`, or the one its fields name when they are given as keywords instead (`user_id=`, ...)."""
    if origin is None:
        return Origin(**fields)
    if fields:
        raise TypeError(f"give an Origin or its fields, not both (also given: {', '.join(sorted(fields))})")
    return origin


def slash_command_form(
    origin: Origin | None = None,
    *,
    text: str,
    command: str = "/conversation",
    channel_name: str = "general",
    user_name: str | None = None,
    **fields: Any,
) -> dict[str, str]:
    """The fields Slack POSTs for a slash command from `origin`, in Slack's order. The origin's fields may
    be given as keywords instead of an `Origin`."""
    where = _origin(origin, fields)
    form = {"token": VERIFICATION_TOKEN, "team_id": where.team_id, "team_domain": TEAM_DOMAIN}
    if where.enterprise_id is not None:
        form |= {"enterprise_id": where.enterprise_id, "enterprise_name": "Stand-in Org"}
    return form | {
        "channel_id": where.channel_id,
        "channel_name": channel_name,
        "user_id": where.user_id,
        "user_name": user_name or where.user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": where.response_url,
        "trigger_id": trigger_id_value(),
    }


def _interaction_envelope(kind: str, origin: Origin, trigger_id: str | None = None) -> JsonObject:
    enterprise = None if origin.enterprise_id is None else {"id": origin.enterprise_id, "name": "Stand-in Org"}
    user = origin.user_id
    return {
        "type": kind,
        "token": VERIFICATION_TOKEN,
        "api_app_id": API_APP_ID,
        "team": {"id": origin.team_id, "domain": TEAM_DOMAIN},
        "enterprise": enterprise,
        "is_enterprise_install": False,
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": origin.team_id},
        "channel": {"id": origin.channel_id, "name": "general"},
        "response_url": origin.response_url,
        "trigger_id": trigger_id or trigger_id_value(),
    }


def block_actions_payload(
    origin: Origin,
    *,
    action_id: str,
    value: str | None = None,
    selected_option: JsonObject | None = None,
    block_id: str = "actions",
    is_ephemeral: bool = True,
    trigger_id: str | None = None,
    view: JsonObject | None = None,
) -> JsonObject:
    """What Slack sends when someone clicks a button (its `value`) or chooses an option of a menu
    (`selected_option`); an ephemeral message's payload has no `message`. Pass
    `trigger_id=slack.new_trigger_id()` when the click should be able to open a modal.

    With `view` (a modal as the stand-in holds it, its `id` included) the click is in that modal: Slack
    then sends the view (with its private_metadata) and neither a channel nor a response_url, so the
    origin's channel and response_url are left out."""
    if (value is None) == (selected_option is None):
        raise ValueError("a click is on a button (value) or on a menu (selected_option): give one of the two")
    payload = _interaction_envelope("block_actions", origin, trigger_id)
    action_ts = f"{time.time():.6f}"
    if view is not None:
        del payload["channel"], payload["response_url"]
        payload["container"] = {"type": "view", "view_id": view["id"]}
        payload["view"] = view | {"state": {"values": {}}}
    else:
        payload["container"] = {
            "type": "message",
            "message_ts": action_ts,
            "channel_id": origin.channel_id,
            "is_ephemeral": is_ephemeral,
        }
    payload["state"] = {"values": {}}
    element: JsonObject = (
        {"type": "button", "text": {"type": "plain_text", "text": action_id, "emoji": True}, "value": value}
        if selected_option is None
        else {"type": "static_select", "selected_option": selected_option}
    )
    payload["actions"] = [element | {"action_id": action_id, "block_id": block_id, "action_ts": action_ts}]
    return payload


def message_action_payload(
    origin: Origin,
    *,
    callback_id: str,
    message_text: str,
    author_id: str = "U0AUTHOR",
    thread_ts: str | None = None,
) -> JsonObject:
    """What Slack sends when someone runs a message shortcut on a message (`thread_ts`: one in a thread)."""
    payload = _interaction_envelope("message_action", origin)
    message_ts = f"{time.time():.6f}"
    payload |= {
        "callback_id": callback_id,
        "action_ts": message_ts,
        "message_ts": message_ts,
        "message": {"type": "message", "user": author_id, "ts": message_ts, "text": message_text},
    }
    if thread_ts is not None:
        payload["message"]["thread_ts"] = thread_ts
    return payload


def event_callback_payload(
    event: JsonObject, *, team_id: str, bot_user_id: str, enterprise_id: str | None = None
) -> JsonObject:
    """An Events API delivery of `event`, as Slack POSTs it (JSON) or sends it over the socket."""
    payload: JsonObject = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    if enterprise_id is not None:
        payload["enterprise_id"] = enterprise_id
    return payload


def app_home_opened_event(
    user_id: str, *, tab: str = "home", channel_id: str = "D0STANDINHOME", view: JsonObject | None = None
) -> JsonObject:
    """The `app_home_opened` event: `user_id` opened the app's Home (or Messages) tab. `view` is the Home view
    Slack shows them, once one was published."""
    event: JsonObject = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel_id,
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    if view is not None:
        event["view"] = view
    return event


def view_submission_payload(
    origin: Origin, *, view: JsonObject, values: Mapping[str, Mapping[str, JsonObject]]
) -> JsonObject:
    """What Slack sends when someone submits the modal `view` (as the stand-in holds it, its `id` included)
    with these input `values` (block_id -> action_id -> the element's state, e.g. {"type": "plain_text_input",
    "value": "..."}). A submission names no channel and, unless the modal asked for one, no response_url."""
    payload = _interaction_envelope("view_submission", origin)
    del payload["channel"], payload["response_url"]
    payload["view"] = {
        **view,
        "team_id": origin.team_id,
        "state": {"values": {block: dict(elements) for block, elements in values.items()}},
        "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
        "app_id": API_APP_ID,
        "bot_id": "B0STANDIN",
    }
    payload["response_urls"] = []
    return payload


def view_submission_ack_problems(ack: JsonObject | None, view: Mapping[str, Any]) -> list[str]:
    """What Slack would not do with the ack of a submission of `view`: an empty ack closes the modal; an
    `errors` ack must name input blocks of the view, each with a non-empty message; `update` and `push`
    carry a modal."""
    if not ack:
        return []
    action = ack.get("response_action")
    if action == "errors":
        errors = ack.get("errors")
        if not isinstance(errors, dict) or not errors:
            return ["response_action errors needs a non-empty errors object"]
        inputs = {
            block.get("block_id")
            for block in view.get("blocks") or []
            if isinstance(block, dict) and block.get("type") == "input"
        }
        found = [f"errors names {key!r}, not an input block of the view" for key in errors if key not in inputs]
        found += [
            f"the error for {key!r} is not a non-empty string"
            for key, text in errors.items()
            if not text or not isinstance(text, str)
        ]
        return found
    if action in ("update", "push"):
        return [] if isinstance(ack.get("view"), dict) else [f"response_action {action} needs a view"]
    if action == "clear":
        return []
    return [f"a submission's ack is empty or a response_action, not {sorted(ack)}"]


async def deliver(
    app_url: str,
    signing_secret: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    client: httpx.AsyncClient | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> Delivery:
    """POST a body (a form unless `content_type` says otherwise) to the app as Slack does: signed, and given up
    on after 3 seconds."""
    when = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": content_type,
        "User-Agent": SLACK_USER_AGENT,
        **sign(signing_secret, when, body),
    }
    async with contextlib.AsyncExitStack() as stack:
        http = client if client is not None else await stack.enter_async_context(httpx.AsyncClient())
        started = time.perf_counter()
        try:
            async with asyncio.timeout(ACK_SECONDS):
                # The 3-second deadline above is the only one, as at Slack.
                response = await http.post(app_url, content=body, headers=headers, timeout=None)
        except TimeoutError:
            return Delivery(status=0, body="", headers={}, seconds=time.perf_counter() - started, timed_out=True)
        return Delivery(
            status=response.status_code,
            body=response.text,
            headers=dict(response.headers),
            seconds=time.perf_counter() - started,
            timed_out=False,
        )


async def send_slash_command(
    app_url: str,
    signing_secret: str,
    origin: Origin | None = None,
    *,
    text: str,
    command: str = "/conversation",
    timestamp: int | None = None,
    client: httpx.AsyncClient | None = None,
    **fields: Any,
) -> Delivery:
    """Send the slash command `slash_command_form` builds (the origin's fields may be keywords there too)."""
    form = slash_command_form(_origin(origin, fields), text=text, command=command)
    return await deliver(app_url, signing_secret, urlencode(form).encode(), timestamp=timestamp, client=client)


async def _send_interaction(
    kind: str,
    app_url: str,
    signing_secret: str,
    payload: JsonObject,
    *,
    timestamp: int | None = None,
    client: httpx.AsyncClient | None = None,
) -> Delivery:
    """Send an interaction payload of this `kind` as the `payload` form field; refuse a payload of another."""
    if payload.get("type") != kind:
        raise ValueError(f"expected an interaction payload of type {kind}, got {payload.get('type')!r}")
    body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
    return await deliver(app_url, signing_secret, body, timestamp=timestamp, client=client)


async def send_event(
    app_url: str,
    signing_secret: str,
    payload: JsonObject,
    *,
    timestamp: int | None = None,
    client: httpx.AsyncClient | None = None,
) -> Delivery:
    """Send an Events API payload (`event_callback_payload`) as Slack does: a signed JSON body."""
    if payload.get("type") != "event_callback":
        raise ValueError(f"expected an event_callback payload, got {payload.get('type')!r}")
    body = json.dumps(payload, separators=(",", ":")).encode()
    return await deliver(
        app_url, signing_secret, body, timestamp=timestamp, client=client, content_type="application/json"
    )


# `send_block_action(app_url, signing_secret, payload)` sends a click from `block_actions_payload`,
# `send_message_shortcut(...)` a shortcut run from `message_action_payload`, and `send_view_submission(...)` a
# modal submitted (`view_submission_payload`); each refuses the others'.
send_block_action = functools.partial(_send_interaction, "block_actions")
send_message_shortcut = functools.partial(_send_interaction, "message_action")
send_view_submission = functools.partial(_send_interaction, "view_submission")
