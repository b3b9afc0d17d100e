"""The workflow step's outputs made from a lookup: the counts, one line per ID (found, or why not), the failed
IDs with their reasons, the trace IDs; plain text that can notify nobody, holds no message text, and is
bounded; a failed step's error read from the notice a person would have seen."""

from __future__ import annotations

from bot.slack.i18n import translator
from bot.slack.render.notices import render_refusal
from bot.slack.render.workflow import (
    OUTPUT_FAILED,
    OUTPUT_FAILED_IDS,
    OUTPUT_FOUND,
    OUTPUT_SUMMARY,
    OUTPUT_TRACE_IDS,
    OUTPUTS,
    TEXT_OUTPUT_MAX,
    WORD_JOINER,
    step_error,
    step_outputs,
)
from bot.yunxin.errors import Timeout
from bot.yunxin.ids import parse_ids
from bot.yunxin.models import ChunkFailure, Conversation, FailedConversation, LookupResult

ZH = translator("zh_CN")


def lookup() -> LookupResult:
    parsed = parse_ids(["alice|1|bob", "alice|2|123", "alice|1|nobody", "junk", "alice|3|77"])
    return LookupResult(
        requested=[str(getattr(item, "raw", item)) for item in parsed],
        found=[
            Conversation(
                conversation_id="alice|1|bob",
                type=1,
                unread_count=2,
                update_time=1_772_442_903_000,
                last_message={"message_type": 0, "text": "<!channel> secret plans"},  # type: ignore[arg-type]
            ),
            Conversation(conversation_id="alice|2|123", type=2, unread_count=17),
        ],
        failed=[FailedConversation(conversation_id="alice|1|nobody", error_code=110404, error_msg="<!here> not exist")],
        invalid=[item for item in parsed if not hasattr(item, "owner")],  # type: ignore[misc]
        chunk_failures=[ChunkFailure(("alice|3|77",), Timeout("no answer", trace_id="trace-2"))],
        trace_ids=["trace-1", "trace-2"],
        environment="prod",
    )


def test_the_outputs_are_the_lookup_counted_and_line_by_line() -> None:
    outputs = step_outputs(lookup())
    assert set(outputs) == set(OUTPUTS)
    assert (outputs[OUTPUT_FOUND], outputs[OUTPUT_FAILED]) == (2, 3)
    summary = outputs[OUTPUT_SUMMARY].splitlines()
    assert summary == [
        "Yunxin conversations: 2 of 5 found, 3 failed · environment prod",
        "alice|1|bob: found, one-to-one, 2 unread, updated 2026-03-02 09:15 UTC",
        "alice|2|123: found, team, 17 unread",
        f"alice|1|nobody: 110404: <{WORD_JOINER}!here> not exist",
        "junk: expected owner|type|target, for example alice|1|bob",
        "alice|3|77: Yunxin did not answer in time (trace trace-2)",
    ]
    assert outputs[OUTPUT_FAILED_IDS].splitlines() == summary[3:]
    assert outputs[OUTPUT_TRACE_IDS] == "trace-1, trace-2"


def test_no_output_holds_message_text_or_a_token_that_would_notify() -> None:
    for value in step_outputs(lookup()).values():
        assert "secret plans" not in str(value)
        assert "<!" not in str(value) and "<@" not in str(value)


def test_a_lookup_all_found_has_no_failed_ids() -> None:
    result = LookupResult(
        requested=["alice|2|123"], found=[Conversation(conversation_id="alice|2|123", type=2)], sandbox=True
    )
    outputs = step_outputs(result)
    assert outputs[OUTPUT_FAILED_IDS] == "" and outputs[OUTPUT_TRACE_IDS] == ""
    assert outputs[OUTPUT_SUMMARY].startswith("Yunxin conversations: 1 of 1 found, 0 failed · SANDBOX DATA")


def test_long_outputs_are_cut_saying_how_many_lines_are_left_out() -> None:
    ids = [f"user{i:03d}|1|peer{i:03d}" for i in range(400)]
    result = LookupResult(
        requested=ids,
        failed=[FailedConversation(conversation_id=i, error_code=110404, error_msg="x" * 60) for i in ids],
    )
    outputs = step_outputs(result)
    for name in (OUTPUT_SUMMARY, OUTPUT_FAILED_IDS):
        assert len(outputs[name]) <= TEXT_OUTPUT_MAX
        assert outputs[name].splitlines()[-1].startswith("…and ") and outputs[name].endswith(" more")
    assert outputs[OUTPUT_FAILED] == 400


def test_the_outputs_read_in_chinese() -> None:
    summary = step_outputs(lookup(), ZH)[OUTPUT_SUMMARY]
    assert "found" not in summary.splitlines()[0] and "alice|1|bob" in summary


def test_a_failed_steps_error_is_the_notice_as_plain_text() -> None:
    refusal = render_refusal("guest accounts cannot look up conversations", "<#C1|help> & co")
    error = step_error(refusal)
    assert error == (
        "You can't look up Yunxin conversations here. guest accounts cannot look up conversations "
        f"To get access, ask <{WORD_JOINER}#C1|help> & co."
    )
