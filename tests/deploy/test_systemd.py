"""deploy/systemd/: the units run the Procfile's commands, give the drain its time, set only settings the
app reads, and pass `systemd-analyze verify` where systemd's tools are installed."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .files import DEFAULT_PORT, DRAIN_SECONDS, ROOT, check_settings, procfile_words

SYSTEMD = ROOT / "deploy" / "systemd"
UNITS = {
    "web": SYSTEMD / "yunxin-conversation-bot.service",
    "worker": SYSTEMD / "yunxin-conversation-bot-socket-mode.service",
}
VENV = "/opt/yunxin-conversation-bot"


def directives(unit: Path) -> list[tuple[str, str, str]]:
    """(section, key, value) in order; keys may repeat, as Environment= does."""
    found, section = [], ""
    for raw in unit.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        found.append((section, key.strip(), value.strip()))
    return found


def values(unit: Path, key: str) -> list[str]:
    return [value for section, k, value in directives(unit) if section == "Service" and k == key]


def environment(unit: Path) -> dict[str, str]:
    assignments = [word for value in values(unit, "Environment") for word in shlex.split(value)]
    return dict(word.split("=", 1) for word in assignments)


@pytest.mark.parametrize("kind", sorted(UNITS))
def test_the_unit_runs_the_procfiles_command_from_the_venv(kind: str) -> None:
    unit = UNITS[kind]
    (exec_start,) = values(unit, "ExecStart")
    words = shlex.split(exec_start)
    assert words[0].startswith(f"{VENV}/bin/")
    # systemd fills ${PORT} in from Environment= (or the settings file), which has no ${PORT:-3000}.
    assert [Path(words[0]).name, *words[1:]] == procfile_words(kind, port="${PORT}")
    if "${PORT}" in words:
        assert environment(unit)["PORT"] == str(DEFAULT_PORT)


@pytest.mark.parametrize("kind", sorted(UNITS))
def test_the_unit_waits_for_the_drain(kind: str) -> None:
    unit = UNITS[kind]
    assert values(unit, "KillSignal") == ["SIGTERM"]
    (timeout,) = values(unit, "TimeoutStopSec")
    assert int(timeout) > DRAIN_SECONDS


@pytest.mark.parametrize("kind", sorted(UNITS))
def test_the_unit_sets_only_settings(kind: str) -> None:
    unit = UNITS[kind]
    assert values(unit, "EnvironmentFile") == ["/etc/yunxin-conversation-bot/env"]
    check_settings((name, str(unit.relative_to(ROOT))) for name in environment(unit))


@pytest.mark.parametrize("kind", sorted(UNITS))
def test_the_unit_runs_unprivileged(kind: str) -> None:
    unit = UNITS[kind]
    assert values(unit, "DynamicUser") == ["yes"] and values(unit, "NoNewPrivileges") == ["yes"]
    assert not values(unit, "User")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("kind", sorted(UNITS))
def test_systemd_analyze_verify_finds_nothing(kind: str, tmp_path: Path) -> None:
    """Verified as installed, except that the venv is this one and the settings file may be absent
    (verify checks that the program exists)."""
    unit = UNITS[kind]
    text = unit.read_text(encoding="utf-8").replace(f"{VENV}/bin/", f"{Path(sys.executable).parent}/")
    text = text.replace("EnvironmentFile=/", "EnvironmentFile=-/")
    copy = tmp_path / unit.name
    copy.write_text(text, encoding="utf-8")
    ran = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(copy)], capture_output=True, text=True, timeout=60, check=False
    )
    assert (ran.returncode, ran.stdout + ran.stderr) == (0, "")
