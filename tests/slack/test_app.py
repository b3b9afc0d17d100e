"""Start-up: the Slack token is checked once, and every way start-up can fail says what to fix in one line.
The Procfile's `web:` command runs for real in a subprocess, against a Slack stand-in in this test."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.app import StartupError, start_runtime, verify_app_token, verify_slack_token, web_client
from bot.standins.slack import SlackStandIn, send_slash_command
from tests.harness import (
    APP_TOKEN,
    BOB,
    BOT_TOKEN,
    CHANNEL,
    MEMBER,
    NOT_SLACK_ANSWERS,
    SIGNING_SECRET,
    TEAM,
    Bot,
    not_slack,
    settings_for,
    socket_workspace,
    workspace,
)
from tests.messages import shown
from tests.processes import Ran, procfile_web_command, run_to_end, spawn

# Hang guards for the subprocess (start-up, a reply, exiting), not deadlines the app is held to.
PROCESS_WAIT_SECONDS = 20.0


# --- start_runtime ----------------------------------------------------------------------------------


async def test_start_up_asks_auth_test_once_and_learns_who_the_bot_is(slack: SlackStandIn) -> None:
    runtime = await start_runtime(settings_for(slack))
    try:
        assert [method for _, method, _ in slack.api_calls] == ["auth.test"]
        assert runtime.identity.team_id == TEAM
        assert runtime.identity.bot_user_id == slack.bot_user_id
        assert runtime.identity.enterprise_id is None
    finally:
        await runtime.aclose()


async def test_auth_test_runs_once_at_start_up_and_never_on_a_request(bot: Bot) -> None:
    assert bot.api_methods() == ["auth.test"]
    for _ in range(3):
        await (await bot.command(BOB)).reply()
    assert bot.api_methods().count("auth.test") == 1


async def test_an_enterprise_install_learns_its_org() -> None:
    async with workspace(enterprise_id="E0GRID") as grid:
        identity = await verify_slack_token(web_client(settings_for(grid)))
    assert (identity.team_id, identity.enterprise_id) == (grid.team_id, "E0GRID")


def one_line_naming(error: pytest.ExceptionInfo[StartupError], variable: str) -> str:
    text = str(error.value)
    assert "\n" not in text
    assert text.startswith(f"{variable}:")
    return text


async def test_a_token_slack_refuses_stops_start_up_naming_slack_bot_token(slack: SlackStandIn) -> None:
    settings = settings_for(slack, slack_bot_token=SecretStr("xoxb-revoked-token"))
    with pytest.raises(StartupError) as refused:
        await start_runtime(settings)
    text = one_line_naming(refused, "SLACK_BOT_TOKEN")
    assert "invalid_auth" in text
    assert "xoxb-revoked-token" not in text


async def test_a_missing_token_stops_start_up_naming_slack_bot_token(slack: SlackStandIn) -> None:
    with pytest.raises(StartupError) as missing:
        await start_runtime(settings_for(slack, slack_bot_token=None))
    one_line_naming(missing, "SLACK_BOT_TOKEN")
    assert slack.api_calls == []


async def test_http_mode_without_a_signing_secret_stops_start_up(slack: SlackStandIn) -> None:
    settings = settings_for(slack, slack_signing_secret=None)
    with pytest.raises(StartupError) as missing:
        await start_runtime(settings)
    one_line_naming(missing, "SLACK_SIGNING_SECRET")
    # Socket Mode needs no signing secret: the socket itself is authenticated.
    runtime = await start_runtime(settings, socket_mode=True)
    await runtime.aclose()


async def test_a_slack_api_url_nobody_answers_stops_start_up(
    slack: SlackStandIn, refused_url: Callable[[], str]
) -> None:
    with pytest.raises(StartupError) as unreachable:
        await start_runtime(settings_for(slack, slack_api_url=refused_url() + "/api/"))
    one_line_naming(unreachable, "SLACK_API_URL")


@pytest.mark.parametrize("kind", NOT_SLACK_ANSWERS)
async def test_a_slack_api_url_that_is_not_slack_stops_start_up_naming_it(serve_asgi: Any, kind: str) -> None:
    async with serve_asgi(not_slack(kind)) as url:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=url + "/api/", retry_handlers=[])
        with pytest.raises(StartupError) as wrong:
            await verify_slack_token(client)
    text = one_line_naming(wrong, "SLACK_API_URL")
    assert f"HTTP {NOT_SLACK_ANSWERS[kind][1]}" in text


async def test_the_app_level_token_is_checked_once_before_socket_mode_connects() -> None:
    async with socket_workspace() as slack:
        await verify_app_token(slack.api_url, SecretStr(APP_TOKEN))
        refused = {}
        for wrong in ("xapp-1-revoked", BOT_TOKEN):
            with pytest.raises(StartupError) as error:
                await verify_app_token(slack.api_url, SecretStr(wrong))
            refused[wrong] = one_line_naming(error, "SLACK_APP_TOKEN")
    assert "invalid_auth" in refused["xapp-1-revoked"]
    assert "not_allowed_token_type" in refused[BOT_TOKEN]
    assert not any(token in text for text in refused.values() for token in ("xapp-1-revoked", BOT_TOKEN))
    assert slack.connections == []


# --- the Procfile's web: command, for real -----------------------------------------------------------


@dataclass
class Served:
    process: asyncio.subprocess.Process
    url: str


async def run_web(tmp_path: Path, **variables: str) -> Ran:
    """Run the web: command to its end (for start-ups that must fail); its stderr goes to `out`."""
    return await run_to_end(procfile_web_command(), tmp_path, variables, limit=PROCESS_WAIT_SECONDS, merge_output=True)


@contextlib.asynccontextmanager
async def start_web(tmp_path: Path, **variables: str) -> AsyncIterator[Served]:
    """Start the web: command and yield once uvicorn says where it listens; SIGTERM it after."""
    process = await spawn(
        procfile_web_command(), tmp_path, variables, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    try:
        url = None
        async with asyncio.timeout(PROCESS_WAIT_SECONDS):
            while url is None:
                line = (await process.stderr.readline()).decode()
                assert line, "the web process ended before it listened"
                found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
                url = found.group(1) if found else None
        yield Served(process, url)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(PROCESS_WAIT_SECONDS):
                await process.wait()


async def test_the_procfile_web_command_serves_slack_commands(slack: SlackStandIn, tmp_path: Path) -> None:
    variables = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
    }
    async with start_web(tmp_path, **variables) as served:
        async with httpx.AsyncClient() as http:
            assert (await http.get(served.url + "/healthz")).status_code == 200
        origin = slack.new_origin(MEMBER, CHANNEL)
        response_url = origin.response_url
        sent = await send_slash_command(
            served.url + "/slack/events", SIGNING_SECRET, origin, text="sandbox_alice|1|sandbox_bob"
        )
        assert sent.status == 200 and not sent.timed_out
        (answer,) = await slack.wait_for_posts(response_url, 1, timeout=PROCESS_WAIT_SECONDS)
        assert "*1* found" in shown(answer)
        served.process.send_signal(signal.SIGTERM)
        assert served.process.stderr is not None
        rest = (await served.process.stderr.read()).decode()
        await served.process.wait()  # before leaving start_web, which would signal a process not yet reaped
    # uvicorn shuts down gracefully, then ends by the signal it caught.
    assert "Application shutdown complete." in rest
    assert "Traceback" not in rest
    assert served.process.returncode == -signal.SIGTERM


def assert_one_clear_line(finished: Ran, variable: str, *secrets: str) -> None:
    assert finished.code != 0
    assert "Traceback" not in finished.out
    naming = [line for line in finished.out.splitlines() if variable in line]
    assert len(naming) == 1, finished.out
    for secret in secrets:
        assert secret not in finished.out


async def test_the_web_command_with_a_refused_token_exits_with_one_line(slack: SlackStandIn, tmp_path: Path) -> None:
    finished = await run_web(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-revoked-token",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
    )
    assert_one_clear_line(finished, "SLACK_BOT_TOKEN", "xoxb-revoked-token", SIGNING_SECRET)


async def test_the_web_command_without_a_signing_secret_exits_with_one_line(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    finished = await run_web(tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=slack.api_url)
    assert_one_clear_line(finished, "SLACK_SIGNING_SECRET", BOT_TOKEN)


async def test_the_web_command_with_a_bad_setting_exits_with_one_line(tmp_path: Path) -> None:
    finished = await run_web(tmp_path, YUNXIN_TIMEOUT_SECONDS="abc", SLACK_BOT_TOKEN=BOT_TOKEN)
    assert_one_clear_line(finished, "YUNXIN_TIMEOUT_SECONDS", BOT_TOKEN)
