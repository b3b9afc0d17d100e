"""One lookup asked from Slack, from after the ack to the last reply: access -> lookup -> render -> deliver
-> record. Every listener hands its lookup here with a `Destination` saying where the answer goes.

It owns the one table from typed errors to what the person reads (`reply_for`), and the outcome names that
metrics and the audit log count (`Outcome`). Nothing here reads a Slack payload: listeners do that.

Each reply is in its reader's language: the asker's Slack locale once the access check has read it (before
that, the locale cached for them, else DEFAULT_LOCALE), and DEFAULT_LOCALE for an answer shared in a channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.logs import AuditLine
from bot.metrics import Metrics
from bot.settings import Settings
from bot.yunxin.ids import match_key
from bot.yunxin.models import LookupResult
from bot.yunxin.service import Lookups, UnknownEnvironment

from .access import AccessCheckFailed, AccessPolicy, Caller
from .ack import after_ack_sent
from .actions import LookupRequest, StaleRequest
from .activity import HomeState
from .i18n import N_, Translator, for_locale, translator
from .i18n.outside import translate_outside
from .render.form import with_form_button
from .render.kit import Message, shorten
from .render.notices import render_help, render_notice, render_refusal, render_unexpected
from .replies import Destination

log = logging.getLogger(__name__)
audit_log = logging.getLogger("bot.audit")

COMMAND = "/conversation"
# The help's example in sandbox mode: two of the sandbox's sample conversations (a test holds them to it).
SANDBOX_EXAMPLE_IDS = ("sandbox_alice|1|sandbox_bob", "sandbox_alice|2|8800000001")
EXAMPLE_IDS = ("alice|1|bob", "alice|2|12345")
AUDIT_IDS_MAX = 400  # IDs named in one audit line; `ids_total` keeps the count
AUDIT_ID_MAX = 80  # characters of each (a valid ID has at most 67)
RESTARTED = N_("The bot restarted before it could answer. Please run the command again.")


class Event(StrEnum):
    """What a person did: the `kind` of the metrics and the `event` of the audit line."""

    COMMAND = "command"
    SHARE = "share"
    REFRESH = "refresh"
    SHORTCUT = "shortcut"
    DETAILS = "details"
    DETAILS_LIST = "details_list"
    EXPORT = "export"
    FORM = "form"  # the lookup form (the Home tab's button, the help's)
    WORKFLOW = "workflow"  # the Workflow Builder step


class Outcome(StrEnum):
    """How one request ended, as metrics and the audit log count it."""

    OK = "ok"
    PARTIAL = "partial"  # some IDs failed, were malformed or were left unanswered
    UPSTREAM_ERROR = "upstream_error"  # every Yunxin call failed
    HELP = "help"
    INVALID = "invalid"  # an unknown environment, a stale button
    TOO_MANY_IDS = "too_many_ids"
    NO_IDS = "no_ids"
    REFUSED = "refused"
    ACCESS_CHECK_FAILED = "access_check_failed"
    REPLY_FAILED = "reply_failed"  # looked up, but Slack did not take the answer
    INTERRUPTED = "interrupted"  # the bot shut down first; the person was told to ask again
    ERROR = "error"  # a bug: the person got an apology with a reference


@dataclass(slots=True)
class Reader:
    """Who reads one lookup's replies, in which language: the best known so far, then the asker's own once
    the access check has read their locale."""

    to: Destination
    t: Translator


class InFlight:
    """The lookups under way and where each answers, so shutdown can let them finish (bounded) and then
    tell the people still waiting."""

    def __init__(self) -> None:
        self._running: dict[asyncio.Task[Any], Reader] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        return len(self._running)

    def track(self, reader: Reader) -> _Tracked:
        """`with inflight.track(reader):` around one lookup's work, in its own task."""
        return _Tracked(self, reader)

    def _started(self, task: asyncio.Task[Any], reader: Reader) -> None:
        self._running[task] = reader
        self._idle.clear()

    def _ended(self, task: asyncio.Task[Any]) -> None:
        del self._running[task]
        if not self._running:
            self._idle.set()

    async def drain(self, seconds: float) -> bool:
        """Wait for running lookups; False when some were still running at the timeout."""
        try:
            async with asyncio.timeout(seconds):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def abandon(self, notice: Callable[[Translator], Message]) -> int:
        """End the lookups still running and send each asker `notice`, in their language; how many there were."""
        left = list(self._running.items())
        for task, _ in left:
            task.cancel()
        await asyncio.gather(*(task for task, _ in left), return_exceptions=True)
        await asyncio.gather(*(reader.to.notify(notice(reader.t)) for _, reader in left), return_exceptions=True)
        return len(left)


class _Tracked:
    """One lookup's stay in `InFlight`, as a plain context manager: it awaits nothing, and a generator-based
    async one cost an async generator and its wrapper for every command."""

    __slots__ = ("_inflight", "_reader", "_task")

    def __init__(self, inflight: InFlight, reader: Reader) -> None:
        self._inflight = inflight
        self._reader = reader
        self._task: asyncio.Task[Any] | None = None

    def __enter__(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        self._inflight._started(task, self._reader)

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._inflight._ended(self._task)


def restarted_notice(t: Translator) -> Message:
    return render_notice(t.gettext(RESTARTED))


@dataclass
class Deps:
    """What the listeners and the pipeline need, built once per app."""

    settings: Settings
    lookups: Lookups
    access: AccessPolicy
    metrics: Metrics = field(default_factory=Metrics)
    inflight: InFlight = field(default_factory=InFlight)
    home: HomeState = field(default_factory=HomeState)  # what the App Home shows of recent calls

    @property
    def channel_t(self) -> Translator:
        """The language of what is posted for a channel, and of what is said before anyone's locale is known."""
        return translator(self.settings.default_locale)

    def reader_t(self, user_id: str) -> Translator:
        """The language to say something to `user_id` in before their access check: their locale when it is
        cached, else DEFAULT_LOCALE (nothing here may call Slack: it runs before the ack)."""
        known = getattr(self.access, "known_locale", None)
        locale = known(user_id) if callable(known) else None
        return for_locale(locale, self.channel_t.locale) if locale else self.channel_t


@dataclass(frozen=True, slots=True)
class Ask:
    """One request from a person: what they did, who they are, and when it arrived."""

    event: Event
    caller: Caller
    started: float = field(default_factory=time.perf_counter)


# ---- typed errors, and the one table that turns each into a reply ------------------------------


class TooManyIds(Exception):
    def __init__(self, count: int, limit: int, *, quoted: bool = False) -> None:
        super().__init__(f"{count} IDs, at most {limit}")
        self.count = count
        self.limit = limit
        self.quoted = quoted  # found in a message rather than typed


class NoIdsFound(Exception):
    """The message a shortcut ran on quotes no conversation ID."""


class Refused(Exception):
    """The access check said no; the message says why."""


@dataclass(frozen=True, slots=True)
class Reply:
    outcome: Outcome
    message: Message


def _too_many(deps: Deps, error: TooManyIds, t: Translator) -> Reply:
    if error.quoted:
        text = t.gettext("That message quotes {count} IDs; one lookup takes at most {limit}.")
    else:
        text = t.gettext("That is {count} IDs; one command looks up at most {limit}. Split them into several commands.")
    return Reply(Outcome.TOO_MANY_IDS, render_notice(text.format(count=error.count, limit=error.limit)))


def _access_check_failed(deps: Deps, error: AccessCheckFailed, t: Translator) -> Reply:
    log.warning("access check failed: %s", error)
    why = translate_outside(str(error), t)
    return Reply(
        Outcome.ACCESS_CHECK_FAILED, render_notice(t.gettext("Couldn't check your access: {why}").format(why=why))
    )


def _unexpected(deps: Deps, error: Exception, t: Translator) -> Reply:
    reference = uuid.uuid4().hex[:12]
    log.error("unexpected error; reference %s", reference, exc_info=error)  # the reference the person quotes
    return Reply(Outcome.ERROR, render_unexpected(reference, t))


def _unknown_environment(deps: Deps, error: UnknownEnvironment, t: Translator) -> Reply:
    return Reply(Outcome.INVALID, help_message(deps, f"{translate_outside(str(error), t)}.", t))


_REPLIES: dict[type[Exception], Callable[[Deps, Any, Translator], Reply]] = {
    # A stale request's message is the listener's, already in the reader's language.
    StaleRequest: lambda deps, error, t: Reply(Outcome.INVALID, render_notice(str(error))),
    TooManyIds: _too_many,
    NoIdsFound: lambda deps, error, t: Reply(
        Outcome.NO_IDS,
        render_notice(t.gettext("No Yunxin conversation IDs (owner|type|target) found in that message.")),
    ),
    Refused: lambda deps, error, t: Reply(Outcome.REFUSED, render_refusal(str(error), deps.settings.access_contact, t)),
    AccessCheckFailed: _access_check_failed,
    UnknownEnvironment: _unknown_environment,
    Exception: _unexpected,
}


def reply_for(deps: Deps, error: Exception, t: Translator | None = None) -> Reply:
    """What the person reads for `error` (in `t`'s language, DEFAULT_LOCALE's by default), and the outcome it
    counts as: the nearest entry of `_REPLIES` along the error's class hierarchy (anything unforeseen is an
    apology with a logged reference)."""
    kind = next(kind for kind in type(error).__mro__ if kind in _REPLIES)
    return _REPLIES[kind](deps, error, t or deps.channel_t)


def help_message(deps: Deps, note: str | None = None, t: Translator | None = None) -> Message:
    sandbox = deps.lookups.config().sandbox
    help_text = render_help(
        command=COMMAND,
        example_ids=SANDBOX_EXAMPLE_IDS if sandbox else EXAMPLE_IDS,
        sandbox=sandbox,
        note=note or None,
        environments=deps.lookups.names,
        default_environment=deps.lookups.default,
        t=t or deps.channel_t,
    )
    return with_form_button(help_text, t or deps.channel_t)  # the lookup form, one click away


# ---- the lookup -----------------------------------------------------------------------------------


async def run_lookup(deps: Deps, ask: Ask, request: LookupRequest, to: Destination) -> None:
    """Everything after the ack: access, Yunxin, the answer, metrics, audit. Never raises."""
    reader = Reader(to, deps.reader_t(ask.caller.user_id))
    with deps.inflight.track(reader):
        await after_ack_sent()
        outcome = Outcome.ERROR
        result: LookupResult | None = None
        counts: dict[str, int] = {}
        try:
            outcome, result, counts = await _checked_lookup(deps, ask, request, reader)
        except asyncio.CancelledError:
            outcome = Outcome.INTERRUPTED  # shutdown's: InFlight.abandon tells the person
            raise
        except Exception as error:
            outcome = await _reply_with_error(deps, error, to, reader.t)
        finally:
            deps.home.saw(result)  # the Home's last good and failed call, and the call rate
            record(
                deps,
                ask,
                outcome,
                request.ids,
                environment=result.environment if result is not None else request.environment,
                counts=counts,
                trace_ids=result.trace_ids if result is not None else [],
            )


async def stop(deps: Deps, ask: Ask, error: Exception, to: Destination, ids: Sequence[str] = ()) -> None:
    """A request that ends before any lookup (a stale button, no IDs found): its reply, then its record."""
    outcome = await _reply_with_error(deps, error, to, deps.reader_t(ask.caller.user_id))
    record(deps, ask, outcome, ids)


async def _reply_with_error(deps: Deps, error: Exception, to: Destination, t: Translator) -> Outcome:
    reply = reply_for(deps, error, t)
    with contextlib.suppress(Exception):  # the reply is best effort; the record is not
        await to.notify(reply.message)
    return reply.outcome


async def _checked_lookup(
    deps: Deps, ask: Ask, request: LookupRequest, reader: Reader
) -> tuple[Outcome, LookupResult, dict[str, int]]:
    decision = await deps.access.check(ask.caller, request.environment)
    locale = getattr(decision, "locale", None)
    if locale:
        reader.t = for_locale(locale, deps.channel_t.locale)
    if not decision.allowed:
        raise Refused(decision.reason)
    result = await deps.lookups.lookup(request.parsed, request.environment)
    for failure in result.chunk_failures:
        log.warning(
            "Yunxin call failed for %d IDs: %s [%s] trace ID %s",
            len(failure.ids),
            failure.error,
            failure.error.kind,
            failure.error.trace_id,
        )
    to = reader.to
    delivered = await to.answer(result, deps.channel_t if to.shared else reader.t)
    counts = result.counts()  # once: the outcome and the audit line both read it
    return (_outcome(result, counts) if delivered else Outcome.REPLY_FAILED), result, counts


def _outcome(result: LookupResult, counts: dict[str, int]) -> Outcome:
    if result.all_failed:
        return Outcome.UPSTREAM_ERROR
    # An ID Yunxin left out of its answer is unanswered, not found: the lookup is partial.
    if counts["failed"] or counts["malformed"] or counts["unanswered"]:
        return Outcome.PARTIAL
    return Outcome.OK


# ---- record: metrics and the audit line -----------------------------------------------------------


def record(deps: Deps, ask: Ask, outcome: Outcome, ids: Sequence[str], **extra: Any) -> None:
    """Count it in the metrics and write its audit line: every command, share, shortcut and click."""
    seconds = time.perf_counter() - ask.started
    # The members are strings already; str() takes the text in C, where `.value` is a Python property.
    kind, result = str(ask.event), str(outcome)
    deps.metrics.commands.labels(kind=kind, outcome=result).inc()
    deps.metrics.command_seconds.labels(kind=kind).observe(seconds)
    caller = ask.caller
    first_seen: dict[str, str] = {}
    for conversation_id in ids:  # as Yunxin tells IDs apart (case-insensitively), each as first written
        first_seen.setdefault(match_key(conversation_id), conversation_id)
    distinct = list(first_seen.values())
    audit_log.info(
        AuditLine(
            event=kind,
            user=caller.user_id,
            team=caller.team_id,
            enterprise=caller.enterprise_id,
            channel=caller.channel_id,
            # Bounded: a command holds at most MAX_IDS_PER_COMMAND IDs, but a message or a payload may
            # quote any number, and each ID is cut to the length a valid one can have.
            ids=[shorten(i, AUDIT_ID_MAX) for i in distinct[:AUDIT_IDS_MAX]],
            ids_total=len(distinct),
            outcome=result,
            latency_ms=round(seconds * 1000, 1),
            **extra,
        )
    )
