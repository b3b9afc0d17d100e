"""Slack's limits for views: modals (`views.open` / `views.update`) and Home tabs (`views.publish`), and the
check of a view against them (its blocks checked as a message's are, input blocks included)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .limits import VIEW_BLOCK_TYPES, block_problems, id_problems, text_object_problems

VIEW_BLOCKS_MAX = 100
VIEW_TITLE_MAX = 24
VIEW_PRIVATE_METADATA_MAX = 3000
VIEW_CALLBACK_ID_MAX = 255


def view_problems(view: Mapping[str, Any], kind: str = "modal") -> list[str]:
    """Every way a view breaks Slack's limits, a modal (`views.open` / `views.update`) or a Home tab
    (`kind="home"`, `views.publish`); [] when fine. A modal with input blocks needs a submit button; a Home tab
    has no title or buttons of its own; block IDs are unique within a view."""
    if not isinstance(view, Mapping):
        return ["the view is not an object"]
    found: list[str] = []
    if view.get("type") != kind:
        found.append(f"the view has type {view.get('type')!r} (expected {kind})")
    if kind == "modal":
        found.extend(text_object_problems(view.get("title"), "the view title", VIEW_TITLE_MAX, plain_only=True))
        for key in ("close", "submit"):
            if key in view:
                found.extend(text_object_problems(view[key], f"the view {key}", VIEW_TITLE_MAX, plain_only=True))
    else:
        found.extend(f"a {kind} view has no {key}" for key in ("title", "close", "submit") if key in view)
    found.extend(id_problems(view, "callback_id", VIEW_CALLBACK_ID_MAX, "the view"))
    metadata = view.get("private_metadata")
    if metadata is not None and (not isinstance(metadata, str) or len(metadata) > VIEW_PRIVATE_METADATA_MAX):
        found.append(f"the view private_metadata is not a string of at most {VIEW_PRIVATE_METADATA_MAX} characters")
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return [*found, "the view blocks is not a non-empty list"]
    if len(blocks) > VIEW_BLOCKS_MAX:
        found.append(f"the view has {len(blocks)} blocks (at most {VIEW_BLOCKS_MAX})")
    for index, block in enumerate(blocks):
        found.extend(block_problems(block, f"blocks[{index}]", VIEW_BLOCK_TYPES))
    block_ids = [block["block_id"] for block in blocks if isinstance(block, Mapping) and "block_id" in block]
    if len(block_ids) != len(set(map(str, block_ids))):
        found.append("the view repeats a block_id")
    has_input = any(isinstance(block, Mapping) and block.get("type") == "input" for block in blocks)
    if kind == "modal" and has_input and "submit" not in view:
        found.append("a modal with input blocks needs a submit button")
    return found
