"""Shared fixtures: a clean environment for every test, serving an ASGI app on a real loopback port, ports
that refuse connections, and the Slack workspace, scripted Yunxin and bot of the tests that run the whole
app (tests/faults, tests/fuzz, tests/test_metrics.py; tests/slack has its own workspace and bot)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.standins.loopback import serve_on_loopback
from bot.standins.slack import SlackStandIn

from .faults.harness import Bot, ScriptedYunxin, running_bot, settings_for, workspace
from .loopback import LateHost, ServeAsgi

# Per-environment settings (YUNXIN_<NAME>_...) have no field of their own, so prefixes catch them.
_SETTING_PREFIXES = ("SLACK_", "YUNXIN_", "ALLOWED_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither a developer's environment nor a .env in the checkout may change what a test runs: the bot's
    settings are removed from the environment and each test runs in an empty directory."""
    for name in list(os.environ):
        if name.startswith(_SETTING_PREFIXES) or name.lower() in Settings.model_fields:
            monkeypatch.delenv(name)
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
    async with workspace() as stand_in:
        yield stand_in


@pytest.fixture
def yunxin() -> ScriptedYunxin:
    return ScriptedYunxin()


@pytest.fixture
async def yunxin_url(serve_asgi: ServeAsgi, yunxin: ScriptedYunxin) -> AsyncIterator[str]:
    async with serve_asgi(yunxin) as url:
        yield url


@pytest.fixture
async def bot(serve_asgi: ServeAsgi, slack: SlackStandIn, yunxin_url: str) -> AsyncIterator[Bot]:
    """The HTTP app on loopback, its Yunxin the scripted one."""
    async with running_bot(serve_asgi, slack, settings_for(slack, yunxin_url)) as running:
        yield running
