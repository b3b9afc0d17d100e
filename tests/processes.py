"""The bot's commands run as people run them, each in a subprocess: `python -m bot ...` and the Procfile's
`web:` line. Each runs in a directory the test gives (an empty one, so no .env is read) with only the
settings the test gives: the autouse fixture has removed the bot's settings from this environment."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.settings import SANDBOX_APP_KEY, SANDBOX_APP_SECRET

REPO = Path(__file__).resolve().parents[1]
PYTHON_M_BOT = (sys.executable, "-m", "bot")
# A hang guard for one run of the command line, not a deadline it is held to.
RUN_LIMIT_SECONDS = 30.0


@dataclass
class Ran:
    """How a command ended and what it printed (`err` is empty when stderr went to `out`)."""

    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        value = json.loads(self.out)
        assert isinstance(value, dict)
        return value

    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("error:")]


def procfile_web_command(port: int = 0) -> list[str]:
    """The Procfile's `web:` line, listening on loopback only, on `port` (0: a free one uvicorn picks)."""
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            command = line.removeprefix("web:").strip().replace("--host 0.0.0.0", "--host 127.0.0.1")
            return shlex.split(command.replace("${PORT:-3000}", str(port)))
    raise AssertionError("the Procfile has no web: line")


def subprocess_env(variables: Mapping[str, str]) -> dict[str, str]:
    """This environment plus `variables`; the checkout first on the import path and this venv's scripts
    (uvicorn) first on PATH. Logs are text, as a person reads them, unless `variables` say LOG_FORMAT:
    with its default (auto) a process whose output is a pipe logs JSON."""
    env = dict(os.environ) | {"LOG_FORMAT": "text"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env | dict(variables)


async def spawn(
    command: Sequence[str], cwd: Path, variables: Mapping[str, str], **streams: Any
) -> asyncio.subprocess.Process:
    """Start `command` in `cwd` with these settings and nothing on stdin; `streams`: stdout=, stderr=."""
    return await asyncio.create_subprocess_exec(
        *command, env=subprocess_env(variables), cwd=cwd, stdin=asyncio.subprocess.DEVNULL, **streams
    )


async def run_to_end(
    command: Sequence[str], cwd: Path, variables: Mapping[str, str], *, limit: float, merge_output: bool = False
) -> Ran:
    """Run `command` to its end and collect what it printed (stderr into stdout with `merge_output`); it is
    killed if it outlives `limit`, a hang guard."""
    stderr = asyncio.subprocess.STDOUT if merge_output else asyncio.subprocess.PIPE
    process = await spawn(command, cwd, variables, stdout=asyncio.subprocess.PIPE, stderr=stderr)
    try:
        async with asyncio.timeout(limit):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), (err or b"").decode())


def credentials(base_url: str, secret: str = SANDBOX_APP_SECRET) -> dict[str, str]:
    """Settings for one Yunxin app at `base_url` with the sandbox's key (and its secret unless given)."""
    return {
        "YUNXIN_APP_KEY": SANDBOX_APP_KEY,
        "YUNXIN_APP_SECRET": secret,
        "YUNXIN_BASE_URL": base_url,
        "YUNXIN_BACKUP_BASE_URL": "none",
    }


# --- the web: process, for the tests that run it ------------------------------------------------------

WEB_START_LIMIT_SECONDS = 30.0  # a hang guard for a web process to listen and be ready


@dataclass
class WebProcess:
    """The Procfile's web: line running, its output (stdout and stderr) in `log_path`."""

    url: str
    process: asyncio.subprocess.Process
    log_path: Path

    @property
    def events(self) -> str:
        return f"{self.url}/slack/events"

    def log(self) -> str:
        return read_log(self.log_path)

    def log_size(self) -> int:
        return self.log_path.stat().st_size


def read_log(path: Path) -> str:
    return path.read_text(errors="replace")


async def start_web(
    workdir: Path, settings: Mapping[str, str], command: Sequence[str] | None = None
) -> tuple[asyncio.subprocess.Process, Path]:
    """Start `command` (the Procfile's web: line by default) in `workdir`, its output to workdir/web.log."""
    workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (a test directory, once)
    log_path = workdir / "web.log"
    with log_path.open("wb") as log:  # opened once, written by the child
        process = await spawn(command or procfile_web_command(), workdir, settings, stdout=log, stderr=log)
    return process, log_path


async def wait_ready(process: asyncio.subprocess.Process, log_path: Path, http: httpx.AsyncClient) -> str:
    """The URL a web process listens on, once it says so and its /readyz answers 200."""
    async with asyncio.timeout(WEB_START_LIMIT_SECONDS):
        url = None
        while url is None:  # another process's output: polled
            assert process.returncode is None, read_log(log_path)
            found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", read_log(log_path))
            url = found.group(1) if found else None
            await asyncio.sleep(0.05)
        while not await _ready(http, url):  # noqa: ASYNC110 (another process)
            await asyncio.sleep(0.05)
    return url


async def _ready(http: httpx.AsyncClient, url: str) -> bool:
    """/readyz answers 200 (with workers, the port refuses connections until one listens)."""
    try:
        return (await http.get(f"{url}/readyz")).status_code == 200
    except httpx.TransportError:
        return False
