"""Reading what Slack sends: the text typed after /conversation, as IDs, `--env` and the cases that ask for
usage."""

from __future__ import annotations

import pytest

from bot.slack.listeners.payloads import parse_command_text
from tests.harness import BOB, TEAM_CHAT


@pytest.mark.parametrize(
    "text",
    [
        "sandbox_alice|1|sandbox_bob sandbox_alice|2|8800000001",
        "sandbox_alice|1|sandbox_bob,sandbox_alice|2|8800000001",
        "sandbox_alice|1|sandbox_bob, sandbox_alice|2|8800000001",
        "sandbox_alice|1|sandbox_bob\nsandbox_alice|2|8800000001\n",
        "  `sandbox_alice|1|sandbox_bob`\r\n\tsandbox_alice|2|8800000001  ",
    ],
)
def test_ids_are_separated_by_spaces_commas_or_new_lines(text: str) -> None:
    parsed = parse_command_text(text)
    assert parsed.help_note is None
    assert parsed.ids == (BOB, TEAM_CHAT)


@pytest.mark.parametrize("text", ["", "   ", "\n", "help", "HELP", "--help", "-h", "?"])
def test_empty_text_and_help_ask_for_usage(text: str) -> None:
    assert parse_command_text(text).help_note == ""


def test_an_unknown_option_asks_for_usage_with_a_note() -> None:
    assert parse_command_text(f"--verbose {BOB}").help_note == "Unknown option --verbose."


def test_env_option_names_the_environment() -> None:
    assert parse_command_text(f"--env Staging {BOB}").environment == "staging"
    assert parse_command_text(f"--env=prod {BOB}").ids == (BOB,)
    assert "needs an environment name" in str(parse_command_text("--env").help_note)
