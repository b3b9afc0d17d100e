"""Shared fixtures: a clean environment for every test, serving an ASGI app on a real loopback port, ports
that refuse connections, and the whole app of tests/harness.py: its Slack workspace (HTTP and Socket Mode),
its scripted Yunxin (in-process or on loopback), the bot, and listeners' fakes for the tests that call a
listener directly."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.slack.pipeline import Deps
from bot.standins.loopback import serve_on_loopback
from bot.standins.slack import SlackStandIn

from .fakes import fake_deps
from .harness import (
    Bot,
    BotFactory,
    ScriptedYunxin,
    SocketBot,
    running_bot,
    running_socket_bot,
    socket_workspace,
    workspace,
)
from .loopback import LateHost, ServeAsgi
from .standins.socket_mode import SocketModeStandIn

# Per-environment settings (YUNXIN_<NAME>_...) have no field of their own, so prefixes catch them.
_SETTING_PREFIXES = ("SLACK_", "YUNXIN_", "ALLOWED_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither a developer's environment nor a .env in the checkout may change what a test runs: the bot's
    settings are removed from the environment and each test runs in an empty directory. Logs are text
    (a test's output is no terminal, where LOG_FORMAT=auto would choose JSON); tests of JSON say so."""
    for name in list(os.environ):
        if name.startswith(_SETTING_PREFIXES) or name.lower() in Settings.model_fields:
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOG_FORMAT", "text")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def serve_asgi() -> ServeAsgi:
    """`async with serve_asgi(app) as base_url:` runs `app` on a real port for the block."""
    return serve_on_loopback


@pytest.fixture
def late_hosts() -> Iterator[Callable[[], LateHost]]:
    """`late_hosts()` gives a host that refuses connections until it is brought up. The ports are held
    until the test ends so nothing else takes them."""
    hosts: list[LateHost] = []

    def make() -> LateHost:
        hosts.append(LateHost())
        return hosts[-1]

    try:
        yield make
    finally:
        for host in hosts:
            host.close()


@pytest.fixture
def refused_url(late_hosts: Callable[[], LateHost]) -> Callable[[], str]:
    """`refused_url()` gives a loopback URL whose port is bound but not listening, so connecting is
    refused at once (for as long as the test runs)."""
    return lambda: late_hosts().url


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    """The workspace, started (see `workspace`)."""
    async with workspace() as stand_in:
        yield stand_in


@pytest.fixture
def yunxin() -> ScriptedYunxin:
    return ScriptedYunxin()


@pytest.fixture
async def yunxin_url(serve_asgi: ServeAsgi, yunxin: ScriptedYunxin) -> AsyncIterator[str]:
    """`yunxin` served on a loopback port."""
    async with serve_asgi(yunxin) as url:
        yield url


@pytest.fixture
def start_bot(serve_asgi: ServeAsgi, slack: SlackStandIn, yunxin: ScriptedYunxin) -> BotFactory:
    """`async with start_bot(yunxin_url=..., redact_message_text=True) as bot:` runs the HTTP app for the block
    (settings as keywords; `slack=` and `yunxin=` replace the fixtures'; see `running_bot`)."""

    def start(*, slack: SlackStandIn = slack, yunxin: ScriptedYunxin = yunxin, **options: Any) -> Any:
        return running_bot(serve_asgi, slack, yunxin, **options)

    return start


@pytest.fixture
async def bot(start_bot: BotFactory) -> AsyncIterator[Bot]:
    """The HTTP app on loopback; `yunxin` answers it in-process (sandbox mode)."""
    async with start_bot() as running:
        yield running


@pytest.fixture
async def wired_bot(start_bot: BotFactory, yunxin_url: str) -> AsyncIterator[Bot]:
    """The HTTP app on loopback calling `yunxin` on loopback through its own transport, as in production."""
    async with start_bot(yunxin_url=yunxin_url) as running:
        yield running


@pytest.fixture
async def socket_slack() -> AsyncIterator[SocketModeStandIn]:
    """The workspace with Socket Mode, started (see `socket_workspace`)."""
    async with socket_workspace() as stand_in:
        yield stand_in


@pytest.fixture
async def socket_bot(socket_slack: SocketModeStandIn, yunxin: ScriptedYunxin) -> AsyncIterator[SocketBot]:
    """The bot connected to `socket_slack` over Socket Mode; `yunxin` answers it in-process."""
    async with running_socket_bot(socket_slack, yunxin) as running:
        yield running


@pytest.fixture
async def deps() -> AsyncIterator[Deps]:
    """What a listener takes first, around the in-process sandbox and a directory of full members (see
    tests/fakes.py), for the tests that call a listener directly."""
    async with fake_deps() as made:
        yield made
