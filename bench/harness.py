"""The bench's world: the app in its own process as the Procfile runs it, and Slack and Yunxin beside it.

The app runs as `uvicorn bot.slack.web:create_asgi_app --factory` in a process of its own. The Slack
stand-in, the Yunxin sandbox and the load (signed commands) share this process: on a 2-core machine
that is two busy processes for two cores, so the app is never short of a core because of a third.
Every time is taken here, so any slowness of this process adds to the figures; it never hides in them.

Beside the app, `running_lean` can start the lean reference bot (bench/lean.py) in a process of its own,
with the same settings and stand-ins, so one run sends the same load to both and compares them. Only
one of the two is sent commands at a time: the other waits, idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx

from bot.settings import SANDBOX_APP_KEY, SANDBOX_APP_SECRET
from bot.slack.render.lookup import TITLE
from bot.standins.loopback import serve_on_loopback
from bot.standins.slack import ACK_SECONDS, SLACK_USER_AGENT, SlackStandIn, sign, slash_command_form
from bot.yunxin.sandbox import SAMPLE_IDS, SandboxApp, create_sandbox_app

REPO = str(Path(__file__).resolve().parent.parent)
STARTUP_LIMIT_SECONDS = 30.0
STOP_LIMIT_SECONDS = 20.0
CHANNEL = "C0BENCH"
USERS = [f"U0BENCH{n:02d}" for n in range(20)]
FOUND_IDS = SAMPLE_IDS[:7]  # sample conversations the sandbox holds
# "Part 1 of 3" in the head of a lookup answered in several messages.
_PARTS = re.compile(r"\bPart 1 of (\d+)\b")
# Environment passed through to the app process; everything else it needs is set explicitly.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
# The argv after the Python executable, `--host` and `--port` left for AppProcess to add.
UVICORN_APP = (
    "-m",
    "uvicorn",
    "bot.slack.web:create_asgi_app",
    "--factory",
    "--http",
    "bot.slack.server:GuardedProtocol",
)
LEAN_BOT = ("-m", "bench.lean")  # the reference floor for CPU per command (bench/lean.py)


@dataclass(frozen=True, slots=True)
class CommandTiming:
    """One command: its ack, and the time from sending it to the last reply of its answer."""

    ack_seconds: float
    acked: bool  # HTTP 200 within Slack's 3 seconds
    end_to_end: float | None  # None: the answer never arrived (within the wait limit)
    complete: bool  # the answer accounts for every ID (no call failed)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parts_of(message: Mapping[str, Any]) -> int:
    """How many messages a lookup's answer takes, read from its first message's head."""
    for block in message.get("blocks") or []:
        if block.get("type") == "context":
            for element in block.get("elements") or []:
                match = _PARTS.search(str(element.get("text", "")))
                if match:
                    return int(match.group(1))
    return 1


def is_complete(first_message: Mapping[str, Any]) -> bool:
    """A lookup's answer whose tally (the fallback text) names no unanswered IDs: no call failed."""
    text = str(first_message.get("text", ""))
    return text.startswith(TITLE) and "unanswered" not in text


class AppProcess:
    """An HTTP bot in a process of its own: by default the app as the Procfile starts it; `program` (the
    argv after the Python executable, to which `--host` and `--port` are added) runs another, such as
    the lean reference bot. `name` names its log and its errors."""

    def __init__(
        self,
        env: Mapping[str, str],
        workdir: Path,
        *,
        program: Sequence[str] = UVICORN_APP,
        name: str = "app",
        command_prefix: Sequence[str] = (),
        startup_factor: float = 1,
    ) -> None:
        self._env = dict(env)
        self.workdir = workdir
        self._program = list(program)
        self.name = name
        self._prefix = list(command_prefix)  # e.g. valgrind's, for --instructions
        self._startup_limit = STARTUP_LIMIT_SECONDS * startup_factor
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name.replace(' ', '-')}.log"
        self._process: asyncio.subprocess.Process | None = None

    @property
    def env(self) -> dict[str, str]:
        """The settings this process is given (the stand-ins' addresses and credentials)."""
        return dict(self._env)

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError(f"the {self.name} is not running")
        return self._process.pid

    async def start(self) -> None:
        env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
        env |= self._env | {"PYTHONPATH": REPO}
        with self.log_path.open("wb") as log:
            # Run from an empty directory so no .env of the checkout leaks into the app's settings.
            self._process = await asyncio.create_subprocess_exec(
                *self._prefix,
                sys.executable,
                *self._program,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        await self._wait_healthy()

    async def _wait_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._startup_limit
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                if self._process.returncode is not None:
                    raise RuntimeError(f"the {self.name} exited with {self._process.returncode}:\n{self.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{self.url}/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise RuntimeError(
            f"the {self.name} did not become healthy within {self._startup_limit:g} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            async with asyncio.timeout(STOP_LIMIT_SECONDS):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


@dataclass(frozen=True, slots=True)
class Ack:
    status: int  # 0: no answer within Slack's 3 seconds (or no connection)
    seconds: float


class SlackSender:
    """Slack's side of a slash command: the form Slack sends, signed, given up on after 3 seconds.

    It sends with aiohttp rather than the stand-in's httpx helper: httpcore's pool scans every open
    connection on each request, and under 200 concurrent commands that cost this process more CPU
    than the Slack and Yunxin stand-ins together, CPU the app under test would then lack.
    """

    def __init__(self, events_url: str, signing_secret: str) -> None:
        self._events_url = events_url
        self._signing_secret = signing_secret
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def aclose(self) -> None:
        await self._session.close()

    async def slash_command(self, form: Mapping[str, str]) -> Ack:
        body = urlencode(form).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": SLACK_USER_AGENT,
            **sign(self._signing_secret, int(time.time()), body),
        }
        started = time.perf_counter()
        try:
            async with (
                asyncio.timeout(ACK_SECONDS),
                self._session.post(self._events_url, data=body, headers=headers) as response,
            ):
                await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError):
            status = 0
        return Ack(status, time.perf_counter() - started)


class Bench:
    """Sends signed commands to the app and times their acks and answers."""

    def __init__(self, slack: SlackStandIn, sandbox: SandboxApp, app: AppProcess, signing_secret: str) -> None:
        self.slack = slack
        self.sandbox = sandbox
        self.app = app
        self._sender = SlackSender(f"{app.url}/slack/events", signing_secret)

    async def aclose(self) -> None:
        await self._sender.aclose()

    async def command(self, text: str, user_id: str, *, answer_limit: float = 60.0) -> CommandTiming:
        """Send one /conversation; wait (at most `answer_limit` s) for every message of its answer."""
        response_url = self.slack.new_response_url()
        form = slash_command_form(
            text=text, user_id=user_id, team_id=self.slack.team_id, channel_id=CHANNEL, response_url=response_url
        )
        sent = time.monotonic()  # the stand-in stamps each reply with this same clock
        ack = await self._sender.slash_command(form)
        if ack.status != 200:
            return CommandTiming(ack.seconds, False, None, False)
        try:
            first = (await self.slack.wait_for_posts(response_url, 1, timeout=answer_limit))[0]
            parts = parts_of(first)
            if parts > 1:
                await self.slack.wait_for_posts(response_url, parts, timeout=answer_limit)
        except TimeoutError:
            return CommandTiming(ack.seconds, True, None, False)
        last = self.slack.timed_posts(response_url)[parts - 1]
        return CommandTiming(ack.seconds, True, last.at - sent, is_complete(first))


def command_text(tag: str, index: int) -> str:
    """A found sample conversation and an ID of this command alone, so no two commands share a call."""
    return f"{FOUND_IDS[index % len(FOUND_IDS)]} bench_{tag}{index}|1|sandbox_bob"


async def at_once(bench: Bench, count: int, tag: str) -> list[CommandTiming]:
    return list(
        await asyncio.gather(*(bench.command(command_text(tag, i), USERS[i % len(USERS)]) for i in range(count)))
    )


@dataclass(frozen=True, slots=True)
class StandIns:
    """Slack and Yunxin as the bench runs them, and the settings that point a bot at them."""

    slack: SlackStandIn
    sandbox: SandboxApp
    env: Mapping[str, str]

    @property
    def signing_secret(self) -> str:
        return self.env["SLACK_SIGNING_SECRET"]


@contextlib.asynccontextmanager
async def running_stand_ins(latency_seconds: float) -> AsyncIterator[StandIns]:
    """The Slack stand-in (knowing the bench's users) and the sandbox, here, with fresh credentials."""
    signing_secret = secrets.token_hex(16)
    bot_token = f"xoxb-bench-{secrets.token_hex(8)}"
    sandbox = create_sandbox_app(latency_seconds=latency_seconds)
    async with (
        SlackStandIn(bot_token=bot_token) as slack,
        serve_on_loopback(sandbox) as sandbox_url,
    ):
        for user in USERS:
            slack.add_user(user)
        env = {
            "SLACK_API_URL": slack.api_url,
            "SLACK_BOT_TOKEN": bot_token,
            "SLACK_SIGNING_SECRET": signing_secret,
            "YUNXIN_BASE_URL": sandbox_url,
            "YUNXIN_BACKUP_BASE_URL": "none",
            "YUNXIN_APP_KEY": SANDBOX_APP_KEY,
            "YUNXIN_APP_SECRET": SANDBOX_APP_SECRET,
        }
        yield StandIns(slack, sandbox, env)


@contextlib.asynccontextmanager
async def serving(process: AppProcess, stand_ins: StandIns) -> AsyncIterator[Bench]:
    """`process` started and healthy, and a Bench sending to it; it is stopped after."""
    try:
        await process.start()
        bench = Bench(stand_ins.slack, stand_ins.sandbox, process, stand_ins.signing_secret)
        try:
            yield bench
        finally:
            await bench.aclose()
    finally:
        await process.stop()


@contextlib.asynccontextmanager
async def running_bench(
    latency_seconds: float, *, command_prefix: Sequence[str] = (), startup_factor: float = 1
) -> AsyncIterator[Bench]:
    """Start the Slack stand-in and the sandbox here, the app in its own process; stop all after."""
    async with running_stand_ins(latency_seconds) as stand_ins:
        with tempfile.TemporaryDirectory(prefix="yunxin-bench-") as workdir:
            app = AppProcess(stand_ins.env, Path(workdir), command_prefix=command_prefix, startup_factor=startup_factor)
            async with serving(app, stand_ins) as bench:
                yield bench


@contextlib.asynccontextmanager
async def running_lean(
    beside: Bench, *, command_prefix: Sequence[str] = (), startup_factor: float = 1
) -> AsyncIterator[Bench]:
    """The lean reference bot (bench/lean.py) in its own process beside `beside`'s app: the same settings,
    stand-ins and working directory, so the same load can be sent to either."""
    stand_ins = StandIns(beside.slack, beside.sandbox, beside.app.env)
    lean = AppProcess(
        stand_ins.env,
        beside.app.workdir,
        program=LEAN_BOT,
        name="lean bot",
        command_prefix=command_prefix,
        startup_factor=startup_factor,
    )
    async with serving(lean, stand_ins) as bench:
        yield bench
