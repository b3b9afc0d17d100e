"""Slack's Block Kit limits, and a check of a message against them.

Slack rejects a message over any of these with `invalid_blocks`, `msg_blocks_too_long` or (a table's)
`invalid_attachments`, and plain dicts are never validated before they are sent, so the renderer, its tests
and the Slack stand-in all use `problems()` to prove every message is within them.

A `table` block goes in a message's `attachments` (Slack's table block reference): up to 100 rows of up to
20 cells, each `raw_text` or `rich_text` and not empty, `column_settings` of up to 20 items. What integrators
report beyond the reference is checked too: one table per message (a second is `invalid_attachments`), and
about 10,000 characters of cell text in all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from json.encoder import encode_basestring
from typing import Any

from .table_limits import (
    table_problems,
)

MESSAGE_BLOCKS_MAX = 50
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
ACTIONS_ELEMENTS_MAX = 25
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
BUTTON_URL_MAX = 3000
SELECT_OPTIONS_MAX = 100
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
BLOCK_ID_MAX = 255
ACTION_ID_MAX = 255
TEXT_OBJECT_MAX = 3000
MESSAGE_TEXT_MAX = 40_000
# Slack answers `msg_blocks_too_long` at about 13,000 characters of blocks; keep a margin under it.
BLOCKS_JSON_MAX = 12_000

TABLES_PER_MESSAGE_MAX = 1
ATTACHMENTS_MAX = 100

BLOCK_TYPES = frozenset({"section", "header", "context", "actions", "divider", "table"})
# Modals and the Home tab also take input blocks (a message refuses them).
VIEW_BLOCK_TYPES = BLOCK_TYPES | {"input"}
TEXT_TYPES = frozenset({"mrkdwn", "plain_text"})
BUTTON_STYLES = frozenset({"primary", "danger"})


# The encoder json.dumps(value, ensure_ascii=False) makes, made once: dumps builds a new encoder for every
# call with options other than the defaults, and building it costs about as much as encoding a block.
_MEASURING = json.JSONEncoder(ensure_ascii=False)


def blocks_json_length(blocks: Any) -> int:
    """Characters of the blocks' JSON text: what `BLOCKS_JSON_MAX` is measured in."""
    return len(_MEASURING.encode(blocks))


def json_text_length(text: str) -> int:
    """Characters of `text` inside a JSON string: its length in the blocks' JSON, quotes left out.
    `encode_basestring` is the escape `_MEASURING` applies to every string, called here directly."""
    return len(encode_basestring(text)) - 2


def problems(message: Mapping[str, Any]) -> list[str]:
    """Every way `message` breaks Slack's limits, as readable sentences; [] when it is fine."""
    if not isinstance(message, Mapping):
        return ["the message is not an object"]
    found = _text_problems(message.get("text"))
    found.extend(_attachments_problems(message.get("attachments")))
    tables = _tables_in(message)
    if tables > TABLES_PER_MESSAGE_MAX:
        found.append(f"the message has {tables} tables (at most {TABLES_PER_MESSAGE_MAX})")
    if "blocks" not in message:
        return found
    blocks = message["blocks"]
    if not isinstance(blocks, list):
        return [*found, "blocks is not a list"]
    if len(blocks) > MESSAGE_BLOCKS_MAX:
        found.append(f"the message has {len(blocks)} blocks (at most {MESSAGE_BLOCKS_MAX})")
    length = blocks_json_length(blocks)
    if length > BLOCKS_JSON_MAX:
        found.append(f"the blocks take {length} characters of JSON (at most {BLOCKS_JSON_MAX})")
    for index, block in enumerate(blocks):
        found.extend(block_problems(block, f"blocks[{index}]"))
    return found


def has_table(message: Mapping[str, Any]) -> bool:
    """Whether a message holds a table block, in its blocks or its attachments."""
    return _tables_in(message) > 0


def _tables_in(message: Mapping[str, Any]) -> int:
    """The table blocks of a message, in its blocks and its attachments' blocks."""
    count = _tables_among(message.get("blocks"))
    attachments = message.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        if isinstance(attachment, (dict, Mapping)):
            count += _tables_among(attachment.get("blocks"))
    return count


def _tables_among(blocks: Any) -> int:
    # `(dict, Mapping)`: every block the bot makes is a dict, told apart at once, while `Mapping` alone goes
    # through the ABC's Python-level check for each block of every answer (this runs before each is posted).
    # A loop, not a sum over a generator: a generator's frame for each list cost more than the counting.
    count = 0
    if isinstance(blocks, list):
        for block in blocks:
            if isinstance(block, (dict, Mapping)) and block.get("type") == "table":
                count += 1
    return count


def _attachments_problems(attachments: Any) -> list[str]:
    if attachments is None:
        return []
    if not isinstance(attachments, list):
        return ["attachments is not a list"]
    found: list[str] = []
    if len(attachments) > ATTACHMENTS_MAX:
        found.append(f"the message has {len(attachments)} attachments (at most {ATTACHMENTS_MAX})")
    for index, attachment in enumerate(attachments):
        where = f"attachments[{index}]"
        if not isinstance(attachment, Mapping):
            found.append(f"{where} is not an object")
            continue
        blocks = attachment.get("blocks")
        if blocks is None:
            continue
        if not isinstance(blocks, list) or not blocks:
            found.append(f"{where} blocks is not a non-empty list")
            continue
        if len(blocks) > MESSAGE_BLOCKS_MAX:
            found.append(f"{where} has {len(blocks)} blocks (at most {MESSAGE_BLOCKS_MAX})")
        for number, block in enumerate(blocks):
            found.extend(block_problems(block, f"{where} blocks[{number}]"))
    return found


def _text_problems(text: Any) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        return ["the top-level text (the notification fallback) is missing or empty"]
    if len(text) > MESSAGE_TEXT_MAX:
        return [f"the top-level text is {len(text)} characters (at most {MESSAGE_TEXT_MAX})"]
    return []


def block_problems(block: Any, where: str, known: frozenset[str] = BLOCK_TYPES) -> list[str]:
    if not isinstance(block, Mapping):
        return [f"{where} is not an object"]
    kind = block.get("type")
    if kind not in known:
        return [f"{where} has unknown type {kind!r} (known: {', '.join(sorted(known))})"]
    where = f"{where} ({kind})"
    found = id_problems(block, "block_id", BLOCK_ID_MAX, where)
    if kind == "section":
        found.extend(_section_problems(block, where))
    elif kind == "header":
        found.extend(text_object_problems(block.get("text"), f"{where} text", HEADER_TEXT_MAX, plain_only=True))
    elif kind == "context":
        found.extend(_context_problems(block, where))
    elif kind == "actions":
        found.extend(_actions_problems(block, where))
    elif kind == "table":
        found.extend(table_problems(block, where))
    elif kind == "input":
        found.extend(_input_problems(block, where))
    return found


def id_problems(item: Mapping[str, Any], key: str, limit: int, where: str) -> list[str]:
    if key not in item:
        return []
    value = item[key]
    if not isinstance(value, str) or not value:
        return [f"{where} {key} is not a non-empty string"]
    if len(value) > limit:
        return [f"{where} {key} is {len(value)} characters (at most {limit})"]
    return []


def text_object_problems(obj: Any, where: str, limit: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, Mapping):
        return [f"{where} is missing or not a text object"]
    kind = obj.get("type")
    allowed = {"plain_text"} if plain_only else TEXT_TYPES
    if kind not in allowed:
        return [f"{where} has type {kind!r} (allowed: {', '.join(sorted(allowed))})"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where} is empty"]
    if len(text) > limit:
        return [f"{where} is {len(text)} characters (at most {limit})"]
    return []


def _section_problems(block: Mapping[str, Any], where: str) -> list[str]:
    if "text" not in block and "fields" not in block:
        return [f"{where} has neither text nor fields"]
    found: list[str] = []
    if "text" in block:
        found.extend(text_object_problems(block["text"], f"{where} text", SECTION_TEXT_MAX))
    if "fields" in block:
        fields = block["fields"]
        if not isinstance(fields, list) or not fields:
            return [*found, f"{where} fields is not a non-empty list"]
        if len(fields) > SECTION_FIELDS_MAX:
            found.append(f"{where} has {len(fields)} fields (at most {SECTION_FIELDS_MAX})")
        for index, field in enumerate(fields):
            found.extend(text_object_problems(field, f"{where} fields[{index}]", FIELD_TEXT_MAX))
    if "accessory" in block:
        found.extend(_element_problems(block["accessory"], f"{where} accessory"))
    return found


def _context_problems(block: Mapping[str, Any], where: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"{where} elements is not a non-empty list"]
    found: list[str] = []
    if len(elements) > CONTEXT_ELEMENTS_MAX:
        found.append(f"{where} has {len(elements)} elements (at most {CONTEXT_ELEMENTS_MAX})")
    for index, element in enumerate(elements):
        label = f"{where} elements[{index}]"
        if isinstance(element, Mapping) and element.get("type") == "image":
            if not element.get("image_url") or not element.get("alt_text"):
                found.append(f"{label} (image) needs image_url and alt_text")
        else:
            found.extend(text_object_problems(element, label, TEXT_OBJECT_MAX))
    return found


def _actions_problems(block: Mapping[str, Any], where: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"{where} elements is not a non-empty list"]
    found: list[str] = []
    if len(elements) > ACTIONS_ELEMENTS_MAX:
        found.append(f"{where} has {len(elements)} elements (at most {ACTIONS_ELEMENTS_MAX})")
    action_ids = [e.get("action_id") for e in elements if isinstance(e, Mapping) and "action_id" in e]
    if len(action_ids) != len(set(map(str, action_ids))):
        found.append(f"{where} repeats an action_id")
    for index, element in enumerate(elements):
        found.extend(_element_problems(element, f"{where} elements[{index}]"))
    return found


def _element_problems(element: Any, where: str) -> list[str]:
    """Interactive elements: the bot sends buttons and static select menus (and, in views, text inputs)."""
    kind = element.get("type") if isinstance(element, Mapping) else None
    if kind == "static_select":
        return _select_problems(element, f"{where} (static_select)")
    if kind != "button":
        return [f"{where} has unknown element type {kind!r} (known: button, static_select)"]
    where = f"{where} (button)"
    found = text_object_problems(element.get("text"), f"{where} text", BUTTON_TEXT_MAX, plain_only=True)
    found.extend(id_problems(element, "action_id", ACTION_ID_MAX, where))
    for key, limit in (("value", BUTTON_VALUE_MAX), ("url", BUTTON_URL_MAX)):
        value = element.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            found.append(f"{where} {key} is not a string of at most {limit} characters")
    if "style" in element and element["style"] not in BUTTON_STYLES:
        found.append(f"{where} style {element['style']!r} is not one of {', '.join(sorted(BUTTON_STYLES))}")
    return found


def _select_problems(element: Mapping[str, Any], where: str) -> list[str]:
    found = id_problems(element, "action_id", ACTION_ID_MAX, where)
    found.extend(text_object_problems(element.get("placeholder"), f"{where} placeholder", 150, plain_only=True))
    options = element.get("options")
    if not isinstance(options, list) or not options:
        return [*found, f"{where} options is not a non-empty list"]
    if len(options) > SELECT_OPTIONS_MAX:
        found.append(f"{where} has {len(options)} options (at most {SELECT_OPTIONS_MAX})")
    for index, option in enumerate(options):
        label = f"{where} options[{index}]"
        if not isinstance(option, Mapping):
            found.append(f"{label} is not an object")
            continue
        found.extend(text_object_problems(option.get("text"), f"{label} text", OPTION_TEXT_MAX, plain_only=True))
        value = option.get("value")
        if not isinstance(value, str) or not value or len(value) > OPTION_VALUE_MAX:
            found.append(f"{label} value is not a string of 1 to {OPTION_VALUE_MAX} characters")
    if "initial_option" in element and element["initial_option"] not in options:
        found.append(f"{where} initial_option is not one of its options")
    return found


INPUT_LABEL_MAX = 2000
INPUT_HINT_MAX = 2000
TEXT_INPUT_MAX = 3000  # a plain_text_input's min_length, max_length and initial_value
PLACEHOLDER_MAX = 150


def _input_problems(block: Mapping[str, Any], where: str) -> list[str]:
    """An input block (views only): a plain_text label, an optional hint, one text input or select menu."""
    found = text_object_problems(block.get("label"), f"{where} label", INPUT_LABEL_MAX, plain_only=True)
    if "hint" in block:
        found.extend(text_object_problems(block["hint"], f"{where} hint", INPUT_HINT_MAX, plain_only=True))
    for flag in ("optional", "dispatch_action"):
        if flag in block and not isinstance(block[flag], bool):
            found.append(f"{where} {flag} is not a boolean")
    element = block.get("element")
    kind = element.get("type") if isinstance(element, Mapping) else None
    if kind == "plain_text_input":
        assert isinstance(element, Mapping)
        found.extend(_text_input_problems(element, f"{where} element (plain_text_input)"))
    elif kind == "static_select":
        found.extend(_element_problems(element, f"{where} element"))
    else:
        found.append(f"{where} element has type {kind!r} (the bot uses plain_text_input, static_select)")
    return found


def _text_input_problems(element: Mapping[str, Any], where: str) -> list[str]:
    found = id_problems(element, "action_id", ACTION_ID_MAX, where)
    if "placeholder" in element:
        found.extend(
            text_object_problems(element["placeholder"], f"{where} placeholder", PLACEHOLDER_MAX, plain_only=True)
        )
    for flag in ("multiline", "focus_on_load"):
        if flag in element and not isinstance(element[flag], bool):
            found.append(f"{where} {flag} is not a boolean")
    lengths = {}
    for key, least in (("min_length", 0), ("max_length", 1)):
        if key in element:
            value = element[key]
            if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= TEXT_INPUT_MAX:
                found.append(f"{where} {key} is not an integer from {least} to {TEXT_INPUT_MAX}")
            else:
                lengths[key] = value
    if lengths.get("min_length", 0) > lengths.get("max_length", TEXT_INPUT_MAX):
        found.append(f"{where} min_length is more than max_length")
    initial = element.get("initial_value")
    if initial is not None and (
        not isinstance(initial, str) or len(initial) > lengths.get("max_length", TEXT_INPUT_MAX)
    ):
        found.append(f"{where} initial_value is not a string within max_length")
    return found
