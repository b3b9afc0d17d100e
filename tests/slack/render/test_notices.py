"""The messages that are not a lookup's answer: help, a refusal, an error from Yunxin, a notice and an
apology, each within Slack's limits and escaped."""

from __future__ import annotations

from bot.slack.render.kit import SANDBOX_LABEL
from bot.slack.render.limits import problems
from bot.slack.render.notices import render_error, render_help, render_notice, render_refusal, render_unexpected
from bot.yunxin.errors import ADVICE, RateLimited, Timeout
from tests.messages import every_text


def test_help_explains_the_format_with_an_example_and_a_note() -> None:
    message = render_help(example_ids=["alice|1|bob", "alice|2|123"], sandbox=True, note="Unrecognised option <x>")
    assert problems(message) == []
    text = every_text([message])
    assert "`owner|type|target`" in text
    assert "one-to-one" in text and "team" in text and "super team" in text
    assert "spaces, commas or new lines" in text
    assert "`/conversation alice|1|bob alice|2|123`" in text
    assert "Unrecognised option &lt;x&gt;" in text
    assert SANDBOX_LABEL in text
    plain = every_text([render_help(command="/yx", example_ids=[], sandbox=False)])
    assert "/yx" in plain and SANDBOX_LABEL not in plain and "Example" not in plain


def test_refusal_says_why_and_whom_to_ask_escaped() -> None:
    message = render_refusal("You are not in the support group.", "<!channel> & #it-help")
    assert problems(message) == []
    text = every_text([message])
    assert "not in the support group" in text
    assert "ask &lt;!channel&gt; &amp; #it-help" in text


def test_error_shows_title_detail_advice_and_trace() -> None:
    message = render_error(RateLimited("code 416: <too fast>", trace_id="abc-123"), sandbox=True)
    assert problems(message) == []
    text = every_text([message])
    assert "Yunxin is rate limiting this app" in text
    assert "code 416: &lt;too fast&gt;" in text
    assert ADVICE[RateLimited.kind] in text
    assert "Trace ID to quote: `abc-123`" in text
    assert SANDBOX_LABEL in text
    assert "Trace ID" not in every_text([render_error(Timeout("slow"))])


def test_notice_is_escaped_and_never_empty() -> None:
    message = render_notice("Looking up 3 conversations… <!channel>")
    assert problems(message) == []
    assert message["blocks"][0]["text"]["text"] == "Looking up 3 conversations… &lt;!channel&gt;"
    assert problems(render_notice("")) == []


def test_unexpected_gives_the_reference_to_quote() -> None:
    message = render_unexpected("ref-42")
    assert problems(message) == []
    assert "Something went wrong on our side" in every_text([message])
    assert "`ref-42`" in every_text([message])
