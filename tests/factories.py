"""Settings for tests, made one way: `yunxin_app()` for a Yunxin app's config (the client's tests), and
`bot_settings()` for the whole bot (tests/harness.py's `settings_for` fills in the tests' workspace and
Yunxin over it; the listeners' fakes use it too)."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from bot.settings import Settings, YunxinAppConfig


def yunxin_app(**changes: Any) -> YunxinAppConfig:
    """A Yunxin app that is not the sandbox, on an address that resolves nowhere; `changes` override fields
    (`app_secret` may be given as a plain string)."""
    values: dict[str, Any] = {
        "name": "test",
        "app_key": "test-app-key",
        "app_secret": SecretStr("test-app-secret"),
        "base_url": "http://primary.yunxin.invalid",
        "backup_base_url": None,
        "api_version": "v2",
        "timeout_seconds": 5.0,
        "sandbox": False,
        **changes,
    }
    if isinstance(values["app_secret"], str):
        values["app_secret"] = SecretStr(values["app_secret"])
    return YunxinAppConfig(**values)


def bot_settings(**values: Any) -> Settings:
    """Settings from `values` alone: no environment variable and no .env file reaches them."""
    return Settings(_env_file=None, **values)
