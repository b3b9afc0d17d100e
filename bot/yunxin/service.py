"""The Yunxin apps this process can query, by environment name, behind one `lookup()`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

import httpx

from bot.settings import Settings, YunxinAppConfig

from .budget import CallBudget, CallGate, GateStatus, LocalGate
from .client import YunxinClient
from .ids import ConversationId, InvalidId
from .models import LookupResult
from .sandbox import sandbox_transport


class UnknownEnvironment(LookupError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = sorted(known)
        super().__init__(f"unknown environment {name!r}; known: {', '.join(self.known)}")


class GateSource(Protocol):
    """Where the gates come from when several replicas share them (bot.shared.SharedState)."""

    def yunxin_gate(self, config: YunxinAppConfig, settings: Settings) -> CallGate: ...


def local_gate(config: YunxinAppConfig, settings: Settings) -> LocalGate:
    """The budget, the pause after a 416 and the breaker of one Yunxin app, in this process alone."""
    return LocalGate(
        CallBudget(settings.yunxin_max_calls_per_second),
        name=config.name,
        pause_seconds=settings.yunxin_rate_limit_pause_seconds,
        breaker_failures=settings.yunxin_breaker_failures,
        cooldown_seconds=settings.yunxin_breaker_cooldown_seconds,
        probe_lease_seconds=probe_lease_seconds(settings),
    )


def probe_lease_seconds(settings: Settings) -> float:
    """How long the breaker's probe call may take before another may go: its lookup's deadline, and a second."""
    return settings.yunxin_deadline_seconds + 1.0


class Lookups:
    """One pooled client per Yunxin app; close with `aclose()` on shutdown."""

    def __init__(self, clients: Mapping[str, YunxinClient], default: str) -> None:
        if default not in clients:
            raise ValueError(f"default environment {default!r} has no client")
        self._clients = dict(clients)
        self.default = default

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        on_call: Callable[[str, float], None] | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        shared: GateSource | None = None,
    ) -> Lookups:
        """One client per environment. Environments of one AppKey share one gate: Yunxin limits the app, so
        its budget, pause and breaker are the app's (and, with `shared`, the whole fleet's)."""
        gates: dict[str, CallGate] = {}

        def gate(config: YunxinAppConfig) -> CallGate:
            if config.app_key not in gates:
                made = shared.yunxin_gate(config, settings) if shared is not None else local_gate(config, settings)
                gates[config.app_key] = made
            return gates[config.app_key]

        def make(config: YunxinAppConfig) -> YunxinClient:
            return YunxinClient(
                config,
                # The sandbox answers in-process unless a test gives it a transport of its own.
                transport=(transports or {}).get(config.name) or (sandbox_transport() if config.sandbox else None),
                deadline_seconds=settings.yunxin_deadline_seconds,
                concurrency=settings.yunxin_concurrency,
                gate=gate(config),
                on_call=on_call,
            )

        environments = settings.yunxin_apps()
        return cls({name: make(config) for name, config in environments.items()}, settings.default_environment())

    @property
    def names(self) -> list[str]:
        return list(self._clients)

    def config(self, environment: str | None = None) -> YunxinAppConfig:
        return self._client(environment).config

    def _client(self, environment: str | None) -> YunxinClient:
        name = environment or self.default
        client = self._clients.get(name)
        if client is None:
            raise UnknownEnvironment(name, self._clients)
        return client

    def gate_status(self) -> dict[str, GateStatus]:
        """Per environment, its gate's pause and breaker as this process last saw them (for /metrics)."""
        return {name: client.gate.status() for name, client in self._clients.items()}

    async def lookup(self, ids: Sequence[ConversationId | InvalidId], environment: str | None = None) -> LookupResult:
        return await self._client(environment).get_conversations(ids)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
