"""Conversation IDs: `{owner_account}|{type}|{target}`, checked before anything is sent."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

MAX_ACCOUNT_LENGTH = 32
MAX_TEAM_ID_DIGITS = 19  # an int64 in decimal

_ACCOUNT = re.compile(r"[A-Za-z0-9_@.\-]{1,32}")
_TEAM_ID = re.compile(r"[0-9]{1,19}")
# What separates IDs in free text: whitespace (new lines included: what str.split() splits on, the same
# characters as the pattern \s) and these commas and semicolons, ASCII or full-width.
_NOT_SPACE_SEPARATORS = ",，、;；"


class ConversationType(IntEnum):
    P2P = 1
    TEAM = 2
    SUPER_TEAM = 3

    @property
    def label(self) -> str:
        return {1: "one-to-one", 2: "team", 3: "super team"}[self.value]


# The types by number and as an ID writes them: dictionary lookups, where ConversationType(...) runs the
# enum's constructor in Python for every ID parsed and every found conversation shown.
TYPES_BY_NUMBER: dict[int, ConversationType] = {kind.value: kind for kind in ConversationType}
TYPES_BY_TEXT: dict[str, ConversationType] = {str(kind.value): kind for kind in ConversationType}


@dataclass(frozen=True, slots=True)
class ConversationId:
    owner: str
    type: ConversationType
    target: str

    def __str__(self) -> str:
        return f"{self.owner}|{self.type.value}|{self.target}"

    @property
    def key(self) -> str:
        """Yunxin lowercases accounts, so IDs that differ only in case are the same conversation."""
        return match_key(str(self))


@dataclass(frozen=True, slots=True)
class InvalidId:
    """A piece of input that is not a conversation ID, and why: never sent to Yunxin."""

    raw: str
    reason: str


def match_key(conversation_id: str) -> str:
    return conversation_id.strip().lower()


def _account_problem(value: str, role: str) -> str | None:
    if not value:
        return f"the {role} account is empty"
    if len(value) > MAX_ACCOUNT_LENGTH:
        return f"the {role} account is {len(value)} characters long (at most {MAX_ACCOUNT_LENGTH})"
    if not _ACCOUNT.fullmatch(value):
        return f"the {role} account may only hold letters, digits and _ @ . -"
    return None


def parse_id(raw: str) -> ConversationId | InvalidId:
    text = raw.strip()
    parts = text.split("|")
    if len(parts) != 3:
        return InvalidId(raw, "expected owner|type|target, for example alice|1|bob")
    owner, type_text, target = parts
    problem = _account_problem(owner, "owner")
    if problem:
        return InvalidId(raw, problem)
    kind = TYPES_BY_TEXT.get(type_text)
    if kind is None:
        return InvalidId(raw, "the type must be 1 (one-to-one), 2 (team) or 3 (super team)")
    if kind is ConversationType.P2P:
        problem = _account_problem(target, "peer")
    elif not _TEAM_ID.fullmatch(target):
        problem = f"a {kind.label} target must be a numeric team ID of at most {MAX_TEAM_ID_DIGITS} digits"
    if problem:
        return InvalidId(raw, problem)
    return ConversationId(owner, kind, target)


def split_text(text: str) -> list[str]:
    r"""The pieces between runs of separators: one str.split() once the other separators are made spaces,
    where splitting by the pattern [\s,，、;；]+ and dropping empty pieces cost several times as much."""
    for separator in _NOT_SPACE_SEPARATORS:
        if separator in text:
            text = text.replace(separator, " ")
    return text.split()


def parse_ids(items: Iterable[str]) -> list[ConversationId | InvalidId]:
    """Parse each item, drop duplicates (by Yunxin's case-insensitive identity), keep order."""
    seen: set[str] = set()
    out: list[ConversationId | InvalidId] = []
    for item in items:
        raw = item.strip()
        if not raw:
            continue
        key = match_key(raw)
        if key in seen:
            continue
        seen.add(key)
        out.append(parse_id(raw))
    return out
