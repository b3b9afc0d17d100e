"""The text helpers every message is built with: escaping for mrkdwn, shortening with an ellipsis, outside
text on one line, and dates in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.render.kit import escape_mrkdwn, one_line_start, shorten, utc_text


def test_escape_mrkdwn_escapes_exactly_ampersand_and_angle_brackets() -> None:
    assert escape_mrkdwn('a & b <!channel> > *x* `y` "q"') == 'a &amp; b &lt;!channel&gt; &gt; *x* `y` "q"'
    assert escape_mrkdwn("&lt;") == "&amp;lt;"


def test_shorten_keeps_short_text_and_cuts_long_text_with_an_ellipsis() -> None:
    assert shorten("hello", 5) == "hello"
    assert shorten("hello!", 5) == "hell…"
    assert len(shorten("x" * 10_000, 300)) == 300
    with pytest.raises(ValueError):
        shorten("x", 0)


zones = st.sampled_from([None, UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30))])


@given(st.datetimes(timezones=zones))
def test_utc_text_is_what_strftime_writes(moment: datetime) -> None:
    assert utc_text(moment) == moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert utc_text(moment, seconds=False) == moment.strftime("%Y-%m-%d %H:%M UTC")


# Runs of whitespace of every kind str.split() knows, between words and at either end.
spaced_texts = st.text(st.sampled_from("ab中 \n\t\u3000\x1c&<"), max_size=300)


@given(st.one_of(spaced_texts, st.text(max_size=200)), st.integers(min_value=1, max_value=120))
def test_one_line_start_is_shortened_as_the_whole_text_on_one_line(text: str, limit: int) -> None:
    assert shorten(one_line_start(text, limit), limit) == shorten(" ".join(text.split()), limit)
