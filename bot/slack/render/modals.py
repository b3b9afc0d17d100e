"""The Details modal: every field Yunxin returned for one conversation, pretty-printed, and the list
of found conversations a compact answer's "Details…" button opens, to choose one from.

Pure functions from domain data to a `views.open` / `views.update` view. The modal opens at once
with a loading view (a `trigger_id` lives 3 seconds) and is filled in when the lookup returns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.yunxin.models import Failed, Found, LookupResult, Malformed, Outcome, tally

from ..actions import PICKER_BACK_ACTION, PICKER_CHOICE_ACTION, ModalState
from ..i18n import EN, N_, Translator
from ..i18n.outside import translate_outside
from .kit import context, escape_mrkdwn, plain, sandbox_label, section, shorten
from .limits import OPTION_TEXT_MAX, SECTION_TEXT_MAX, SELECT_OPTIONS_MAX
from .view_limits import VIEW_BLOCKS_MAX, VIEW_TITLE_MAX
from .yunxin_text import error_text, lookup_summary

View = dict[str, Any]
DETAILS_CALLBACK = "conversation_details_view"
TITLE = N_("Conversation details")
# A code block's fences and the escaping of & < > cost characters; keep each chunk's raw text under this.
_CHUNK = SECTION_TEXT_MAX - 200
# What a Details modal shows of each field Yunxin returned (a modal holds ~250,000 characters in all).
FIELD_SHOWN_MAX = 20_000
ITEMS_SHOWN_MAX = 200
DEPTH_SHOWN_MAX = 20
# Room for the Back button, the heading, context and the "shortened" note around the JSON chunks.
_JSON_BLOCKS_MAX = VIEW_BLOCKS_MAX - 5
# Room for the list's introduction, its two notes and the note of conversations left out of its menus.
_MENUS_MAX = VIEW_BLOCKS_MAX - 4


def _plain(text: str, limit: int = VIEW_TITLE_MAX) -> dict[str, Any]:
    return plain(shorten(text, limit))


def _section(text: str) -> dict[str, Any]:
    return section(shorten(text, SECTION_TEXT_MAX))


def _context(text: str) -> dict[str, Any]:
    return context([shorten(text, SECTION_TEXT_MAX)])


def _view(blocks: list[dict[str, Any]], state: ModalState | None = None, t: Translator = EN) -> View:
    """A modal; `state` (the list it came from) is kept for the clicks made in it."""
    return {
        "type": "modal",
        "callback_id": DETAILS_CALLBACK,
        "title": _plain(t.gettext(TITLE)),
        "close": _plain(t.gettext("Close")),
        "private_metadata": (state.encode() or "") if state is not None else "",
        "blocks": blocks,
    }


def _heading(conversation_id: str, environment: str | None, sandbox: bool, t: Translator) -> list[dict[str, Any]]:
    shown = f"`{escape_mrkdwn(shorten(environment, 100))}`" if environment else ""
    notes = [t.gettext("environment {environment}").format(environment=shown)] if environment else []
    if sandbox:
        notes.insert(0, sandbox_label(t))
    blocks = [_section(f"*`{escape_mrkdwn(shorten(conversation_id, 200))}`*")]
    if notes:
        blocks.append(_context(" · ".join(notes)))
    return blocks


def render_loading_view(ids: Sequence[str], t: Translator = EN) -> View:
    """Shown while the lookup of `ids` runs."""
    if len(ids) == 1:
        shown = f"`{escape_mrkdwn(shorten(ids[0], 200))}`"
        return _view([_section(":hourglass_flowing_sand: " + t.gettext("Looking up {id}…").format(id=shown))], t=t)
    text = t.ngettext("Looking up {count} conversation…", "Looking up {count} conversations…", len(ids))
    return _view([_section(":hourglass_flowing_sand: " + text.format(count=len(ids)))], t=t)


def _json_chunks(text: str) -> list[str]:
    """Split pretty JSON at line ends into pieces that each fit one section."""
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > _CHUNK:  # one enormous value: cut it, marking the cut
            chunks.extend([current] if current else [])
            chunks.append(line[:_CHUNK])
            current, line = "", line[_CHUNK:]
        if len(current) + len(line) > _CHUNK:
            chunks.append(current)
            current = ""
        current += line
    if current:
        chunks.append(current)
    return chunks


def _cut(value: Any, depth: int = 0) -> Any:
    """`value` with every string cut to FIELD_SHOWN_MAX characters and every list and object to
    ITEMS_SHOWN_MAX items, before anything formats it: one huge field from Yunxin must not stall the
    event loop (a modal shows at most ~250,000 characters anyway)."""
    if isinstance(value, str):
        return value if len(value) <= FIELD_SHOWN_MAX else f"{value[:FIELD_SHOWN_MAX]}… ({len(value)} characters)"
    if depth >= DEPTH_SHOWN_MAX and isinstance(value, dict | list):
        return f"… ({len(value)} items nested deeper than {DEPTH_SHOWN_MAX})"
    if isinstance(value, dict):
        items = list(value.items())
        cut = {str(key): _cut(item, depth + 1) for key, item in items[:ITEMS_SHOWN_MAX]}
        if len(items) > ITEMS_SHOWN_MAX:
            cut["…"] = f"{len(items) - ITEMS_SHOWN_MAX} more fields not shown"
        return cut
    if isinstance(value, list):
        cut_list = [_cut(item, depth + 1) for item in value[:ITEMS_SHOWN_MAX]]
        if len(value) > ITEMS_SHOWN_MAX:
            cut_list.append(f"… {len(value) - ITEMS_SHOWN_MAX} more items not shown")
        return cut_list
    return value


def _json_blocks(data: Any, t: Translator) -> list[dict[str, Any]]:
    pretty = json.dumps(_cut(data), ensure_ascii=False, indent=2, sort_keys=True)
    chunks = _json_chunks(pretty)
    blocks = [_section(f"```{escape_mrkdwn(chunk)}```") for chunk in chunks[:_JSON_BLOCKS_MAX]]
    if len(chunks) > _JSON_BLOCKS_MAX:
        left = sum(len(c) for c in chunks[_JSON_BLOCKS_MAX:])
        blocks.append(
            _context(t.gettext("Shortened to fit a Slack modal: {count} more characters not shown.").format(count=left))
        )
    return blocks


def render_details_view(
    outcome: Outcome,
    *,
    environment: str | None,
    sandbox: bool,
    redact_text: bool,
    back_to: ModalState | None = None,
    t: Translator = EN,
) -> View:
    """Everything known of one conversation: Yunxin's fields as returned, or why it failed. With `back_to`
    (the list it was chosen from) it starts with a button back to that list."""
    back = [_actions(_back_button(t))] if back_to is not None else []
    blocks = back + _heading(outcome.conversation_id, environment, sandbox, t)
    if isinstance(outcome, Found):
        blocks.extend(_json_blocks(outcome.conversation.as_returned(redact=redact_text), t))
    elif isinstance(outcome, Failed):
        reason = escape_mrkdwn(shorten(outcome.failure.reason, 2000))
        blocks.append(_section(":x: " + t.gettext("Yunxin could not return it: {reason}").format(reason=reason)))
    elif isinstance(outcome, Malformed):
        reason = escape_mrkdwn(shorten(translate_outside(outcome.reason, t), 2000))
        blocks.append(_section(":no_entry: " + t.gettext("Not a conversation ID: {reason}").format(reason=reason)))
    elif outcome.error is not None:
        blocks.append(_section(error_text(outcome.error, 1000, t)))
    else:
        blocks.append(_section(":grey_question: " + t.gettext("Yunxin did not return this ID.")))
    return _view(blocks, back_to, t)


def _actions(element: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": [element]}


def _back_button(t: Translator) -> dict[str, Any]:
    return {"type": "button", "text": _plain(t.gettext("Back to the list")), "action_id": PICKER_BACK_ACTION}


def _menu(ids: Sequence[str], first: int, total: int, t: Translator) -> dict[str, Any]:
    """A menu of conversation IDs; each option's value is the ID (a found ID is valid, so at most 67
    characters: within an option value's 150), the environment being the modal's."""
    last = first + len(ids) - 1
    return {
        "type": "static_select",
        "action_id": PICKER_CHOICE_ACTION,
        "placeholder": _plain(
            t.gettext("Conversations {first}–{last} of {total}").format(first=first, last=last, total=total), 150
        ),
        "options": [{"text": _plain(i, OPTION_TEXT_MAX), "value": i} for i in ids],
    }


def _menus(found_ids: Sequence[str], t: Translator) -> list[dict[str, Any]]:
    """The found IDs in menus of up to 100, one menu a block, as many as a modal holds."""
    starts = range(0, len(found_ids), SELECT_OPTIONS_MAX)
    menus = [
        _actions(_menu(found_ids[s : s + SELECT_OPTIONS_MAX], s + 1, len(found_ids), t)) for s in starts[:_MENUS_MAX]
    ]
    if len(starts) > _MENUS_MAX:
        left = len(found_ids) - _MENUS_MAX * SELECT_OPTIONS_MAX
        menus.append(
            _context(
                t.gettext("{count} more conversations found are not listed: too many for one modal.").format(count=left)
            )
        )
    return menus


def render_picker_view(result: LookupResult, state: ModalState, t: Translator = EN) -> View:
    """The conversations of `result` that were found, in menus to choose one from; `state` (the lookup
    listed and where it was opened) stays in the view for the choice and the way back."""
    outcomes = result.outcomes()
    found_ids = [o.conversation_id for o in outcomes if isinstance(o, Found)]
    notes = [sandbox_label(t)] if result.sandbox else []
    summary = _context(" · ".join([*notes, lookup_summary(tally(outcomes), result.environment, t)]))
    if not found_ids:
        none_found = t.gettext("Yunxin returned none of these conversations this time.")
        return _view([_section(f":grey_question: {none_found}"), summary], state, t)
    blocks = [_section(t.gettext("*Choose a conversation* to see every field Yunxin returned for it.")), summary]
    unlisted = len(outcomes) - len(found_ids)
    if unlisted:
        blocks.append(
            _context(
                t.gettext("{count} of these IDs are not listed: Yunxin did not return them this time.").format(
                    count=unlisted
                )
            )
        )
    return _view(blocks + _menus(found_ids, t), state, t)


def render_message_view(message: dict[str, Any], t: Translator = EN) -> View:
    """A message the bot would post (a notice, a refusal), shown in the modal instead."""
    return _view(list(message["blocks"]), t=t)
