"""The Yunxin batch conversation query: `YunxinClient.get_conversations(ids) -> LookupResult`.

One lookup: check the IDs locally, split the valid ones into calls of at most 100, run the calls
concurrently under a process-wide bound and call budget, and gather every answer. A call that
fails is reported for its IDs only; the others' results are kept. Each call retries once on a
connection error or HTTP 502/503, and fails over to the next of the app's hosts, in order, when
one cannot be reached. The whole lookup ends by a deadline.

Answers are read as Yunxin's SDKs read them: only an HTTP 200 body is parsed; any other status is
an error of its own. A JSON `code` is never retried, 416 included: Yunxin blocks an app that keeps
calling, and a retry only lengthens the block.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from bot.settings import YunxinAppConfig

from .answers import (
    THREAD_PARSE_BYTES,
    CallAnswer,
    check_status,
    parse_answer,
    read_capped,
)
from .auth import YunxinAuth
from .budget import Budget, BudgetGate, CallGate, CallTicket
from .errors import (
    BreakerOpen,
    BudgetSpent,
    CallsPaused,
    MalformedResponse,
    RateLimited,
    Timeout,
    Unavailable,
    YunxinError,
    call_label,
)
from .ids import ConversationId, InvalidId
from .models import ChunkFailure, LookupResult
from .request import PATH, REQUEST_HEADERS, TRACE_HEADER, new_trace_id, query_value
from .transport import (
    AiohttpWire,
    ConnectTimedOut,
    HttpxWire,
    ReadTimedOut,
    Undecodable,
    Wire,
    WireError,
)

log = logging.getLogger(__name__)

MAX_IDS_PER_CALL = 100


class _HostUnreachable(Unavailable):
    """Connection failed or HTTP 502/503: worth one retry, then the next host."""

    def __init__(self, base_url: str, reason: str, *, trace_id: str) -> None:
        super().__init__(f"{_host(base_url)}: {reason}", trace_id=trace_id)
        self.reason = reason


@dataclass(eq=False, slots=True)
class _SharedCall:
    """One upstream call in flight, awaited by every identical lookup of the moment.

    Each lookup waits on an answer future of its own, which the call settles when it ends: a lookup that
    gives up (its deadline, a cancellation) cancels only its own future, never the call the others wait
    for. That is asyncio.shield's guarantee, without shield's outer future and two callbacks per waiter."""

    key: tuple[str, ...]
    task: asyncio.Task[None] = field(init=False)  # runs `YunxinClient._shared_call`
    # Trace IDs sent so far; the last names the attempt a waiter gave up on.
    traces: list[str] = field(default_factory=list)
    answers: list[asyncio.Future[CallAnswer]] = field(default_factory=list)  # one per lookup still waiting

    @property
    def last_trace(self) -> str | None:
        return self.traces[-1] if self.traces else None

    def settle(self, outcome: CallAnswer | BaseException) -> None:
        """The call has ended: each lookup still waiting gets its answer or its error."""
        for waiting in self.answers:
            if waiting.done():  # its lookup's deadline came first
                continue
            if isinstance(outcome, BaseException):
                waiting.set_exception(outcome)
            else:
                waiting.set_result(outcome)


def _time_up(answer: asyncio.Future[CallAnswer]) -> None:
    """A lookup's deadline: its wait ends in a TimeoutError, unless the answer came first."""
    if not answer.done():
        answer.set_exception(TimeoutError())


@functools.lru_cache(maxsize=64)
def _host(base_url: str) -> str:
    """The host (and port) of a base URL; one of a few configured, so each is split once."""
    return urlsplit(base_url).netloc or base_url


def _either(base_urls: Sequence[str]) -> str:
    """'A or B', 'A, B or C': each host named once."""
    names = [_host(url) for url in base_urls]
    return f"{', '.join(names[:-1])} or {names[-1]}"


class YunxinClient:
    """One Yunxin app's calls, over one pooled wire (bot/yunxin/transport.py); close it with `aclose()` on
    shutdown."""

    def __init__(
        self,
        config: YunxinAppConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        deadline_seconds: float = 15.0,
        concurrency: int = 4,
        budget: Budget | None = None,
        gate: CallGate | None = None,
        clock: Callable[[], float] = time.perf_counter,
        on_call: Callable[[str, float], None] | None = None,
    ) -> None:
        """`gate` is what every attempt passes first (the budget, the pause after a 416, the breaker); a
        `budget` alone is a gate of just that budget."""
        # An httpx transport (the in-process sandbox, a test's fake) is sent through as it is; otherwise aiohttp.
        self._wire: Wire = (
            HttpxWire(transport) if transport is not None else AiohttpWire(max_connections=max(10, concurrency * 2))
        )
        self.config = config
        self._deadline_seconds = deadline_seconds
        self._calls = asyncio.Semaphore(concurrency)
        if gate is None:
            gate = BudgetGate(budget) if budget is not None else CallGate()
        self.gate = gate
        self._clock = clock  # times each call for `on_call`
        self._on_call = on_call  # (label from CALL_LABELS, seconds) for each HTTP attempt: metrics
        self._inflight: dict[tuple[str, ...], _SharedCall] = {}
        self._auth = YunxinAuth(config.app_key, config.app_secret)
        self._path = PATH.format(version=config.api_version)

    def __repr__(self) -> str:
        return f"YunxinClient(name={self.config.name!r}, base_urls={list(self.config.base_urls)!r})"

    async def aclose(self) -> None:
        await self._wire.aclose()

    async def __aenter__(self) -> YunxinClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def get_conversations(self, parsed: Sequence[ConversationId | InvalidId]) -> LookupResult:
        """Look up IDs parsed by `parse_ids` (at the edge, where they were read); invalid ones are reported."""
        requested: list[str] = []
        valid: list[str] = []
        invalid: list[InvalidId] = []
        for item in parsed:  # one pass, each ID written out once
            if isinstance(item, ConversationId):
                text = str(item)
                requested.append(text)
                valid.append(text)
            else:
                requested.append(item.raw)
                invalid.append(item)
        result = LookupResult(
            requested=requested, invalid=invalid, sandbox=self.config.sandbox, environment=self.config.name
        )
        chunks = [tuple(valid[start : start + MAX_IDS_PER_CALL]) for start in range(0, len(valid), MAX_IDS_PER_CALL)]
        if not chunks:
            return result
        deadline = asyncio.get_running_loop().time() + self._deadline_seconds
        if len(chunks) == 1:  # most lookups: no gathering task and future of their own
            answers = [await self._chunk_by_deadline(chunks[0], deadline)]
        else:
            answers = await asyncio.gather(*(self._chunk_by_deadline(chunk, deadline) for chunk in chunks))
        for chunk, answer in zip(chunks, answers, strict=True):
            if isinstance(answer, YunxinError):
                result.chunk_failures.append(ChunkFailure(chunk, answer))
                if answer.trace_id:
                    result.trace_ids.append(answer.trace_id)
            else:
                result.found.extend(answer.found)
                result.failed.extend(answer.failed)
                result.trace_ids.append(answer.trace_id)
        return result

    async def _chunk_by_deadline(self, ids: tuple[str, ...], deadline: float) -> CallAnswer | YunxinError:
        loop = asyncio.get_running_loop()
        shared = self._join(ids, deadline, loop)
        answer: asyncio.Future[CallAnswer] = loop.create_future()
        shared.answers.append(answer)
        # The deadline ends this lookup's wait (a timer that fails its answer future: asyncio.timeout_at
        # would cancel and uncancel the lookup's task, at about twice the CPU); the call itself ends when no
        # lookup waits for it any more (_leave).
        time_up = loop.call_at(deadline, _time_up, answer)
        try:
            return await answer
        except TimeoutError:
            return Timeout(
                f"no answer within the lookup's {self._deadline_seconds:g} s deadline", trace_id=shared.last_trace
            )
        except YunxinError as error:
            return error
        except Exception:  # a bug must not lose the other calls' answers
            reference = new_trace_id()
            log.exception("unexpected error in a Yunxin call", extra={"reference": reference})
            return YunxinError(f"unexpected error; reference {reference}", trace_id=shared.last_trace)
        finally:
            time_up.cancel()
            abandoned = self._leave(shared, answer)
            del answer  # an error returned above holds this frame in its traceback: no cycle back to it
            if abandoned is not None:  # ended, and counted, before the lookup says what became of it
                await asyncio.wait([abandoned])

    def _join(self, ids: tuple[str, ...], deadline: float, loop: asyncio.AbstractEventLoop) -> _SharedCall:
        """Identical calls in flight at the same moment share one upstream request."""
        key = tuple(sorted([i.lower() for i in ids]))
        shared = self._inflight.get(key)
        if shared is None:
            shared = _SharedCall(key)
            shared.task = loop.create_task(self._shared_call(shared, ids, deadline))
            self._inflight[key] = shared
        return shared

    async def _shared_call(self, shared: _SharedCall, ids: tuple[str, ...], deadline: float) -> None:
        """The call, then what became of it handed to each lookup still waiting, from within the call's own
        task: a done callback would take one more turn of the event loop. Its errors go to the lookups, never
        out of the task, so asyncio has none to log. (A task cancelled before its first step runs none of
        this: only `_leave` does so, once no lookup waits and the call is forgotten.)"""
        outcome: CallAnswer | Exception
        try:
            outcome = await self._call(ids, shared.traces, deadline)
        except asyncio.CancelledError:
            for waiting in shared.answers:
                waiting.cancel()
            raise
        except Exception as error:
            outcome = error
        except BaseException as error:  # KeyboardInterrupt, SystemExit: the lookups hear of it, the loop too
            shared.settle(error)
            raise
        finally:
            self._forget(shared)
        shared.settle(outcome)
        del outcome  # as in _chunk_by_deadline: an error's traceback holds this frame

    def _leave(self, shared: _SharedCall, answer: asyncio.Future[CallAnswer]) -> asyncio.Task[None] | None:
        """When the last waiter gives up (deadline, cancellation) the call is ended, so an abandoned call
        neither holds a connection slot nor is joined by a later lookup; the call, if so."""
        shared.answers.remove(answer)
        if not shared.answers and not shared.task.done():
            self._forget(shared)
            shared.task.cancel()
            return shared.task
        return None

    def _forget(self, shared: _SharedCall) -> None:
        if self._inflight.get(shared.key) is shared:
            del self._inflight[shared.key]

    async def _call(self, ids: Sequence[str], traces: list[str], deadline: float) -> CallAnswer:
        """One call, its retries and failover, then what became of it told to the gate: an answer, a 416,
        or a failure (unavailable, timed out) that counts towards the breaker."""
        call = CallTicket()
        try:
            answer = await self._attempts(ids, traces, call, deadline)
        except (CallsPaused, BreakerOpen, BudgetSpent):
            raise  # never sent: nothing to tell
        except RateLimited as error:
            await self.gate.rate_limited(call, error)
            raise
        except (Unavailable, Timeout) as error:
            await self.gate.failed(call, error)
            raise
        except YunxinError:
            await self.gate.answered(call)  # an answer Yunxin gave, if not the one asked for
            raise
        await self.gate.answered(call)
        return answer

    async def _attempts(self, ids: Sequence[str], traces: list[str], call: CallTicket, deadline: float) -> CallAnswer:
        last_error: _HostUnreachable | None = None
        hosts = self.config.base_urls
        for index, base_url in enumerate(hosts):
            for _attempt in range(2):  # the first try and one retry on this host
                trace_id = new_trace_id()
                traces.append(trace_id)
                try:
                    answer = await self._send(base_url, ids, trace_id, call, deadline)
                except _HostUnreachable as error:
                    last_error = error.with_traceback(None)  # its traceback holds this frame, which holds it
                    continue
                if index > 0:
                    unreachable = ", ".join(_host(url) for url in hosts[:index])
                    log.warning(
                        "Yunxin primary host unreachable; the backup %s answered (unreachable: %s)",
                        _host(base_url),
                        unreachable,
                    )
                return answer
        assert last_error is not None
        detail = f"could not reach {_either(hosts)} ({last_error.reason})" if len(hosts) > 1 else last_error.detail
        raise Unavailable(detail, trace_id=last_error.trace_id)

    async def _send(
        self, base_url: str, ids: Sequence[str], trace_id: str, call: CallTicket, deadline: float
    ) -> CallAnswer:
        async with self._calls:
            await self.gate.admit(call, max(0.0, deadline - asyncio.get_running_loop().time()))
            # Timed from here: the metrics report the call, not its wait for a slot or for the budget.
            started = self._clock()
            label = "200"
            try:
                return await self._send_once(base_url, ids, trace_id)
            except YunxinError as error:
                label = call_label(error)
                raise
            except asyncio.CancelledError:
                label = Timeout.kind  # abandoned at the lookup's deadline, not answered
                raise
            except Exception:
                label = YunxinError.kind  # a bug: counted, but not as an answer
                raise
            finally:
                if self._on_call is not None:
                    self._on_call(label, self._clock() - started)

    async def _send_once(self, base_url: str, ids: Sequence[str], trace_id: str) -> CallAnswer:
        # The separators travel percent-encoded (`|` as %7C, `,` as %2C), as Yunxin's SDKs send them.
        url = f"{base_url}{self._path}?conversation_ids={query_value(','.join(ids))}"
        # In the SDKs' order and case: the trace ID, then the signature, fresh for every attempt.
        headers = [*REQUEST_HEADERS, (TRACE_HEADER, trace_id), *self._auth.headers()]
        started = self._clock()
        timeout = self.config.timeout_seconds
        try:
            async with self._wire.get(url, headers, socket_timeout=timeout) as response:
                if response.status in (502, 503):
                    raise _HostUnreachable(base_url, f"HTTP {response.status}", trace_id=trace_id)
                check_status(response.status, _host(base_url), trace_id)  # before reading: a body is not read
                content = await read_capped(response, trace_id)
        except ConnectTimedOut:
            raise _HostUnreachable(base_url, f"no connection within {timeout:g} s", trace_id=trace_id) from None
        except ReadTimedOut:
            raise Timeout(f"{_host(base_url)} did not answer within {timeout:g} s", trace_id=trace_id) from None
        except Undecodable as error:
            raise MalformedResponse(error.reason, trace_id=trace_id) from None
        except WireError as error:
            raise _HostUnreachable(base_url, error.reason, trace_id=trace_id) from None
        elapsed_ms = (self._clock() - started) * 1000
        if len(content) > THREAD_PARSE_BYTES:
            answer = await asyncio.to_thread(parse_answer, content, trace_id)
        else:
            answer = parse_answer(content, trace_id)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "yunxin call ok",
                extra={"trace_id": trace_id, "ids": len(ids), "ms": round(elapsed_ms, 1), "host": _host(base_url)},
            )
        return answer
