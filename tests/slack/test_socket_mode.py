"""Socket Mode end to end: Bolt's own Socket Mode client connects to the Slack stand-in's WebSocket, gets
commands and clicks as envelopes and acks them there; answers go to the response_url, checked by the strict
stand-in. Last, `python -m bot run` itself, as the Procfile's worker runs it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.__main__ import EXIT_OK, EXIT_USAGE, main
from bot.slack.render.kit import SANDBOX_LABEL
from bot.yunxin.sandbox import SAMPLE_IDS
from tests.harness import (
    APP_TOKEN,
    BOB,
    BOT_TOKEN,
    CHANNEL,
    GUEST,
    MEMBER,
    SECOND_MEMBER,
    SIGNING_SECRET,
    UNKNOWN,
    ScriptedYunxin,
    SocketBot,
    running_socket_bot,
)
from tests.harness import REPLY_WAIT_SECONDS as WAIT_SECONDS
from tests.messages import shown
from tests.processes import PYTHON_M_BOT, RUN_LIMIT_SECONDS, credentials, spawn
from tests.standins.socket_mode import CONNECTIONS_OPEN, SocketModeStandIn

# --- commands and clicks over the socket -------------------------------------------------------------


async def test_a_command_is_acked_on_the_socket_and_answered_at_the_response_url(socket_bot: SocketBot) -> None:
    ack = await socket_bot.command(f"{BOB} {UNKNOWN}")

    assert not ack.timed_out
    assert ack.payload is not None and ack.problems == []
    assert ack.payload["response_type"] == "ephemeral"
    assert "Looking up 2 conversations" in shown(ack.payload)
    assert ack.response_url is not None
    (answer,) = await socket_bot.replies(ack)
    text = shown(answer)
    assert SANDBOX_LABEL in text
    assert BOB in text and UNKNOWN in text
    assert "*1* found" in text and "*1* failed" in text
    assert socket_bot.slack.refused_posts(ack.response_url) == []
    # The "Looking up…" notice reaches Slack before the answer.
    (first_post, *_) = socket_bot.slack.timed_posts(ack.response_url)
    assert ack.at is not None and ack.at <= first_post.at
    assert [call.conversation_ids for call in socket_bot.yunxin.calls] == [f"{BOB},{UNKNOWN}"]
    assert socket_bot.api_methods() == ["auth.test", CONNECTIONS_OPEN, "users.info"]
    assert socket_bot.slack.stray_messages == []


@pytest.mark.parametrize("text", ["help", ""])
async def test_help_is_answered_in_the_ack_and_nothing_is_looked_up(socket_bot: SocketBot, text: str) -> None:
    ack = await socket_bot.command(text)
    await socket_bot.settle()

    assert not ack.timed_out
    assert ack.payload is not None and ack.problems == []
    assert ack.payload["response_type"] == "ephemeral"
    usage = shown(ack.payload)
    assert "Usage:" in usage and "Example:" in usage
    assert SAMPLE_IDS[0] in usage
    assert socket_bot.yunxin.calls == []
    assert socket_bot.api_methods() == ["auth.test", CONNECTIONS_OPEN]
    assert ack.response_url is not None and socket_bot.slack.posts(ack.response_url) == []


async def test_a_share_click_on_the_socket_posts_in_the_channel(socket_bot: SocketBot) -> None:
    (answer,) = await socket_bot.replies(await socket_bot.command(BOB))
    calls_before = len(socket_bot.yunxin.calls)

    click = await socket_bot.click_share(answer, user=SECOND_MEMBER)

    assert not click.timed_out
    assert click.payload is None and click.problems == []  # a click's ack carries nothing
    (shared,) = await socket_bot.replies(click)
    assert shared["response_type"] == "in_channel"
    text = shown(shared)
    assert BOB in text and SANDBOX_LABEL in text
    assert f"<@{SECOND_MEMBER}>" in text
    assert len(socket_bot.yunxin.calls) > calls_before  # looked up again, not copied


async def test_a_guest_is_refused_over_the_socket_as_over_http(socket_bot: SocketBot) -> None:
    ack = await socket_bot.command(BOB, user=GUEST)
    (refusal,) = await socket_bot.replies(ack)
    assert "guest" in shown(refusal)
    assert socket_bot.yunxin.calls == []


@pytest.mark.parametrize("signing_secret", [None, SecretStr(SIGNING_SECRET)], ids=["no secret", "a secret"])
async def test_envelopes_need_no_request_signature(
    socket_slack: SocketModeStandIn, signing_secret: SecretStr | None
) -> None:
    # An envelope carries no signature headers at all; the socket is authenticated by the xapp- token.
    async with running_socket_bot(socket_slack, slack_signing_secret=signing_secret) as bot:
        ack = await bot.command(BOB)
        assert not ack.timed_out
        assert ack.payload is not None and "Looking up 1 conversation" in shown(ack.payload)
        assert BOB in shown((await bot.replies(ack))[0])


async def test_the_bot_reconnects_when_slack_asks_and_keeps_answering(socket_bot: SocketBot) -> None:
    await socket_bot.slack.request_reconnect()

    second = await socket_bot.slack.wait_for_connection(2, timeout=WAIT_SECONDS)
    first = await socket_bot.slack.wait_until_closed(socket_bot.connection, timeout=WAIT_SECONDS)
    assert (first.closed_by, first.close_code) == ("app", 1000)
    assert second.is_open
    assert socket_bot.api_methods().count(CONNECTIONS_OPEN) == 2  # a new URL for the new connection
    ack = await socket_bot.command(BOB)
    assert not ack.timed_out
    assert BOB in shown((await socket_bot.replies(ack))[0])


async def test_closing_the_handler_closes_the_socket_normally(socket_slack: SocketModeStandIn) -> None:
    async with running_socket_bot(socket_slack) as bot:
        connection = bot.connection
    closed = await socket_slack.wait_until_closed(connection, timeout=WAIT_SECONDS)
    assert (closed.closed_by, closed.close_code) == ("app", 1000)


# --- start-up ------------------------------------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """`main` configures the root logger on the captured stderr of this test; put it back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_run_without_an_app_token_stops_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)

    code = main(["run"])

    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    (line,) = err.strip().splitlines()
    assert line.startswith("error: SLACK_APP_TOKEN")
    assert BOT_TOKEN not in err


# --- `python -m bot run`, as the Procfile's worker runs it ---------------------------------------------


@dataclass
class Worker:
    process: asyncio.subprocess.Process
    output: asyncio.Task[tuple[bytes, bytes]]  # reads stdout and stderr as they come, so neither pipe fills

    async def exited(self) -> str:
        """Wait for the process to end (a hang guard bounds the wait); return what it wrote to stderr."""
        async with asyncio.timeout(RUN_LIMIT_SECONDS):
            _, err = await asyncio.shield(self.output)
        return err.decode()


@contextlib.asynccontextmanager
async def worker(tmp_path: Path, **variables: str) -> AsyncIterator[Worker]:
    """`python -m bot run` in an empty directory (no .env) with only the settings given; killed if left running."""
    process = await spawn(
        [*PYTHON_M_BOT, "run"], tmp_path, variables, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    running = Worker(process, asyncio.create_task(process.communicate()))
    try:
        yield running
    finally:
        if process.returncode is None:
            process.kill()
        await running.output


async def test_python_m_bot_run_answers_over_the_socket_and_stops_cleanly_on_sigterm(
    socket_slack: SocketModeStandIn, tmp_path: Path
) -> None:
    # No Yunxin credentials: the sandbox answers.
    settings = {"SLACK_API_URL": socket_slack.api_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}
    async with worker(tmp_path, **settings) as running:
        connection = await socket_slack.wait_for_connection(timeout=RUN_LIMIT_SECONDS)
        ack = await socket_slack.send_slash_command(socket_slack.new_origin(MEMBER, CHANNEL), text=BOB)
        assert ack.response_url is not None
        (answer,) = await socket_slack.wait_for_posts(ack.response_url, timeout=WAIT_SECONDS)

        running.process.send_signal(signal.SIGTERM)
        err = await running.exited()

    assert not ack.timed_out
    assert ack.payload is not None and "Looking up 1 conversation" in shown(ack.payload)
    text = shown(answer)
    assert SANDBOX_LABEL in text and BOB in text
    assert running.process.returncode == EXIT_OK, err
    closed = await socket_slack.wait_until_closed(connection, timeout=WAIT_SECONDS)
    assert (closed.closed_by, closed.close_code) == ("app", 1000)
    assert "Traceback" not in err
    assert APP_TOKEN not in err and BOT_TOKEN not in err


async def test_sigterm_closes_the_socket_and_lets_a_running_lookup_answer_before_exit(
    socket_slack: SocketModeStandIn, tmp_path: Path, yunxin: ScriptedYunxin, yunxin_url: str
) -> None:
    yunxin.gate = asyncio.Event()  # Yunxin holds every call until released
    settings = {"SLACK_API_URL": socket_slack.api_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}
    async with worker(tmp_path, **settings, **credentials(yunxin_url)) as running:
        connection = await socket_slack.wait_for_connection(timeout=RUN_LIMIT_SECONDS)
        ack = await socket_slack.send_slash_command(socket_slack.new_origin(MEMBER, CHANNEL), text=BOB)
        async with asyncio.timeout(WAIT_SECONDS):
            await yunxin.called.wait()

        running.process.send_signal(signal.SIGTERM)
        closed = await socket_slack.wait_until_closed(connection, timeout=WAIT_SECONDS)  # no new envelopes
        yunxin.gate.set()
        assert ack.response_url is not None
        (answer,) = await socket_slack.wait_for_posts(ack.response_url, timeout=WAIT_SECONDS)
        err = await running.exited()

    assert (closed.closed_by, closed.close_code) == ("app", 1000)
    assert BOB in shown(answer) and "Hi Alice" in shown(answer)
    assert running.process.returncode == EXIT_OK, err


async def test_python_m_bot_run_stops_on_sigterm_while_it_cannot_connect(
    socket_slack: SocketModeStandIn, tmp_path: Path
) -> None:
    # The Web API answers but the WebSocket does not: the Socket Mode client retries every 10 s for ever.
    socket_slack.fail_sockets(503)
    settings = {"SLACK_API_URL": socket_slack.api_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}
    async with worker(tmp_path, **settings) as running:
        await socket_slack.wait_for_refused_handshake(timeout=RUN_LIMIT_SECONDS)
        running.process.send_signal(signal.SIGTERM)
        err = await running.exited()

    assert running.process.returncode == EXIT_OK, err
    assert socket_slack.connections == []


async def test_python_m_bot_run_with_the_bot_token_as_app_token_stops_with_one_line_naming_it(
    socket_slack: SocketModeStandIn, tmp_path: Path
) -> None:
    # The usual mistake: the xoxb- token pasted twice. The Socket Mode client alone would retry it for ever.
    settings = {"SLACK_API_URL": socket_slack.api_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": BOT_TOKEN}
    async with worker(tmp_path, **settings) as running:
        err = await running.exited()

    assert running.process.returncode == EXIT_USAGE, err
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert line.startswith("error: SLACK_APP_TOKEN") and "not_allowed_token_type" in line
    assert "Traceback" not in err
    assert BOT_TOKEN not in err
    assert socket_slack.connections == []
