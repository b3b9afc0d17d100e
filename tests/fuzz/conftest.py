"""Fixtures of the fuzz tests: a clean environment and the Slack stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.slack.standin import SlackStandIn
from tests.faults.harness import clean_environment, workspace


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_environment(monkeypatch, tmp_path)


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with workspace() as stand_in:
        yield stand_in
