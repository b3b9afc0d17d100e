"""Settings: defaults, the sandbox, backup hosts, comma lists, and one-line errors that never echo
a secret. Every test clears the settings' variables and reads no .env, so a developer's own
environment cannot leak in."""

from __future__ import annotations

import re
import traceback
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.settings import (
    DEFAULT_BASE_URLS,
    DOCUMENTED_HOSTS,
    SANDBOX_APP_KEY,
    SANDBOX_APP_SECRET,
    SANDBOX_BASE_URL,
    EnvironmentSettings,
    Settings,
    SettingsError,
    YunxinAppConfig,
    load_settings,
)

SECRET = "Xk9-very-distinctive-secret-value"
ENV_EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"
VARIABLES = [name.upper() for name in Settings.model_fields]


def load(**env: str) -> Settings:
    return load_settings(_env_file=None) if not env else _load_with(env)


def _load_with(env: dict[str, str]) -> Settings:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return load_settings(_env_file=None)


def load_error(**env: str) -> str:
    with pytest.raises(SettingsError) as caught:
        load(**env)
    message = str(caught.value)
    assert "\n" not in message
    return message


CREDENTIALS = {"YUNXIN_APP_KEY": "key-1", "YUNXIN_APP_SECRET": SECRET}


# Defaults and the sandbox ------------------------------------------------------------------------


def test_defaults() -> None:
    settings = load()
    assert settings.yunxin_app_key is None
    assert settings.yunxin_app_secret is None
    assert settings.yunxin_base_url == "https://open.yunxinapi.com"
    assert settings.yunxin_backup_base_url is None
    assert settings.yunxin_api_version == "v2"
    assert settings.yunxin_timeout_seconds == 5.0
    assert settings.yunxin_deadline_seconds == 15.0
    assert settings.yunxin_sandbox is False
    assert settings.yunxin_max_calls_per_second == 50.0
    assert settings.yunxin_concurrency == 50
    assert settings.slack_bot_token is None
    assert settings.slack_signing_secret is None
    assert settings.slack_app_token is None
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.port == 3000
    assert settings.allowed_team_ids == []
    assert settings.allowed_user_ids == []
    assert settings.allowed_usergroup_ids == []
    assert settings.allowed_channel_ids == []
    assert settings.access_contact == "your Slack workspace admin"
    assert settings.redact_message_text is False
    assert settings.max_ids_per_command == 400
    assert settings.log_level == "INFO"


def test_without_credentials_the_sandbox_answers() -> None:
    settings = load()
    assert settings.uses_sandbox is True
    config = settings.yunxin()
    assert config.sandbox is True
    assert config.name == "sandbox"
    assert (config.app_key, config.app_secret.get_secret_value()) == (SANDBOX_APP_KEY, SANDBOX_APP_SECRET)
    assert config.base_urls == (SANDBOX_BASE_URL,)


def test_blank_credentials_count_as_unset() -> None:
    assert load(YUNXIN_APP_KEY="  ", YUNXIN_APP_SECRET="").uses_sandbox is True


def test_yunxin_sandbox_true_wins_over_real_credentials() -> None:
    settings = load(**CREDENTIALS, YUNXIN_SANDBOX="true")
    assert settings.uses_sandbox is True
    assert settings.yunxin().sandbox is True
    assert settings.yunxin().app_key == SANDBOX_APP_KEY


def test_credentials_select_the_real_service() -> None:
    config = load(**CREDENTIALS, YUNXIN_TIMEOUT_SECONDS="2.5").yunxin()
    assert config.sandbox is False
    assert config.app_key == "key-1"
    assert config.app_secret.get_secret_value() == SECRET
    assert config.timeout_seconds == 2.5
    assert config.api_version == "v2"


def test_the_sandbox_keeps_the_chosen_api_version() -> None:
    assert load(YUNXIN_API_VERSION="v2.1").yunxin().api_version == "v2.1"


# Hosts -------------------------------------------------------------------------------------------


# Hosts -------------------------------------------------------------------------------------------

CHINA = (
    "https://open.yunxinapi.com",
    "https://api-cn.yunxinapi.com/nimserver",
    "https://api-cn-bak.yunxinapi.com/nimserver",
)
OVERSEAS = (
    "https://open-sg.yunxinapi.com",
    "https://api-sg.yunxinapi.com/nimserver",
    "https://api-sg-bak.yunxinapi.com/nimserver",
)


def test_the_default_hosts_are_documented_ones_only() -> None:
    # The API page's host, then the SDKs' default and first backup; no open-bak host is documented anywhere.
    assert DEFAULT_BASE_URLS == CHINA
    assert load(**CREDENTIALS).yunxin().base_urls == CHINA
    assert DOCUMENTED_HOSTS == {"china": CHINA, "overseas": OVERSEAS}
    for hosts in DOCUMENTED_HOSTS.values():
        assert not any("-bak.yunxinapi.com" in url and url.startswith("https://open") for url in hosts)


@pytest.mark.parametrize(
    ("base_url", "hosts"),
    [
        ("https://open.yunxinapi.com", CHINA),
        ("https://open.yunxinapi.com/", CHINA),
        ("https://OPEN.yunxinapi.com", ("https://OPEN.yunxinapi.com", *CHINA[1:])),
        ("https://open-sg.yunxinapi.com", OVERSEAS),
        # One of the SDKs' hosts first: the rest of its region follow, in order.
        ("https://api-cn-bak.yunxinapi.com/nimserver", (CHINA[2], CHINA[0], CHINA[1])),
        ("https://yunxin-proxy.internal.example", ("https://yunxin-proxy.internal.example",)),
    ],
)
def test_yunxin_base_url_alone_is_followed_by_the_documented_hosts_of_its_region(
    base_url: str, hosts: tuple[str, ...]
) -> None:
    config = load(**CREDENTIALS, YUNXIN_BASE_URL=base_url).yunxin()
    assert config.base_urls == hosts
    assert config.base_url == hosts[0]


@pytest.mark.parametrize("value", ["none", "NONE", "off", ""])
def test_backup_none_leaves_the_first_host_alone(value: str) -> None:
    config = load(**CREDENTIALS, YUNXIN_BACKUP_BASE_URL=value).yunxin()
    assert config.base_urls == ("https://open.yunxinapi.com",)


def test_an_explicit_backup_follows_the_first_host() -> None:
    config = load(**CREDENTIALS, YUNXIN_BACKUP_BASE_URL="https://backup.example/").yunxin()
    assert config.base_urls == ("https://open.yunxinapi.com", "https://backup.example")
    config = load(
        **CREDENTIALS, YUNXIN_BASE_URL="https://a.example", YUNXIN_BACKUP_BASE_URL="https://b.example"
    ).yunxin()
    assert config.base_urls == ("https://a.example", "https://b.example")


def test_yunxin_base_urls_are_tried_in_the_order_given() -> None:
    listed = " https://a.example/ ,https://api-cn-01.yunxinapi.com/nimserver,, http://b.example:8080/prefix "
    config = load(**CREDENTIALS, YUNXIN_BASE_URLS=listed).yunxin()
    assert config.base_urls == (
        "https://a.example",
        "https://api-cn-01.yunxinapi.com/nimserver",
        "http://b.example:8080/prefix",
    )
    assert load(**CREDENTIALS, YUNXIN_BASE_URLS="https://only.example").yunxin().base_urls == ("https://only.example",)


def test_a_blank_yunxin_base_urls_is_unset() -> None:
    assert load(**CREDENTIALS, YUNXIN_BASE_URLS=" , ").yunxin().base_urls == CHINA


@pytest.mark.parametrize(
    ("listed", "message"),
    [
        ("https://a.example,b.example", "must be an http(s) URL such as https://open.yunxinapi.com (got 'b.example')"),
        ("https://a.example,https://A.example/", "https://A.example is listed twice"),
    ],
)
def test_a_bad_host_list_is_one_line_naming_the_variable_and_the_host(listed: str, message: str) -> None:
    assert load_error(**CREDENTIALS, YUNXIN_BASE_URLS=listed) == f"YUNXIN_BASE_URLS: {message}"


@pytest.mark.parametrize("other", ["YUNXIN_BASE_URL", "YUNXIN_BACKUP_BASE_URL"])
def test_yunxin_base_urls_and_the_single_host_settings_are_not_mixed(other: str) -> None:
    message = load_error(**CREDENTIALS, YUNXIN_BASE_URLS="https://a.example", **{other: "https://b.example"})
    assert message == f"YUNXIN_BASE_URLS: set it or {other}, not both"


def test_the_sandbox_keeps_its_own_host_whatever_the_hosts_say() -> None:
    assert load(YUNXIN_BASE_URLS="https://a.example").yunxin().base_urls == (SANDBOX_BASE_URL,)


def test_an_app_config_takes_a_list_or_a_host_and_a_backup() -> None:
    def config(**hosts: Any) -> YunxinAppConfig:
        return YunxinAppConfig("x", "key", SecretStr("s"), **hosts)

    assert config(base_urls=["https://a", "https://b"]).base_urls == ("https://a", "https://b")
    assert config(base_url="https://a", backup_base_url="https://b").base_urls == ("https://a", "https://b")
    assert config(base_url="https://a", backup_base_url=None).base_urls == ("https://a",)
    for wrong in (
        {},
        {"base_urls": []},
        {"base_urls": ["https://a"], "base_url": "https://b"},
        {"backup_base_url": "https://b"},
    ):
        with pytest.raises(ValueError):
            config(**wrong)


@pytest.mark.parametrize("url", ["https://slack-gov.com/api", "https://slack-gov.com/api/"])
def test_the_slack_api_url_keeps_its_trailing_slash(url: str) -> None:
    # slack_sdk joins method names onto it with urljoin: without the slash "/api" would be dropped.
    assert load(SLACK_API_URL=url).slack_api_url == "https://slack-gov.com/api/"


@pytest.mark.parametrize("version", ["v2", "v2.1"])
def test_api_version_is_selectable(version: str) -> None:
    assert load(**CREDENTIALS, YUNXIN_API_VERSION=version).yunxin().api_version == version


# Lists and small conversions ---------------------------------------------------------------------


def test_comma_lists() -> None:
    settings = load(
        ALLOWED_TEAM_IDS="T1",
        ALLOWED_USER_IDS=" U1, U2,,U3 ,",
        ALLOWED_USERGROUP_IDS="",
        ALLOWED_CHANNEL_IDS="C1,C2",
    )
    assert settings.allowed_team_ids == ["T1"]
    assert settings.allowed_user_ids == ["U1", "U2", "U3"]
    assert settings.allowed_usergroup_ids == []
    assert settings.allowed_channel_ids == ["C1", "C2"]


def test_log_level_is_case_insensitive() -> None:
    assert load(LOG_LEVEL="debug").log_level == "DEBUG"


@pytest.mark.parametrize(("text", "value"), [("true", True), ("1", True), ("false", False), ("0", False)])
def test_booleans(text: str, value: bool) -> None:
    settings = load(YUNXIN_SANDBOX=text, REDACT_MESSAGE_TEXT=text)
    assert settings.yunxin_sandbox is value
    assert settings.redact_message_text is value


def test_a_dotenv_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("YUNXIN_API_VERSION=v2.1\nPORT=8080\n")
    settings = load_settings()  # the default env_file, found in the working directory
    assert (settings.yunxin_api_version, settings.port) == ("v2.1", 8080)


# Errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("YUNXIN_TIMEOUT_SECONDS", "abc", "valid number"),
        ("YUNXIN_TIMEOUT_SECONDS", "0", "greater than 0"),
        ("YUNXIN_TIMEOUT_SECONDS", "600", "less than or equal to 60"),
        ("YUNXIN_DEADLINE_SECONDS", "-1", "greater than 0"),
        ("YUNXIN_BASE_URL", "open.yunxinapi.com", "http(s) URL"),
        ("YUNXIN_BASE_URL", "ftp://open.yunxinapi.com", "http(s) URL"),
        ("YUNXIN_BACKUP_BASE_URL", "backup-host", "http(s) URL"),
        ("SLACK_API_URL", "slack.com/api", "http(s) URL"),
        ("YUNXIN_API_VERSION", "v3", "v2"),
        ("YUNXIN_SANDBOX", "maybe", "boolean"),
        ("YUNXIN_CONCURRENCY", "0", "greater than or equal to 1"),
        ("PORT", "http", "valid integer"),
        ("MAX_IDS_PER_COMMAND", "401", "less than or equal to 400"),
        ("LOG_LEVEL", "chatty", "DEBUG"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(variable: str, value: str, fragment: str) -> None:
    message = load_error(**CREDENTIALS, **{variable: value})
    assert message.startswith(f"{variable}: ")
    assert fragment in message
    assert value.lower() in message.lower()  # what was given, so the fix is obvious (it is not a secret)
    assert SECRET not in message


def test_a_key_without_a_secret_names_the_missing_variable() -> None:
    message = load_error(YUNXIN_APP_KEY="key-1")
    assert message.startswith("YUNXIN_APP_SECRET: missing")
    assert "YUNXIN_APP_KEY" in message


def test_a_secret_without_a_key_names_the_missing_variable_and_not_the_secret() -> None:
    with pytest.raises(SettingsError) as caught:
        load(YUNXIN_APP_SECRET=SECRET)
    message = str(caught.value)
    assert message.startswith("YUNXIN_APP_KEY: missing")
    assert SECRET not in message
    # Nor anywhere in what a crash report would print, chained exceptions included.
    assert SECRET not in "".join(traceback.format_exception(caught.value))


@pytest.mark.parametrize("field", ["yunxin_app_secret", "slack_bot_token", "slack_signing_secret", "slack_app_token"])
def test_a_bad_secret_value_is_never_echoed(field: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, **{field: [SECRET]})  # the wrong type, to force an error on it
    assert str(caught.value).startswith(f"{field.upper()}: ")
    assert SECRET not in str(caught.value)


def test_several_problems_are_still_one_line() -> None:
    message = load_error(YUNXIN_TIMEOUT_SECONDS="x", PORT="y")
    assert "YUNXIN_TIMEOUT_SECONDS" in message
    assert "PORT" in message


def test_reprs_hide_every_secret() -> None:
    settings = load(
        **CREDENTIALS,
        SLACK_BOT_TOKEN=SECRET + "-bot",
        SLACK_SIGNING_SECRET=SECRET + "-signing",
        SLACK_APP_TOKEN=SECRET + "-app",
    )
    for text in (repr(settings), str(settings), repr(settings.yunxin()), str(settings.model_dump())):
        assert SECRET not in text
    assert isinstance(settings.slack_bot_token, SecretStr)


# .env.example ------------------------------------------------------------------------------------


def example_lines() -> dict[str, str]:
    """`# NAME=value` lines of .env.example, by name."""
    pattern = re.compile(r"#\s*([A-Z][A-Z0-9_]*)=(.*)")
    found = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = pattern.fullmatch(line.strip())
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def test_env_example_names_every_setting_and_only_real_environment_options() -> None:
    lines = example_lines()
    assert sorted(name for name in lines if name in VARIABLES) == sorted(VARIABLES)
    listed = [name.upper() for name in lines["YUNXIN_ENVIRONMENTS"].split(",")]
    options = {name.upper() for name in EnvironmentSettings.model_fields}
    per_environment = [name for name in lines if name not in VARIABLES]
    assert per_environment, "the example shows how to set an environment"
    for name in per_environment:
        prefixes = [f"YUNXIN_{environment}_" for environment in listed if name.startswith(f"YUNXIN_{environment}_")]
        assert prefixes and name.removeprefix(prefixes[0]) in options, name


def test_env_example_as_shipped_gives_the_defaults() -> None:
    assert Settings(_env_file=ENV_EXAMPLE) == Settings(_env_file=None)


def test_env_example_values_are_valid_when_uncommented(tmp_path: Path) -> None:
    lines = example_lines()
    # Each listed environment's credentials are left blank in the example; fill them as a user would.
    for name in lines["YUNXIN_ENVIRONMENTS"].split(","):
        for option in ("APP_KEY", "APP_SECRET"):
            lines[f"YUNXIN_{name.upper()}_{option}"] = lines.get(f"YUNXIN_{name.upper()}_{option}") or "filled-in"
    uncommented = "".join(f"{name}={value}\n" for name, value in lines.items() if value)
    (tmp_path / "example.env").write_text(uncommented)
    settings = Settings(_env_file=tmp_path / "example.env")
    assert sorted(settings.yunxin_apps()) == sorted(lines["YUNXIN_ENVIRONMENTS"].split(","))
