"""The API's data, read leniently, and the result of one lookup.

Yunxin's payloads vary: `last_message` comes nested (v2) or flat (v2.1), booleans arrive as
`"true"`/`"false"`, fields go missing or null, new fields appear. A field that cannot be read
becomes None rather than losing the whole conversation; unknown fields are kept (extra="allow")
so a details view can show everything Yunxin returned.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, field_validator
from pydantic_core import CoreSchema, core_schema

from .errors import YunxinError
from .ids import TYPES_BY_NUMBER, TYPES_BY_TEXT, ConversationType, InvalidId, match_key

MESSAGE_TYPES: dict[int, str] = {
    0: "text",
    1: "image",
    2: "audio",
    3: "video",
    4: "location",
    5: "notification",
    6: "file",
    10: "tip",
    11: "robot",
    12: "call record",
    100: "custom",
}


def _loose_bool(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no", ""):
            return False
        return None
    return value


class _UnreadableIsNone:
    """Field metadata: a value that cannot be read as the field's type becomes None. pydantic-core does
    it itself (a default that also stands in for a failed validation), so no Python runs per field."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.with_default_schema(handler(source), default=None, on_error="default")


_UNREADABLE_IS_NONE = _UnreadableIsNone()
_T = TypeVar("_T")
# A field of type T, or None when Yunxin leaves it out, sends null, or sends something that is not a T.
Maybe = Annotated[_T | None, _UNREADABLE_IS_NONE]


class _Lenient(BaseModel):
    """Every field is a Maybe (or Any, which reads anything): one odd value never loses the whole model."""

    # Numbers are read as text where text is expected: a team ID may arrive as a JSON number.
    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        strict = [
            name
            for name, info in cls.model_fields.items()
            if info.annotation is not Any and _UNREADABLE_IS_NONE not in info.metadata
        ]
        if strict:
            raise TypeError(f"{cls.__name__}: declare {', '.join(strict)} as Maybe[...] or Any")


def millis_to_datetime(value: int | None) -> datetime | None:
    if value is None or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


class MessageBody(_Lenient):
    """The v2 shape's `last_message.message`."""

    message_type: Maybe[int] = None
    sub_type: Maybe[int] = None
    text: Maybe[str] = None
    attachment: Any = None


class LastMessage(_Lenient):
    """Either shape of `last_message`; read it through the properties, which cover both."""

    # v2, nested
    sender_no_sense: Maybe[bool] = None
    receiver_no_sense: Maybe[bool] = None
    extension: Any = None
    message: Maybe[MessageBody] = None
    # v2.1, flat
    message_server_id: Maybe[int] = None
    message_client_id: Maybe[str] = None
    sender_id: Maybe[str] = None
    conversation_type: Maybe[int] = None
    receiver_id: Maybe[str] = None
    team_id: Maybe[int] = None
    message_type: Maybe[int] = None
    sub_type: Maybe[int] = None
    create_time: Maybe[int] = None
    text: Maybe[str] = None
    attachment: Any = None

    @field_validator("sender_no_sense", "receiver_no_sense", mode="before")
    @classmethod
    def _bools(cls, value: Any) -> Any:
        return _loose_bool(value)

    @property
    def kind(self) -> int | None:
        if self.message is not None and self.message.message_type is not None:
            return self.message.message_type
        return self.message_type

    @property
    def kind_label(self) -> str:
        kind = self.kind
        if kind is None:
            return "message"
        return MESSAGE_TYPES.get(kind, f"type {kind}")

    @property
    def body_text(self) -> str | None:
        if self.message is not None and self.message.text:
            return self.message.text
        return self.text or None

    @property
    def is_empty(self) -> bool:
        return self.kind is None and self.body_text is None and self.message_server_id is None


class RevokeNotification(_Lenient):
    server_id: Maybe[int] = None
    attach: Maybe[str] = None
    revoke_id: Maybe[str] = None
    custom_info: Maybe[str] = None
    revoke_type: Maybe[int] = None


# Keys under which a payload carries what people wrote: REDACT_MESSAGE_TEXT hides their values.
CONTENT_KEYS = frozenset({"text", "attachment", "push_content", "push_payload", "attach", "custom_info"})
REDACTED = "[hidden]"


def redact_content(data: Any) -> Any:
    """`data` with the value of every content key replaced, however deep it sits."""
    if isinstance(data, dict):
        return {
            key: REDACTED if key in CONTENT_KEYS and value else redact_content(value) for key, value in data.items()
        }
    if isinstance(data, list):
        return [redact_content(item) for item in data]
    return data


class Conversation(_Lenient):
    conversation_id: Maybe[str] = None
    sender_id: Maybe[str] = None
    receiver_id: Maybe[str] = None
    type: Maybe[int] = None
    stick_top: Maybe[bool] = None
    group_ids: Maybe[list[int]] = None
    server_extension: Maybe[str] = None
    message_state: Maybe[int] = None
    last_message: Maybe[LastMessage] = None
    revoke_notification: Maybe[RevokeNotification] = None
    unread_count: Maybe[int] = None
    sort_order: Maybe[int] = None
    create_time: Maybe[int] = None
    update_time: Maybe[int] = None
    last_read_time: Maybe[int] = None

    @field_validator("stick_top", mode="before")
    @classmethod
    def _bools(cls, value: Any) -> Any:
        return _loose_bool(value)

    @field_validator("server_extension", mode="before")
    @classmethod
    def _extension_text(cls, value: Any) -> Any:
        # Usually a JSON string; some payloads send the object itself.
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False)
        return value

    @property
    def conversation_type(self) -> ConversationType | None:
        kind = TYPES_BY_NUMBER.get(self.type)  # type: ignore[arg-type]  # None is no key
        if kind is not None:
            return kind
        if self.conversation_id and self.conversation_id.count("|") == 2:
            return TYPES_BY_TEXT.get(self.conversation_id.split("|")[1])
        return None

    @property
    def lookup_key(self) -> str | None:
        """The key that matches this conversation to the ID asked for; built from its parts when
        Yunxin leaves `conversation_id` out, so a conversation that came back is never lost."""
        if self.conversation_id:
            return match_key(self.conversation_id)
        if self.sender_id and self.type in (1, 2, 3) and self.receiver_id:
            return match_key(f"{self.sender_id}|{self.type}|{self.receiver_id}")
        return None

    @property
    def is_revoked(self) -> bool:
        # message_state 1 is the documented signal; a filled revoke notice beside an empty
        # last message is how some payloads show it without the state.
        return self.message_state == 1 or (
            self.revoke_notification is not None and (self.last_message is None or self.last_message.is_empty)
        )

    def as_returned(self, *, redact: bool = False) -> dict[str, Any]:
        """The fields Yunxin returned (unknown ones included), as JSON data; int64 values stay exact."""
        data = self.model_dump(mode="json", exclude_unset=True)
        return redact_content(data) if redact else data

    @property
    def created_at(self) -> datetime | None:
        return millis_to_datetime(self.create_time)

    @property
    def updated_at(self) -> datetime | None:
        return millis_to_datetime(self.update_time)


class FailedConversation(_Lenient):
    """An entry of Yunxin's `failed_list`."""

    conversation_id: Maybe[str] = None
    error_code: Maybe[int] = None
    error_msg: Maybe[str] = None

    @property
    def reason(self) -> str:
        code = f"{self.error_code}" if self.error_code is not None else "no code"
        return f"{code}: {self.error_msg}" if self.error_msg else code


@dataclass(frozen=True, slots=True)
class ChunkFailure:
    """A batch of IDs whose whole call failed: each ID in it is reported with this error."""

    ids: tuple[str, ...]
    error: YunxinError


@dataclass(frozen=True, slots=True)
class Found:
    conversation_id: str
    conversation: Conversation
    status: Literal["found"] = "found"


@dataclass(frozen=True, slots=True)
class Failed:
    """Yunxin answered for this ID, with an error (`failed_list`)."""

    conversation_id: str
    failure: FailedConversation
    status: Literal["failed"] = "failed"


@dataclass(frozen=True, slots=True)
class Malformed:
    conversation_id: str
    reason: str
    status: Literal["malformed"] = "malformed"


@dataclass(frozen=True, slots=True)
class Unanswered:
    """No answer for this ID: its call failed (`error` set) or Yunxin left it out of both lists."""

    conversation_id: str
    error: YunxinError | None
    status: Literal["unanswered"] = "unanswered"


Outcome = Found | Failed | Malformed | Unanswered


@dataclass(slots=True)
class LookupResult:
    """What one lookup learned. `requested` holds every distinct ID asked for, in order."""

    requested: list[str]
    found: list[Conversation] = field(default_factory=list)
    failed: list[FailedConversation] = field(default_factory=list)
    invalid: list[InvalidId] = field(default_factory=list)
    chunk_failures: list[ChunkFailure] = field(default_factory=list)
    trace_ids: list[str] = field(default_factory=list)
    sandbox: bool = False
    environment: Maybe[str] = None

    def outcomes(self) -> list[Outcome]:
        """One outcome per requested ID, in the order asked: nothing is dropped."""
        found = {key: c for c in self.found if (key := c.lookup_key)}
        failed = {match_key(f.conversation_id): f for f in self.failed if f.conversation_id}
        # Most lookups have neither: no comprehension (a function of its own) is run for an empty list.
        invalid = {match_key(i.raw): i.reason for i in self.invalid} if self.invalid else {}
        chunk_error = {match_key(i): c.error for c in self.chunk_failures for i in c.ids} if self.chunk_failures else {}
        out: list[Outcome] = []
        for requested in self.requested:
            key = match_key(requested)
            if key in invalid:
                out.append(Malformed(requested, invalid[key]))
            elif key in found:
                out.append(Found(requested, found[key]))
            elif key in failed:
                out.append(Failed(requested, failed[key]))
            else:
                out.append(Unanswered(requested, chunk_error.get(key)))
        return out

    @property
    def errors(self) -> list[YunxinError]:
        return [c.error for c in self.chunk_failures]

    @property
    def all_failed(self) -> bool:
        """True when calls were made and every one of them failed as a whole."""
        return bool(self.chunk_failures) and not self.found and not self.failed

    def counts(self) -> dict[str, int]:
        return tally(self.outcomes())


def tally(outcomes: Iterable[Outcome]) -> dict[str, int]:
    """How many outcomes of each status, every status named."""
    counts = {"found": 0, "failed": 0, "malformed": 0, "unanswered": 0}
    for outcome in outcomes:
        counts[outcome.status] += 1
    return counts
