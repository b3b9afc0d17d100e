"""Who may ask: checked after the ack and before Yunxin is called.

By default any full member of the workspace (or Enterprise Grid org) that installed the app.
Guests, bots and deactivated accounts are refused. Optional allow-lists narrow it further.
Slack answers (users.info, usergroups.users.list) are cached briefly: during an incident the
same people ask again and again, and Slack rate-limits these methods. With REDIS_URL the replicas
share these caches (bot/shared/cache.py); of a users.info answer only the fields the check reads are
kept.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

if TYPE_CHECKING:
    from bot.shared.state import SharedState

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Values kept for `ttl` seconds; concurrent misses on one key share a single load."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic, max_entries: int = 10_000):
        self._ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._values: dict[K, tuple[float, V]] = {}
        self._loading: dict[K, asyncio.Future[V]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        cached = self._values.get(key)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await load()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            raise
        else:
            future.set_result(value)
            self.put(key, value)
            return value
        finally:
            del self._loading[key]

    def put(self, key: K, value: V) -> None:
        """Keep `value` for the TTL from now."""
        if len(self._values) >= self._max_entries:
            self._values.clear()
        self._values[key] = (self._clock() + self._ttl, value)

    def forget(self, key: K) -> None:
        self._values.pop(key, None)


class Cache(Protocol[V]):
    async def get(self, key: str, load: Callable[[], Awaitable[V]]) -> V: ...


USER_FIELDS = ("id", "deleted", "is_bot", "is_app_user", "is_restricted", "is_ultra_restricted", "team_id", "locale")


def access_fields(user: Mapping[str, Any]) -> dict[str, Any]:
    """What the check reads of a users.info answer: nothing else of the profile is kept (nor shared)."""
    kept = {name: user[name] for name in USER_FIELDS if name in user}
    enterprise = user.get("enterprise_user")
    if isinstance(enterprise, dict):
        kept["enterprise_user"] = {name: enterprise[name] for name in ("enterprise_id", "teams") if name in enterprise}
    return kept


def _user_from_json(raw: bytes) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("not a user")
    return value


def _members_from_json(raw: bytes) -> frozenset[str]:
    value = json.loads(raw)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("not a list of members")
    return frozenset(value)


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: str
    team_id: str | None
    enterprise_id: str | None
    channel_id: str | None


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""
    locale: str | None = None  # the caller's Slack locale (en-US, zh-CN), once users.info has told it


ALLOWED = Decision(True)


class AccessCheckFailed(Exception):
    """Slack could not tell us who the caller is; the message says what to do."""


@dataclass(frozen=True, slots=True)
class PeopleList:
    """People admitted by ID or by user-group membership; empty admits everyone."""

    user_ids: frozenset[str] = frozenset()
    usergroup_ids: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.user_ids or self.usergroup_ids)


@dataclass(frozen=True, slots=True)
class AccessRules:
    installed_team_ids: frozenset[str]
    allowed_team_ids: frozenset[str] = frozenset()
    allowed_user_ids: frozenset[str] = frozenset()
    allowed_usergroup_ids: frozenset[str] = frozenset()
    allowed_channel_ids: frozenset[str] = frozenset()
    # Per Yunxin environment, who may query it (on top of the rules above); None: the default one.
    environments: Mapping[str, PeopleList] = field(default_factory=dict)
    default_environment: str | None = None

    @property
    def people(self) -> PeopleList:
        return PeopleList(self.allowed_user_ids, self.allowed_usergroup_ids)

    @property
    def teams(self) -> frozenset[str]:
        return self.allowed_team_ids or self.installed_team_ids


def _ids(values: Collection[str]) -> frozenset[str]:
    return frozenset(v for v in values if v)


def build_rules(
    *,
    installed_team_id: str | None,
    installed_enterprise_id: str | None,
    allowed_team_ids: Collection[str] = (),
    allowed_user_ids: Collection[str] = (),
    allowed_usergroup_ids: Collection[str] = (),
    allowed_channel_ids: Collection[str] = (),
    environments: Mapping[str, tuple[Collection[str], Collection[str]]] | None = None,
    default_environment: str | None = None,
) -> AccessRules:
    """`environments` maps an environment name to (user IDs, user-group IDs) allowed to query it."""
    return AccessRules(
        installed_team_ids=_ids([installed_team_id or "", installed_enterprise_id or ""]),
        allowed_team_ids=_ids(allowed_team_ids),
        allowed_user_ids=_ids(allowed_user_ids),
        allowed_usergroup_ids=_ids(allowed_usergroup_ids),
        allowed_channel_ids=_ids(allowed_channel_ids),
        environments={
            name: PeopleList(_ids(users), _ids(groups))
            for name, (users, groups) in (environments or {}).items()
            if users or groups
        },
        default_environment=default_environment,
    )


def slack_error_code(error: SlackApiError) -> str | None:
    """The `error` of Slack's JSON answer; None when the answer was something else (an HTML error page,
    plain text, broken JSON), where slack_sdk's response holds a string, an empty dict or no data."""
    data = getattr(error.response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    return code if isinstance(code, str) and code else None


def slack_http_status(error: SlackApiError) -> int | None:
    # A SlackResponse has status_code; for a body that is not JSON, slack_sdk attaches aiohttp's response.
    status = getattr(error.response, "status_code", None) or getattr(error.response, "status", None)
    return status if isinstance(status, int) else None


def _slack_failure(method: str, error: Exception) -> AccessCheckFailed:
    if isinstance(error, SlackApiError):
        code = slack_error_code(error)
        status = slack_http_status(error)
        if status == 429:
            headers = getattr(error.response, "headers", None) or {}
            wait = headers.get("Retry-After") or headers.get("retry-after")
            later = f"in {wait} s" if wait else "in a minute"
            return AccessCheckFailed(f"Slack is rate limiting the access check ({method}); try again {later}.")
        if code is None:
            return AccessCheckFailed(f"Slack answered HTTP {status or '?'} to {method}; try again in a minute.")
        if code == "plan_upgrade_required":
            return AccessCheckFailed(
                "ALLOWED_USERGROUP_IDS needs a paid Slack plan (usergroups.users.list answered "
                "plan_upgrade_required); ask your Slack admin to use ALLOWED_USER_IDS instead."
            )
        if code == "missing_scope":
            return AccessCheckFailed(f"the app lacks a Slack scope for {method}; reinstall it from the manifest.")
        return AccessCheckFailed(f"Slack answered {code} to {method}; try again in a minute.")
    return AccessCheckFailed(f"could not reach Slack to check access ({method}); try again in a minute.")


class AccessPolicy:
    def __init__(
        self,
        rules: AccessRules,
        client: AsyncWebClient,
        *,
        user_ttl: float = 60.0,
        usergroup_ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedState | None = None,
    ) -> None:
        """With `shared`, the caches are the fleet's (in Redis), with these as their in-process fallback."""
        self.rules = rules
        self._client = client
        users: TtlCache[str, dict[str, Any]] = TtlCache(user_ttl, clock)
        groups: TtlCache[str, frozenset[str]] = TtlCache(usergroup_ttl, clock)
        self._users: Cache[dict[str, Any]] = users
        self._groups: Cache[frozenset[str]] = groups
        self._locales: dict[str, str] = {}  # user -> Slack locale, as last read: for replies before any call
        if shared is not None:
            from bot.shared.cache import SharedTtlCache

            self._users = SharedTtlCache(
                shared, "user", user_ttl, users, lambda user: json.dumps(user).encode(), _user_from_json
            )
            self._groups = SharedTtlCache(
                shared,
                "usergroup",
                usergroup_ttl,
                groups,
                lambda members: json.dumps(sorted(members)).encode(),
                _members_from_json,
            )

    async def check(self, caller: Caller, environment: str | None = None) -> Decision:
        """May `caller` look up conversations here, in `environment` (None: the default one)?"""
        rules = self.rules
        if rules.allowed_channel_ids and caller.channel_id not in rules.allowed_channel_ids:
            return Decision(False, "lookups are not enabled in this channel")
        request_teams = {caller.team_id, caller.enterprise_id} - {None}
        if not request_teams & rules.teams:
            return Decision(False, "your workspace is not one this app serves")
        user = await self._user(caller.user_id)
        locale = self._remember_locale(caller.user_id, user.get("locale"))
        refusal = account_refusal(user, rules.teams)
        if refusal:
            return Decision(False, refusal, locale)
        if not await self._admits(rules.people, caller.user_id):
            return Decision(False, "you are not on the list of people allowed to look up conversations", locale)
        name = environment or rules.default_environment
        people = rules.environments.get(name) if name else None
        if people is not None and not await self._admits(people, caller.user_id):
            return Decision(False, f"you are not on the list of people allowed to query the {name} environment", locale)
        return Decision(True, locale=locale)

    def known_locale(self, user_id: str) -> str | None:
        """The Slack locale last read for `user_id`, without calling Slack (None: not read yet)."""
        return self._locales.get(user_id)

    def _remember_locale(self, user_id: str, locale: Any) -> str | None:
        if not isinstance(locale, str) or not locale:
            return None
        if len(self._locales) >= 10_000 and user_id not in self._locales:
            self._locales.clear()
        self._locales[user_id] = locale
        return locale

    async def _admits(self, people: PeopleList, user_id: str) -> bool:
        """With both lists set, either admits; an empty PeopleList admits everyone."""
        if not people or user_id in people.user_ids:
            return True
        for group in sorted(people.usergroup_ids):
            if user_id in await self._group_members(group):
                return True
        return False

    async def _user(self, user_id: str) -> dict[str, Any]:
        async def load() -> dict[str, Any]:
            try:
                response = await self._client.users_info(user=user_id, include_locale=True)
            except SlackApiError as error:
                if slack_error_code(error) == "user_not_found":
                    return {}  # refused by the caller: Slack does not know this account
                raise _slack_failure("users.info", error) from None
            except (TimeoutError, SlackClientError, OSError) as error:
                raise _slack_failure("users.info", error) from None
            user = response.get("user")
            return access_fields(user) if isinstance(user, dict) else {}

        return await self._users.get(user_id, load)

    async def _group_members(self, usergroup_id: str) -> frozenset[str]:
        async def load() -> frozenset[str]:
            try:
                response = await self._client.usergroups_users_list(usergroup=usergroup_id)
            except (TimeoutError, SlackApiError, SlackClientError, OSError) as error:
                raise _slack_failure("usergroups.users.list", error) from None
            users = response.get("users")
            return frozenset(users) if isinstance(users, list) else frozenset()

        return await self._groups.get(usergroup_id, load)


def account_refusal(user: dict[str, Any], teams: frozenset[str]) -> str | None:
    if not user:
        return "Slack does not know your account"
    if user.get("deleted"):
        return "your account is deactivated"
    if user.get("is_bot") or user.get("is_app_user"):
        return "bot users cannot look up conversations"
    if user.get("is_ultra_restricted") or user.get("is_restricted"):
        return "guest accounts cannot look up conversations"
    enterprise = user.get("enterprise_user")
    user_teams: list[Any] = [user.get("team_id")]
    if isinstance(enterprise, dict):
        listed = enterprise.get("teams")
        # What Slack sends is read as data: only IDs (strings) in a list of them name a workspace.
        user_teams += [enterprise.get("enterprise_id"), *(listed if isinstance(listed, list) else [])]
    if not {team for team in user_teams if isinstance(team, str)} & teams:
        return "your account belongs to another workspace"
    return None
