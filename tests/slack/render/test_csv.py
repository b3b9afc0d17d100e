"""A lookup as CSV: one row per ID asked, in order, every column filled from the lookup, and no cell a
spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.render.csv import BOM, COLUMNS, neutralised, render_csv
from bot.yunxin.errors import Timeout
from bot.yunxin.ids import InvalidId
from bot.yunxin.models import ChunkFailure, FailedConversation, LookupResult
from tests.slack.render.test_lookup import conversation


def read(text: str) -> list[dict[str, str]]:
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text[len(BOM) :])))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-12", "-12"),
        ("-1.5", "-1.5"),
        ("alice|1|bob", "alice|1|bob"),
        ("", ""),
    ],
)
def test_formula_like_cells_are_neutralised_and_numbers_are_not(value: str, shown: str) -> None:
    assert neutralised(value) == shown


@given(st.text())
def test_no_neutralised_cell_starts_a_formula(value: str) -> None:
    out = neutralised(value)
    assert out in (value, "'" + value)
    assert not out.startswith(("=", "+", "@", "\t", "\r"))
    assert not out.startswith("-") or re.fullmatch(r"-?\d+(\.\d+)?", out)


def test_every_id_outcome_field_code_and_trace_id() -> None:
    found = conversation(
        "a|2|123",
        type=2,
        sender_id="=evil()",
        receiver_id="123",
        unread_count=-1,
        stick_top=False,
        create_time=1_700_000_000_000,
        update_time=1_700_000_500_000,
        group_ids=[7, 8],
        server_extension='{"k":"v"}',
        last_message={"message": {"message_type": 0, "text": "line one\nline, two"}},
    )
    result = LookupResult(
        requested=["a|2|123", "a|1|gone", "bad", "a|1|slow"],
        found=[found],
        failed=[FailedConversation(conversation_id="a|1|gone", error_code=110404, error_msg="not exist")],
        invalid=[InvalidId("bad", "expected owner|type|target")],
        chunk_failures=[ChunkFailure(("a|1|slow",), Timeout("no answer within 5 s", trace_id="trace-slow"))],
        trace_ids=["trace-ok", "trace-slow"],
    )
    rows = read(render_csv(result, redact=False))
    assert list(rows[0]) == list(COLUMNS)
    assert [(row["id"], row["outcome"]) for row in rows] == [
        ("a|2|123", "found"),
        ("a|1|gone", "failed"),
        ("bad", "malformed"),
        ("a|1|slow", "unanswered"),
    ]
    first = rows[0]
    assert first["owner"] == "'=evil()" and first["unread"] == "-1" and first["pinned"] == "false"
    assert (first["created"], first["updated"]) == ("2023-11-14T22:13:20Z", "2023-11-14T22:21:40Z")
    assert first["last_message_text"] == "line one\nline, two" and first["group_ids"] == "7 8"
    assert first["server_extension"] == '{"k":"v"}' and first["type"] == "team"
    assert (rows[1]["error_code"], rows[1]["error_message"]) == ("110404", "not exist")
    assert rows[2]["error_code"] == "malformed"
    assert rows[3]["error_code"] == "timeout" and rows[3]["trace_id"] == "trace-slow"
    assert all(row["lookup_trace_ids"] == "trace-ok trace-slow" for row in rows)
    redacted = read(render_csv(result, redact=True))
    assert redacted[0]["last_message_text"] == "[hidden]"
