"""The help's examples: in sandbox mode they are conversations the sandbox holds, so trying the example
shows an answer; the product keeps its own copy of them instead of importing the sample data."""

from __future__ import annotations

from bot.slack.pipeline import EXAMPLE_IDS, SANDBOX_EXAMPLE_IDS
from bot.yunxin.ids import ConversationId, parse_ids
from bot.yunxin.sandbox import SAMPLE_CONVERSATIONS


def test_the_sandbox_examples_are_sample_conversations() -> None:
    assert set(SANDBOX_EXAMPLE_IDS) <= set(SAMPLE_CONVERSATIONS)


def test_every_example_is_a_valid_id() -> None:
    assert all(isinstance(parsed, ConversationId) for parsed in parse_ids([*EXAMPLE_IDS, *SANDBOX_EXAMPLE_IDS]))
