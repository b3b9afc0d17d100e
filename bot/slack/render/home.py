"""The App Home tab: whether the reader may look up conversations (and whom to ask if not), how each Yunxin
environment they may use is doing, how to use the bot, and a button that opens the lookup form.

Pure: from facts gathered by the Home listener to a `views.publish` view (type `home`), in the reader's
language. It shows no secret and no message text: environment names, states, times, trace IDs and counts.
`home_digest` names what the view shows apart from its live figures (the call rate, "updated at"), so
that an unchanged Home is not published again on every visit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from bot.yunxin.budget import GateStatus

from ..activity import CallRate, SeenCall
from ..i18n import EN, Translator
from ..i18n.outside import translate_outside
from .kit import (
    Block,
    button,
    code,
    context,
    date_token,
    divider,
    escape_mrkdwn,
    header,
    safe_text,
    sandbox_label,
    section,
    shorten,
)
from .limits import SECTION_TEXT_MAX
from .view_limits import VIEW_BLOCKS_MAX

View = dict[str, Any]
HOME_CALLBACK = "yunxin_home"
# The Home's "Look up conversations" button and the help's "Open the lookup form": both open the form.
OPEN_FORM_ACTION = "open_lookup_form"
ENVIRONMENTS_SHOWN_MAX = 20  # each takes two blocks; the Home holds 100
TRACE_SHOWN_MAX = 100

Health = Literal["healthy", "idle", "failing", "paused", "open", "probing"]


@dataclass(frozen=True, slots=True)
class HomeAccess:
    """May the reader look up conversations: `allowed`, else why not (`reason`, as the access check says it),
    or `failed`: why the check could not be made."""

    allowed: bool
    reason: str = ""
    failed: str = ""


@dataclass(frozen=True, slots=True)
class EnvironmentFacts:
    """One Yunxin environment as the Home shows it."""

    name: str
    default: bool
    sandbox: bool
    gate: GateStatus
    last_good: SeenCall | None
    last_failed: SeenCall | None
    rate: CallRate
    budget_per_second: float

    def health(self, now: float) -> Health:
        if self.gate.paused_until is not None and self.gate.paused_until > now:
            return "paused"
        if self.gate.breaker == "open":
            return "open"
        if self.gate.breaker == "half_open":
            return "probing"
        good, failed = self.last_good, self.last_failed
        if failed is not None and (good is None or failed.at >= good.at):
            return "failing"
        return "healthy" if good is not None else "idle"


@dataclass(frozen=True, slots=True)
class HomeFacts:
    """Everything one Home shows. `environments`: those the reader may use (all of them for a refusal that
    is not about an environment, none at all for a refused reader). `channels_limited`: lookups are enabled
    only in some channels (ALLOWED_CHANNEL_IDS), so the form, which answers in a direct message, is not
    offered here."""

    access: HomeAccess
    environments: Sequence[EnvironmentFacts]
    contact: str
    command: str = "/conversation"
    channels_limited: bool = False


def _at(moment: float) -> str:
    return date_token(datetime.fromtimestamp(moment, UTC))


def _trace(trace_id: str) -> str:
    return code(trace_id, TRACE_SHOWN_MAX)


def _health_line(facts: EnvironmentFacts, now: float, t: Translator) -> str:
    health = facts.health(now)
    gate = facts.gate
    if health == "paused":
        assert gate.paused_until is not None
        return t.gettext(
            ":double_vertical_bar: *Paused*: Yunxin answered 416 (rate limited), so no call goes to it until {time}."
        ).format(time=_at(gate.paused_until))
    if health == "open":
        until = _at(gate.breaker_until) if gate.breaker_until is not None else "—"
        return t.ngettext(
            ":red_circle: *Circuit breaker open*: {count} call in a row failed, so no call goes to it; "
            "one call tries again at {time}.",
            ":red_circle: *Circuit breaker open*: {count} calls in a row failed, so no call goes to it; "
            "one call tries again at {time}.",
            gate.failures,
        ).format(count=gate.failures, time=until)
    if health == "probing":
        return t.gettext(
            ":large_yellow_circle: *Recovering*: the circuit breaker lets one call through to see whether "
            "Yunxin answers again."
        )
    if health == "failing":
        return t.gettext(":large_orange_circle: *The last call failed*; the next lookup will try again.")
    if health == "idle":
        return t.gettext(":white_circle: *No calls yet* since the bot started.")
    return t.gettext(":large_green_circle: *Healthy*: Yunxin answered the last call.")


def _environment_blocks(facts: EnvironmentFacts, now: float, t: Translator) -> list[Block]:
    name = code(facts.name, 100)
    title = t.gettext("{name} (default)").format(name=name) if facts.default else name
    if facts.sandbox:
        title = f"{title} · {sandbox_label(t)}"
    notes: list[str] = []
    good, failed = facts.last_good, facts.last_failed
    if good is not None:
        notes.append(
            t.gettext("Last good call: {time} · trace {trace}").format(time=_at(good.at), trace=_trace(good.trace_id))
        )
    else:
        notes.append(t.gettext("No good call since the bot started."))
    if failed is not None:
        why = escape_mrkdwn(translate_outside(failed.failure or "", t)) if failed.failure else ""
        line = t.gettext("Last failed call: {time} · trace {trace}").format(
            time=_at(failed.at), trace=_trace(failed.trace_id)
        )
        notes.append(f"{line} · {why}" if why else line)
    notes.append(
        t.ngettext(
            "Calls: {count} in the last minute, at most {busiest} in one second · budget {budget} per second",
            "Calls: {count} in the last minute, at most {busiest} in one second · budget {budget} per second",
            facts.rate.calls,
        ).format(count=facts.rate.calls, busiest=facts.rate.busiest_second, budget=f"{facts.budget_per_second:g}")
    )
    text = f"*{title}*\n{_health_line(facts, now, t)}"
    return [section(shorten(text, SECTION_TEXT_MAX)), context([shorten(note, SECTION_TEXT_MAX) for note in notes])]


def _access_blocks(facts: HomeFacts, t: Translator) -> list[Block]:
    access = facts.access
    contact = safe_text(facts.contact, 500)
    if access.failed:
        why = safe_text(translate_outside(access.failed, t), 1000)
        return [section(t.gettext(":warning: Couldn't check your access: {why}").format(why=why))]
    if not access.allowed:
        title = t.gettext("You can't look up Yunxin conversations.")
        why = safe_text(translate_outside(access.reason, t), 1000)
        ask = t.gettext("To get access, ask {contact}.").format(contact=contact)
        return [section(f":no_entry: *{title}*\n{why}\n{ask}")]
    blocks = [section(t.gettext(":white_check_mark: You can look up Yunxin conversations."))]
    if facts.channels_limited:
        blocks.append(
            context(
                [
                    t.gettext(
                        "Lookups are enabled only in some channels: run `{command}` there. "
                        "For access elsewhere, ask {contact}."
                    ).format(command=escape_mrkdwn(facts.command), contact=contact)
                ]
            )
        )
    return blocks


def _usage_blocks(facts: HomeFacts, t: Translator) -> list[Block]:
    command = escape_mrkdwn(facts.command)
    text = t.gettext(
        "*How to use it*\n"
        "• `{command} ID [ID …]` in any channel: each ID is `owner|type|target`, for example `alice|1|bob` "
        "(one-to-one), `alice|2|123456` (team) or `alice|3|7890` (super team). `{command} help` says more.\n"
        "• On any message: ⋯ → More message shortcuts → *Look up in Yunxin* finds the IDs quoted in it.\n"
        "• Under an answer: *Share in channel* posts it for everyone, *Refresh* looks again, *Details* shows "
        "every field of a conversation."
    ).format(command=command)
    if not facts.channels_limited:
        form = t.gettext(
            "*Look up conversations* below opens a form; the answer comes in your direct messages with the bot."
        )
        text += f"\n• {form}"
    blocks = [section(text)]
    if len(facts.environments) > 1:
        blocks.append(
            context([t.gettext("Pick an environment with `{command} --env NAME ID …`.").format(command=command)])
        )
    return blocks


def render_home(facts: HomeFacts, *, now: float, t: Translator = EN) -> View:
    """The Home view for one reader, as of `now` (wall clock, seconds)."""
    blocks: list[Block] = [header(t.gettext("Yunxin conversations")), *_access_blocks(facts, t)]
    shown = list(facts.environments[:ENVIRONMENTS_SHOWN_MAX])
    if shown:
        blocks.append(divider())
        blocks.append(section(t.gettext("*Yunxin environments*")))
        for environment in shown:
            blocks.extend(_environment_blocks(environment, now, t))
        left = len(facts.environments) - len(shown)
        if left:
            blocks.append(
                context(
                    [
                        t.ngettext("…and {count} more environment.", "…and {count} more environments.", left).format(
                            count=left
                        )
                    ]
                )
            )
    if facts.access.allowed and not facts.access.failed:
        blocks.append(divider())
        blocks.extend(_usage_blocks(facts, t))
        if not facts.channels_limited:
            blocks.append(
                {
                    "type": "actions",
                    "block_id": "home_actions",
                    "elements": [button(t.gettext("Look up conversations"), OPEN_FORM_ACTION, "home", style="primary")],
                }
            )
    blocks.append(context([t.gettext("Updated {time}").format(time=_at(now))]))
    return {"type": "home", "callback_id": HOME_CALLBACK, "blocks": blocks[:VIEW_BLOCKS_MAX]}


def home_digest(facts: HomeFacts, *, now: float, t: Translator = EN) -> str:
    """What the Home shows, apart from the live figures: equal digests, the same Home."""
    state: list[Any] = [
        t.locale,
        facts.access.allowed,
        facts.access.reason,
        facts.access.failed,
        facts.channels_limited,
    ]
    for environment in facts.environments:
        gate = environment.gate
        state.append(
            [
                environment.name,
                environment.health(now),
                # Whole seconds: a gate computes these afresh on each look, a few microseconds apart.
                round(gate.paused_until) if gate.paused_until is not None else None,
                round(gate.breaker_until) if gate.breaker_until is not None else None,
                gate.failures,
                environment.last_good.trace_id if environment.last_good else None,
                environment.last_failed.trace_id if environment.last_failed else None,
            ]
        )
    return hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()
