"""`/conversation [--env NAME] ID …`: help, or the ack "Looking up N conversations…" and the lookup.

The ack is sent at once, before any call to Slack: it is in the asker's language when their locale is cached
(from an earlier lookup), else in DEFAULT_LOCALE. The answer is in their own language either way."""

from __future__ import annotations

from typing import Any

from ..ack import Ack
from ..actions import LookupRequest
from ..pipeline import Ask, Deps, Event, Outcome, TooManyIds, help_message, record, reply_for, run_lookup
from ..render.notices import render_notice
from ..replies import Respond, ResponseUrlReplies
from .payloads import command_caller, parse_command_text


async def conversation_command(deps: Deps, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
    ask = Ask(Event.COMMAND, command_caller(command))
    t = deps.reader_t(ask.caller.user_id)
    parsed = parse_command_text(str(command.get("text") or ""), t)
    if parsed.help_note is not None:
        await ack(response_type="ephemeral", **help_message(deps, parsed.help_note, t))
        record(deps, ask, Outcome.HELP, parsed.ids)
        return
    request = LookupRequest(parsed.ids, parsed.environment)
    distinct = len(request.parsed)
    limit = deps.settings.max_ids_per_command
    if distinct > limit:
        reply = reply_for(deps, TooManyIds(distinct, limit), t)
        await ack(response_type="ephemeral", **reply.message)
        record(deps, ask, reply.outcome, parsed.ids)
        return
    looking = t.ngettext("Looking up {count} conversation…", "Looking up {count} conversations…", distinct)
    await ack(response_type="ephemeral", **render_notice(looking.format(count=distinct)))
    replies = ResponseUrlReplies(respond, deps.settings.redact_message_text, request, metrics=deps.metrics)
    await run_lookup(deps, ask, request, replies)
