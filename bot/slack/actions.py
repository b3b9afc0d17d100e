"""Interactive actions of the bot's messages and modals: their IDs, and the lookup a click repeats.

A button carries the lookup it belongs to in its `value` (at most 2000 characters), and a modal in
its `private_metadata` (at most 3000), so a click can be answered without any state kept between
the command and the click.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from json.encoder import encode_basestring
from typing import Any

from bot.yunxin.ids import ConversationId, InvalidId, parse_ids

from .render.limits import BUTTON_VALUE_MAX
from .render.view_limits import VIEW_PRIVATE_METADATA_MAX

SHARE_ACTION = "share_in_channel"
REFRESH_ACTION = "refresh_lookup"
DETAILS_ACTION = "conversation_details"
# A compact answer's "Details…" button: opens a modal listing the found conversations it carries.
DETAILS_PICKER_ACTION = "conversation_details_picker"
# In that modal: a conversation chosen from its menus, and the way back from its details to the list.
PICKER_CHOICE_ACTION = "conversation_details_choice"
PICKER_BACK_ACTION = "conversation_details_back"
# "Download CSV": the lookup again, for the clicker, as a file in their direct message with the bot.
EXPORT_ACTION = "download_csv"

_VERSION = 1


class StaleRequest(ValueError):
    """A click that carries no lookup of ours (a button from an older version, a list changed since); the
    message is what the person reads."""


@dataclass(frozen=True)
class LookupRequest:
    """The IDs of one lookup as they were asked, and the Yunxin environment (None: the default one)."""

    ids: tuple[str, ...]
    environment: str | None = None

    @cached_property
    def parsed(self) -> list[ConversationId | InvalidId]:
        """The IDs parsed, once: checked, deduplicated, in order; what the Yunxin client takes."""
        return parse_ids(self.ids)

    def encode(self) -> str | None:
        """Compact JSON for a button value; None when it would not fit in one."""
        return encode_lookup(self.ids, self.environment)

    def split(self) -> list[LookupRequest] | None:
        """The IDs in order, cut into requests (same environment) that each fit one button value;
        None when some ID does not fit even alone. Each part's length is counted as its IDs are added (an
        ID's JSON and a comma), not by encoding every longer part again."""
        base = len(_request_json((), self.environment))
        parts: list[LookupRequest] = []
        part: list[str] = []
        length = base
        for conversation_id in self.ids:
            cost = len(encode_basestring(conversation_id))  # the ID as the encoder writes a string
            if base + cost > BUTTON_VALUE_MAX:
                return None
            if length + cost + (1 if part else 0) > BUTTON_VALUE_MAX:
                parts.append(LookupRequest(tuple(part), self.environment))
                part, length = [], base
            length += cost + (1 if part else 0)
            part.append(conversation_id)
        if part:
            parts.append(LookupRequest(tuple(part), self.environment))
        return parts

    @classmethod
    def decode(cls, value: str) -> LookupRequest:
        """Read a value made by `encode()`; anything else raises ValueError (it comes from a click)."""
        if not isinstance(value, str) or len(value) > BUTTON_VALUE_MAX:
            raise ValueError("not a lookup request: not a string of at most 2000 characters")
        return cls._from_payload(_json_object(value))

    def _payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"v": _VERSION, "ids": list(self.ids)}
        if self.environment is not None:
            payload["env"] = self.environment
        return payload

    @classmethod
    def _from_payload(cls, payload: dict[str, Any]) -> LookupRequest:
        if payload.get("v") != _VERSION:
            raise ValueError("not a lookup request: unknown format")
        ids = payload.get("ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise ValueError("not a lookup request: ids must be a non-empty list of strings")
        environment = payload.get("env")
        if environment is not None and not isinstance(environment, str):
            raise ValueError("not a lookup request: env must be a string")
        return cls(tuple(ids), environment)


@dataclass(frozen=True, slots=True)
class ModalState:
    """What a Details modal keeps in its `private_metadata`: the lookup it lists, and the channel it was
    opened from. A click inside a modal names no channel, and the access check needs the one the
    modal belongs to; Slack hands private_metadata back exactly as the bot set it."""

    request: LookupRequest
    channel_id: str | None = None

    def encode(self) -> str | None:
        """Compact JSON for private_metadata; None when it would not fit."""
        value = _compact_json({**self.request._payload(), "channel": self.channel_id})
        return value if len(value) <= VIEW_PRIVATE_METADATA_MAX else None

    @classmethod
    def decode(cls, value: str) -> ModalState:
        """Read what `encode()` made; anything else raises ValueError."""
        if not isinstance(value, str) or len(value) > VIEW_PRIVATE_METADATA_MAX:
            raise ValueError("not a modal state: not a string of at most 3000 characters")
        payload = _json_object(value)
        channel_id = payload.get("channel")
        if channel_id is not None and not isinstance(channel_id, str):
            raise ValueError("not a modal state: channel must be a string")
        return cls(LookupRequest._from_payload(payload), channel_id or None)


# What json.dumps(value, ensure_ascii=False, separators=(",", ":")) encodes with, made once: dumps makes a
# new encoder on every call with options of its own, which costs more than encoding a lookup of a few IDs.
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _compact_json(payload: dict[str, Any]) -> str:
    return _COMPACT_JSON.encode(payload)


def _request_json(ids: Iterable[str], environment: str | None) -> str:
    """`_compact_json` of a lookup's `_payload()`, written out as the encoder writes it (each string escaped by
    `encode_basestring`, no spaces): an answer encodes a lookup for its buttons and one for each found
    conversation's Details, and setting the encoder up for each cost more than the writing."""
    listed = ",".join(map(encode_basestring, ids))
    if environment is None:
        return f'{{"v":{_VERSION},"ids":[{listed}]}}'
    return f'{{"v":{_VERSION},"ids":[{listed}],"env":{encode_basestring(environment)}}}'


def encode_lookup(ids: Iterable[str], environment: str | None) -> str | None:
    """`LookupRequest(tuple(ids), environment).encode()`, without making the request: each found
    conversation's Details button carries a lookup of its one ID."""
    value = _request_json(ids, environment)
    return value if len(value) <= BUTTON_VALUE_MAX else None


def _json_object(value: str) -> dict[str, Any]:
    try:
        payload = json.loads(value)
    except json.JSONDecodeError as error:
        raise ValueError("not a lookup request: not JSON") from error
    if not isinstance(payload, dict):
        raise ValueError("not a lookup request: unknown format")
    return payload
