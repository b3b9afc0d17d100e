"""Reading what Slack sends: who is asking, from where, and the lookup a button or a command carries.

Shared by the listeners; every read tolerates a payload of unexpected shape (it comes over the network).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from bot.yunxin.ids import split_text

from ..access import Caller
from ..actions import LookupRequest, StaleRequest
from ..i18n import EN, N_, Translator

OUT_OF_DATE = N_("This button is out of date; run the command again.")


def _caller(user_id: str, team_id: str | None, enterprise_id: str | None, channel_id: str | None) -> Caller:
    return Caller(user_id=user_id, team_id=team_id or None, enterprise_id=enterprise_id or None, channel_id=channel_id)


def command_caller(command: dict[str, Any]) -> Caller:
    """Who ran a slash command, and where."""
    return _caller(
        str(command.get("user_id", "")),
        command.get("team_id"),
        command.get("enterprise_id"),
        command.get("channel_id"),
    )


def interaction_caller(body: dict[str, Any]) -> Caller:
    """Who clicked or ran a shortcut, from an interaction payload."""
    user = body.get("user") or {}
    return _caller(
        str(user.get("id", "")),
        (body.get("team") or {}).get("id") or user.get("team_id"),
        (body.get("enterprise") or {}).get("id"),
        (body.get("channel") or {}).get("id"),
    )


def button_request(body: dict[str, Any], t: Translator = EN) -> LookupRequest:
    """The lookup a clicked button carries; StaleRequest (saying so in `t`'s language) for a value that is not
    one of ours."""
    action = (body.get("actions") or [{}])[0]
    try:
        return LookupRequest.decode(str(action.get("value") or ""))
    except ValueError:
        raise StaleRequest(t.gettext(OUT_OF_DATE)) from None


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    ids: tuple[str, ...] = ()
    environment: str | None = None
    help_note: str | None = None  # set: show usage (with this note when not empty)


def parse_command_text(text: str, t: Translator = EN) -> ParsedCommand:
    """`[--env NAME] ID [ID ...]`, IDs separated by spaces, commas or new lines; a help note in `t`'s language."""
    tokens = [token.strip("`'\"“”‘’") for token in split_text(html.unescape(text or ""))]
    tokens = [token for token in tokens if token]
    if not tokens or (len(tokens) == 1 and tokens[0].lower() in ("help", "-h", "--help", "?")):
        return ParsedCommand(help_note="")
    environment: str | None = None
    ids: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.startswith("--env"):
            value = token[len("--env=") :] if token.startswith("--env=") else None
            if value is None and token == "--env" and index + 1 < len(tokens):
                index += 1
                value = tokens[index]
            if not value:
                return ParsedCommand(help_note=t.gettext("--env needs an environment name, for example --env staging"))
            environment = value.lower()
        elif token.startswith("--"):
            return ParsedCommand(help_note=t.gettext("Unknown option {option}.").format(option=token))
        else:
            ids.append(token)
        index += 1
    if not ids:
        return ParsedCommand(help_note=t.gettext("No conversation IDs given."))
    return ParsedCommand(tuple(ids), environment)
