"""A lookup's answer as tables: one table block per message, within every limit Slack documents and reports,
every ID asked for shown (in a table or, when the tables do not fit, in the lists), outside text literal and
unable to ping, and the checks of `problems()` refusing what Slack refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.actions import EXPORT_ACTION, REFRESH_ACTION, SHARE_ACTION, LookupRequest
from bot.slack.i18n import translator
from bot.slack.render.kit import WORD_JOINER
from bot.slack.render.limits import has_table, problems
from bot.slack.render.lookup import render_lookup
from bot.slack.render.table import cell_text, code_cell, raw
from bot.slack.render.table_limits import TABLE_ROWS_MAX, TABLE_TEXT_MAX
from bot.yunxin.errors import Unavailable
from bot.yunxin.ids import InvalidId, parse_id
from bot.yunxin.models import REDACTED, ChunkFailure, Conversation, FailedConversation, LookupResult
from tests.messages import button_lookups
from tests.slack.render.test_lookup import OWN_TOKEN, SHARED_BY, WORST_TEXT, conversation, longest_id, lookup_results


def export_parts(messages: list[dict[str, Any]]) -> list[LookupRequest]:
    return button_lookups(messages, EXPORT_ACTION)


def tables_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        block
        for message in messages
        for attachment in message.get("attachments") or []
        for block in attachment["blocks"]
        if block["type"] == "table"
    ]


def table_rows(messages: list[dict[str, Any]]) -> list[list[str]]:
    """Each data row of the answer's tables as the texts of its cells (the header rows left out)."""
    return [[cell_text(cell) for cell in row] for table in tables_of(messages) for row in table["rows"][1:]]


def blocks_text(messages: list[dict[str, Any]]) -> str:
    """Every mrkdwn and plain text of the messages' blocks and fallbacks (the tables left out)."""
    from tests.messages import texts

    return "\n".join(text for message in messages for text in [message["text"], *texts(message["blocks"])])


def assert_valid(messages: list[dict[str, Any]]) -> None:
    assert 1 <= len(messages) <= 5
    for message in messages:
        assert problems(message) == []


def assert_every_id_shown(result: LookupResult, messages: list[dict[str, Any]]) -> None:
    """Every ID asked for is in the first cell of a row (junk shortened), or, in a list answer, as code."""
    in_tables = [row[0] for row in table_rows(messages)]
    listed = blocks_text(messages)
    for requested in result.requested:
        shown = requested.replace("<", "<" + WORD_JOINER) if "<" in requested else requested
        if isinstance(parse_id(requested), InvalidId):
            assert (
                any(cell.startswith(shown[:10]) for cell in in_tables)
                or requested[:10] in listed
                or ("&" in requested or "<" in requested or ">" in requested)
            ), requested
        else:
            assert shown in in_tables or f"`{requested}`" in listed, requested


def found(count: int, **fields: Any) -> list[Conversation]:
    return [
        conversation(
            f"agent{i:03d}|1|user{i:03d}",
            type=1,
            sender_id=f"agent{i:03d}",
            receiver_id=f"user{i:03d}",
            unread_count=i,
            stick_top=i % 2 == 0,
            update_time=1_700_000_000_000 + i,
            last_message={"message": {"message_type": 0, "text": fields.get("text", f"hello {i}")}},
        )
        for i in range(count)
    ]


def test_forty_ids_are_one_table_with_failures_and_reasons_in_it() -> None:
    conversations = found(30)
    ids = [str(c.conversation_id) for c in conversations] + [f"agent9{i:02d}|2|{i + 1000}" for i in range(10)]
    failed = [
        FailedConversation(conversation_id=i, error_code=110404, error_msg="not <b>exist</b>") for i in ids[30:35]
    ]
    result = LookupResult(requested=ids, found=conversations, failed=failed, environment="prod")
    messages = render_lookup(result, request=LookupRequest(tuple(ids), "prod"), tables=True)
    assert_valid(messages)
    [message] = messages
    [table] = tables_of(messages)
    assert len(table["rows"]) == 41
    assert [cell_text(cell) for cell in table["rows"][0]] == [
        "ID",
        "Type",
        "Owner",
        "Peer or team",
        "Unread",
        "Pinned",
        "Updated",
        "Last message",
    ]
    rows = table_rows(messages)
    assert rows[0] == [
        "agent000|1|user000",
        "one-to-one",
        "agent000",
        "user000",
        "0",
        "yes",
        "2023-11-14 22:13 UTC",
        "text: hello 0",
    ]
    assert rows[30] == [
        "agent900|2|1000",
        "team",
        "agent900",
        "1000",
        "—",
        "—",
        "—",
        "✗ failed: 110404: not <b>exist</b>",
    ]
    assert rows[39][-1] == "? Yunxin did not return this ID"
    date = table["rows"][1][6]["elements"][0]["elements"][0]
    assert date == {
        "type": "date",
        "timestamp": 1_700_000_000,
        "format": "{date_short_pretty} {time}",
        "fallback": "2023-11-14 22:13 UTC",
    }
    assert "*30* found · *5* failed · *5* unanswered" in blocks_text(messages)
    buttons = [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons[0] == EXPORT_ACTION and buttons[-2:] == [SHARE_ACTION, REFRESH_ACTION]


def test_four_hundred_ids_are_five_tables_within_every_limit() -> None:
    conversations = found(300)
    ids = [str(c.conversation_id) for c in conversations] + [f"agent{i}|2|{i}" for i in range(300, 400)]
    failed = [FailedConversation(conversation_id=i, error_code=414, error_msg="no such team") for i in ids[300:350]]
    error = Unavailable("code 503: busy", trace_id="trace-503")
    result = LookupResult(
        requested=ids, found=conversations, failed=failed, chunk_failures=[ChunkFailure(tuple(ids[350:]), error)]
    )
    messages = render_lookup(result, request=LookupRequest(tuple(ids)), tables=True)
    assert_valid(messages)
    tables = tables_of(messages)
    assert len(messages) == len(tables) <= 5 and all(has_table(m) for m in messages)
    assert all(len(t["rows"]) <= TABLE_ROWS_MAX for t in tables)
    assert [row[0] for row in table_rows(messages)] == ids  # every ID, in the order asked
    assert "Trace ID to quote: `trace-503`" in blocks_text(messages[:1])  # the failed call, explained once
    assert table_rows(messages)[-1][-1] == "? Yunxin is unavailable (trace trace-503)"
    for table in tables:
        assert sum(len(cell_text(cell)) for row in table["rows"] for cell in row) <= TABLE_TEXT_MAX


def test_what_no_table_can_hold_is_listed_as_before() -> None:
    ids = [longest_id(i, 1) for i in range(400)]
    fields = {"sender_id": WORST_TEXT, "receiver_id": WORST_TEXT, "stick_top": True}
    last = {"message": {"message_type": 0, "text": WORST_TEXT}}
    result = LookupResult(requested=ids, found=[conversation(i, type=1, last_message=last, **fields) for i in ids])
    messages = render_lookup(result, request=LookupRequest(tuple(ids)), tables=True)
    assert_valid(messages)
    assert tables_of(messages) == []
    assert messages == render_lookup(result, request=LookupRequest(tuple(ids)))
    assert_every_id_shown(result, messages)


def test_a_few_ids_stay_detailed_and_without_tables_the_answer_is_as_before() -> None:
    result = LookupResult(requested=["a|1|b"], found=[conversation("a|1|b", type=1)])
    assert tables_of(render_lookup(result, tables=True)) == []
    many = LookupResult(requested=[c.conversation_id for c in found(40)], found=found(40))
    assert tables_of(render_lookup(many)) == []


def test_stored_text_is_literal_in_cells_and_can_never_ping() -> None:
    hostile = "<!channel> <@U1> <#C1> <!date^1^x|y> & &amp; *b* `c`"
    conversations = [
        conversation(
            f"a{i}|1|b{i}", sender_id=hostile, receiver_id=hostile, last_message={"message_type": 0, "text": hostile}
        )
        for i in range(10)
    ]
    result = LookupResult(requested=[f"a{i}|1|b{i}" for i in range(10)], found=conversations)
    messages = render_lookup(result, tables=True)
    assert_valid(messages)
    cells = [text for row in table_rows(messages) for text in row]
    assert not any(token in text for text in cells for token in ("<!", "<@", "<#"))
    assert f"<{WORD_JOINER}!channel>" in cells[2] and "& &amp; *b* `c`" in cells[7]  # as stored, unescaped
    elements = [
        element["type"]
        for table in tables_of(messages)
        for row in table["rows"]
        for cell in row
        if cell["type"] == "rich_text"
        for section in cell["elements"]
        for element in section["elements"]
    ]
    assert set(elements) <= {"text", "date"}


def test_redaction_holds_in_tables() -> None:
    result = LookupResult(
        requested=[c.conversation_id for c in found(20)], found=found(20, text="SECRET of the customer")
    )
    messages = render_lookup(result, tables=True, redact_text=True)
    assert tables_of(messages)
    assert "SECRET" not in json.dumps(messages) and f"text: {REDACTED}" in table_rows(messages)[0][-1]


def test_tables_speak_the_readers_language() -> None:
    result = LookupResult(requested=[c.conversation_id for c in found(20)], found=found(20))
    messages = render_lookup(result, tables=True, t=translator("zh_CN"))
    [table] = tables_of(messages)
    assert [cell_text(cell) for cell in table["rows"][0]][:4] == ["ID", "类型", "所属账号", "对方或群组"]
    assert table_rows(messages)[0][1] == "单聊" and table_rows(messages)[0][5] == "是"
    assert "云信会话" in messages[0]["text"]


# ---- problems(): tables as Slack takes them ------------------------------------------------


def message_with(table: dict[str, Any], *, tables: int = 1, where: str = "attachments") -> dict[str, Any]:
    if where == "blocks":
        return {"text": "t", "blocks": [table] * tables}
    return {"text": "t", "blocks": [], "attachments": [{"blocks": [table]} for _ in range(tables)]}


def table(rows: list[list[dict[str, Any]]], **extra: Any) -> dict[str, Any]:
    return {"type": "table", "rows": rows, **extra}


ROW = [raw("a"), code_cell("b")]


@pytest.mark.parametrize(
    ("message", "said"),
    [
        (message_with(table([ROW] * 101)), "101 rows"),
        (message_with(table([[raw("x")] * 21])), "21 cells"),
        (message_with(table([ROW]), tables=2), "2 tables"),
        (message_with(table([ROW]), tables=2, where="blocks"), "2 tables"),
        (message_with(table([[raw(" ")]])), "empty"),
        (message_with(table([[{"type": "raw_text", "text": ""}]])), "empty"),
        (message_with(table([[{"type": "mrkdwn", "text": "x"}]])), "allowed: raw_text, rich_text"),
        (message_with(table([[raw("x" * 1999)]] * 6)), "characters of cell text"),
        (message_with(table([[raw("x" * 2001)]])), "2001 characters"),
        (message_with(table([])), "rows is not a non-empty list"),
        (message_with(table([ROW], column_settings=[{"align": "middle"}])), "align"),
        (message_with(table([ROW], column_settings=[{}] * 21)), "column_settings"),
        (
            message_with(
                table(
                    [
                        [
                            {
                                "type": "rich_text",
                                "elements": [
                                    {"type": "rich_text_section", "elements": [{"type": "user", "user_id": "U1"}]}
                                ],
                            }
                        ]
                    ]
                )
            ),
            "'user' element",
        ),
        (
            message_with(
                table(
                    [
                        [
                            {
                                "type": "rich_text",
                                "elements": [
                                    {
                                        "type": "rich_text_section",
                                        "elements": [{"type": "broadcast", "range": "channel"}],
                                    }
                                ],
                            }
                        ]
                    ]
                )
            ),
            "'broadcast' element",
        ),
        (message_with(table([[{"type": "rich_text", "elements": []}]])), "elements is not a non-empty list"),
        ({"text": "t", "attachments": "x"}, "attachments is not a list"),
    ],
)
def test_problems_refuses_tables_slack_refuses(message: dict[str, Any], said: str) -> None:
    found_problems = problems(message)
    assert any(said in problem for problem in found_problems), found_problems


def test_problems_takes_a_table_slack_takes() -> None:
    ok = table([ROW] * 100, column_settings=[{"is_wrapped": True}, None, {"align": "right"}])
    assert problems(message_with(ok)) == []
    assert problems(message_with(table([ROW] * 20), where="blocks")) == []  # blocks count towards 12,000 of JSON


# ---- property: any lookup result, with tables, within limits, escaped, complete -------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    result=st.one_of(lookup_results(), lookup_results(heavy=True)),
    redact=st.booleans(),
    with_request=st.booleans(),
    shared_by=st.sampled_from([None, SHARED_BY]),
    chinese=st.booleans(),
)
def test_any_result_renders_with_tables_within_limits_escaped_and_complete(
    result: LookupResult, redact: bool, with_request: bool, shared_by: str | None, chinese: bool
) -> None:
    request = LookupRequest(tuple(result.requested), result.environment) if with_request else None
    t = translator("zh_CN" if chinese else "en")
    messages = render_lookup(result, redact_text=redact, request=request, shared_by=shared_by, tables=True, t=t)

    assert_valid(messages)
    assert_every_id_shown(result, messages)
    for message in messages:
        assert len([b for a in message.get("attachments") or [] for b in a["blocks"] if b["type"] == "table"]) <= 1
        assert message["text"].strip() and "\n" not in message["text"]
    leftover = OWN_TOKEN.sub("", blocks_text(messages))
    assert "<" not in leftover and ">" not in leftover
    cells = [text for row in table_rows(messages) for text in row]
    assert not any(token in text for text in cells for token in ("<!", "<@", "<#"))
    if tables_of(messages):
        assert len(table_rows(messages)) == len(result.requested)


def test_a_terminal_shows_the_tables_as_columns() -> None:
    from bot.slack.render.terminal import to_terminal

    hostile = conversation("a|1|b", type=1, sender_id="<!channel>", last_message={"message_type": 0, "text": "hi"})
    result = LookupResult(requested=[c.conversation_id for c in found(9)] + ["a|1|b"], found=[*found(9), hostile])
    lines = to_terminal(render_lookup(result, tables=True)).splitlines()
    header = next(line for line in lines if line.startswith("ID "))
    assert [column.strip() for column in header.split("|")][:3] == ["ID", "Type", "Owner"]
    assert any(line.startswith("agent008|1|user008 ") for line in lines)
    assert any("<!channel>" in line for line in lines)  # a terminal pings nobody: shown as stored


def test_ids_too_many_for_one_button_are_downloaded_in_parts() -> None:
    conversations = found(300)
    ids = [str(c.conversation_id) for c in conversations]
    request = LookupRequest(tuple(ids), "prod")
    assert request.encode() is None
    messages = render_lookup(LookupResult(requested=ids, found=conversations), request=request, tables=True)
    assert_valid(messages)
    parts = export_parts(messages)
    assert len(parts) > 1 and [i for part in parts for i in part.ids] == ids
    assert {part.environment for part in parts} == {"prod"}
    labels = [
        e["text"]["text"]
        for m in messages
        for b in m["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == EXPORT_ACTION
    ]
    assert labels[0] == f"Download CSV 1–{len(parts[0].ids)} of 300" and labels[-1].endswith("–300 of 300")


@pytest.mark.parametrize("shared_by", [None, SHARED_BY])
def test_the_longest_ids_are_downloadable_in_parts_or_said_not_to_be(shared_by: str | None) -> None:
    ids = [longest_id(i, 1) for i in range(400)]
    fields = {"sender_id": WORST_TEXT, "last_message": {"message": {"message_type": 0, "text": WORST_TEXT}}}
    result = LookupResult(requested=ids, found=[conversation(i, **fields) for i in ids], environment=WORST_TEXT)
    request = LookupRequest(tuple(ids), WORST_TEXT)
    messages = render_lookup(result, request=request, tables=True, shared_by=shared_by)
    assert_valid(messages)
    assert_every_id_shown(result, messages)
    parts = export_parts(messages)
    if parts:
        assert [i for part in parts for i in part.ids] == ids
    else:
        assert "too many to download as a file from here" in blocks_text(messages[-1:])
