"""The connection to Redis (or Valkey) that the replicas share, and what happens when it fails.

Every operation is one round trip bounded by REDIS_TIMEOUT_SECONDS (100 ms by default). The bound is
Redis's, not the event loop's: when the loop itself was busy past the bound (a burst of commands on a small
machine), the answer may already be in, so the operation gets as long again as the loop was late. One that
still times out is asked once more, for five times the bound (every operation here gives the same outcome
when asked twice): a busy Redis is waited for, and only one that misses both counts as not answering.
When Redis cannot be reached (refused, reset, or three operations in a row past the timeout) the state is
*degraded*: one warning is logged, every caller uses its own in-process fallback at once (no operation
waits on Redis any more), and a background check tries Redis again every second. When it answers, one line
says so, the fallbacks hand over what Redis must know (the calls made from each process's share of the
budget), and the shared state is used again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeout

from bot.settings import Settings, YunxinAppConfig
from bot.yunxin.budget import CallGate

from . import scripts
from .errors import Unreachable

log = logging.getLogger(__name__)

T = TypeVar("T")

# While degraded, how often Redis is tried again (one cheap write, in the background).
RECHECK_SECONDS = 1.0
# Operations in a row that missed both tries, which make an outage: a single one (a slow moment) only
# sends that operation to the fallback.
TIMEOUTS_FOR_OUTAGE = 3
SECOND_TRY_FACTOR = 5
# A wake-up later than this after the bound means the event loop was busy, not that Redis was slow.
LOOP_LATE_SECONDS = 0.01
EXTENSIONS_LIMIT = 10  # the bound, stretched for a busy loop, is at most this many times the timeout
# Connections kept open to Redis, all opened at start: a burst then queues briefly for one (each operation
# holds it for one round trip) instead of paying for new connections, handshake included, on its way.
CONNECTIONS = 16


def describe(url: str) -> str:
    """Where the URL points, without its password: `redis://host:6379/0`, `unix:///run/redis.sock`."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path or ''}"


class SharedState:
    """One Redis client for the process, and whether it is usable now (`degraded`, `outages`).

    `run(operation)` runs one operation under the timeout, or raises Unreachable (while degraded, at once);
    callers then use their in-process fallback. `on_recovery(hook)` runs `hook` when Redis is back."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "yunxin-bot",
        timeout: float = 0.1,
        processes: int = 2,
        recheck_seconds: float = RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.where = describe(url)
        self.prefix = prefix
        self.timeout = timeout
        self.processes = processes  # how many share the budget while Redis is down
        self.degraded = False
        self.outages = 0  # outages since start
        self._recheck_seconds = recheck_seconds
        self._clock = clock
        self._down_since = 0.0
        self._timeouts = 0
        self._recovering: asyncio.Task[None] | None = None
        self._hooks: list[Callable[[], Awaitable[None]]] = []
        backstop = max(1.0, timeout * EXTENSIONS_LIMIT)  # run() bounds each operation; these only in case
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=CONNECTIONS,
            timeout=None,  # waiting for a connection is bounded by run()
            socket_timeout=backstop,
            socket_connect_timeout=backstop,
            retry=Retry(NoBackoff(), 0),  # never retried: a caller's fallback is quicker than a second try
            health_check_interval=0,
            client_name="yunxin-conversation-bot",
        )
        self.client = aioredis.Redis(connection_pool=pool)
        self.gate_script = self.client.register_script(scripts.GATE)
        self.report_script = self.client.register_script(scripts.REPORT)
        self.merge_script = self.client.register_script(scripts.MERGE)
        self.claim_script = self.client.register_script(scripts.CLAIM)

    def __repr__(self) -> str:
        return f"SharedState(where={self.where!r}, degraded={self.degraded})"

    @classmethod
    async def open(cls, settings: Settings) -> SharedState:
        """Connect (no failure stops start-up: unreachable, it starts degraded) and load the scripts."""
        assert settings.redis_url is not None
        state = cls(
            settings.redis_url.get_secret_value(),
            prefix=settings.redis_key_prefix,
            timeout=settings.redis_timeout_seconds,
            processes=max(settings.yunxin_fleet_size, settings.web_concurrency),
        )
        try:
            await state.run(state._load_scripts, seconds=max(1.0, state.timeout))
        except Unreachable:
            pass  # said once, and checked again every second
        else:
            log.info("shared state in Redis at %s (keys %s:*)", state.where, state.prefix)
        return state

    async def _load_scripts(self, client: aioredis.Redis) -> None:
        for script in (self.gate_script, self.report_script, self.merge_script, self.claim_script):
            script.sha = await client.script_load(script.script)
        await asyncio.gather(*(client.ping() for _ in range(CONNECTIONS)))  # every connection open

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def yunxin_gate(self, config: YunxinAppConfig, settings: Settings) -> CallGate:
        """The gate of one Yunxin app, shared by every replica with its AppKey (bot.yunxin.service asks)."""
        from .gate import SharedGate

        return SharedGate(self, config, settings)

    def on_recovery(self, hook: Callable[[], Awaitable[None]]) -> None:
        self._hooks.append(hook)

    async def run(self, operation: Callable[[aioredis.Redis], Awaitable[T]], *, seconds: float | None = None) -> T:
        """One operation on Redis within the timeout (or `seconds`); Unreachable if it fails or while degraded."""
        if self.degraded:
            raise Unreachable(self.where)
        limit = seconds or self.timeout
        try:
            try:
                result = await _within(operation(self.client), limit)
            except (TimeoutError, RedisTimeout):
                result = await _within(operation(self.client), limit * SECOND_TRY_FACTOR)
        except (TimeoutError, RedisTimeout) as error:
            self._timeouts += 1
            if self._timeouts >= TIMEOUTS_FOR_OUTAGE:
                self._went_down(error)
            raise Unreachable(self.where) from None
        except (RedisError, OSError) as error:
            self._went_down(error)
            raise Unreachable(self.where) from None
        self._timeouts = 0
        return result

    def _went_down(self, error: BaseException) -> None:
        if self.degraded:
            return
        self.degraded = True
        self.outages += 1
        self._down_since = self._clock()
        log.warning(
            "Redis at %s is not answering (%s): each process uses its own state until it is back (the "
            "Yunxin budget split %d ways, caches and replay guard in memory); checking again every %g s",
            self.where,
            _reason(error),
            self.processes,
            self._recheck_seconds,
        )
        if self._recovering is None or self._recovering.done():
            self._recovering = asyncio.get_running_loop().create_task(self._recover())

    async def _recover(self) -> None:
        alive = self.key("alive")
        while True:
            await asyncio.sleep(self._recheck_seconds)
            try:
                async with asyncio.timeout(max(self.timeout, 0.5)):
                    await self.client.set(alive, str(os.getpid()), px=10_000)  # a write: a read-only replica fails
            except (TimeoutError, RedisError, OSError):
                continue
            break
        self.degraded = False
        self._timeouts = 0
        log.warning(
            "Redis at %s answers again after %.1f s: the processes share state again",
            self.where,
            self._clock() - self._down_since,
        )
        for hook in self._hooks:
            try:
                await hook()
            except Unreachable:
                break
            except Exception:
                log.exception("handing state over to Redis failed")

    async def aclose(self) -> None:
        if self._recovering is not None:
            self._recovering.cancel()
            await asyncio.gather(self._recovering, return_exceptions=True)
        await self.client.aclose()


async def _within(operation: Awaitable[T], limit: float) -> T:
    """`operation`'s result within `limit` seconds of Redis's time (see the module's docstring), or TimeoutError;
    an operation given up on is cancelled (redis-py then drops its connection, never reusing it half-read)."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(operation)
    task.add_done_callback(_retrieve)
    started = loop.time()
    deadline = started + limit
    try:
        while True:
            done, _ = await asyncio.wait((task,), timeout=max(0.0, deadline - loop.time()))
            if done:
                return task.result()
            now = loop.time()
            late = now - deadline
            if late < LOOP_LATE_SECONDS or now - started >= limit * EXTENSIONS_LIMIT:
                raise TimeoutError(f"no answer within {limit:g} s")
            deadline = now + min(late, limit)
    finally:
        task.cancel()


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a failure after it was given up on is not worth a warning


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def reply_items(reply: Any) -> list[Any]:
    """A script's array reply, its strings decoded."""
    if not isinstance(reply, list):
        raise RedisError(f"unexpected reply {reply!r:.80}")
    return [item.decode("utf-8", "replace") if isinstance(item, bytes) else item for item in reply]
