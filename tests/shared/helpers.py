"""Replicas in one test process: each a SharedState of its own (its own connection and fallbacks), as each
process of the fleet has, around one real Valkey."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from bot.shared.gate import SharedGate
from bot.shared.state import SharedState
from bot.yunxin.budget import CallTicket
from tests.factories import bot_settings, yunxin_app

APP_KEY = "fleet-app-key"
APP_SECRET = "fleet-app-secret-never-stored"


@contextlib.asynccontextmanager
async def shared_states(url: str, prefix: str, count: int, **options: Any) -> AsyncIterator[list[SharedState]]:
    states = [SharedState(url, prefix=prefix, **options) for _ in range(count)]
    try:
        yield states
    finally:
        for state in states:
            await state.aclose()


@contextlib.asynccontextmanager
async def replica_gates(
    url: str, prefix: str, count: int = 3, *, state_options: dict[str, Any] | None = None, **settings: Any
) -> AsyncIterator[list[SharedGate]]:
    """`count` gates of one Yunxin app, one per replica; `settings` by field name."""
    config = yunxin_app(app_key=APP_KEY, app_secret=APP_SECRET)
    values = {"yunxin_app_key": APP_KEY, "yunxin_app_secret": APP_SECRET, **settings}
    async with shared_states(url, prefix, count, **(state_options or {})) as states:
        yield [SharedGate(state, config, bot_settings(**values)) for state in states]


def ticket() -> CallTicket:
    return CallTicket()
