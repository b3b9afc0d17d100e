"""The Slack side shared through a real Valkey: the access check's caches (users.info, user groups) and the
HTTP edge's replay guard, with their in-process fallbacks while Redis is down."""

from __future__ import annotations

import asyncio

import pytest

from bot.shared.cache import SharedTtlCache
from bot.shared.replay import SharedReplayGuard
from bot.slack.access import AccessPolicy, Caller, TtlCache, access_fields, build_rules
from bot.slack.edge import ReplayGuard
from bot.standins.slack import SlackStandIn
from tests.shared.helpers import shared_states
from tests.shared.valkey import Valkey

TEAM = "T0SHARED"
MEMBER = "U0SHARED"
BOT_TOKEN = "xoxb-shared-state-test"


def json_cache(state: object, ttl: float = 60.0) -> SharedTtlCache[dict[str, int]]:
    import json

    return SharedTtlCache(
        state,  # type: ignore[arg-type]
        "user",
        ttl,
        TtlCache(ttl),
        lambda value: json.dumps(value).encode(),
        lambda raw: json.loads(raw),
    )


async def test_replicas_share_a_loaded_value_until_its_ttl(valkey_server: Valkey, prefix: str) -> None:
    loads = 0

    async def load() -> dict[str, int]:
        nonlocal loads
        loads += 1
        return {"n": loads}

    async with shared_states(valkey_server.url, prefix, 3) as states:
        caches = [json_cache(state, ttl=0.3) for state in states]
        assert [await cache.get("U1", load) for cache in caches] == [{"n": 1}] * 3
        await asyncio.sleep(0.4)
        assert await caches[2].get("U1", load) == {"n": 2}
        assert await caches[0].get("U1", load) == {"n": 2}
    assert loads == 2


async def test_concurrent_misses_in_one_replica_share_one_load(valkey_server: Valkey, prefix: str) -> None:
    release = asyncio.Event()
    loads = 0

    async def slow_load() -> dict[str, int]:
        nonlocal loads
        loads += 1
        await release.wait()
        return {"n": 7}

    async with shared_states(valkey_server.url, prefix, 1) as (state,):
        cache = json_cache(state)
        waiting = [asyncio.ensure_future(cache.get("U1", slow_load)) for _ in range(5)]
        await asyncio.sleep(0.05)
        release.set()
        assert await asyncio.gather(*waiting) == [{"n": 7}] * 5
    assert loads == 1


async def test_while_redis_is_down_the_replicas_own_cache_answers(own_valkey: Valkey, prefix: str) -> None:
    loads = 0

    async def load() -> dict[str, int]:
        nonlocal loads
        loads += 1
        return {"n": loads}

    async with shared_states(own_valkey.url, prefix, 1) as (state,):
        cache = json_cache(state)
        assert await cache.get("U1", load) == {"n": 1}
        await own_valkey.kill_async()
        assert await cache.get("U1", load) == {"n": 1}  # kept here too, for this
        assert await cache.get("U2", load) == {"n": 2}
        assert state.degraded
    assert loads == 2


async def test_users_info_is_asked_once_for_the_fleet_and_only_what_the_check_reads_is_kept(
    valkey_server: Valkey, prefix: str
) -> None:
    async with SlackStandIn(bot_token=BOT_TOKEN, team_id=TEAM) as slack:
        slack.add_user(MEMBER, name="someone with a profile")
        async with shared_states(valkey_server.url, prefix, 3) as states:
            from slack_sdk.web.async_client import AsyncWebClient

            client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
            rules = build_rules(installed_team_id=TEAM, installed_enterprise_id=None)
            policies = [AccessPolicy(rules, client, shared=state) for state in states]
            caller = Caller(user_id=MEMBER, team_id=TEAM, enterprise_id=None, channel_id="C0")
            decisions = [await policy.check(caller) for policy in policies]
        assert all(decision.allowed for decision in decisions)
        assert [method for _, method, _ in slack.api_calls].count("users.info") == 1
    stored = valkey_server.client().get(f"{prefix}:slack:user:{MEMBER}")
    assert stored is not None and b"someone with a profile" not in stored


def test_only_the_fields_the_check_reads_are_kept() -> None:
    user = {
        "id": "U1",
        "team_id": "T1",
        "deleted": False,
        "is_bot": False,
        "profile": {"email": "someone@example.com", "real_name": "Someone"},
        "enterprise_user": {"enterprise_id": "E1", "teams": ["T1"], "is_admin": True},
    }
    assert access_fields(user) == {
        "id": "U1",
        "team_id": "T1",
        "deleted": False,
        "is_bot": False,
        "enterprise_user": {"enterprise_id": "E1", "teams": ["T1"]},
    }


async def test_a_signature_seen_by_one_replica_is_refused_by_the_others(valkey_server: Valkey, prefix: str) -> None:
    async with shared_states(valkey_server.url, prefix, 3) as states:
        guards = [SharedReplayGuard(state, ReplayGuard(), window=0.3) for state in states]
        assert await guards[0].is_first("v0=abc")
        assert not await guards[1].is_first("v0=abc")
        assert not await guards[2].is_first("v0=abc")
        assert not await guards[0].is_first("v0=abc")
        assert await guards[1].is_first("v0=other")
        ttl = valkey_server.client().pttl(f"{prefix}:slack:replay:v0=abc")
        assert 0 < ttl <= 300


async def test_the_replay_guard_falls_back_to_what_this_replica_saw(own_valkey: Valkey, prefix: str) -> None:
    async with shared_states(own_valkey.url, prefix, 1) as (state,):
        guard = SharedReplayGuard(state, ReplayGuard(), window=300)
        assert await guard.is_first("v0=before")
        await own_valkey.kill_async()
        assert not await guard.is_first("v0=before")
        assert await guard.is_first("v0=during")
        assert not await guard.is_first("v0=during")


@pytest.mark.parametrize("value", [b"not json", b"[1, 2]"])
async def test_a_value_that_does_not_decode_is_loaded_afresh(valkey_server: Valkey, prefix: str, value: bytes) -> None:
    import json

    valkey_server.client().set(f"{prefix}:slack:usergroup:S1", value)

    async def load() -> frozenset[str]:
        return frozenset({"U1"})

    def decode(raw: bytes) -> frozenset[str]:
        items = json.loads(raw)
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise ValueError("not members")
        return frozenset(items)

    async with shared_states(valkey_server.url, prefix, 1) as (state,):
        cache = SharedTtlCache(state, "usergroup", 60, TtlCache(60), lambda v: json.dumps(sorted(v)).encode(), decode)
        assert await cache.get("S1", load) == frozenset({"U1"})
    assert valkey_server.client().get(f"{prefix}:slack:usergroup:S1") == b'["U1"]'
