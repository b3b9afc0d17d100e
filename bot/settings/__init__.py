"""Every setting, read once from the environment (and an optional .env), validated with clear errors:
`load_settings()` gives the `Settings` (core.py); the Yunxin apps' hosts, sandbox and environments are
in yunxin.py."""

from .core import REDIS_SCHEMES, Settings, SettingsError, describe_validation_error, load_settings
from .yunxin import (
    DEFAULT_BASE_URLS,
    DOCUMENTED_HOSTS,
    ENVIRONMENT_NAME,
    SANDBOX_APP_KEY,
    SANDBOX_APP_SECRET,
    SANDBOX_BASE_URL,
    EnvironmentSettings,
    YunxinAppConfig,
)

__all__ = [
    "DEFAULT_BASE_URLS",
    "DOCUMENTED_HOSTS",
    "ENVIRONMENT_NAME",
    "REDIS_SCHEMES",
    "SANDBOX_APP_KEY",
    "SANDBOX_APP_SECRET",
    "SANDBOX_BASE_URL",
    "EnvironmentSettings",
    "Settings",
    "SettingsError",
    "YunxinAppConfig",
    "describe_validation_error",
    "load_settings",
]
