"""REDIS_URL and the settings beside it: what they accept, that the URL (which may hold a password) is never
shown, and that several workers without it stop start-up with one line."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings
from bot.slack.app import StartupError, check_workers
from tests.factories import bot_settings


@pytest.mark.parametrize(
    "url", ["redis://localhost:6379/0", "rediss://:pw@cache.example.com:6380", "unix:///run/valkey.sock"]
)
def test_redis_urls_of_the_three_schemes_are_accepted(url: str) -> None:
    settings = bot_settings(redis_url=url)
    assert settings.redis_url is not None and settings.redis_url.get_secret_value() == url


def test_another_scheme_is_refused_without_showing_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "http://user:hunter2@redis.example.com")
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None)
    assert str(refused.value).startswith("REDIS_URL: must be a redis://, rediss:// or unix:// URL")
    assert "hunter2" not in str(refused.value)


def test_unset_or_blank_means_no_shared_state() -> None:
    assert bot_settings().redis_url is None
    assert bot_settings(redis_url="  ").redis_url is None


def test_the_defaults() -> None:
    settings = bot_settings()
    assert settings.redis_timeout_seconds == 0.1
    assert settings.redis_key_prefix == "yunxin-bot"
    assert settings.yunxin_fleet_size == 2
    assert settings.yunxin_rate_limit_pause_seconds == 10
    assert settings.yunxin_breaker_failures == 5
    assert settings.yunxin_breaker_cooldown_seconds == 30
    assert settings.web_concurrency == 1


def test_several_workers_need_redis() -> None:
    with pytest.raises(StartupError) as refused:
        check_workers(bot_settings(web_concurrency=3))
    assert str(refused.value).startswith("WEB_CONCURRENCY: 3 workers need REDIS_URL")
    assert "\n" not in str(refused.value)
    check_workers(bot_settings(web_concurrency=3, redis_url="redis://localhost/0"))
    check_workers(bot_settings())


def test_a_key_prefix_of_odd_characters_is_refused() -> None:
    with pytest.raises(ValueError, match=r"REDIS_KEY_PREFIX|letters"):
        bot_settings(redis_key_prefix="has space")
