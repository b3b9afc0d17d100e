"""compose.yaml: valid under the Compose Specification's schema (the copy check-jsonschema ships, so
offline); the bot is the Dockerfile's image in HTTP mode, wired to Valkey, with health checks, a grace
period longer than the drain, and only settings the app reads."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .files import DEFAULT_PORT, DRAIN_SECONDS, HEALTH_PATHS, ROOT, check_settings, yaml_documents

COMPOSE = ROOT / "compose.yaml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    (document,) = yaml_documents(COMPOSE)
    return document


def seconds(duration: str) -> float:
    """A Compose duration such as 30s, 1m30s or 1m."""
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert parts and duration, f"unexpected duration {duration!r}"
    return int(parts[1] or 0) * 60 + int(parts[2] or 0)


def test_valid_under_the_compose_specification() -> None:
    check = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
    assert check, "check-jsonschema is missing: it comes with the dev extra; run ./dev"
    ran = subprocess.run(
        [check, "--builtin-schema", "vendor.compose-spec", "--output-format", "text", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_the_bot_is_built_from_the_dockerfile_and_runs_its_cmd(compose: dict[str, Any]) -> None:
    bot = compose["services"]["bot"]
    assert bot["build"] == "."
    assert (ROOT / "Dockerfile").is_file()
    # No command: the image's CMD, which is the Procfile's web: line (tests/deploy/test_docker.py).
    assert "command" not in bot and "entrypoint" not in bot


def test_the_bot_reads_env_from_dot_env_and_sets_only_settings(compose: dict[str, Any]) -> None:
    bot = compose["services"]["bot"]
    assert bot["env_file"] in (".env", [".env"])
    check_settings((name, "compose.yaml") for name in bot["environment"])


def test_the_bot_uses_valkey_through_redis_url(compose: dict[str, Any]) -> None:
    bot, valkey = compose["services"]["bot"], compose["services"]["valkey"]
    assert valkey["image"].startswith("valkey/valkey:")
    assert bot["environment"]["REDIS_URL"] == "redis://valkey:6379/0"
    assert bot["depends_on"] == {"valkey": {"condition": "service_healthy"}}


def test_the_bot_publishes_its_port(compose: dict[str, Any]) -> None:
    bot = compose["services"]["bot"]
    port = int(bot["environment"].get("PORT", DEFAULT_PORT))
    assert port == DEFAULT_PORT
    assert [mapping.rsplit(":", 1)[1] for mapping in bot["ports"]] == [str(port)]


def test_both_services_have_health_checks(compose: dict[str, Any]) -> None:
    bot, valkey = compose["services"]["bot"], compose["services"]["valkey"]
    assert bot["healthcheck"]["test"][:3] == ["CMD", "python", "/app/healthcheck.py"]
    assert bot["healthcheck"]["test"][3] in HEALTH_PATHS
    assert valkey["healthcheck"]["test"] == ["CMD", "valkey-cli", "ping"]


def test_the_bot_gets_time_to_drain(compose: dict[str, Any]) -> None:
    assert seconds(compose["services"]["bot"]["stop_grace_period"]) > DRAIN_SECONDS


def test_no_secret_is_written_into_it() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    assert not re.search(r"xox[abp]-|SECRET\s*[:=]|TOKEN\s*[:=]", text)
    assert json.dumps(yaml_documents(COMPOSE)).count("YUNXIN_APP_SECRET") == 0
