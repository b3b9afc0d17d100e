"""The body of a lookup's answer, at each density: layouts go from a section with fields per conversation
to bare comma lists of IDs, so the renderer can keep the most detailed one that fits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Literal

from bot.yunxin.errors import YunxinError
from bot.yunxin.ids import ConversationType
from bot.yunxin.models import Conversation, Failed, Found, Malformed, Outcome, Unanswered

from ..actions import DETAILS_ACTION, LookupRequest, encode_lookup
from ..i18n import EN, N_, Translator
from ..i18n.outside import translate_outside
from .kit import Block, button, code, divider, fields_section, safe_text, section, shorten
from .limits import json_text_length
from .paging import Blocks, Item, Line
from .sizes import DIVIDER_LENGTH, fields_section_length, list_length, section_length
from .yunxin_text import ID_SHOWN_MAX, error_summary, error_text, last_message_text, millis_date_token, type_name

NOT_RETURNED = N_("Yunxin did not return this ID")
# ...and in the densest layout, where 400 entries of junk must still fit.
JUNK_SHOWN_MIN = 16
ACCOUNT_SHOWN_MAX = 100
EXTENSION_SHOWN_MAX = 200
GROUPS_SHOWN_MAX = 200
# Characters of JSON per line of a comma list of IDs: short lines pack messages tightly.
ID_LIST_LINE_COST = 800


def _account(value: str | None) -> str:
    return code(value, ACCOUNT_SHOWN_MAX) if value else "—"


def _groups(group_ids: list[int], t: Translator = EN) -> str:
    listed = ", ".join(str(group) for group in group_ids)
    if len(listed) <= GROUPS_SHOWN_MAX:
        return listed
    return t.gettext("{listed} ({count} in all)").format(listed=shorten(listed, GROUPS_SHOWN_MAX), count=len(group_ids))


def target_label(kind: ConversationType | None, t: Translator = EN) -> str:
    """What a conversation's target is called: a peer, a team, or (type unknown) either."""
    if kind is None:
        return t.gettext("Peer or team")
    return t.gettext("Peer") if kind is ConversationType.P2P else t.gettext("Team")


def pinned_word(stick_top: bool | None, t: Translator = EN) -> str:
    return _words(t).pinned_words[stick_top]


@dataclass(frozen=True)
class _Words:
    """The fixed words of a found conversation's section and row in one language, translated once per
    translator: a section asks for a dozen of them, every row of a table for two."""

    owner: str  # each field's label, as mrkdwn ahead of its value
    targets: dict[ConversationType | None, str]
    unread: str
    pinned: str
    created: str
    updated: str
    groups: str
    extension: str
    pinned_words: dict[bool | None, str]
    pinned_note: str
    last_message: str  # a format: {last}
    details: str
    types: dict[ConversationType | None, str]  # what type_label says of each
    unread_count: str  # a list line's, a format: {count}


@cache  # keyed by the translator: one for each locale
def _words(t: Translator) -> _Words:
    def label(text: str) -> str:
        return f"*{text}*\n"

    return _Words(
        owner=label(t.gettext("Owner")),
        targets={kind: label(target_label(kind, t)) for kind in (*ConversationType, None)},
        unread=label(t.gettext("Unread")),
        pinned=label(t.gettext("Pinned")),
        created=label(t.gettext("Created")),
        updated=label(t.gettext("Updated")),
        groups=label(t.gettext("Groups")),
        extension=label(t.gettext("Server extension")),
        pinned_words={True: t.gettext("yes"), False: t.gettext("no"), None: "—"},
        pinned_note=t.gettext(" · :pushpin: pinned"),
        last_message=t.gettext("*Last message:* {last}"),
        details=t.gettext("Details"),
        types={kind: type_name(kind, t) for kind in (*ConversationType, None)},
        unread_count=t.gettext("unread {count}"),
    )


def _found_section(
    shown_id: str,
    conversation: Conversation,
    *,
    redact: bool,
    snippet: int,
    details: str | None = None,
    t: Translator = EN,
) -> tuple[Block, int]:
    """The section, and its JSON length counted from its texts."""
    words = _words(t)
    pinned = words.pinned_note if conversation.stick_top else ""
    last = last_message_text(conversation, redact=redact, limit=snippet, t=t)
    unread = conversation.unread_count
    kind = conversation.conversation_type
    fields = [
        words.owner + _account(conversation.sender_id),
        words.targets[kind] + _account(conversation.receiver_id),
        words.unread + ("—" if unread is None else str(unread)),
        words.pinned + words.pinned_words[conversation.stick_top],
        words.created + millis_date_token(conversation.create_time),
        words.updated + millis_date_token(conversation.update_time),
    ]
    if conversation.group_ids:
        fields.append(words.groups + _groups(conversation.group_ids, t))
    if conversation.server_extension:
        fields.append(words.extension + code(conversation.server_extension, EXTENSION_SHOWN_MAX))
    text = f"*{shown_id}* · {words.types[kind]}{pinned}\n" + words.last_message.format(last=last)
    if details is None:
        return fields_section(text, fields), fields_section_length(text, fields)
    accessory = button(words.details, DETAILS_ACTION, details)
    return fields_section(text, fields, accessory), fields_section_length(
        text, fields, (words.details, DETAILS_ACTION, details)
    )


def _found_line(
    shown_id: str, conversation: Conversation, *, redact: bool, snippet: int | None, t: Translator = EN
) -> str:
    words = _words(t)
    parts = [shown_id, words.types[conversation.conversation_type]]
    if conversation.unread_count is not None:
        parts.append(words.unread_count.format(count=conversation.unread_count))
    if conversation.stick_top:
        parts.append(":pushpin:")
    parts.append(last_message_text(conversation, redact=redact, limit=snippet, t=t))
    return " · ".join(parts)


def _failure_line(shown_id: str, outcome: Failed | Malformed | Unanswered, reasons: int, t: Translator = EN) -> str:
    if isinstance(outcome, Failed):
        reason = safe_text(outcome.failure.reason, reasons)  # Yunxin's code and message, as it sent them
        return f"{shown_id} · :x: " + t.gettext("failed: {reason}").format(reason=reason)
    if isinstance(outcome, Malformed):
        reason = safe_text(translate_outside(outcome.reason, t), reasons)
        return f"{shown_id} · :no_entry: " + t.gettext("malformed: {reason}").format(reason=reason)
    if outcome.error is None:
        return f"{shown_id} · :grey_question: {t.gettext(NOT_RETURNED)}"
    return f"{shown_id} · :grey_question: {error_summary(outcome.error, t)}"


def distinct_errors(outcomes: Iterable[Outcome]) -> list[YunxinError]:
    """Each error that left IDs unanswered, once: every ID of a failed call shares its error."""
    seen: dict[tuple[type, str, str | None], YunxinError] = {}
    for outcome in outcomes:
        if isinstance(outcome, Unanswered) and outcome.error is not None:
            error = outcome.error
            seen.setdefault((type(error), error.detail, error.trace_id), error)
    return list(seen.values())


# eq=False: a layout is one of the constants below, told apart (and looked up in render_lookup's dict of the
# bodies made) by identity, without the Python-level hash of all its fields.
@dataclass(frozen=True, slots=True, eq=False)
class Density:
    """How much each ID gets: layouts go from detailed to dense until the answer fits."""

    detailed: bool  # a section with fields for each found conversation
    snippet: int | None  # characters of last-message text per found ID; None leaves it out
    found_as_list: bool  # found IDs as a bare comma list
    failures: Literal["lines", "by_reason", "by_status"]  # one line per ID, or comma lists under a heading
    reasons: int  # characters of each failure reason
    error_detail: int  # characters of each error's detail
    junk_id: int  # characters shown of an entry that is not a valid ID


DETAILED = Density(True, 300, False, "lines", 300, 500, ID_SHOWN_MAX)
LAYOUTS = (
    Density(False, 120, False, "lines", 200, 500, ID_SHOWN_MAX),
    Density(False, 40, False, "lines", 80, 300, ID_SHOWN_MAX),
    Density(False, None, False, "by_reason", 100, 200, ID_SHOWN_MAX),
    # The last resort: every ID still shown, only junk entries cut short.
    Density(False, None, True, "by_status", 0, 100, JUNK_SHOWN_MIN),
)


def _shown_id(outcome: Outcome, density: Density) -> str:
    limit = density.junk_id if isinstance(outcome, Malformed) else ID_SHOWN_MAX
    return code(outcome.conversation_id, limit)


def _id_list(heading: str, shown_ids: list[str]) -> list[Item]:
    """A heading, then the IDs as comma lists of at most ID_LIST_LINE_COST characters of JSON a line."""
    items: list[Item] = [Line(f"{heading} ({len(shown_ids)})")]
    line: list[str] = []
    cost = 0
    for shown in shown_ids:
        shown_cost = json_text_length(shown)
        if line and cost + 2 + shown_cost > ID_LIST_LINE_COST:
            items.append(Line(", ".join(line), ids=len(line)))
            line, cost = [], 0
        cost += shown_cost + (2 if line else 0)
        line.append(shown)
    if line:
        items.append(Line(", ".join(line), ids=len(line)))
    return items


def _failure_heading(outcome: Failed | Malformed | Unanswered, density: Density, t: Translator = EN) -> str:
    """The heading a failure is listed under: its reason, or only its kind in the densest layout."""
    by_reason = density.failures == "by_reason"
    left_out = t.gettext(" (reasons left out to fit)")
    if isinstance(outcome, Failed):
        reason = f" — {safe_text(outcome.failure.reason, density.reasons)}" if by_reason else left_out
        return t.gettext(":x: *Failed*{reason}").format(reason=reason)
    if isinstance(outcome, Malformed):
        reason = f" — {safe_text(translate_outside(outcome.reason, t), density.reasons)}" if by_reason else left_out
        return t.gettext(":no_entry: *Malformed*{reason}").format(reason=reason)
    if outcome.error is None:
        return t.gettext(":grey_question: *Yunxin did not return these IDs*")
    if by_reason:
        return t.gettext(":grey_question: *Not answered* — {error}").format(error=error_summary(outcome.error, t))
    return t.gettext(":grey_question: *Not answered* (a call failed; see above)")


def _grouped_items(outcomes: list[Outcome], density: Density, redact: bool, t: Translator = EN) -> list[Item]:
    items: list[Item] = []
    found = [o for o in outcomes if isinstance(o, Found)]
    if density.found_as_list and found:
        items.extend(_id_list(t.gettext(":white_check_mark: *Found*"), [_shown_id(o, density) for o in found]))
    else:
        for one in found:
            line = _found_line(_shown_id(one, density), one.conversation, redact=redact, snippet=None, t=t)
            items.append(Line(line, ids=1))
    groups: dict[str, list[str]] = {}
    for outcome in outcomes:
        if not isinstance(outcome, Found):
            heading = _failure_heading(outcome, density, t)
            groups.setdefault(heading, []).append(_shown_id(outcome, density))
    for heading, shown_ids in groups.items():
        items.extend(_id_list(heading, shown_ids))
    return items


def _outcome_item(
    outcome: Outcome, density: Density, redact: bool, request: LookupRequest | None, t: Translator = EN
) -> Item:
    shown_id = _shown_id(outcome, density)
    if not isinstance(outcome, Found):
        return Line(_failure_line(shown_id, outcome, density.reasons, t), ids=1)
    if density.detailed and density.snippet is not None:
        # The Details button repeats the lookup for this one ID, in the same environment.
        details = None if request is None else encode_lookup((outcome.conversation_id,), request.environment)
        section, length = _found_section(
            shown_id, outcome.conversation, redact=redact, snippet=density.snippet, details=details, t=t
        )
        return Blocks([divider(), section], ids=1, json_length=list_length([DIVIDER_LENGTH, length]))
    return Line(_found_line(shown_id, outcome.conversation, redact=redact, snippet=density.snippet, t=t), ids=1)


def error_items(outcomes: list[Outcome], detail: int, t: Translator = EN) -> list[Blocks]:
    """Each failed call explained once: what failed, what to do, the trace ID."""
    texts = [error_text(e, detail, t) for e in distinct_errors(outcomes)]
    return [Blocks([section(text)], json_length=list_length([section_length(text)])) for text in texts]


def body_items(
    outcomes: list[Outcome], density: Density, redact: bool, request: LookupRequest | None, t: Translator = EN
) -> list[Item]:
    items: list[Item] = [*error_items(outcomes, density.error_detail, t)]
    if not outcomes:
        items.append(Line(t.gettext("No conversation IDs were given.")))
    elif density.failures != "lines":
        items.extend(_grouped_items(outcomes, density, redact, t))
    else:
        items.extend(_outcome_item(outcome, density, redact, request, t) for outcome in outcomes)
    return items
