"""What the deployment files are checked against: the Procfile's commands, the settings the app reads,
the paths it serves for health, and the repository's files themselves."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from bot.settings import ENVIRONMENT_NAME, EnvironmentSettings, Settings
from bot.slack.app import DRAIN_MARGIN_SECONDS

ROOT = Path(__file__).resolve().parents[2]
HEALTH_PATHS = {"/livez", "/readyz", "/healthz"}
# The most the bot spends draining after SIGTERM with default settings (the lookup deadline plus a
# margin); every grace period must leave room for it.
DRAIN_SECONDS = Settings.model_fields["yunxin_deadline_seconds"].default + DRAIN_MARGIN_SECONDS
DEFAULT_PORT = int(Settings.model_fields["port"].default)


def procfile() -> dict[str, str]:
    """Process type -> command line, as the Procfile says."""
    processes = {}
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            kind, _, command = line.partition(":")
            processes[kind.strip()] = command.strip()
    return processes


def procfile_words(kind: str, *, port: str) -> list[str]:
    """The Procfile's command for `kind` as words, with ${PORT:-3000} read as `port`."""
    return [word.replace("${PORT:-3000}", port) for word in shlex.split(procfile()[kind])]


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text(encoding="utf-8")) if document]


def is_setting(name: str) -> bool:
    """A variable bot/settings/ reads: a field of Settings, or one of a named Yunxin environment's
    (YUNXIN_PROD_APP_KEY: an environment's name, then a field of EnvironmentSettings)."""
    if name.lower() in Settings.model_fields:
        return True
    for field in EnvironmentSettings.model_fields:
        environment = name.removeprefix("YUNXIN_").removesuffix("_" + field.upper())
        if name.startswith("YUNXIN_") and name.endswith("_" + field.upper()) and environment:
            return ENVIRONMENT_NAME.fullmatch(environment.lower()) is not None
    return False


def check_settings(names: Iterable[tuple[str, str]]) -> None:
    """Each (variable, where it is set) must be a variable bot/settings/ reads."""
    wrong = sorted({f"{where}: {name}" for name, where in names if not is_setting(name)})
    assert not wrong, f"variables bot/settings/ does not read (a typo?): {wrong}"
