"""The edge's form reading is parse_qsl's, as Bolt reads a form: the same fields for any text, or the same refusal."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from bot.slack.edge import form_fields

# Mostly the characters that matter to a form (separators, escapes, hex digits), and any others now and then.
FORMISH = st.text(alphabet=st.sampled_from("&=+%0123456789abcdefABCDEF xyz|,é漢\x00"), max_size=60) | st.text(
    max_size=30
)


def reference(text: str) -> dict[str, str] | type[ValueError]:
    try:
        return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        return ValueError


@given(FORMISH)
def test_form_fields_read_any_text_as_parse_qsl_does(text: str) -> None:
    try:
        got: dict[str, str] | type[ValueError] = form_fields(text)
    except ValueError:
        got = ValueError
    assert got == reference(text)


def test_a_slash_command_reads_as_bolt_reads_it() -> None:
    text = "command=%2Fconversation&text=alice%7C1%7Cbob+alice%7C2%7C12345&user_id=U1&team_id=&trigger_id=1.2.3"
    assert form_fields(text) == reference(text)
    assert form_fields(text)["text"] == "alice|1|bob alice|2|12345"
