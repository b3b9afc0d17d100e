"""A cache of Slack's answers shared by the replicas: one GET per lookup, one SET (with its TTL) after a
miss is loaded. Slack rate-limits users.info per workspace, so a fleet asks it once per person per TTL
instead of once per replica. While Redis is down, or for a value Redis does not hold yet, the process's
own cache (`local`) answers and loads, so concurrent misses in one process still share one load."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from .errors import Unreachable

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from .state import SharedState

V = TypeVar("V")


class LocalCache(Protocol[V]):
    async def get(self, key: str, load: Callable[[], Awaitable[V]]) -> V: ...

    def put(self, key: str, value: V) -> None: ...

    def forget(self, key: str) -> None: ...


class SharedTtlCache(Generic[V]):
    """Values kept `ttl` seconds in Redis under `namespace`, encoded as bytes; `local` is the fallback."""

    def __init__(
        self,
        state: SharedState,
        namespace: str,
        ttl: float,
        local: LocalCache[V],
        encode: Callable[[V], bytes],
        decode: Callable[[bytes], V],
    ) -> None:
        self._state = state
        self._namespace = namespace
        self._ttl_ms = max(1, round(ttl * 1000))
        self._local = local
        self._encode = encode
        self._decode = decode

    async def get(self, key: str, load: Callable[[], Awaitable[V]]) -> V:
        name = self._state.key("slack", self._namespace, key)

        async def read(client: aioredis.Redis) -> bytes | None:
            value = await client.get(name)
            return value if isinstance(value, bytes) else None

        try:
            raw = await self._state.run(read)
        except Unreachable:
            return await self._local.get(key, load)
        if raw is not None:
            try:
                value = self._decode(raw)
            except ValueError:
                pass  # not ours (another version's?): load it afresh
            else:
                self._local.put(key, value)  # warm for an outage
                return value
        stored: list[V] = []

        async def load_and_share() -> V:
            value = await load()
            stored.append(value)
            return value

        value = await self._local_miss(key, load_and_share)
        if stored:  # this task loaded it (not another's load it waited for): share it
            encoded = self._encode(value)

            async def write(client: aioredis.Redis) -> object:
                return await client.set(name, encoded, px=self._ttl_ms)

            with contextlib.suppress(Unreachable):  # shared next time, then
                await self._state.run(write)
        return value

    async def _local_miss(self, key: str, load: Callable[[], Awaitable[V]]) -> V:
        """Load through the local cache afresh (what it holds may be older than the shared value that expired),
        so that concurrent misses of this process share one load."""
        self._local.forget(key)
        return await self._local.get(key, load)
