"""Shared fixtures: serving an ASGI app on a real loopback port, and ports that refuse connections."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bot.slack.standin import serve_on_loopback

from .loopback import LateHost, ServeAsgi


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
