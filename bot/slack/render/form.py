"""The lookup form: a modal with a multi-line input for conversation IDs and, when there are several Yunxin
environments, a choice of one; the inline errors of a submission that cannot be looked up (no IDs,
malformed IDs, too many); and the "Open the lookup form" button the help carries.

Pure functions from what to show to a `views.open` view, a `response_action: errors` map, or a block.
The answer itself is a lookup's answer (render/lookup.py), posted in the person's direct message with the
bot.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.yunxin.ids import InvalidId

from ..i18n import EN, N_, Translator
from ..i18n.outside import translate_outside
from .home import OPEN_FORM_ACTION
from .kit import Block, Message, button, context, plain, sandbox_label, section, shorten
from .limits import OPTION_TEXT_MAX, OPTION_VALUE_MAX, SELECT_OPTIONS_MAX
from .view_limits import VIEW_PRIVATE_METADATA_MAX, VIEW_TITLE_MAX

View = dict[str, Any]
FORM_CALLBACK = "lookup_form"
IDS_BLOCK = "conversation_ids"
IDS_ELEMENT = "ids"
ENVIRONMENT_BLOCK = "environment"
ENVIRONMENT_ELEMENT = "environment_choice"
# A plain_text_input holds at most 3,000 characters: about 45 IDs of the greatest length, 150 of a usual one.
IDS_INPUT_MAX = 3000
TITLE = N_("Look up conversations")
# Malformed entries named in the inline error; the rest are counted.
MALFORMED_SHOWN_MAX = 3
_ERROR_TEXT_MAX = 1000

_VERSION = 1


@dataclass(frozen=True, slots=True)
class FormState:
    """What the form keeps in its private_metadata: the channel it was opened from (None: the Home tab), for
    the access check of its submission; Slack hands it back exactly as set."""

    channel_id: str | None = None

    def encode(self) -> str:
        value = json.dumps({"v": _VERSION, "channel": self.channel_id}, separators=(",", ":"))
        return value if len(value) <= VIEW_PRIVATE_METADATA_MAX else json.dumps({"v": _VERSION, "channel": None})

    @classmethod
    def decode(cls, value: str) -> FormState:
        """Read what `encode()` made; anything else raises ValueError (it comes back from Slack)."""
        try:
            payload = json.loads(value) if isinstance(value, str) and len(value) <= VIEW_PRIVATE_METADATA_MAX else None
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or payload.get("v") != _VERSION:
            raise ValueError("not a lookup form's state")
        channel = payload.get("channel")
        if channel is not None and not isinstance(channel, str):
            raise ValueError("not a lookup form's state: channel must be a string")
        return cls(channel or None)


def _option(name: str, default: str | None, t: Translator) -> dict[str, Any]:
    shown = shorten(name, OPTION_TEXT_MAX - 12)
    label = t.gettext("{name} (default)").format(name=shown) if name == default else shown
    return {"text": plain(shorten(label, OPTION_TEXT_MAX)), "value": name}


def render_form(
    *,
    environments: Sequence[str],
    default: str | None,
    state: FormState,
    sandbox: bool = False,
    t: Translator = EN,
) -> View:
    """The form; the environment choice only when there is one to make."""
    ids_input: Block = {
        "type": "input",
        "block_id": IDS_BLOCK,
        "label": plain(t.gettext("Conversation IDs")),
        "hint": plain(
            t.gettext(
                "Each ID is owner|type|target, for example alice|1|bob (one-to-one), alice|2|123456 (team) or "
                "alice|3|7890 (super team); separate them with spaces, commas or new lines."
            )
        ),
        "element": {
            "type": "plain_text_input",
            "action_id": IDS_ELEMENT,
            "multiline": True,
            "max_length": IDS_INPUT_MAX,
            "focus_on_load": True,
            "placeholder": plain("alice|1|bob  alice|2|123456"),
        },
    }
    blocks: list[Block] = [
        section(t.gettext("The answer comes in your direct messages with the bot, visible only to you.")),
        ids_input,
    ]
    usable = [name for name in environments if len(name) <= OPTION_VALUE_MAX][:SELECT_OPTIONS_MAX]
    if len(usable) > 1:
        options = [_option(name, default, t) for name in usable]
        initial = next((option for option in options if option["value"] == default), options[0])
        blocks.append(
            {
                "type": "input",
                "block_id": ENVIRONMENT_BLOCK,
                "label": plain(t.gettext("Yunxin environment")),
                "element": {
                    "type": "static_select",
                    "action_id": ENVIRONMENT_ELEMENT,
                    "placeholder": plain(t.gettext("Choose an environment")),
                    "options": options,
                    "initial_option": initial,
                },
            }
        )
    if sandbox:
        blocks.append(context([sandbox_label(t)]))
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": plain(shorten(t.gettext(TITLE), VIEW_TITLE_MAX)),
        "submit": plain(shorten(t.gettext("Look up"), VIEW_TITLE_MAX)),
        "close": plain(shorten(t.gettext("Cancel"), VIEW_TITLE_MAX)),
        "private_metadata": state.encode(),
        "blocks": blocks,
    }


def no_ids_error(t: Translator = EN) -> dict[str, str]:
    return {IDS_BLOCK: t.gettext("No conversation IDs: enter at least one owner|type|target.")}


def malformed_error(invalid: Sequence[InvalidId], t: Translator = EN) -> dict[str, str]:
    """Which entries are not conversation IDs, and why: the first few named, the rest counted."""
    named = [
        f"{shorten(' '.join(item.raw.split()), 70)}: {translate_outside(item.reason, t)}"
        for item in invalid[:MALFORMED_SHOWN_MAX]
    ]
    text = t.ngettext(
        "{count} entry is not a conversation ID: {entries}",
        "{count} entries are not conversation IDs: {entries}",
        len(invalid),
    ).format(count=len(invalid), entries="; ".join(named))
    left = len(invalid) - len(named)
    if left:
        text += " " + t.ngettext("(and {count} more)", "(and {count} more)", left).format(count=left)
    return {IDS_BLOCK: shorten(text, _ERROR_TEXT_MAX)}


def too_many_error(count: int, limit: int, t: Translator = EN) -> dict[str, str]:
    text = t.gettext("That is {count} IDs; one lookup takes at most {limit}. Split them into several lookups.")
    return {IDS_BLOCK: text.format(count=count, limit=limit)}


def form_button(t: Translator = EN) -> Block:
    """The actions block that opens the form (the help's)."""
    return {
        "type": "actions",
        "block_id": "lookup_form_actions",
        "elements": [button(t.gettext("Open the lookup form"), OPEN_FORM_ACTION, "help")],
    }


def with_form_button(message: Message, t: Translator = EN) -> Message:
    """`message` (the help) with the button that opens the form after its blocks."""
    return {**message, "blocks": [*message.get("blocks", []), form_button(t)]}
