"""State the replicas share through Redis 6+ or Valkey (REDIS_URL), each part with an in-process fallback.

- `state.py`: the connection, its timeout, and the degraded state while Redis is down (and the way back);
- `gate.py`: the Yunxin call budget, the pause after a 416 and the circuit breaker, per AppKey, fleet-wide;
- `scripts.py`: the gate's Lua scripts (one round trip each, on the server's clock);
- `cache.py`: the Slack answers the access check caches (users.info, user groups);
- `replay.py`: the replay guard of the HTTP edge (each signature once in 5 minutes, fleet-wide).

Nothing here is imported unless REDIS_URL is set (`open_shared_state`), so without it the bot needs neither
a Redis server nor its client library loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import Unreachable

if TYPE_CHECKING:
    from bot.settings import Settings

    from .state import SharedState

__all__ = ["Unreachable", "open_shared_state"]


async def open_shared_state(settings: Settings) -> SharedState | None:
    """The shared state of REDIS_URL, connected (or degraded, if Redis is down); None without REDIS_URL."""
    if settings.redis_url is None:
        return None
    from .state import SharedState

    return await SharedState.open(settings)
