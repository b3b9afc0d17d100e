"""A body read as Bolt reads it, and its shape judged: what the edge hands on once a request has passed its
checks (tests/slack/test_edge.py drives the whole edge; tests/fuzz/test_form_fields.py holds the form reader
to parse_qsl)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.slack import bodies

# Names shape_problem reads, some others, and the empty one: a form may hold any of them, as strings.
FORM_NAMES = st.sampled_from(
    [*bodies._NOT_STRINGS, "team", "enterprise", "text", "command", "payload", "x", "", "actions.0"]
)


@given(st.dictionaries(FORM_NAMES | st.text(max_size=8), st.text(max_size=8), max_size=12))
def test_a_forms_shape_is_judged_as_any_payloads(fields: dict[str, str]) -> None:
    assert bodies.form_shape_problem(fields) == bodies.shape_problem(fields)
