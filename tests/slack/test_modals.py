"""The Details modal as pure rendering: everything shown, escaped, within a modal's limits."""

from __future__ import annotations

from typing import Any

from bot.slack.limits import VIEW_BLOCKS_MAX, view_problems
from bot.slack.modals import render_details_view, render_loading_view
from bot.yunxin.errors import RateLimited
from bot.yunxin.models import Conversation, Failed, FailedConversation, Found, Malformed, Unanswered

ID = "alice|1|bob"


def text_of(view: dict[str, Any]) -> str:
    return "\n".join(
        block["text"]["text"] if "text" in block else block["elements"][0]["text"] for block in view["blocks"]
    )


def found(**fields: Any) -> Found:
    return Found(ID, Conversation.model_validate({"conversation_id": ID, **fields}))


def test_every_returned_field_is_shown_including_unknown_ones_and_exact_int64() -> None:
    view = render_details_view(
        found(
            sender_id="alice",
            unread_count=3,
            brand_new_field={"nested": [1, 2]},
            last_message={"message_server_id": 9007199254740993, "text": "hi <!here> & bye"},
        ),
        environment="prod",
        sandbox=False,
        redact_text=False,
    )
    assert view_problems(view) == []
    text = text_of(view)
    assert '"brand_new_field"' in text and '"nested"' in text
    assert "9007199254740993" in text
    assert "hi &lt;!here&gt; &amp; bye" in text and "<!here>" not in text
    assert "environment `prod`" in text and "SANDBOX" not in text


def test_a_huge_conversation_is_shortened_to_the_modal_limits() -> None:
    view = render_details_view(
        found(server_extension="x" * 400_000, group_ids=list(range(20_000))),
        environment=None,
        sandbox=True,
        redact_text=False,
    )
    assert view_problems(view) == []
    assert len(view["blocks"]) <= VIEW_BLOCKS_MAX
    assert "Shortened to fit" in text_of(view) and "SANDBOX" in text_of(view)


def test_redaction_hides_message_content_everywhere_in_the_payload() -> None:
    view = render_details_view(
        found(last_message={"message": {"text": "secret plans", "attachment": {"url": "u"}}, "text": "flat text"}),
        environment=None,
        sandbox=False,
        redact_text=True,
    )
    text = text_of(view)
    assert "secret plans" not in text and "flat text" not in text and '"url"' not in text
    assert "[hidden]" in text


def test_ids_that_were_not_found_say_why() -> None:
    failed = Failed(ID, FailedConversation(conversation_id=ID, error_code=110404, error_msg="conversation not exist"))
    assert "110404" in text_of(render_details_view(failed, environment=None, sandbox=False, redact_text=False))
    malformed = Malformed("nope", "expected owner|type|target")
    assert "owner|type|target" in text_of(
        render_details_view(malformed, environment=None, sandbox=False, redact_text=False)
    )
    error = RateLimited("code 416: freq", trace_id="trace-123", code=416)
    shown = text_of(render_details_view(Unanswered(ID, error), environment=None, sandbox=False, redact_text=False))
    assert "rate limiting" in shown and "trace-123" in shown


def test_the_loading_view_is_valid_and_escapes_the_id() -> None:
    view = render_loading_view("<!channel>|1|x")
    assert view_problems(view) == [] and "&lt;!channel&gt;" in text_of(view)
