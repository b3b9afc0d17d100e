"""Several named Yunxin apps (YUNXIN_ENVIRONMENTS): each read from its own variables, inheriting the
single-app options it leaves unset, with one-line errors naming the variable to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import DEFAULT_BASE_URLS, DOCUMENTED_HOSTS, SANDBOX_BASE_URL, Settings, SettingsError, load_settings
from bot.yunxin.ids import parse_ids
from bot.yunxin.service import Lookups, UnknownEnvironment

SECRET = "Zq7-environment-secret-value"


def two_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUNXIN_ENVIRONMENTS", "prod, staging")
    monkeypatch.setenv("YUNXIN_PROD_APP_KEY", "prod-key")
    monkeypatch.setenv("YUNXIN_PROD_APP_SECRET", SECRET)
    monkeypatch.setenv("YUNXIN_PROD_ALLOWED_USERGROUP_IDS", "S0ONCALL")
    monkeypatch.setenv("YUNXIN_STAGING_APP_KEY", "staging-key")
    monkeypatch.setenv("YUNXIN_STAGING_APP_SECRET", SECRET + "-staging")
    monkeypatch.setenv("YUNXIN_STAGING_BASE_URL", "https://open-sg.yunxinapi.com")
    monkeypatch.setenv("YUNXIN_STAGING_API_VERSION", "v2.1")


def test_each_environment_reads_its_own_variables_and_inherits_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    two_environments(monkeypatch)
    monkeypatch.setenv("YUNXIN_TIMEOUT_SECONDS", "7")
    settings = load_settings(_env_file=None)
    apps = settings.yunxin_apps()
    assert list(apps) == ["prod", "staging"]
    prod, staging = apps["prod"], apps["staging"]
    assert (prod.app_key, prod.app_secret.get_secret_value()) == ("prod-key", SECRET)
    assert prod.base_urls == DEFAULT_BASE_URLS
    assert prod.api_version == "v2" and prod.timeout_seconds == 7
    assert staging.base_urls == DOCUMENTED_HOSTS["overseas"]
    assert staging.api_version == "v2.1"
    assert not prod.sandbox and not staging.sandbox
    assert settings.default_environment() == "prod"
    assert settings.environment_access() == {"prod": ([], ["S0ONCALL"]), "staging": ([], [])}


@pytest.mark.parametrize(
    ("env", "hosts"),
    [
        # Nothing of its own: the single app's hosts, however they were given.
        ({}, ("https://a.example", "https://b.example")),
        # Its own list.
        ({"YUNXIN_PROD_BASE_URLS": "https://c.example,https://d.example"}, ("https://c.example", "https://d.example")),
        # Its own first host: followed by the documented hosts of its region, not by the single app's.
        ({"YUNXIN_PROD_BASE_URL": "https://open-sg.yunxinapi.com"}, DOCUMENTED_HOSTS["overseas"]),
        ({"YUNXIN_PROD_BASE_URL": "https://c.example"}, ("https://c.example",)),
        # Its own backup: after the single app's first host.
        ({"YUNXIN_PROD_BACKUP_BASE_URL": "https://c.example"}, ("https://a.example", "https://c.example")),
        ({"YUNXIN_PROD_BACKUP_BASE_URL": "none"}, ("https://a.example",)),
    ],
)
def test_an_environment_takes_its_own_hosts_or_the_single_apps(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], hosts: tuple[str, ...]
) -> None:
    monkeypatch.setenv("YUNXIN_BASE_URLS", "https://a.example,https://b.example")
    monkeypatch.setenv("YUNXIN_ENVIRONMENTS", "prod")
    monkeypatch.setenv("YUNXIN_PROD_APP_KEY", "prod-key")
    monkeypatch.setenv("YUNXIN_PROD_APP_SECRET", SECRET)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_settings(_env_file=None).yunxin_apps()["prod"].base_urls == hosts


def test_an_environment_inherits_the_single_apps_derived_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUNXIN_BASE_URL", "https://open-sg.yunxinapi.com")
    monkeypatch.setenv("YUNXIN_ENVIRONMENTS", "prod")
    monkeypatch.setenv("YUNXIN_PROD_APP_KEY", "prod-key")
    monkeypatch.setenv("YUNXIN_PROD_APP_SECRET", SECRET)
    assert load_settings(_env_file=None).yunxin_apps()["prod"].base_urls == DOCUMENTED_HOSTS["overseas"]


def test_the_default_environment_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    two_environments(monkeypatch)
    monkeypatch.setenv("YUNXIN_DEFAULT_ENVIRONMENT", "staging")
    assert load_settings(_env_file=None).default_environment() == "staging"


def test_an_environment_can_be_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUNXIN_ENVIRONMENTS", "demo")
    monkeypatch.setenv("YUNXIN_DEMO_SANDBOX", "true")
    demo = load_settings(_env_file=None).yunxin_apps()["demo"]
    assert demo.sandbox and demo.base_url == SANDBOX_BASE_URL and demo.name == "demo"


def test_without_environments_the_single_app_settings_work_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUNXIN_APP_KEY", "single-key")
    monkeypatch.setenv("YUNXIN_APP_SECRET", SECRET)
    settings = load_settings(_env_file=None)
    assert list(settings.yunxin_apps()) == ["default"]
    assert settings.default_environment() == "default"
    assert settings.yunxin_apps()["default"] == settings.yunxin()


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"YUNXIN_ENVIRONMENTS": "prod"}, "YUNXIN_PROD_APP_KEY: missing"),
        ({"YUNXIN_ENVIRONMENTS": "prod", "YUNXIN_PROD_APP_KEY": "k"}, "YUNXIN_PROD_APP_SECRET: missing"),
        ({"YUNXIN_ENVIRONMENTS": "Prod!"}, "YUNXIN_ENVIRONMENTS:"),
        (
            {"YUNXIN_ENVIRONMENTS": "prod", "YUNXIN_PROD_SANDBOX": "true", "YUNXIN_DEFAULT_ENVIRONMENT": "qa"},
            "YUNXIN_DEFAULT_ENVIRONMENT:",
        ),
        (
            {"YUNXIN_ENVIRONMENTS": "prod", "YUNXIN_PROD_SANDBOX": "true", "YUNXIN_PROD_BASE_URL": "nope"},
            "YUNXIN_PROD_BASE_URL:",
        ),
        (
            {"YUNXIN_ENVIRONMENTS": "prod", "YUNXIN_PROD_SANDBOX": "true", "YUNXIN_PROD_TIMEOUT_SECONDS": "-1"},
            "YUNXIN_PROD_TIMEOUT_SECONDS:",
        ),
        (
            {"YUNXIN_ENVIRONMENTS": "prod", "YUNXIN_PROD_SANDBOX": "true", "YUNXIN_PROD_BASE_URLS": "https://a,b"},
            "YUNXIN_PROD_BASE_URLS: must be an http(s) URL",
        ),
        (
            {
                "YUNXIN_ENVIRONMENTS": "prod",
                "YUNXIN_PROD_SANDBOX": "true",
                "YUNXIN_PROD_BASE_URLS": "https://a.example",
                "YUNXIN_PROD_BACKUP_BASE_URL": "https://b.example",
            },
            "YUNXIN_PROD_BASE_URLS: set it or YUNXIN_PROD_BASE_URL / YUNXIN_PROD_BACKUP_BASE_URL, not both",
        ),
    ],
)
def test_a_bad_environment_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], names: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    message = str(caught.value)
    assert names in message and "\n" not in message
    assert SECRET not in message


def test_environments_are_read_from_the_same_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / "custom.env"
    env_file.write_text(
        "YUNXIN_ENVIRONMENTS=prod\nYUNXIN_PROD_APP_KEY=file-key\nYUNXIN_PROD_APP_SECRET=" + SECRET + "\n"
    )
    assert Settings(_env_file=env_file).yunxin_apps()["prod"].app_key == "file-key"


async def test_lookups_serve_each_environment_and_refuse_unknown_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUNXIN_ENVIRONMENTS", "blue,green")
    monkeypatch.setenv("YUNXIN_BLUE_SANDBOX", "true")
    monkeypatch.setenv("YUNXIN_GREEN_SANDBOX", "true")
    monkeypatch.setenv("YUNXIN_DEFAULT_ENVIRONMENT", "green")
    lookups = Lookups.from_settings(load_settings(_env_file=None))
    try:
        assert (await lookups.lookup(parse_ids(["sandbox_alice|1|sandbox_bob"]))).environment == "green"
        blue = await lookups.lookup(parse_ids(["sandbox_alice|1|sandbox_bob"]), "blue")
        assert blue.environment == "blue" and blue.sandbox and len(blue.found) == 1
        with pytest.raises(UnknownEnvironment, match="known: blue, green"):
            await lookups.lookup(parse_ids(["sandbox_alice|1|sandbox_bob"]), "prod")
    finally:
        await lookups.aclose()
