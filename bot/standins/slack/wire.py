"""What the Slack stand-in's servers share: Slack's constants, what a response_url received or refused, and
reading a Web API call as slack_sdk sends it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

# Slack shows the user `operation_timeout` when the app has not answered within this.
ACK_SECONDS = 3.0
RESPONSE_URL_MAX_POSTS = 5
RESPONSE_URL_LIFETIME_SECONDS = 30 * 60
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
# The deprecated verification token Slack still puts in every request; apps must not rely on it.
VERIFICATION_TOKEN = "standin-verification-token"
API_APP_ID = "A0STANDIN"
TEAM_DOMAIN = "standin"

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReceivedPost:
    """A message a `response_url` accepted, with its arrival time on the stand-in's clock."""

    at: float
    body: JsonObject


@dataclass(frozen=True, slots=True)
class RefusedPost:
    """A post a `response_url` refused, and why (`problems` lists the Block Kit limits broken)."""

    at: float
    status: int
    error: str
    problems: list[str]
    body: str


class Refusal(Exception):
    def __init__(self, status: int, error: str, found: Sequence[str] = ()) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.problems = list(found)


def json_object(body: bytes) -> JsonObject | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def api_error(error: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": error})


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def api_params(request: Request) -> JsonObject:
    """A Web API call's arguments: the query string, then a form or JSON body (as slack_sdk sends them)."""
    params: JsonObject = dict(request.query_params)
    body = await request.body()
    if not body:
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        value = json_object(body)
        if value is None:
            raise Refusal(HTTPStatus.OK, "invalid_json")
        params.update(value)
    elif content_type == "application/x-www-form-urlencoded":
        params.update(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    else:
        raise Refusal(HTTPStatus.OK, "invalid_post_type")
    return params


# --- Slack's side of requests to the app ---------------------------------------------------------


def trigger_id_value() -> str:
    """A trigger_id in the form Slack gives them."""
    return f"{secrets.randbelow(10**10)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
