"""Block Kit messages shown in a terminal: readable text, no Slack markup left."""

from __future__ import annotations

from bot.slack.actions import LookupRequest
from bot.slack.render.lookup import render_lookup
from bot.slack.render.notices import render_help
from bot.slack.render.terminal import readable, to_terminal
from bot.yunxin.errors import Unavailable
from bot.yunxin.ids import InvalidId
from bot.yunxin.models import ChunkFailure, Conversation, FailedConversation, LookupResult


def test_readable_undoes_slack_markup() -> None:
    assert readable("a &amp; b &lt;!channel&gt; &amp;lt;") == "a & b <!channel> &lt;"
    assert readable("<!date^1700000000^{date_short_pretty} {time}|2023-11-14T22:13:20Z>") == "2023-11-14T22:13:20Z"
    assert readable("Shared by <@U123ABC>") == "Shared by @U123ABC"
    assert readable("<#C1|general> <!here> <https://x.io/a|docs> <https://x.io/b>") == (
        "#general @here docs (https://x.io/a) https://x.io/b"
    )
    assert readable("*Owner* and *`a|1|b`*, 2*3*4") == "Owner and `a|1|b`, 2*3*4"
    assert readable(":warning: SANDBOX") == "⚠ SANDBOX"


def test_a_rendered_lookup_reads_well_in_a_terminal() -> None:
    conversation = Conversation.model_validate(
        {
            "conversation_id": "alice|1|bob",
            "sender_id": "alice",
            "receiver_id": "bob",
            "type": 1,
            "unread_count": 2,
            "create_time": 1_700_000_000_000,
            "last_message": {"message": {"message_type": 0, "text": "hi <@U1> & <b>"}},
        }
    )
    result = LookupResult(
        requested=["alice|1|bob", "x|1|y", "bad<id>", "a|2|1"],
        found=[conversation],
        failed=[FailedConversation(conversation_id="x|1|y", error_code=110404, error_msg="not found")],
        invalid=[InvalidId("bad<id>", "expected owner|type|target")],
        chunk_failures=[ChunkFailure(("a|2|1",), Unavailable("code 503: busy", trace_id="trace-9"))],
        sandbox=True,
    )
    output = to_terminal(render_lookup(result, request=LookupRequest(tuple(result.requested))))
    lines = output.splitlines()
    assert lines[:2] == ["Yunxin conversations", "===================="]
    assert "  · ⚠ SANDBOX DATA — not production" in lines
    for shown in ("`alice|1|bob`", "`x|1|y`", "`bad<id>`", "`a|2|1`"):
        assert shown in output
    assert "text: hi <@U1> & <b>" in output
    assert "  Owner: `alice`" in lines and "  Unread: 2" in lines
    assert "  Created: 2023-11-14T22:13:20Z" in lines
    assert "Trace ID to quote: `trace-9`" in output
    assert "[ Share in channel ]  [ Refresh ]" in lines
    assert "-" * 100 in lines
    assert "&lt;" not in output and "&amp;" not in output and "<!date" not in output


def test_many_ids_wrap_at_the_width_without_splitting_an_id() -> None:
    ids = [f"user{i:03d}|1|peer{i:03d}" for i in range(400)]
    output = to_terminal(render_lookup(LookupResult(requested=ids)), width=60)
    assert all(f"`{i}`" in output for i in ids)
    assert max(len(line) for line in output.splitlines()) <= 60


def test_help_and_plain_messages() -> None:
    output = to_terminal([render_help(example_ids=["alice|1|bob"], sandbox=False), {"text": "just &lt;text&gt;"}])
    assert "Look up Yunxin conversations\n============================" in output
    assert "`/conversation alice|1|bob`" in output
    assert output.rstrip().endswith("just <text>")
