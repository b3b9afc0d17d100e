"""The Yunxin apps this process can query, by environment name, behind one `lookup()`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import httpx

from bot.settings import Settings, YunxinAppConfig

from .budget import CallBudget
from .client import YunxinClient
from .ids import ConversationId, InvalidId
from .models import LookupResult
from .sandbox import sandbox_transport


class UnknownEnvironment(LookupError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = sorted(known)
        super().__init__(f"unknown environment {name!r}; known: {', '.join(self.known)}")


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
    ) -> Lookups:
        def make(config: YunxinAppConfig) -> YunxinClient:
            return YunxinClient(
                config,
                # The sandbox answers in-process unless a test gives it a transport of its own.
                transport=(transports or {}).get(config.name) or (sandbox_transport() if config.sandbox else None),
                deadline_seconds=settings.yunxin_deadline_seconds,
                concurrency=settings.yunxin_concurrency,
                budget=CallBudget(settings.yunxin_max_calls_per_second),
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

    async def lookup(self, ids: Sequence[ConversationId | InvalidId], environment: str | None = None) -> LookupResult:
        return await self._client(environment).get_conversations(ids)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
