"""Conversation IDs: owner|type|target, checked locally; malformed ones come back with a reason."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.yunxin.ids import ConversationId, ConversationType, InvalidId, match_key, parse_id, parse_ids, split_text

ACCOUNT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@.-"
accounts = st.text(alphabet=ACCOUNT_CHARS, min_size=1, max_size=32)
team_ids = st.integers(min_value=0, max_value=2**63 - 1).map(str)


@pytest.mark.parametrize(
    ("raw", "owner", "kind", "target"),
    [
        ("alice|1|bob", "alice", ConversationType.P2P, "bob"),
        ("a|2|1", "a", ConversationType.TEAM, "1"),
        ("a|3|9223372036854775807", "a", ConversationType.SUPER_TEAM, "9223372036854775807"),
        ("user_1@corp.example-x|1|Peer.2", "user_1@corp.example-x", ConversationType.P2P, "Peer.2"),
        ("o" * 32 + "|1|" + "p" * 32, "o" * 32, ConversationType.P2P, "p" * 32),
        ("  alice|1|bob \n", "alice", ConversationType.P2P, "bob"),
    ],
)
def test_valid_ids_parse(raw: str, owner: str, kind: ConversationType, target: str) -> None:
    parsed = parse_id(raw)
    assert parsed == ConversationId(owner, kind, target)
    assert str(parsed) == f"{owner}|{kind.value}|{target}"


@pytest.mark.parametrize(
    ("raw", "reason_part"),
    [
        ("alice", "owner|type|target"),
        ("alice|1", "owner|type|target"),
        ("alice|1|bob|x", "owner|type|target"),
        ("|1|bob", "owner account is empty"),
        ("o" * 33 + "|1|bob", "33 characters"),
        ("al ice|1|bob", "letters, digits"),
        ("alice#|1|bob", "letters, digits"),
        ("ålice|1|bob", "letters, digits"),
        ("alice|0|bob", "type must be 1"),
        ("alice|4|bob", "type must be 1"),
        ("alice|01|bob", "type must be 1"),
        ("alice|p2p|bob", "type must be 1"),
        ("alice||bob", "type must be 1"),
        ("alice|1|", "peer account is empty"),
        ("alice|1|" + "p" * 33, "33 characters"),
        ("alice|1|bob/x", "letters, digits"),
        ("alice|2|team7", "numeric team ID"),
        ("alice|3|", "numeric team ID"),
        ("alice|2|-5", "numeric team ID"),
        ("alice|2|" + "1" * 20, "at most 19 digits"),
        ("alice|3|１２３", "numeric team ID"),  # full-width digits are not ASCII digits
    ],
)
def test_malformed_ids_come_back_with_a_reason(raw: str, reason_part: str) -> None:
    parsed = parse_id(raw)
    assert isinstance(parsed, InvalidId)
    assert parsed.raw == raw
    assert reason_part in parsed.reason


@given(owner=accounts, kind=st.sampled_from(ConversationType), peer=accounts, team=team_ids)
def test_any_well_formed_id_round_trips(owner: str, kind: ConversationType, peer: str, team: str) -> None:
    target = peer if kind is ConversationType.P2P else team
    text = f"{owner}|{kind.value}|{target}"
    parsed = parse_id(text)
    assert isinstance(parsed, ConversationId)
    assert str(parsed) == text


@given(st.text(max_size=80))
def test_parse_id_never_raises_and_only_accepts_what_it_can_print_back(text: str) -> None:
    parsed = parse_id(text)
    if isinstance(parsed, ConversationId):
        assert str(parsed) == text.strip()
    else:
        assert parsed.reason


@given(
    st.text(alphabet=st.sampled_from("a|1 \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000\u200b,，、;；.é"), max_size=40)
    | st.text()
)
def test_split_text_splits_on_runs_of_separators(text: str) -> None:
    assert split_text(text) == [piece for piece in re.split(r"[\s,，、;；]+", text) if piece]


def test_split_text_handles_spaces_commas_and_new_lines() -> None:
    text = "a|1|b, c|2|3\n d|3|4,,e|1|f\t\r\ng|1|h，i|1|j;k|1|l  "
    assert split_text(text) == ["a|1|b", "c|2|3", "d|3|4", "e|1|f", "g|1|h", "i|1|j", "k|1|l"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", ", ,\n,"])
def test_split_text_of_blank_input_is_empty(text: str) -> None:
    assert split_text(text) == []


def test_parse_ids_drops_duplicates_case_insensitively_and_keeps_order() -> None:
    parsed = parse_ids(["b|1|c", "alice|1|bob", "ALICE|1|Bob", "b|1|c", " alice|1|bob ", "z|2|1"])
    assert [str(p) for p in parsed] == ["b|1|c", "alice|1|bob", "z|2|1"]


def test_parse_ids_keeps_malformed_ones_in_place_with_their_reason() -> None:
    parsed = parse_ids(["a|1|b", "nonsense", "c|9|d", "e|2|3", "nonsense", ""])
    assert [type(p) for p in parsed] == [ConversationId, InvalidId, InvalidId, ConversationId]
    assert isinstance(parsed[1], InvalidId) and parsed[1].raw == "nonsense"
    assert isinstance(parsed[2], InvalidId) and "type" in parsed[2].reason


def test_match_key_ignores_case_and_surrounding_space() -> None:
    assert match_key(" Alice|1|BOB ") == match_key("alice|1|bob")
    assert ConversationId("Alice", ConversationType.P2P, "BOB").key == "alice|1|bob"


def test_type_labels() -> None:
    assert [t.label for t in ConversationType] == ["one-to-one", "team", "super team"]
