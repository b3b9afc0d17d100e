"""The Slack app manifests validate against Slack's v1 manifest schema and say what the app needs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from bot.slack.listeners.shortcut import SHORTCUT_CALLBACK
from bot.slack.render.workflow import (
    INPUT_CHANNEL,
    INPUT_ENVIRONMENT,
    INPUT_IDS,
    INPUT_USER,
    OUTPUT_FAILED,
    OUTPUT_FAILED_IDS,
    OUTPUT_FOUND,
    OUTPUT_SUMMARY,
    OUTPUT_TRACE_IDS,
    WORKFLOW_CALLBACK,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = Path(__file__).with_name("slack-manifest.schema.1.0.0.json")
MANIFESTS = {"socket": ROOT / "manifests" / "socket-mode.json", "http": ROOT / "manifests" / "http-mode.json"}
EVENTS_URL_SUFFIX = "/slack/events"


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = load(SCHEMA_PATH)
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(params=sorted(MANIFESTS))
def manifest(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load(MANIFESTS[request.param])


def all_urls(value: Any) -> list[str]:
    """Every string that looks like a URL, anywhere in the manifest."""
    if isinstance(value, dict):
        return [url for item in value.values() for url in all_urls(item)]
    if isinstance(value, list):
        return [url for item in value for url in all_urls(item)]
    return [value] if isinstance(value, str) and value.startswith(("http://", "https://")) else []


def all_refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return own + [ref for item in value.values() for ref in all_refs(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in all_refs(item)]
    return []


def test_the_schema_resolves_offline_with_no_remote_refs() -> None:
    schema = load(SCHEMA_PATH)
    refs = all_refs(schema)
    assert refs, "expected the schema to use local definitions"
    assert [ref for ref in refs if not ref.startswith("#/definitions/")] == []
    missing = [ref for ref in refs if ref.removeprefix("#/definitions/") not in schema["definitions"]]
    assert missing == []


def test_manifest_is_valid(manifest: dict[str, Any], validator: jsonschema.Draft7Validator) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]
    assert errors == []
    assert manifest["_metadata"]["major_version"] == 1


def test_the_validator_rejects_a_broken_manifest(validator: jsonschema.Draft7Validator) -> None:
    broken = copy.deepcopy(load(MANIFESTS["http"]))
    broken["features"]["slash_commands"][0]["command"] = "conversation"  # no leading slash
    broken["settings"]["interactivity"].pop("is_enabled")
    del broken["display_information"]
    messages = [error.message for error in validator.iter_errors(broken)]
    assert len(messages) == 3, messages


def test_manifest_declares_the_command_shortcut_and_scopes(manifest: dict[str, Any]) -> None:
    features, settings = manifest["features"], manifest["settings"]
    assert manifest["display_information"]["name"] == "Yunxin Conversations"
    assert features["bot_user"]["display_name"]
    [command] = features["slash_commands"]
    assert command["command"] == "/conversation"
    assert command["should_escape"] is False
    assert "owner|type|target" in command["usage_hint"]
    [shortcut] = features["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", SHORTCUT_CALLBACK)
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(
        # files:write and im:write: Download CSV sends the file to the clicker's direct message with the bot.
        ["commands", "chat:write", "users:read", "usergroups:read", "files:write", "im:write"]
    )
    assert settings["interactivity"]["is_enabled"] is True
    # Workflow Builder steps need an org-ready app (installed at org level on Enterprise Grid).
    assert settings["org_deploy_enabled"] is True
    assert settings["token_rotation_enabled"] is False


def test_manifest_declares_the_home_tab_and_the_workflow_step(manifest: dict[str, Any]) -> None:
    features, settings = manifest["features"], manifest["settings"]
    # The Home tab, and the Messages tab where the lookup form's answers (and CSV files) arrive.
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": True,
    }
    assert sorted(settings["event_subscriptions"]["bot_events"]) == ["app_home_opened", "function_executed"]
    assert settings["function_runtime"] == "remote"
    [(callback_id, step)] = manifest["functions"].items()
    assert callback_id == WORKFLOW_CALLBACK
    inputs, outputs = step["input_parameters"], step["output_parameters"]
    assert set(inputs) == {INPUT_IDS, INPUT_ENVIRONMENT, INPUT_USER, INPUT_CHANNEL}
    assert {name for name, parameter in inputs.items() if parameter["is_required"]} == {INPUT_IDS, INPUT_USER}
    assert (inputs[INPUT_IDS]["type"], inputs[INPUT_ENVIRONMENT]["type"]) == ("string", "string")
    assert inputs[INPUT_USER]["type"] == "slack#/types/user_id"
    assert inputs[INPUT_CHANNEL]["type"] == "slack#/types/channel_id"
    assert {name: parameter["type"] for name, parameter in outputs.items()} == {
        OUTPUT_SUMMARY: "string",
        OUTPUT_FOUND: "integer",
        OUTPUT_FAILED: "integer",
        OUTPUT_FAILED_IDS: "string",
        OUTPUT_TRACE_IDS: "string",
    }


def test_http_mode_points_every_url_at_slack_events() -> None:
    manifest = load(MANIFESTS["http"])
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["features"]["slash_commands"][0]["url"].endswith(EVENTS_URL_SUFFIX)
    assert manifest["settings"]["interactivity"]["request_url"].endswith(EVENTS_URL_SUFFIX)
    assert manifest["settings"]["event_subscriptions"]["request_url"].endswith(EVENTS_URL_SUFFIX)
    urls = all_urls(manifest)
    assert len(urls) == 3
    assert all(url.startswith("https://") and url.endswith(EVENTS_URL_SUFFIX) for url in urls)


def test_socket_mode_has_no_urls() -> None:
    manifest = load(MANIFESTS["socket"])
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert all_urls(manifest) == []


def test_the_two_manifests_differ_only_in_transport() -> None:
    socket_mode, http_mode = load(MANIFESTS["socket"]), load(MANIFESTS["http"])
    del http_mode["features"]["slash_commands"][0]["url"]
    del http_mode["settings"]["interactivity"]["request_url"]
    del http_mode["settings"]["event_subscriptions"]["request_url"]
    http_mode["settings"]["socket_mode_enabled"] = True
    assert http_mode == socket_mode
