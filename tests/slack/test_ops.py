"""Health and metrics on a port of their own (METRICS_PORT): HTTP mode moves /metrics there, off the
port the world reaches; Socket Mode, which has no port, serves health and metrics only there; a port in
use is said once and the bot serves on without it."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from bot.standins.slack import SlackStandIn, send_slash_command
from tests.processes import PYTHON_M_BOT, procfile_web_command, spawn
from tests.standins.socket_mode import SocketModeStandIn

BOT_TOKEN = "xoxb-ops-token"
APP_TOKEN = "xapp-1-A0OPS-1-ops-token"
SECRET = "ops-signing-secret"
MEMBER = "U0OPS"
# Hang guards, not deadlines the app is held to.
WAIT_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def until_answers(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as http, asyncio.timeout(WAIT_SECONDS):
        while True:  # another process: polled until it listens
            try:
                return await http.get(url)
            except httpx.TransportError:
                await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def process(command: list[str], tmp_path: Path, **variables: str) -> AsyncIterator[asyncio.subprocess.Process]:
    log = (tmp_path / "out.log").open("wb")
    running = await spawn(command, tmp_path, variables, stdout=log, stderr=log)
    try:
        yield running
    finally:
        if running.returncode is None:
            running.send_signal(signal.SIGTERM)
            async with asyncio.timeout(WAIT_SECONDS):
                await running.wait()
        log.close()


def http_settings(slack: SlackStandIn, metrics_port: int) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "METRICS_PORT": str(metrics_port),
    }


async def test_http_mode_serves_metrics_on_the_metrics_port_only(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    async with SlackStandIn(bot_token=BOT_TOKEN) as slack:
        slack.add_user(MEMBER)
        async with process(procfile_web_command(port), tmp_path, **http_settings(slack, metrics_port)):
            ops = f"http://127.0.0.1:{metrics_port}"
            assert (await until_answers(f"{ops}/livez")).status_code == 200
            app = f"http://127.0.0.1:{port}"
            assert (await until_answers(f"{app}/readyz")).status_code == 200
            origin = slack.new_origin(MEMBER, "C0OPS")
            assert (await send_slash_command(f"{app}/slack/events", SECRET, origin, text="help")).status == 200
            async with httpx.AsyncClient() as http:
                assert (await http.get(f"{app}/metrics")).status_code == 404
                scraped = await http.get(f"{ops}/metrics")
                assert (await http.get(f"{ops}/readyz")).status_code == 200
    assert scraped.status_code == 200
    assert 'conversation_bot_commands_total{kind="command",outcome="help"} 1' in scraped.text


async def test_socket_mode_serves_health_and_metrics_on_the_metrics_port(tmp_path: Path) -> None:
    metrics_port = free_port()
    async with SocketModeStandIn(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as slack:
        slack.add_user(MEMBER)
        settings = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.api_url,
            "METRICS_PORT": str(metrics_port),
        }
        async with process([*PYTHON_M_BOT, "run"], tmp_path, **settings) as worker:
            ops = f"http://127.0.0.1:{metrics_port}"
            assert (await until_answers(f"{ops}/livez")).status_code == 200
            await slack.wait_for_connection(timeout=WAIT_SECONDS)
            ack = await slack.send_slash_command(slack.new_origin(MEMBER, "C0OPS"), text="help")
            assert not ack.timed_out
            async with httpx.AsyncClient() as http:
                assert (await http.get(f"{ops}/readyz")).status_code == 200
                assert (await http.get(f"{ops}/healthz")).json()["status"] == "ok"
                scraped = await http.get(f"{ops}/metrics")
            worker.send_signal(signal.SIGTERM)
            async with asyncio.timeout(WAIT_SECONDS):
                assert await worker.wait() == 0
    assert 'conversation_bot_commands_total{kind="command",outcome="help"} 1' in scraped.text


async def test_a_metrics_port_in_use_is_said_once_and_the_bot_serves_on(tmp_path: Path) -> None:
    port = free_port()
    with socket.create_server(("0.0.0.0", 0)) as taken:
        metrics_port = taken.getsockname()[1]
        async with (
            SlackStandIn(bot_token=BOT_TOKEN) as slack,
            process(procfile_web_command(port), tmp_path, **http_settings(slack, metrics_port)),
        ):
            assert (await until_answers(f"http://127.0.0.1:{port}/readyz")).status_code == 200
    log = (tmp_path / "out.log").read_text()
    assert log.count(f"METRICS_PORT {metrics_port}: cannot listen there") == 1
    assert "Traceback" not in log
