"""The command line, run as people run it: `python -m bot ...` in a subprocess, with no credentials unless a
test gives some, against the built-in sandbox or the sandbox served over real HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from tests.harness import BOB, ScriptedYunxin
from tests.processes import PYTHON_M_BOT, RUN_LIMIT_SECONDS, Ran, credentials, run_to_end


async def bot_cli(tmp_path: Path, *args: str, **variables: str) -> Ran:
    """Run `python -m bot ARGS` in an empty directory (so no .env is read) and collect what it printed."""
    return await run_to_end([*PYTHON_M_BOT, *args], tmp_path, variables, limit=RUN_LIMIT_SECONDS)


# --- query against the built-in sandbox -------------------------------------------------------------


async def test_query_json_answers_from_the_sandbox_without_credentials(tmp_path: Path) -> None:
    ran = await bot_cli(tmp_path, "query", "--json", BOB)
    assert ran.code == 0, ran.err
    answer = ran.json()
    assert (answer["sandbox"], answer["environment"]) == (True, "sandbox")
    (result,) = answer["results"]
    assert (result["id"], result["status"]) == (BOB, "found")
    assert result["conversation"]["unread_count"] == 2
    assert len(answer["trace_ids"]) == 1
    assert ran.error_lines() == []


async def test_query_json_hides_message_texts_when_redaction_is_on(tmp_path: Path) -> None:
    ran = await bot_cli(tmp_path, "query", "--json", BOB, REDACT_MESSAGE_TEXT="true")
    assert ran.code == 0, ran.err
    (result,) = ran.json()["results"]
    assert "release notes" not in ran.out
    assert result["conversation"]["last_message"]["message"]["text"] == "[hidden]"


async def test_query_prints_a_readable_answer_and_unknown_ids_still_exit_0(tmp_path: Path) -> None:
    ran = await bot_cli(tmp_path, "query", f"{BOB},sandbox_alice|1|sandbox_nobody")
    assert ran.code == 0, ran.err
    assert "SANDBOX DATA" in ran.out
    assert BOB in ran.out and "sandbox_alice|1|sandbox_nobody" in ran.out
    assert "110404" in ran.out


async def test_query_format_json_is_what_json_was(tmp_path: Path) -> None:
    as_format = await bot_cli(tmp_path, "query", "--format", "json", BOB)
    assert as_format.code == 0, as_format.err
    (result,) = as_format.json()["results"]
    assert (result["id"], result["status"]) == (BOB, "found")


async def test_query_format_csv_lists_every_id_with_its_outcome_and_trace_ids(tmp_path: Path) -> None:
    nobody = "sandbox_alice|1|sandbox_nobody"
    ran = await bot_cli(
        tmp_path, "query", "--format", "csv", BOB, nobody, "=SUM(A1:A9)", "+1+1", REDACT_MESSAGE_TEXT="true"
    )
    assert ran.code == 0, ran.err
    rows = list(csv.DictReader(io.StringIO(ran.out)))
    assert [(row["id"], row["outcome"]) for row in rows] == [
        (BOB, "found"),
        (nobody, "failed"),
        ("'=SUM(A1:A9)", "malformed"),  # a formula is never a live cell
        ("'+1+1", "malformed"),
    ]
    assert rows[0]["unread"] == "2" and rows[0]["last_message_text"] == "[hidden]"
    assert "release notes" not in ran.out
    assert (rows[1]["error_code"], rows[1]["error_message"]) == ("110404", "conversation not exist")
    assert all(row["lookup_trace_ids"] for row in rows)


async def test_query_format_table_is_the_readable_answer(tmp_path: Path) -> None:
    ran = await bot_cli(tmp_path, "query", "--format", "table", BOB)
    assert ran.code == 0, ran.err
    assert "Yunxin conversations" in ran.out and BOB in ran.out and "Unread: 2" in ran.out


async def test_query_with_only_malformed_ids_exits_2(tmp_path: Path) -> None:
    ran = await bot_cli(tmp_path, "query", "--json", "alice|9|bob", "justtext")
    assert ran.code == 2
    assert [result["status"] for result in ran.json()["results"]] == ["malformed", "malformed"]


async def test_a_bad_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    ran = await bot_cli(tmp_path, "query", BOB, YUNXIN_TIMEOUT_SECONDS="abc")
    assert ran.code == 2
    assert ran.err.strip().splitlines() == [ran.error_lines()[0]]
    assert "YUNXIN_TIMEOUT_SECONDS" in ran.err and "Traceback" not in ran.err


async def test_no_command_and_no_app_token_prints_usage_and_exits_2(tmp_path: Path) -> None:
    ran = await bot_cli(tmp_path)
    assert ran.code == 2
    assert "query" in ran.out and "demo" in ran.out


async def test_without_a_command_an_app_token_in_dot_env_starts_socket_mode(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_APP_TOKEN=xapp-1-A0TEST-0000-test\n")
    ran = await bot_cli(tmp_path)
    # Socket Mode starts, and stops at once with one line: the bot token is missing.
    assert ran.code == 2
    assert "usage:" not in ran.out
    (line,) = ran.error_lines()
    assert line.startswith("error: SLACK_BOT_TOKEN: missing")
    assert "xapp-1-A0TEST" not in ran.out + ran.err


async def test_socket_mode_without_an_app_token_is_one_line_and_exit_2(tmp_path: Path) -> None:
    ran = await bot_cli(tmp_path, "run", SLACK_BOT_TOKEN="xoxb-unused")
    assert ran.code == 2
    assert [line.split(":")[1].strip() for line in ran.error_lines()] == ["SLACK_APP_TOKEN"]
    assert "Traceback" not in ran.err


# --- query against a real HTTP server ---------------------------------------------------------------


async def test_query_answers_from_a_yunxin_served_over_http(
    tmp_path: Path, yunxin: ScriptedYunxin, yunxin_url: str
) -> None:
    ran = await bot_cli(tmp_path, "query", "--json", BOB, **credentials(yunxin_url))
    assert ran.code == 0, ran.err
    answer = ran.json()
    assert (answer["sandbox"], answer["environment"]) == (False, "default")
    assert answer["results"][0]["status"] == "found"
    assert answer["trace_ids"] == yunxin.trace_ids


async def test_a_wrong_secret_exits_1_with_one_error_line_holding_the_trace_id(
    tmp_path: Path, yunxin: ScriptedYunxin, yunxin_url: str
) -> None:
    wrong_secret = "not-the-sandbox-secret-4e1f"
    ran = await bot_cli(tmp_path, "query", BOB, **credentials(yunxin_url, wrong_secret))
    assert ran.code == 1
    (line,) = ran.error_lines()
    assert "rejected the app's credentials" in line
    (trace_id,) = yunxin.trace_ids
    assert trace_id and trace_id in line
    assert wrong_secret not in ran.out + ran.err
    assert "Traceback" not in ran.err


# --- demo -------------------------------------------------------------------------------------------


async def test_demo_answers_a_command_end_to_end_on_this_machine_whatever_the_settings_say(
    tmp_path: Path, refused_url: Callable[[], str]
) -> None:
    # Settings of a production deployment: the demo must neither call these hosts nor refuse its user.
    production = {
        "YUNXIN_ENVIRONMENTS": "prod",
        "YUNXIN_PROD_APP_KEY": "prod-app-key",
        "YUNXIN_PROD_APP_SECRET": "prod-app-secret",
        "YUNXIN_PROD_BASE_URL": refused_url(),
        "YUNXIN_PROD_BACKUP_BASE_URL": "none",
        "ALLOWED_CHANNEL_IDS": "C0PRODONLY",
        "ALLOWED_USER_IDS": "U0PRODADMIN",
    }
    ran = await bot_cli(tmp_path, "demo", **production)
    assert ran.code == 0, ran.err
    assert "SANDBOX DEMO" in ran.out
    assert "/conversation sandbox_alice|1|sandbox_bob" in ran.out
    assert "Looking up 5 conversations" in ran.out
    assert "SANDBOX DATA" in ran.out
    assert "Hi Alice, the release notes for 4.2 are ready for review." in ran.out
    assert "unavailable" not in ran.out and "can't look up" not in ran.out
    assert "Traceback" not in ran.err
