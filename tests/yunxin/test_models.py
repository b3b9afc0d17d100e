"""The API's data read leniently (both last_message shapes), and LookupResult.outcomes()."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from bot.yunxin.errors import Timeout
from bot.yunxin.ids import ConversationType, InvalidId
from bot.yunxin.models import (
    ChunkFailure,
    Conversation,
    Failed,
    FailedConversation,
    Found,
    LastMessage,
    LookupResult,
    Malformed,
    Maybe,
    MessageBody,
    RevokeNotification,
    Unanswered,
    _Lenient,
    millis_to_datetime,
)
from tests.fuzz.strategies import json_values

# The seed page's example entry (v2, nested last_message, booleans as strings), with real values.
V2_ENTRY = """
{
  "conversation_id": "alice|1|bob", "sender_id": "alice", "receiver_id": "bob", "type": 1,
  "stick_top": true, "group_ids": [7, 8], "server_extension": "{\\"k\\": 1}", "message_state": 0,
  "last_message": {
    "sender_no_sense": "false", "receiver_no_sense": "true", "extension": "ext",
    "message": {"message_type": 0, "sub_type": 1, "text": "hello", "attachment": {}},
    "message_config": {"unread_enabled": "true", "history_enabled": "true"},
    "route_config": {"route_enabled": true, "route_environment": "prod"},
    "push_config": {"push_enabled": "true", "push_forcepush_ids": ["x"]},
    "antispam_config": {"antispam_enabled": true},
    "p2p_option": {"check_friend": true},
    "team_option": {"mark_as_read": "false"},
    "superteam_option": {"ignore_chat_banned": "false"},
    "robot_config": {"robot_account_id": "r"}
  },
  "revoke_notification": null,
  "unread_count": 3, "sort_order": 0, "create_time": 1700000000123, "update_time": 1700000360000
}
"""

V21_ENTRY = """
{
  "conversation_id": "alice|2|123456", "sender_id": "alice", "receiver_id": "123456", "type": 2,
  "stick_top": "false",
  "last_message": {
    "message_server_id": 9007199254740993, "message_client_id": "c-1", "sender_id": "carol",
    "conversation_type": 2, "sender_client_type": 16, "receiver_id": "alice", "team_id": 123456,
    "message_type": 1, "sub_type": 0, "create_time": 1700000000456, "text": "a picture",
    "attachment": {"url": "https://example.invalid/p.png"}, "extension": null
  },
  "update_time": 1700000000456
}
"""


def conversation(text: str) -> Conversation:
    return Conversation.model_validate(json.loads(text))


def test_v2_nested_last_message() -> None:
    c = conversation(V2_ENTRY)
    assert c.conversation_id == "alice|1|bob"
    assert c.conversation_type is ConversationType.P2P
    assert c.stick_top is True
    assert c.group_ids == [7, 8]
    assert c.server_extension == '{"k": 1}'
    assert c.is_revoked is False
    last = c.last_message
    assert last is not None
    assert last.sender_no_sense is False
    assert last.receiver_no_sense is True
    assert last.kind == 0
    assert last.kind_label == "text"
    assert last.body_text == "hello"
    assert last.is_empty is False
    # Unknown sub-objects are kept as extra data, not rejected.
    assert (last.model_extra or {})["route_config"]["route_environment"] == "prod"


def test_v21_flat_last_message_keeps_int64_ids_exact() -> None:
    c = conversation(V21_ENTRY)
    assert c.conversation_type is ConversationType.TEAM
    assert c.stick_top is False
    last = c.last_message
    assert last is not None
    assert last.message_server_id == 9007199254740993
    assert type(last.message_server_id) is int
    assert last.team_id == 123456
    assert last.kind == 1
    assert last.kind_label == "image"
    assert last.body_text == "a picture"
    assert (last.model_extra or {})["sender_client_type"] == 16


@pytest.mark.parametrize(
    ("sent", "read"), [("true", True), ("false", False), ("TRUE", True), (True, True), (None, None)]
)
def test_booleans_sent_as_strings(sent: Any, read: bool | None) -> None:
    assert Conversation.model_validate({"stick_top": sent}).stick_top is read
    assert LastMessage.model_validate({"sender_no_sense": sent}).sender_no_sense is read


def test_an_unreadable_boolean_string_becomes_none() -> None:
    assert Conversation.model_validate({"stick_top": "maybe"}).stick_top is None


def test_nulls_and_missing_fields() -> None:
    empty = Conversation.model_validate({})
    assert empty.conversation_id is None
    assert empty.last_message is None
    assert empty.conversation_type is None
    assert empty.created_at is None
    assert empty.is_revoked is False
    nulls = Conversation.model_validate({name: None for name in Conversation.model_fields})
    assert nulls == empty


def test_unknown_fields_are_kept() -> None:
    c = Conversation.model_validate({"conversation_id": "a|1|b", "brand_new_field": {"x": [1]}})
    assert c.conversation_id == "a|1|b"
    assert c.model_extra == {"brand_new_field": {"x": [1]}}


def test_int64_ids_stay_exact_when_sent_as_strings() -> None:
    last = LastMessage.model_validate({"message_server_id": "9223372036854775807"})
    assert last.message_server_id == 2**63 - 1


@pytest.mark.parametrize(
    ("field", "garbage"),
    [
        ("type", "p2p"),
        ("stick_top", {"a": 1}),
        ("group_ids", [1, "x"]),
        ("group_ids", "7"),
        ("message_state", 1.5),
        ("last_message", "not an object"),
        ("last_message", [1, 2]),
        ("revoke_notification", 42),
        ("unread_count", "many"),
        ("create_time", "yesterday"),
        ("update_time", []),
        ("sender_id", {"nested": True}),
    ],
)
def test_a_garbage_field_value_becomes_none(field: str, garbage: Any) -> None:
    c = Conversation.model_validate({"conversation_id": "a|1|b", field: garbage})
    assert getattr(c, field) is None
    assert c.conversation_id == "a|1|b"


def test_garbage_inside_last_message_spoils_only_that_field() -> None:
    c = Conversation.model_validate(
        {"last_message": {"message": {"message_type": "x", "text": "still here"}, "message_server_id": "nope"}}
    )
    assert c.last_message is not None
    assert c.last_message.message_server_id is None
    assert c.last_message.kind is None
    assert c.last_message.body_text == "still here"


def test_ids_sent_as_json_numbers_are_read_as_text() -> None:
    c = Conversation.model_validate_json('{"conversation_id": "a|2|123", "receiver_id": 123, "sender_id": 42}')
    assert c.receiver_id == "123"
    assert c.sender_id == "42"


def test_server_extension_sent_as_an_object_is_kept_as_json_text() -> None:
    c = Conversation.model_validate({"server_extension": {"tag": "vip", "名": 1}})
    assert c.server_extension is not None
    assert json.loads(c.server_extension) == {"tag": "vip", "名": 1}


def test_millisecond_timestamps_become_utc_datetimes() -> None:
    c = conversation(V2_ENTRY)
    assert c.created_at == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert c.updated_at == datetime(2023, 11, 14, 22, 19, 20, tzinfo=UTC)


@pytest.mark.parametrize("value", [None, 0, -5, 10**20])
def test_missing_or_impossible_timestamps_become_none(value: int | None) -> None:
    assert millis_to_datetime(value) is None


def test_revoked_conversation() -> None:
    revoked = Conversation.model_validate(
        {"message_state": 1, "last_message": {}, "revoke_notification": {"server_id": 5, "revoke_type": 1}}
    )
    assert revoked.is_revoked is True
    assert revoked.revoke_notification is not None and revoked.revoke_notification.server_id == 5
    # Some payloads only show the revoke notice beside an empty last message.
    implicit = Conversation.model_validate({"last_message": {}, "revoke_notification": {"server_id": 5}})
    assert implicit.is_revoked is True


def test_conversation_type_falls_back_to_the_id() -> None:
    assert Conversation.model_validate({"conversation_id": "a|3|9"}).conversation_type is ConversationType.SUPER_TEAM
    assert Conversation.model_validate({"conversation_id": "a|7|9"}).conversation_type is None


def test_unknown_message_type_label() -> None:
    assert LastMessage.model_validate({"message_type": 42}).kind_label == "type 42"
    assert LastMessage.model_validate({}).kind_label == "message"


def test_failed_entry_reason() -> None:
    failed = FailedConversation.model_validate({"conversation_id": "a|1|b", "error_code": 110404, "error_msg": "nope"})
    assert failed.reason == "110404: nope"
    assert FailedConversation.model_validate({"error_code": "garbage"}).reason == "no code"


def test_outcomes_give_one_outcome_per_requested_id_in_order() -> None:
    chunk_error = Timeout("no answer", trace_id="trace-9")
    result = LookupResult(
        requested=["Alice|1|Bob", "nonsense", "c|1|d", "e|2|5", "f|1|g", "h|1|i"],
        # Yunxin lowercases accounts: the ID comes back in another case.
        found=[Conversation.model_validate({"conversation_id": "alice|1|bob", "unread_count": 2})],
        failed=[FailedConversation.model_validate({"conversation_id": "c|1|d", "error_code": 110404})],
        invalid=[InvalidId("nonsense", "expected owner|type|target")],
        chunk_failures=[ChunkFailure(("e|2|5",), chunk_error)],
    )
    outcomes = result.outcomes()
    assert [o.conversation_id for o in outcomes] == result.requested
    found, malformed, failed, unanswered_error, unanswered_silent, unanswered_missing = outcomes
    assert isinstance(found, Found) and found.conversation.unread_count == 2
    assert isinstance(malformed, Malformed) and malformed.reason == "expected owner|type|target"
    assert isinstance(failed, Failed) and failed.failure.error_code == 110404
    assert isinstance(unanswered_error, Unanswered) and unanswered_error.error is chunk_error
    assert isinstance(unanswered_silent, Unanswered) and unanswered_silent.error is None
    assert isinstance(unanswered_missing, Unanswered) and unanswered_missing.error is None
    assert result.counts() == {"found": 1, "failed": 1, "malformed": 1, "unanswered": 3}
    assert result.errors == [chunk_error]
    assert result.all_failed is False


def test_a_found_conversation_without_its_id_is_matched_by_owner_type_and_target() -> None:
    result = LookupResult(
        requested=["Alice|1|Bob"],
        found=[Conversation.model_validate({"sender_id": "alice", "type": 1, "receiver_id": "bob"})],
    )
    assert [o.status for o in result.outcomes()] == ["found"]


def test_all_failed_only_when_every_call_failed() -> None:
    error = Timeout("no answer")
    assert LookupResult(requested=["a|1|b"], chunk_failures=[ChunkFailure(("a|1|b",), error)]).all_failed is True
    assert LookupResult(requested=["a|1|b"]).all_failed is False


# --- Lenient reading, against a reference -------------------------------------------------------------

LENIENT_MODELS: list[type[BaseModel]] = [Conversation, LastMessage, MessageBody, RevokeNotification, FailedConversation]
# The before-validators of the models, by field: they run ahead of the lenient reading.
BEFORE: dict[str, Any] = {
    "stick_top": Conversation._bools,
    "server_extension": Conversation._extension_text,
    "sender_no_sense": LastMessage._bools,
    "receiver_no_sense": LastMessage._bools,
}
# Values at the edges of pydantic's lax reading of int, str, bool and lists.
EDGE_VALUES = [
    *(True, False, 0, 1, -1, 2**63, -(2**70), 0.0, -0.0, 1.0, 1.5, 1e20, 1e300),
    *("", " ", "0", "1", " 12 ", "1.0", "1.5", "1e3", "0x10", "1_000", "٣", "true", " TRUE ", "no", "on", "maybe"),
    *([], [1], [1.0], [1.5], ["1"], [True], [None], [[]], {}, {"text": "t"}, {"message_type": "1"}),
]
field_values = st.one_of(st.sampled_from(EDGE_VALUES), json_values)


def read_as_before(model: type[BaseModel], name: str, value: Any) -> Any:
    """How a field was read before the lenient reading moved into pydantic-core: the field's own type
    (as pydantic reads it, numbers coerced to text), and None whenever that raised ValidationError."""
    annotation = model.model_fields[name].annotation
    if annotation is Any:
        return value
    value = BEFORE.get(name, lambda v: v)(value)
    try:
        return TypeAdapter(annotation, config=ConfigDict(coerce_numbers_to_str=True)).validate_python(value)
    except ValidationError:
        return None


def exactly(value: Any) -> tuple[type, str]:
    return type(value), repr(value)  # repr tells 1, 1.0, True and "1" apart, in lists and models too


@settings(max_examples=400, deadline=None)
@given(model=st.sampled_from(LENIENT_MODELS), data=st.data())
def test_every_field_reads_any_json_value_as_it_did_before(model: type[BaseModel], data: st.DataObject) -> None:
    names = st.sampled_from([*model.model_fields, "an_unknown_field"])
    sent = data.draw(st.dictionaries(names, field_values, max_size=6), label="sent")
    read = model.model_validate(sent)
    for name, value in sent.items():
        if name in model.model_fields:
            assert exactly(getattr(read, name)) == exactly(read_as_before(model, name, value)), name
    assert read.model_fields_set == set(sent)
    assert exactly(read.model_extra) == exactly({k: v for k, v in sent.items() if k not in model.model_fields})


def test_a_field_that_would_refuse_odd_values_cannot_be_declared() -> None:
    with pytest.raises(TypeError, match="count"):

        class Strict(_Lenient):
            fine: Maybe[int] = None
            count: int | None = None


@pytest.mark.parametrize("number", [None, 0, 1, 2, 3, 4, -1, True, False])
@pytest.mark.parametrize("conversation_id", [None, "", "a|1|b", "a|2|b", "a|3|b", "a|4|b", "a|b", "a|1|b|c", "a| 1|b"])
def test_conversation_type_as_the_enum_reads_it(number: int | None, conversation_id: str | None) -> None:
    c = Conversation(type=number, conversation_id=conversation_id)
    expected = None
    if c.type in (1, 2, 3):
        expected = ConversationType(c.type)
    elif conversation_id and conversation_id.count("|") == 2 and conversation_id.split("|")[1] in ("1", "2", "3"):
        expected = ConversationType(int(conversation_id.split("|")[1]))
    assert c.conversation_type is expected
