"""Every setting, read once from the environment (and an optional .env), validated with clear errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The documented hosts and their backups (China, overseas).
DOCUMENTED_BACKUPS = {
    "open.yunxinapi.com": "https://open-bak.yunxinapi.com",
    "open-sg.yunxinapi.com": "https://open-sg-bak.yunxinapi.com",
}

# Fixed credentials of the built-in sandbox: it checks signatures made with them.
SANDBOX_APP_KEY = "sandbox-app-key"
SANDBOX_APP_SECRET = "sandbox-app-secret"
SANDBOX_BASE_URL = "http://yunxin-sandbox.invalid"

CommaList = Annotated[list[str], NoDecode]


class SettingsError(Exception):
    """A setting is missing or wrong: one line naming the variable and what to do."""


@dataclass(frozen=True, slots=True)
class YunxinAppConfig:
    """How to reach one Yunxin app. `sandbox` means the built-in emulator answers."""

    name: str
    app_key: str
    app_secret: SecretStr
    base_url: str
    backup_base_url: str | None
    api_version: Literal["v2", "v2.1"]
    timeout_seconds: float
    sandbox: bool

    @property
    def base_urls(self) -> list[str]:
        return [self.base_url] + ([self.backup_base_url] if self.backup_base_url else [])


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http(s) URL such as https://open.yunxinapi.com (got {value!r})")
    return value.rstrip("/")


def documented_backup(base_url: str) -> str | None:
    return DOCUMENTED_BACKUPS.get(urlsplit(base_url).netloc.lower())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Yunxin
    yunxin_app_key: str | None = None
    yunxin_app_secret: SecretStr | None = None
    yunxin_base_url: str = "https://open.yunxinapi.com"
    yunxin_backup_base_url: str | None = None
    yunxin_api_version: Literal["v2", "v2.1"] = "v2"
    yunxin_timeout_seconds: float = Field(5.0, gt=0, le=60)
    yunxin_deadline_seconds: float = Field(15.0, gt=0, le=120)
    yunxin_sandbox: bool = False
    yunxin_max_calls_per_second: float = Field(50.0, gt=0, le=1000)
    yunxin_concurrency: int = Field(4, ge=1, le=32)

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = Field(3000, ge=1, le=65535)

    # Who may ask
    allowed_team_ids: CommaList = []
    allowed_user_ids: CommaList = []
    allowed_usergroup_ids: CommaList = []
    allowed_channel_ids: CommaList = []
    access_contact: str = "your Slack workspace admin"

    # What is shown
    redact_message_text: bool = False
    max_ids_per_command: int = Field(400, ge=1, le=400)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator(
        "allowed_team_ids", "allowed_user_ids", "allowed_usergroup_ids", "allowed_channel_ids", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("yunxin_base_url")
    @classmethod
    def _urls(cls, value: str) -> str:
        return _check_url(value)

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url(cls, value: str) -> str:
        # slack_sdk joins method names onto it with urljoin, which drops a last segment without "/".
        return _check_url(value) + "/"

    @field_validator("yunxin_backup_base_url")
    @classmethod
    def _backup_url(cls, value: str | None) -> str | None:
        # Unset: the documented backup of a documented host. Empty, "none" or "off": no failover.
        if value is None:
            return None
        if value.strip().lower() in ("", "none", "off"):
            return ""
        return _check_url(value)

    @field_validator("yunxin_app_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _credentials_complete(self) -> Settings:
        has_key = self.yunxin_app_key is not None
        has_secret = self.yunxin_app_secret is not None and bool(self.yunxin_app_secret.get_secret_value())
        if has_key and not has_secret:
            raise ValueError("YUNXIN_APP_SECRET: missing; it must be set with YUNXIN_APP_KEY")
        if has_secret and not has_key:
            raise ValueError("YUNXIN_APP_KEY: missing; it must be set with YUNXIN_APP_SECRET")
        return self

    @property
    def uses_sandbox(self) -> bool:
        return self.yunxin_sandbox or self.yunxin_app_key is None

    def yunxin(self) -> YunxinAppConfig:
        if self.uses_sandbox:
            return YunxinAppConfig(
                name="sandbox",
                app_key=SANDBOX_APP_KEY,
                app_secret=SecretStr(SANDBOX_APP_SECRET),
                base_url=SANDBOX_BASE_URL,
                backup_base_url=None,
                api_version=self.yunxin_api_version,
                timeout_seconds=self.yunxin_timeout_seconds,
                sandbox=True,
            )
        assert self.yunxin_app_key is not None and self.yunxin_app_secret is not None
        backup = self.yunxin_backup_base_url
        if backup is None:
            backup = documented_backup(self.yunxin_base_url)
        return YunxinAppConfig(
            name="default",
            app_key=self.yunxin_app_key,
            app_secret=self.yunxin_app_secret,
            base_url=self.yunxin_base_url,
            backup_base_url=backup or None,
            api_version=self.yunxin_api_version,
            timeout_seconds=self.yunxin_timeout_seconds,
            sandbox=False,
        )

    def yunxin_environments(self) -> dict[str, YunxinAppConfig]:
        """Every Yunxin app this process may query, by name."""
        config = self.yunxin()
        return {config.name: config}

    def default_environment(self) -> str:
        return self.yunxin().name


_SECRET_FIELDS = {"yunxin_app_secret", "slack_bot_token", "slack_signing_secret", "slack_app_token"}


def describe_validation_error(error: ValidationError) -> str:
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
        shown = f"{name.upper()}: {message}"
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
