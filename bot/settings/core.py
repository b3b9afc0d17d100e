"""Every setting, read once from the environment (and an optional .env), validated with clear errors.

The Yunxin apps' own part (hosts, the sandbox, environments) is in `bot/settings/yunxin.py`.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .yunxin import (
    DEFAULT_BASE_URLS,
    ENV_FILE,
    ENVIRONMENT_NAME,
    CommaList,
    EnvironmentSettings,
    YunxinAppConfig,
    backup_setting,
    check_url,
    check_urls,
    host_list,
    sandbox_config,
    split_commas,
)

REDIS_SCHEMES = ("redis", "rediss", "unix")


class SettingsError(Exception):
    """A setting is missing or wrong: one line naming the variable and what to do."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Yunxin
    yunxin_app_key: str | None = None
    yunxin_app_secret: SecretStr | None = None
    # The hosts, in order: YUNXIN_BASE_URLS, or YUNXIN_BASE_URL and YUNXIN_BACKUP_BASE_URL (yunxin_hosts()).
    yunxin_base_urls: CommaList = []
    yunxin_base_url: str = DEFAULT_BASE_URLS[0]
    yunxin_backup_base_url: str | None = None
    yunxin_api_version: Literal["v2", "v2.1"] = "v2"
    yunxin_timeout_seconds: float = Field(5.0, gt=0, le=60)
    yunxin_deadline_seconds: float = Field(15.0, gt=0, le=120)
    yunxin_sandbox: bool = False
    yunxin_max_calls_per_second: float = Field(50.0, gt=0, le=1000)
    # As many calls in flight as the budget lets go at once: a lower bound queues the people who ask together.
    yunxin_concurrency: int = Field(50, ge=1, le=256)
    yunxin_environments: CommaList = []
    yunxin_default_environment: str | None = None
    # After a 416, no call goes to that Yunxin app (from any replica sharing REDIS_URL) for this long; 0: never.
    yunxin_rate_limit_pause_seconds: float = Field(10.0, ge=0, le=300)
    # This many calls in a row failing as unavailable or timed out open the circuit breaker; 0: never.
    yunxin_breaker_failures: int = Field(5, ge=0, le=1000)
    # How long an open breaker lets no call through before one probe call may go.
    yunxin_breaker_cooldown_seconds: float = Field(30.0, gt=0, le=600)
    # Bot processes that share REDIS_URL (replicas x workers): while Redis is down each spends
    # YUNXIN_MAX_CALLS_PER_SECOND divided by this, so the fleet stays within the budget.
    yunxin_fleet_size: int = Field(2, ge=1, le=1000)

    # Shared state of several replicas (Redis 6+ or Valkey): unset, each process keeps its own.
    redis_url: SecretStr | None = None
    redis_timeout_seconds: float = Field(0.1, gt=0, le=5)
    redis_key_prefix: str = Field("yunxin-bot", min_length=1, max_length=64)
    # uvicorn's --workers default; read here so that several workers without REDIS_URL stop start-up.
    web_concurrency: int = Field(1, ge=1, le=256)

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = Field(3000, ge=1, le=65535)
    # Set: /metrics moves here, off the Slack port, beside /livez, /readyz and /healthz (Socket Mode too).
    metrics_port: int | None = Field(None, ge=1, le=65535)

    # Who may ask
    allowed_team_ids: CommaList = []
    allowed_user_ids: CommaList = []
    allowed_usergroup_ids: CommaList = []
    allowed_channel_ids: CommaList = []
    access_contact: str = "your Slack workspace admin"

    # What is shown
    redact_message_text: bool = False
    max_ids_per_command: int = Field(400, ge=1, le=400)
    # The language of what is posted for a channel, and for anyone whose Slack locale is unknown or has no texts.
    default_locale: Literal["en", "zh_CN"] = "en"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # auto: JSON lines unless stderr is a terminal (a person reading); see bot/logs.py.
    log_format: Literal["auto", "json", "text"] = "auto"

    def __init__(self, **values: Any) -> None:
        token = ENV_FILE.set(values.get("_env_file", self.model_config.get("env_file")))
        try:
            super().__init__(**values)
        finally:
            ENV_FILE.reset(token)

    _apps: dict[str, YunxinAppConfig] = PrivateAttr(default_factory=dict)
    _environment_access: dict[str, tuple[list[str], list[str]]] = PrivateAttr(default_factory=dict)

    @field_validator(
        "allowed_team_ids",
        "allowed_user_ids",
        "allowed_usergroup_ids",
        "allowed_channel_ids",
        "yunxin_environments",
        "yunxin_base_urls",
        mode="before",
    )
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return split_commas(value)

    @field_validator("yunxin_base_url")
    @classmethod
    def _urls(cls, value: str) -> str:
        return check_url(value)

    @field_validator("yunxin_base_urls")
    @classmethod
    def _url_list(cls, value: list[str]) -> list[str]:
        return check_urls(value)

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url(cls, value: str) -> str:
        # slack_sdk joins method names onto it with urljoin, which drops a last segment without "/".
        return check_url(value) + "/"

    @field_validator("yunxin_backup_base_url")
    @classmethod
    def _backup_url(cls, value: str | None) -> str | None:
        return backup_setting(value)

    @field_validator("redis_url", mode="before")
    @classmethod
    def _redis_url(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            if not value.strip():
                return None
            scheme = urlsplit(value.strip()).scheme.lower()
            if scheme not in REDIS_SCHEMES:
                # The URL may hold a password: only its scheme is named.
                raise ValueError(
                    f"must be a redis://, rediss:// or unix:// URL (the scheme is {scheme or 'missing'!r})"
                )
            return value.strip()
        return value

    @field_validator("redis_key_prefix")
    @classmethod
    def _key_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.:-]+", value):
            raise ValueError("use letters, digits and _ . : - only")
        return value

    @field_validator("default_locale", mode="before")
    @classmethod
    def _locale(cls, value: Any) -> Any:
        # As Slack writes locales too: zh-CN, en-US.
        if isinstance(value, str):
            lowered = value.strip().replace("-", "_").lower()
            return {"zh_cn": "zh_CN", "en_us": "en", "en": "en"}.get(lowered, value)
        return value

    @field_validator("yunxin_app_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _credentials_complete(self) -> Settings:
        has_key = self.yunxin_app_key is not None
        has_secret = self.yunxin_app_secret is not None and bool(self.yunxin_app_secret.get_secret_value())
        if has_key and not has_secret:
            raise ValueError("YUNXIN_APP_SECRET: missing; it must be set with YUNXIN_APP_KEY")
        if has_secret and not has_key:
            raise ValueError("YUNXIN_APP_KEY: missing; it must be set with YUNXIN_APP_SECRET")
        return self

    @model_validator(mode="after")
    def _hosts_named_one_way(self) -> Settings:
        both = [name.upper() for name in ("yunxin_base_url", "yunxin_backup_base_url") if name in self.model_fields_set]
        if self.yunxin_base_urls and both:
            raise ValueError(f"YUNXIN_BASE_URLS: set it or {' and '.join(both)}, not both")
        return self

    @model_validator(mode="after")
    def _load_environments(self) -> Settings:
        for name in self.yunxin_environments:
            if not ENVIRONMENT_NAME.fullmatch(name):
                raise ValueError(
                    f"YUNXIN_ENVIRONMENTS: {name[:40]!r} is not a name of lowercase letters, digits and _ "
                    "starting with a letter"
                )
            self._apps[name], self._environment_access[name] = self._environment(name)
        default = self.yunxin_default_environment
        if default is not None and self.yunxin_environments and default not in self._apps:
            raise ValueError(
                f"YUNXIN_DEFAULT_ENVIRONMENT: {default!r} is not listed in YUNXIN_ENVIRONMENTS "
                f"({', '.join(self.yunxin_environments)})"
            )
        return self

    def _environment(self, name: str) -> tuple[YunxinAppConfig, tuple[list[str], list[str]]]:
        prefix = f"YUNXIN_{name.upper()}_"
        try:
            env = EnvironmentSettings(_env_prefix=prefix, _env_file=ENV_FILE.get())
        except ValidationError as error:
            raise ValueError(describe_validation_error(error, prefix=prefix)) from None
        access = (env.allowed_user_ids, env.allowed_usergroup_ids)
        api_version = env.api_version or self.yunxin_api_version
        timeout = env.timeout_seconds or self.yunxin_timeout_seconds
        own_pair = env.base_url is not None or env.backup_base_url is not None
        if env.base_urls and own_pair:
            raise ValueError(f"{prefix}BASE_URLS: set it or {prefix}BASE_URL / {prefix}BACKUP_BASE_URL, not both")
        if env.sandbox:
            return sandbox_config(name, api_version, timeout), access
        if env.app_key is None or env.app_secret is None or not env.app_secret.get_secret_value():
            missing = "APP_KEY" if env.app_key is None else "APP_SECRET"
            raise ValueError(
                f"{prefix}{missing}: missing; environment {name} is listed in YUNXIN_ENVIRONMENTS "
                f"(or set {prefix}SANDBOX=true)"
            )
        if env.base_urls:
            hosts = env.base_urls
        elif own_pair:  # the first host defaults to the single app's, the backups to the documented ones
            hosts = host_list(env.base_url or self.yunxin_hosts()[0], env.backup_base_url)
        else:
            hosts = self.yunxin_hosts()
        config = YunxinAppConfig(
            name=name,
            app_key=env.app_key,
            app_secret=env.app_secret,
            base_urls=hosts,
            api_version=api_version,
            timeout_seconds=timeout,
            sandbox=False,
        )
        return config, access

    @property
    def uses_sandbox(self) -> bool:
        return self.yunxin_sandbox or self.yunxin_app_key is None

    def yunxin_hosts(self) -> list[str]:
        """The single app's hosts, in the order tried: YUNXIN_BASE_URLS, else YUNXIN_BASE_URL followed by
        YUNXIN_BACKUP_BASE_URL (unset: the documented hosts after it; none: no other)."""
        if self.yunxin_base_urls:
            return list(self.yunxin_base_urls)
        return host_list(self.yunxin_base_url, self.yunxin_backup_base_url)

    def yunxin(self) -> YunxinAppConfig:
        if self.uses_sandbox:
            return sandbox_config("sandbox", self.yunxin_api_version, self.yunxin_timeout_seconds)
        assert self.yunxin_app_key is not None and self.yunxin_app_secret is not None
        return YunxinAppConfig(
            name="default",
            app_key=self.yunxin_app_key,
            app_secret=self.yunxin_app_secret,
            base_urls=self.yunxin_hosts(),
            api_version=self.yunxin_api_version,
            timeout_seconds=self.yunxin_timeout_seconds,
            sandbox=False,
        )

    def yunxin_apps(self) -> dict[str, YunxinAppConfig]:
        """Every Yunxin app this process may query, by name: YUNXIN_ENVIRONMENTS, or the single app."""
        if self._apps:
            return dict(self._apps)
        config = self.yunxin()
        return {config.name: config}

    def default_environment(self) -> str:
        if self._apps:
            return self.yunxin_default_environment or next(iter(self._apps))
        return self.yunxin().name

    def environment_access(self) -> dict[str, tuple[list[str], list[str]]]:
        """Per environment, the (user IDs, user-group IDs) that may query it; empty lists: anyone."""
        return dict(self._environment_access)


_SECRET_FIELDS = {
    "yunxin_app_secret",
    "app_secret",
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "redis_url",
}


def describe_validation_error(error: ValidationError, *, prefix: str = "") -> str:
    """One line per problem, naming the environment variable; never echoes a secret's value."""
    lines = []
    for problem in error.errors():
        loc = [str(part) for part in problem.get("loc", ())]
        message = str(problem.get("msg", "invalid"))
        message = message.removeprefix("Value error, ")
        if not loc:
            lines.append(message)
            continue
        name = loc[0]
        shown = f"{prefix}{name.upper()}: {message}"
        if name not in _SECRET_FIELDS and "input" in problem and problem["type"] != "value_error":
            shown += f" (got {str(problem['input'])[:60]!r})"
        lines.append(shown)
    return "; ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, or raise SettingsError with one line that says what to fix."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None
