"""Fixtures of the fault suite: a clean environment, the Slack stand-in, and a scripted Yunxin on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.slack.standin import SlackStandIn
from tests.loopback import ServeAsgi

from .harness import ScriptedYunxin, clean_environment, workspace


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_environment(monkeypatch, tmp_path)


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
