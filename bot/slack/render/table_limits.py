"""Slack's limits for the `table` block, as documented (rows, cells, column settings) and as integrators
report them (all cells' text together, one table per message), and the check of one table against them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TABLE_ROWS_MAX = 100
TABLE_CELLS_MAX = 20
TABLE_COLUMN_SETTINGS_MAX = 20
TABLE_TEXT_MAX = 10_000  # reported, not documented: all cells' text together
TABLE_CELL_TEXT_MAX = 2_000  # a very long cell gets the message refused; none of ours comes near
TABLE_ALIGNS = frozenset({"left", "center", "right"})
RICH_TEXT_ELEMENTS = frozenset({"text", "date", "emoji", "link"})  # never user, usergroup, broadcast: data pings


def table_problems(block: Mapping[str, Any], where: str) -> list[str]:
    rows = block.get("rows")
    if not isinstance(rows, list) or not rows:
        return [f"{where} rows is not a non-empty list"]
    found: list[str] = []
    if len(rows) > TABLE_ROWS_MAX:
        found.append(f"{where} has {len(rows)} rows (at most {TABLE_ROWS_MAX})")
    settings = block.get("column_settings")
    if settings is not None:
        if not isinstance(settings, list) or len(settings) > TABLE_COLUMN_SETTINGS_MAX:
            found.append(f"{where} column_settings is not a list of at most {TABLE_COLUMN_SETTINGS_MAX} items")
        else:
            for index, setting in enumerate(settings):
                found.extend(_column_setting_problems(setting, f"{where} column_settings[{index}]"))
    total = 0
    for number, row in enumerate(rows):
        label = f"{where} rows[{number}]"
        if not isinstance(row, list) or not row:
            found.append(f"{label} is not a non-empty list of cells")
            continue
        if len(row) > TABLE_CELLS_MAX:
            found.append(f"{label} has {len(row)} cells (at most {TABLE_CELLS_MAX})")
        for index, cell in enumerate(row):
            problem, length = _cell_problem(cell)
            total += length
            if problem:
                found.append(f"{label}[{index}] {problem}")
    if total > TABLE_TEXT_MAX:
        found.append(f"{where} holds {total} characters of cell text (at most about {TABLE_TEXT_MAX})")
    return found


def _column_setting_problems(setting: Any, where: str) -> list[str]:
    if setting is None:
        return []  # null: that column keeps its defaults
    if not isinstance(setting, Mapping):
        return [f"{where} is not an object or null"]
    found: list[str] = []
    if "align" in setting and setting["align"] not in TABLE_ALIGNS:
        found.append(f"{where} align {setting['align']!r} is not one of {', '.join(sorted(TABLE_ALIGNS))}")
    if "is_wrapped" in setting and not isinstance(setting["is_wrapped"], bool):
        found.append(f"{where} is_wrapped is not a boolean")
    unknown = set(setting) - {"align", "is_wrapped"}
    if unknown:
        found.append(f"{where} has unknown fields {', '.join(sorted(map(str, unknown)))}")
    return found


def _cell_problem(cell: Any) -> tuple[str | None, int]:
    """What is wrong with a table cell (None: nothing), and how much text it holds."""
    if not isinstance(cell, Mapping):
        return "is not an object", 0
    kind = cell.get("type")
    if kind == "raw_text":
        text = cell.get("text")
        if not isinstance(text, str) or not text.strip():
            return "(raw_text) is empty", 0
        if len(text) > TABLE_CELL_TEXT_MAX:
            return f"(raw_text) is {len(text)} characters (at most {TABLE_CELL_TEXT_MAX})", len(text)
        return None, len(text)
    if kind != "rich_text":
        return f"has type {kind!r} (allowed: raw_text, rich_text)", 0
    sections = cell.get("elements")
    if not isinstance(sections, list) or not sections:
        return "(rich_text) elements is not a non-empty list", 0
    length = 0
    for section in sections:
        if not isinstance(section, Mapping) or section.get("type") != "rich_text_section":
            return "(rich_text) holds something other than a rich_text_section", length
        elements = section.get("elements")
        if not isinstance(elements, list) or not elements:
            return "(rich_text) has an empty section", length
        for element in elements:
            kind = element.get("type") if isinstance(element, Mapping) else None
            if kind not in RICH_TEXT_ELEMENTS:
                return (
                    f"(rich_text) holds a {kind!r} element (the bot writes {', '.join(sorted(RICH_TEXT_ELEMENTS))})",
                    length,
                )
            assert isinstance(element, Mapping)
            if kind == "text":
                text = element.get("text")
                if not isinstance(text, str) or not text:
                    return "(rich_text) has an empty text element", length
                length += len(text)
            elif kind == "date":
                if not isinstance(element.get("timestamp"), int) or not isinstance(element.get("format"), str):
                    return "(rich_text) has a date element without an integer timestamp and a format", length
                length += len(str(element.get("fallback") or ""))
            else:
                length += len(str(element.get("name") or element.get("url") or ""))
    if length == 0:
        return "(rich_text) shows no text", 0
    if length > TABLE_CELL_TEXT_MAX:
        return f"(rich_text) is {length} characters (at most {TABLE_CELL_TEXT_MAX})", length
    return None, length
