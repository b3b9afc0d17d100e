"""Fixtures of the whole-fleet tests (tests/fleet/fleet.py): a Valkey server of each test's own and the fleet
of three web processes around it, or one fleet for a whole module whose tests leave it as they found it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.shared.valkey import Valkey, running_valkey

from .fleet import Fleet, running_fleet


@pytest.fixture
def fleet_valkey() -> Iterator[Valkey]:
    """A Valkey server of the test's own (a fleet test may kill it and start it again)."""
    with running_valkey() as valkey:
        yield valkey


@pytest.fixture
async def fleet(tmp_path: Path, fleet_valkey: Valkey) -> AsyncIterator[Fleet]:
    async with running_fleet(tmp_path, fleet_valkey) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_fleet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Fleet]:
    with running_valkey() as valkey:
        async with running_fleet(tmp_path_factory.mktemp("fleet"), valkey) as running:
            yield running


@pytest_asyncio.fixture(loop_scope="module")
async def same_fleet(module_fleet: Fleet) -> AsyncIterator[Fleet]:
    """The module's fleet, with nothing in Valkey and Yunxin answering, as each test wants to find it."""
    module_fleet.valkey.flush()
    await module_fleet.yunxin.control(limit_next=0, down=False, hold=False, reset=True)
    yield module_fleet
