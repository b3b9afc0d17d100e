"""The Details modal and the list it is chosen from, as pure rendering: everything shown, escaped, within a
modal's limits."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.actions import PICKER_BACK_ACTION, PICKER_CHOICE_ACTION, LookupRequest, ModalState
from bot.slack.render.limits import SELECT_OPTIONS_MAX
from bot.slack.render.modals import render_details_view, render_loading_view, render_picker_view
from bot.slack.render.view_limits import VIEW_BLOCKS_MAX, view_problems
from bot.yunxin.errors import RateLimited
from bot.yunxin.models import Conversation, Failed, FailedConversation, Found, LookupResult, Malformed, Unanswered

ID = "alice|1|bob"


def text_of(view: dict[str, Any]) -> str:
    return "\n".join(
        block["text"]["text"] if "text" in block else block["elements"][0]["text"]
        for block in view["blocks"]
        if block["type"] != "actions"
    )


def menus(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"] if e["type"] == "static_select"]


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
    # Cut field by field before anything formats them, each cut saying how much there was.
    shown_text = text_of(view)
    assert "… (400000 characters)" in shown_text and "19800 more items not shown" in shown_text
    assert "SANDBOX" in shown_text


def test_many_large_fields_are_shortened_to_the_modal_limits() -> None:
    fields = {f"field_{i}": "y" * 19_000 for i in range(30)}  # each under the cut, together over a modal
    view = render_details_view(found(**fields), environment=None, sandbox=False, redact_text=False)
    assert view_problems(view) == []
    assert len(view["blocks"]) <= VIEW_BLOCKS_MAX
    assert "Shortened to fit" in text_of(view)


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
    view = render_loading_view(["<!channel>|1|x"])
    assert view_problems(view) == [] and "&lt;!channel&gt;" in text_of(view)
    assert "Looking up 2 conversations" in text_of(render_loading_view(["a|1|b", "a|1|c"]))


# ---- the list of found conversations --------------------------------------------------------------


def many_found(count: int, *, environment: str | None = None, sandbox: bool = False) -> LookupResult:
    ids = [f"owner{i:04d}|1|peer{i:04d}" for i in range(count)]
    found = [Conversation.model_validate({"conversation_id": i}) for i in ids]
    return LookupResult(requested=ids, found=found, environment=environment, sandbox=sandbox)


STATE = ModalState(LookupRequest(("owner0000|1|peer0000",), "prod"), "C0CHANNEL")


@pytest.mark.parametrize("count", [1, 300, 1000])
def test_the_list_offers_every_found_conversation_in_menus_within_a_modal(count: int) -> None:
    result = many_found(count, environment="prod", sandbox=True)
    view = render_picker_view(result, STATE)
    assert view_problems(view) == [] and len(view["blocks"]) <= VIEW_BLOCKS_MAX
    assert all(
        len(menu["options"]) <= SELECT_OPTIONS_MAX and menu["action_id"] == PICKER_CHOICE_ACTION for menu in menus(view)
    )
    assert [option["value"] for menu in menus(view) for option in menu["options"]] == result.requested
    assert menus(view)[-1]["placeholder"]["text"].endswith(f"of {count}")
    text = text_of(view)
    assert f"*{count}* found · environment `prod`" in text and "SANDBOX" in text and "not listed" not in text
    assert ModalState.decode(view["private_metadata"]) == STATE  # for the choice made in it, and the way back


def test_the_list_says_how_many_ids_it_leaves_out() -> None:
    result = many_found(5)
    result.failed = [FailedConversation(conversation_id="a|1|gone", error_code=110404, error_msg="gone")]
    result.requested.append("a|1|gone")
    view = render_picker_view(result, STATE)
    assert "1 of these IDs are not listed" in text_of(view) and "*1* failed" in text_of(view)
    none = render_picker_view(LookupResult(requested=["a|1|gone"], failed=result.failed), STATE)
    assert view_problems(none) == [] and menus(none) == [] and "none of these conversations" in text_of(none)


def test_a_list_beyond_a_modal_says_how_many_are_not_listed() -> None:
    view = render_picker_view(many_found(10_000), STATE)
    assert view_problems(view) == [] and len(view["blocks"]) <= VIEW_BLOCKS_MAX
    listed = sum(len(menu["options"]) for menu in menus(view))
    assert listed > 9000
    assert f"{10_000 - listed} more conversations found are not listed" in text_of(view)


def test_details_chosen_from_a_list_lead_back_to_it() -> None:
    state = ModalState(LookupRequest(("alice|1|bob", "alice|1|carol"), "prod"), "C0CHANNEL")
    view = render_details_view(
        found(server_extension="x" * 400_000), environment="prod", sandbox=False, redact_text=False, back_to=state
    )
    assert view_problems(view) == [] and len(view["blocks"]) <= VIEW_BLOCKS_MAX
    [back] = view["blocks"][0]["elements"]
    assert back["action_id"] == PICKER_BACK_ACTION and back["text"]["text"] == "Back to the list"
    assert ModalState.decode(view["private_metadata"]) == state
    alone = render_details_view(found(), environment=None, sandbox=False, redact_text=False)
    assert alone["private_metadata"] == "" and all(b["type"] != "actions" for b in alone["blocks"])
