"""The /conversation command and the Share button: ack, check the caller, look up, reply.

Handlers are plain async functions taking what they need, so tests drive them through Bolt's
dispatch or call them directly with fakes. Order matters: the ack is sent before anything that
touches the network, because Slack gives up on a command after 3 seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.metrics import Metrics
from bot.settings import Settings
from bot.yunxin.ids import parse_ids, split_text
from bot.yunxin.models import LookupResult
from bot.yunxin.sandbox import SAMPLE_IDS
from bot.yunxin.service import Lookups, UnknownEnvironment

from .access import AccessCheckFailed, AccessPolicy, Caller
from .actions import LookupRequest
from .blocks import render_help, render_lookup, render_notice, render_refusal, render_unexpected

log = logging.getLogger(__name__)
audit_log = logging.getLogger("bot.audit")

COMMAND = "/conversation"
Message = dict[str, Any]


class Respond(Protocol):
    """Bolt's `respond` (posts to response_url); returns a response with `status_code`."""

    def __call__(self, **kwargs: Any) -> Awaitable[Any]: ...


Ack = Callable[..., Awaitable[None]]

# Set by the HTTP layer (web.py) for each request from Slack: set once the answer to that request, which
# carries the ack, has been written. Socket Mode sets none.
ack_sent: ContextVar[asyncio.Event | None] = ContextVar("ack_sent", default=None)
ACK_SENT_WAIT_SECONDS = 3.0  # a bound in case the answer is never written (the client went away)


async def after_ack_sent() -> None:
    """Wait until the ack is on its way to Slack; call it before the first network call after `ack()`.

    Once a listener acks, Bolt hands the answer back to the HTTP layer, which writes it a moment later,
    while the listener's task goes on. Without this wait its first calls (users.info, Yunxin, a
    response_url post) could leave before the ack, an answer could reach Slack before the "Looking up…"
    ack, and rendering a large answer could hold the ack back.
    """
    event = ack_sent.get()
    if event is None or event.is_set():
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(ACK_SENT_WAIT_SECONDS):
            await event.wait()


class InFlight:
    """Counts lookups under way so shutdown can let them finish (bounded)."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        return self._count

    @contextlib.asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        self._count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def drain(self, seconds: float) -> bool:
        """Wait for running lookups; False when some were still running at the timeout."""
        try:
            async with asyncio.timeout(seconds):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True


@dataclass
class Deps:
    """What the listeners need, built once per app."""

    settings: Settings
    lookups: Lookups
    access: AccessPolicy
    metrics: Metrics = field(default_factory=Metrics)
    inflight: InFlight = field(default_factory=InFlight)


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    ids: tuple[str, ...] = ()
    environment: str | None = None
    help_note: str | None = None  # set: show usage (with this note when not empty)


def parse_command_text(text: str) -> ParsedCommand:
    """`[--env NAME] ID [ID ...]`, IDs separated by spaces, commas or new lines."""
    tokens = [token.strip("`'\"“”‘’") for token in split_text(html.unescape(text or ""))]
    tokens = [token for token in tokens if token]
    if not tokens or (len(tokens) == 1 and tokens[0].lower() in ("help", "-h", "--help", "?")):
        return ParsedCommand(help_note="")
    environment: str | None = None
    ids: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.startswith("--env"):
            value = token[len("--env=") :] if token.startswith("--env=") else None
            if value is None and token == "--env" and index + 1 < len(tokens):
                index += 1
                value = tokens[index]
            if not value:
                return ParsedCommand(help_note="--env needs an environment name, for example --env staging")
            environment = value.lower()
        elif token.startswith("--"):
            return ParsedCommand(help_note=f"Unknown option {token}.")
        else:
            ids.append(token)
        index += 1
    if not ids:
        return ParsedCommand(help_note="No conversation IDs given.")
    return ParsedCommand(tuple(ids), environment)


def interaction_caller(body: dict[str, Any]) -> Caller:
    """Who clicked or ran a shortcut, from an interaction payload."""
    user = body.get("user") or {}
    return _caller(
        str(user.get("id", "")),
        (body.get("team") or {}).get("id") or user.get("team_id"),
        (body.get("enterprise") or {}).get("id"),
        (body.get("channel") or {}).get("id"),
    )


async def button_request(body: dict[str, Any], notify: Notify) -> LookupRequest | None:
    """The lookup a clicked button carries; a stale or foreign value gets a notice instead."""
    action = (body.get("actions") or [{}])[0]
    try:
        return LookupRequest.decode(str(action.get("value") or ""))
    except ValueError:
        await notify(render_notice("This button is out of date; run the command again."))
        return None


def help_message(deps: Deps, note: str | None = None) -> Message:
    return render_help(
        command=COMMAND,
        example_ids=SAMPLE_IDS[:2] if deps.lookups.config().sandbox else ["alice|1|bob", "alice|2|12345"],
        sandbox=deps.lookups.config().sandbox,
        note=note or None,
        environments=deps.lookups.names,
        default_environment=deps.lookups.default,
    )


def _caller(user_id: str, team_id: str | None, enterprise_id: str | None, channel_id: str | None) -> Caller:
    return Caller(user_id=user_id, team_id=team_id or None, enterprise_id=enterprise_id or None, channel_id=channel_id)


async def deliver(
    respond: Respond,
    messages: Sequence[Message],
    *,
    response_type: str,
    trace_ids: Sequence[str],
    replace_first: bool = False,
    thread_ts: str | None = None,
) -> bool:
    """Post each message to response_url; stop and log at the first one Slack refuses."""
    await after_ack_sent()
    for index, message in enumerate(messages):
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        try:
            response = await respond(
                text=message["text"],
                blocks=message.get("blocks"),
                response_type=response_type,
                replace_original=replace_first and index == 0,
                **extra,
            )
        except Exception as error:  # the network to Slack, not our logic: log, keep serving
            log.error(
                "could not deliver a reply to response_url: %s; Yunxin trace IDs %s",
                type(error).__name__,
                ", ".join(trace_ids) or "none",
            )
            return False
        status = getattr(response, "status_code", 200)
        if status >= 300:
            log.error(
                "response_url refused a reply: HTTP %s %s; Yunxin trace IDs %s",
                status,
                str(getattr(response, "body", ""))[:100],
                ", ".join(trace_ids) or "none",
            )
            return False
    return True


Notify = Callable[[Message], Awaitable[object]]
Answer = Callable[[LookupResult], Awaitable[bool]]


def ephemeral_notify(respond: Respond, thread_ts: str | None = None) -> Notify:
    """Notices, refusals and errors go only to the person who asked."""

    async def notify(message: Message) -> bool:
        return await deliver(respond, [message], response_type="ephemeral", trace_ids=[], thread_ts=thread_ts)

    return notify


def answer_with_messages(
    deps: Deps,
    respond: Respond,
    request: LookupRequest,
    *,
    response_type: str = "ephemeral",
    shared_by: str | None = None,
    refreshed_at: datetime | None = None,
    replace_first: bool = False,
    thread_ts: str | None = None,
) -> Answer:
    """Render a result as Block Kit messages and post them to response_url."""

    async def answer(result: LookupResult) -> bool:
        messages = render_lookup(
            result,
            redact_text=deps.settings.redact_message_text,
            request=request,
            shared_by=shared_by,
            refreshed_at=refreshed_at,
        )
        return await deliver(
            respond,
            messages,
            response_type=response_type,
            trace_ids=result.trace_ids,
            replace_first=replace_first,
            thread_ts=thread_ts,
        )

    return answer


def _outcome(result: LookupResult) -> str:
    if result.all_failed:
        return "upstream_error"
    counts = result.counts()
    # An ID Yunxin left out of its answer is unanswered, not found: the lookup is partial.
    if counts["failed"] or counts["malformed"] or counts["unanswered"]:
        return "partial"
    return "ok"


def record(
    deps: Deps, event: str, caller: Caller, ids: Sequence[str], outcome: str, started: float, **extra: Any
) -> None:
    """Count it in the metrics and write its audit line: every command, share, shortcut and click."""
    deps.metrics.commands.inc(kind=event, outcome=outcome)
    deps.metrics.command_seconds.observe(time.perf_counter() - started, kind=event)
    _audit(event, caller, ids, outcome, started, **extra)


def _audit(event: str, caller: Caller, ids: Sequence[str], outcome: str, started: float, **extra: Any) -> None:
    record = {
        "event": event,
        "user": caller.user_id,
        "team": caller.team_id,
        "enterprise": caller.enterprise_id,
        "channel": caller.channel_id,
        "ids": list(ids),
        "outcome": outcome,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        **extra,
    }
    audit_log.info(json.dumps(record, ensure_ascii=False, default=str))


async def run_lookup(
    deps: Deps,
    *,
    event: str,
    caller: Caller,
    request: LookupRequest,
    notify: Notify,
    answer: Answer,
    started: float,
) -> None:
    """Everything after the ack: access, Yunxin, the answer, metrics, audit. Never raises."""
    async with deps.inflight.track():
        await after_ack_sent()
        outcome = "error"
        result: LookupResult | None = None
        try:
            outcome, result = await _checked_lookup(deps, caller, request, notify, answer)
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception("unexpected error in %s; reference %s", event, reference)
            with contextlib.suppress(Exception):
                await notify(render_unexpected(reference))
        finally:
            record(
                deps,
                event,
                caller,
                request.ids,
                outcome,
                started,
                environment=result.environment if result is not None else request.environment,
                counts=result.counts() if result is not None else {},
                trace_ids=result.trace_ids if result is not None else [],
            )


async def _checked_lookup(
    deps: Deps, caller: Caller, request: LookupRequest, notify: Notify, answer: Answer
) -> tuple[str, LookupResult | None]:
    try:
        decision = await deps.access.check(caller, request.environment)
    except AccessCheckFailed as error:
        log.warning("access check failed for %s: %s", caller.user_id, error)
        await notify(render_notice(f"Couldn't check your access: {error}"))
        return "access_check_failed", None
    if not decision.allowed:
        await notify(render_refusal(decision.reason, deps.settings.access_contact))
        return "refused", None
    try:
        result = await deps.lookups.lookup(parse_ids(request.ids), request.environment)
    except UnknownEnvironment as error:
        await notify(help_message(deps, f"{error}."))
        return "invalid", None
    for failure in result.chunk_failures:
        log.warning(
            "Yunxin call failed for %d IDs: %s [%s] trace ID %s",
            len(failure.ids),
            failure.error,
            failure.error.kind,
            failure.error.trace_id,
        )
    delivered = await answer(result)
    return (_outcome(result) if delivered else "reply_failed"), result


async def handle_conversation_command(deps: Deps, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
    started = time.perf_counter()
    parsed = parse_command_text(str(command.get("text") or ""))
    caller = _caller(
        str(command.get("user_id", "")),
        command.get("team_id"),
        command.get("enterprise_id"),
        command.get("channel_id"),
    )
    if parsed.help_note is not None:
        await ack(response_type="ephemeral", **help_message(deps, parsed.help_note))
        record(deps, "command", caller, parsed.ids, "help", started)
        return
    distinct = len(parse_ids(parsed.ids))
    limit = deps.settings.max_ids_per_command
    if distinct > limit:
        await ack(
            response_type="ephemeral",
            **render_notice(
                f"That is {distinct} IDs; one command looks up at most {limit}. Split them into several commands."
            ),
        )
        record(deps, "command", caller, parsed.ids, "too_many_ids", started)
        return
    noun = "conversation" if distinct == 1 else "conversations"
    await ack(response_type="ephemeral", **render_notice(f"Looking up {distinct} {noun}…"))
    request = LookupRequest(parsed.ids, parsed.environment)
    await run_lookup(
        deps,
        event="command",
        caller=caller,
        request=request,
        notify=ephemeral_notify(respond),
        answer=answer_with_messages(deps, respond, request),
        started=started,
    )


async def handle_share(deps: Deps, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
    """The Share button: the clicker must pass the same checks; the lookup runs again, for the channel."""
    started = time.perf_counter()
    await ack()
    caller = interaction_caller(body)
    request = await button_request(body, ephemeral_notify(respond))
    if request is None:
        return
    await run_lookup(
        deps,
        event="share",
        caller=caller,
        request=request,
        notify=ephemeral_notify(respond),
        answer=answer_with_messages(deps, respond, request, response_type="in_channel", shared_by=caller.user_id),
        started=started,
    )
