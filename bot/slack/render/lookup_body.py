"""The body of a lookup's answer, at each density: layouts go from a section with fields per conversation
to bare comma lists of IDs, so the renderer can keep the most detailed one that fits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.yunxin.errors import YunxinError
from bot.yunxin.ids import ConversationType
from bot.yunxin.models import Conversation, Failed, Found, Malformed, Outcome, Unanswered

from ..actions import DETAILS_ACTION, LookupRequest
from .kit import Block, button, code, date_token, divider, mrkdwn, safe_text, section, shorten
from .paging import Blocks, Item, Line, json_text_length
from .yunxin_text import ID_SHOWN_MAX, error_summary, error_text, last_message_text, type_label

NOT_RETURNED = "Yunxin did not return this ID"
# ...and in the densest layout, where 400 entries of junk must still fit.
JUNK_SHOWN_MIN = 16
ACCOUNT_SHOWN_MAX = 100
EXTENSION_SHOWN_MAX = 200
GROUPS_SHOWN_MAX = 200
# Characters of JSON per line of a comma list of IDs: short lines pack messages tightly.
ID_LIST_LINE_COST = 800


def _field(label: str, value: str) -> dict[str, str]:
    return mrkdwn(f"*{label}*\n{value}")


def _account(value: str | None) -> str:
    return code(value, ACCOUNT_SHOWN_MAX) if value else "—"


def _groups(group_ids: list[int]) -> str:
    listed = ", ".join(str(group) for group in group_ids)
    if len(listed) <= GROUPS_SHOWN_MAX:
        return listed
    return f"{shorten(listed, GROUPS_SHOWN_MAX)} ({len(group_ids)} in all)"


def _found_section(
    shown_id: str, conversation: Conversation, *, redact: bool, snippet: int, details: str | None = None
) -> Block:
    kind = conversation.conversation_type
    pinned = " · :pushpin: pinned" if conversation.stick_top else ""
    last = last_message_text(conversation, redact=redact, limit=snippet)
    target_label = {None: "Peer or team", ConversationType.P2P: "Peer"}.get(kind, "Team")
    unread = conversation.unread_count
    fields = [
        _field("Owner", _account(conversation.sender_id)),
        _field(target_label, _account(conversation.receiver_id)),
        _field("Unread", "—" if unread is None else str(unread)),
        _field("Pinned", {True: "yes", False: "no", None: "—"}[conversation.stick_top]),
        _field("Created", date_token(conversation.created_at)),
        _field("Updated", date_token(conversation.updated_at)),
    ]
    if conversation.group_ids:
        fields.append(_field("Groups", _groups(conversation.group_ids)))
    if conversation.server_extension:
        fields.append(_field("Server extension", code(conversation.server_extension, EXTENSION_SHOWN_MAX)))
    text = f"*{shown_id}* · {type_label(conversation)}{pinned}\n*Last message:* {last}"
    section: Block = {"type": "section", "text": mrkdwn(text), "fields": fields}
    if details is not None:
        section["accessory"] = button("Details", DETAILS_ACTION, details)
    return section


def _found_line(shown_id: str, conversation: Conversation, *, redact: bool, snippet: int | None) -> str:
    parts = [shown_id, type_label(conversation)]
    if conversation.unread_count is not None:
        parts.append(f"unread {conversation.unread_count}")
    if conversation.stick_top:
        parts.append(":pushpin:")
    parts.append(last_message_text(conversation, redact=redact, limit=snippet))
    return " · ".join(parts)


def _failure_line(shown_id: str, outcome: Failed | Malformed | Unanswered, reasons: int) -> str:
    if isinstance(outcome, Failed):
        return f"{shown_id} · :x: failed: {safe_text(outcome.failure.reason, reasons)}"
    if isinstance(outcome, Malformed):
        return f"{shown_id} · :no_entry: malformed: {safe_text(outcome.reason, reasons)}"
    if outcome.error is None:
        return f"{shown_id} · :grey_question: {NOT_RETURNED}"
    return f"{shown_id} · :grey_question: {error_summary(outcome.error)}"


def distinct_errors(outcomes: Iterable[Outcome]) -> list[YunxinError]:
    """Each error that left IDs unanswered, once: every ID of a failed call shares its error."""
    seen: dict[tuple[type, str, str | None], YunxinError] = {}
    for outcome in outcomes:
        if isinstance(outcome, Unanswered) and outcome.error is not None:
            error = outcome.error
            seen.setdefault((type(error), error.detail, error.trace_id), error)
    return list(seen.values())


@dataclass(frozen=True, slots=True)
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


def _failure_heading(outcome: Failed | Malformed | Unanswered, density: Density) -> str:
    """The heading a failure is listed under: its reason, or only its kind in the densest layout."""
    by_reason = density.failures == "by_reason"
    if isinstance(outcome, Failed):
        reason = (
            f" — {safe_text(outcome.failure.reason, density.reasons)}" if by_reason else " (reasons left out to fit)"
        )
        return f":x: *Failed*{reason}"
    if isinstance(outcome, Malformed):
        reason = f" — {safe_text(outcome.reason, density.reasons)}" if by_reason else " (reasons left out to fit)"
        return f":no_entry: *Malformed*{reason}"
    if outcome.error is None:
        return ":grey_question: *Yunxin did not return these IDs*"
    if by_reason:
        return f":grey_question: *Not answered* — {error_summary(outcome.error)}"
    return ":grey_question: *Not answered* (a call failed; see above)"


def _grouped_items(outcomes: list[Outcome], density: Density, redact: bool) -> list[Item]:
    items: list[Item] = []
    found = [o for o in outcomes if isinstance(o, Found)]
    if density.found_as_list and found:
        items.extend(_id_list(":white_check_mark: *Found*", [_shown_id(o, density) for o in found]))
    else:
        for one in found:
            line = _found_line(_shown_id(one, density), one.conversation, redact=redact, snippet=None)
            items.append(Line(line, ids=1))
    groups: dict[str, list[str]] = {}
    for outcome in outcomes:
        if not isinstance(outcome, Found):
            heading = _failure_heading(outcome, density)
            groups.setdefault(heading, []).append(_shown_id(outcome, density))
    for heading, shown_ids in groups.items():
        items.extend(_id_list(heading, shown_ids))
    return items


def _outcome_item(outcome: Outcome, density: Density, redact: bool, request: LookupRequest | None) -> Item:
    shown_id = _shown_id(outcome, density)
    if not isinstance(outcome, Found):
        return Line(_failure_line(shown_id, outcome, density.reasons), ids=1)
    if density.detailed and density.snippet is not None:
        # The Details button repeats the lookup for this one ID, in the same environment.
        details = None if request is None else LookupRequest((outcome.conversation_id,), request.environment).encode()
        section = _found_section(
            shown_id, outcome.conversation, redact=redact, snippet=density.snippet, details=details
        )
        return Blocks([divider(), section], ids=1)
    return Line(_found_line(shown_id, outcome.conversation, redact=redact, snippet=density.snippet), ids=1)


def body_items(outcomes: list[Outcome], density: Density, redact: bool, request: LookupRequest | None) -> list[Item]:
    items: list[Item] = [Blocks([section(error_text(e, density.error_detail))]) for e in distinct_errors(outcomes)]
    if not outcomes:
        items.append(Line("No conversation IDs were given."))
    elif density.failures != "lines":
        items.extend(_grouped_items(outcomes, density, redact))
    else:
        items.extend(_outcome_item(outcome, density, redact, request) for outcome in outcomes)
    return items
