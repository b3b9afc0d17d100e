"""Exact JSON lengths of the blocks `kit` makes, counted from their texts instead of encoding each block.

A text adds exactly its own JSON length (`json_text_length`: the text escaped, without its quotes) to the
JSON of whatever holds it, wherever it sits; all else in a block `kit` makes is fixed by the constructor
that made it. So each constructor's block is measured once, its texts empty, and any block it makes is
that length plus its texts' lengths: the number `blocks_json_length(block)` gives (the tests check each
function here against it over any texts), at the cost of one escape per text rather than an encoding
of every key and value. The limits are Slack's hard limits: these are exact counts, never estimates.
"""

from __future__ import annotations

from collections.abc import Sequence

from .kit import actions, button, context, divider, header, mrkdwn, section
from .limits import blocks_json_length, json_text_length

_MRKDWN = blocks_json_length(mrkdwn(""))
_SECTION = blocks_json_length(section(""))
_HEADER = blocks_json_length(header(""))
_EMPTY_LIST = len("[]")
_CONTEXT = blocks_json_length(context([])) - _EMPTY_LIST  # its elements counted apart
_ACTIONS = blocks_json_length(actions([])) - _EMPTY_LIST
_BUTTON = blocks_json_length(button("", "", ""))
_STYLE = blocks_json_length(button("", "", "", style="s")) - _BUTTON - len("s")
DIVIDER_LENGTH = blocks_json_length(divider())


def list_length(lengths: Sequence[int]) -> int:
    """JSON length of a list of items of these JSON lengths: theirs, a `, ` between each two, and `[]`."""
    return sum(lengths) + 2 * len(lengths) if lengths else _EMPTY_LIST


def member_length(key: str, value_length: int) -> int:
    """What one more member (`, "key": value`) adds to the JSON of an object that has members already."""
    return len(', "": ') + json_text_length(key) + value_length


_FIELDS_MEMBER = member_length("fields", 0)
_ACCESSORY_MEMBER = member_length("accessory", 0)


def mrkdwn_length(text: str) -> int:
    return _MRKDWN + json_text_length(text)


def section_length(text: str) -> int:
    return _SECTION + json_text_length(text)


def fields_section_length(text: str, fields: Sequence[str], button_texts: tuple[str, str, str] | None = None) -> int:
    """`fields_section(text, fields)`'s, with a button accessory (no style) when `button_texts` gives its text,
    action_id and value. Every text adds its own escaped length wherever it sits, so they are all escaped
    together, in one call, joined: a found conversation's section has a dozen of them."""
    texts = [text, *fields]
    length = _SECTION + _FIELDS_MEMBER + list_length([_MRKDWN] * len(fields))
    if button_texts is not None:
        texts.extend(button_texts)
        length += _ACCESSORY_MEMBER + _BUTTON
    return length + json_text_length("".join(texts))


def header_length(text: str) -> int:
    return _HEADER + json_text_length(text)


def context_length(texts: Sequence[str]) -> int:
    """Its texts escaped together, in one call (see `fields_section_length`)."""
    return _CONTEXT + list_length([_MRKDWN] * len(texts)) + json_text_length("".join(texts))


def button_length(text: str, action_id: str, value_length: int, *, style: str | None = None) -> int:
    """A button's, its value's JSON length given (a lookup's value is carried by several buttons)."""
    length = _BUTTON + json_text_length(text) + json_text_length(action_id) + value_length
    return length + _STYLE + json_text_length(style) if style else length


def actions_length(button_lengths: Sequence[int]) -> int:
    return _ACTIONS + list_length(button_lengths)
