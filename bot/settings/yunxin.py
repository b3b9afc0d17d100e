"""How to reach each Yunxin app: its documented hosts, the built-in sandbox, one app's config
(`YunxinAppConfig`), and the per-environment settings of YUNXIN_ENVIRONMENTS (`EnvironmentSettings`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Yunxin's documented hosts by region, in the order they are tried. The first is the host of the API page
# itself (the batch conversation query, https://open.yunxinapi.com; open-sg overseas). The others are the
# hosts Yunxin's official server SDKs call, with the /nimserver prefix their paths take: the default and
# the first backup of the Java SDK (1.2.0, Constants.Endpoint.CN / SG) and the Go SDK (constants.go,
# Endpoint.IM). The SDKs list three more backups (api-cn-01 to -03, api-sg-01 to -03) that
# YUNXIN_BASE_URLS can add. No SDK or vendor page names an open-bak host, so none is tried.
DOCUMENTED_HOSTS: dict[str, tuple[str, ...]] = {
    "china": (
        "https://open.yunxinapi.com",
        "https://api-cn.yunxinapi.com/nimserver",
        "https://api-cn-bak.yunxinapi.com/nimserver",
    ),
    "overseas": (
        "https://open-sg.yunxinapi.com",
        "https://api-sg.yunxinapi.com/nimserver",
        "https://api-sg-bak.yunxinapi.com/nimserver",
    ),
}
DEFAULT_BASE_URLS = DOCUMENTED_HOSTS["china"]

# Fixed credentials of the built-in sandbox: it checks signatures made with them.
SANDBOX_APP_KEY = "sandbox-app-key"
SANDBOX_APP_SECRET = "sandbox-app-secret"
SANDBOX_BASE_URL = "http://yunxin-sandbox.invalid"

CommaList = Annotated[list[str], NoDecode]


@dataclass(frozen=True, slots=True, init=False)
class YunxinAppConfig:
    """How to reach one Yunxin app: `base_urls` are its hosts in the order tried. `sandbox` means the
    built-in emulator answers."""

    name: str
    app_key: str
    app_secret: SecretStr
    base_urls: tuple[str, ...]
    api_version: Literal["v2", "v2.1"]
    timeout_seconds: float
    sandbox: bool

    def __init__(
        self,
        name: str,
        app_key: str,
        app_secret: SecretStr,
        base_urls: Sequence[str] = (),
        api_version: Literal["v2", "v2.1"] = "v2",
        timeout_seconds: float = 5.0,
        sandbox: bool = False,
        *,
        base_url: str | None = None,
        backup_base_url: str | None = None,
    ) -> None:
        """The hosts are `base_urls`, or `base_url` followed by `backup_base_url` if given (as
        YUNXIN_BASE_URL and YUNXIN_BACKUP_BASE_URL name them, once resolved)."""
        if base_url is not None:
            if base_urls:
                raise ValueError("give base_urls or base_url, not both")
            base_urls = [base_url, *([backup_base_url] if backup_base_url else [])]
        elif backup_base_url:
            raise ValueError("backup_base_url needs base_url")
        if not base_urls:
            raise ValueError("a Yunxin app needs at least one host")
        set_field = object.__setattr__  # the dataclass is frozen
        set_field(self, "name", name)
        set_field(self, "app_key", app_key)
        set_field(self, "app_secret", app_secret)
        set_field(self, "base_urls", tuple(base_urls))
        set_field(self, "api_version", api_version)
        set_field(self, "timeout_seconds", timeout_seconds)
        set_field(self, "sandbox", sandbox)

    @property
    def base_url(self) -> str:
        """The host tried first."""
        return self.base_urls[0]


def check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http(s) URL such as https://open.yunxinapi.com (got {value!r})")
    return value.rstrip("/")


def check_urls(values: list[str]) -> list[str]:
    urls = [check_url(value) for value in values]
    seen: set[str] = set()
    for url in urls:
        if url.lower() in seen:
            raise ValueError(f"{url} is listed twice")
        seen.add(url.lower())
    return urls


def documented_failover(base_url: str) -> list[str]:
    """The documented hosts tried after `base_url` when it is one of them: the rest of its region's list."""
    for hosts in DOCUMENTED_HOSTS.values():
        if base_url.lower() in (host.lower() for host in hosts):
            return [host for host in hosts if host.lower() != base_url.lower()]
    return []


def host_list(base_url: str, backup: str | None) -> list[str]:
    """YUNXIN_BASE_URL and YUNXIN_BACKUP_BASE_URL as the list of hosts tried. Backup unset (None): the
    documented hosts after `base_url` if it is one of them; "" (none): `base_url` alone; a URL: that one."""
    if backup is None:
        return [base_url, *documented_failover(base_url)]
    return list(dict.fromkeys([base_url, backup])) if backup else [base_url]


def backup_setting(value: str | None) -> str | None:
    """Unset: the documented backup of a documented host. Empty, "none" or "off": "" (no failover)."""
    if value is None:
        return None
    if value.strip().lower() in ("", "none", "off"):
        return ""
    return check_url(value)


def split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def sandbox_config(name: str, api_version: Literal["v2", "v2.1"], timeout_seconds: float) -> YunxinAppConfig:
    return YunxinAppConfig(
        name=name,
        app_key=SANDBOX_APP_KEY,
        app_secret=SecretStr(SANDBOX_APP_SECRET),
        base_urls=[SANDBOX_BASE_URL],
        api_version=api_version,
        timeout_seconds=timeout_seconds,
        sandbox=True,
    )


ENVIRONMENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
# The .env file the Settings being built reads, so its environments read the same one.
ENV_FILE: ContextVar[Any] = ContextVar("env_file", default=".env")


class EnvironmentSettings(BaseSettings):
    """One named Yunxin app of YUNXIN_ENVIRONMENTS, read from YUNXIN_{NAME}_APP_KEY and so on.
    Options left unset take the single-app value (its hosts, YUNXIN_API_VERSION, ...)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_key: str | None = None
    app_secret: SecretStr | None = None
    base_urls: CommaList = []
    base_url: str | None = None
    backup_base_url: str | None = None
    api_version: Literal["v2", "v2.1"] | None = None
    timeout_seconds: float | None = Field(None, gt=0, le=60)
    sandbox: bool = False
    allowed_user_ids: CommaList = []
    allowed_usergroup_ids: CommaList = []

    @field_validator("base_urls", "allowed_user_ids", "allowed_usergroup_ids", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return split_commas(value)

    @field_validator("base_urls")
    @classmethod
    def _url_list(cls, value: list[str]) -> list[str]:
        return check_urls(value)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("backup_base_url")
    @classmethod
    def _backup(cls, value: str | None) -> str | None:
        return backup_setting(value)
