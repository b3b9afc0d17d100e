"""The edge's form reading is parse_qsl's, as Bolt reads a form: the same fields for any text, or the same refusal."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote_plus, unquote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.bodies import form_fields, unquote_plus_exactly

# Mostly the characters that matter to a form (separators, escapes, hex digits), and any others now and then.
FORMISH = st.text(alphabet=st.sampled_from("&=+%0123456789abcdefABCDEF xyz|,é漢\x00\\"), max_size=60) | st.text(
    max_size=30
)
# Percent escapes of any byte, in either case: runs of them make valid UTF-8, broken UTF-8 and plain bytes.
ESCAPE = st.integers(0, 255).flatmap(lambda byte: st.sampled_from([f"%{byte:02x}", f"%{byte:02X}"]))
ESCAPED = st.lists(
    ESCAPE
    | st.sampled_from(["%", "%4", "%g0", "\\", "\\x", "\\x41", "+", "&", "=", "x", "é", "\x80"])
    | st.text(max_size=3),
    max_size=20,
).map("".join)


def reference(text: str) -> dict[str, str] | type[ValueError]:
    try:
        return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        return ValueError


@given(FORMISH | ESCAPED)
def test_form_fields_read_any_text_as_parse_qsl_does(text: str) -> None:
    try:
        got: dict[str, str] | type[ValueError] = form_fields(text)
    except ValueError:
        got = ValueError
    assert got == reference(text)


@given(FORMISH | ESCAPED | st.text().map(quote_plus))
def test_a_value_is_unquoted_as_unquote_plus_does(quoted: str) -> None:
    assert unquote_plus_exactly(quoted) == unquote_plus(quoted)


@pytest.mark.parametrize(
    "quoted",
    [
        "%2Fconversation",
        "https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F2%2Fx",
        "%e6%BC%A2+%C3%A9",  # UTF-8, hex digits in either case
        "%C3",  # a broken UTF-8 sequence: one replacement character
        "%ff%fe",
        "100%",  # a % without two hex digits after it is kept
        "%4",
        "%zz%41",
        "a\\x41\\\\%5C",  # backslashes are text, not escapes
        "é%C3%A9",  # not ASCII
        "%00",
        "",
    ],
)
def test_the_escapes_a_form_may_hold_are_unquoted_as_unquote_plus_does(quoted: str) -> None:
    assert unquote_plus_exactly(quoted) == unquote_plus(quoted)


def test_a_slash_command_reads_as_bolt_reads_it() -> None:
    text = "command=%2Fconversation&text=alice%7C1%7Cbob+alice%7C2%7C12345&user_id=U1&team_id=&trigger_id=1.2.3"
    assert form_fields(text) == reference(text)
    assert form_fields(text)["text"] == "alice|1|bob alice|2|12345"
