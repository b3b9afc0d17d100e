"""Fixtures of the fault suite: a clean environment, the Slack stand-in, and a scripted Yunxin on loopback."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.slack.standin import SlackStandIn

from .harness import ScriptedYunxin, ServeAsgi, workspace

_ENV_PREFIXES = ("SLACK_", "YUNXIN_", "ALLOWED_")
_ENV_NAMES = ("ACCESS_CONTACT", "REDACT_MESSAGE_TEXT", "MAX_IDS_PER_COMMAND", "LOG_LEVEL", "PORT")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither a developer's environment nor a .env in the checkout may change what a test runs."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


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
