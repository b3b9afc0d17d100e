"""The text helpers every message is built with: escaping for mrkdwn, and shortening with an ellipsis."""

from __future__ import annotations

import pytest

from bot.slack.render.kit import escape_mrkdwn, shorten


def test_escape_mrkdwn_escapes_exactly_ampersand_and_angle_brackets() -> None:
    assert escape_mrkdwn('a & b <!channel> > *x* `y` "q"') == 'a &amp; b &lt;!channel&gt; &gt; *x* `y` "q"'
    assert escape_mrkdwn("&lt;") == "&amp;lt;"


def test_shorten_keeps_short_text_and_cuts_long_text_with_an_ellipsis() -> None:
    assert shorten("hello", 5) == "hello"
    assert shorten("hello!", 5) == "hell…"
    assert len(shorten("x" * 10_000, 300)) == 300
    with pytest.raises(ValueError):
        shorten("x", 0)
