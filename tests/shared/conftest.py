"""Fixtures of the shared-state tests: a real Valkey server for the session (and one of a test's own, for
tests that kill it), and a key prefix of each test's own, so tests never see each other's keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .valkey import Valkey, running_valkey, unique_prefix


@pytest.fixture(scope="session")
def valkey_server() -> Iterator[Valkey]:
    with running_valkey() as valkey:
        yield valkey


@pytest.fixture
def own_valkey() -> Iterator[Valkey]:
    """A server of this test's own, free to kill and start again."""
    with running_valkey() as valkey:
        yield valkey


@pytest.fixture
def prefix() -> str:
    return unique_prefix()
