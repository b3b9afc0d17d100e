"""The replay guard of the HTTP edge, shared: a signature seen by any replica within Slack's 5-minute window
is refused by all (SET NX with that expiry, one round trip). Each process also remembers what it saw, which
answers alone while Redis is down."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Protocol

from .errors import Unreachable

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from .state import SharedState


class LocalReplayGuard(Protocol):
    def first_time(self, signature: str) -> bool: ...


class SharedReplayGuard:
    def __init__(self, state: SharedState, local: LocalReplayGuard, window: float) -> None:
        self._state = state
        self._local = local
        self._window_ms = max(1, round(window * 1000))

    async def is_first(self, signature: str) -> bool:
        """False when this signature was seen within the window, here or by another replica."""
        if not self._local.first_time(signature):
            return False
        name = self._state.key("slack", "replay", signature)
        token = secrets.token_hex(8)  # asked twice (after a timeout), this request is still the first

        async def claim(client: aioredis.Redis) -> bool:
            claimed = await self._state.claim_script(keys=[name], args=[token, self._window_ms], client=client)
            return bool(claimed)

        try:
            return await self._state.run(claim)
        except Unreachable:
            return True  # this process has not seen it; the others cannot be asked
