"""Yunxin's data as mrkdwn: a conversation's dates, written from Yunxin's milliseconds; a lookup's summary
line, made once for each set of counts, environment and language."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.slack.i18n import EN, translator
from bot.slack.render.kit import date_token
from bot.slack.render.yunxin_text import lookup_summary, millis_date_token
from bot.yunxin.models import millis_to_datetime

_YEAR_10000 = 253_402_300_800_000  # in milliseconds since 1970


@given(
    st.integers(-(10**16), 10**16)
    | st.integers(-2, 2_000)  # around 1970, and its first second
    | st.integers(_YEAR_10000 - 2_000, _YEAR_10000 + 2)  # the last second a datetime holds, and past it
    | st.builds(
        lambda second, milli: second * 1000 + milli,
        st.integers(0, 253_402_300_799),
        st.sampled_from([0, 1, 499, 500, 501, 998, 999]),
    )
    | st.none()
    | st.booleans()
)
def test_a_date_from_milliseconds_is_the_token_its_datetime_makes(millis: int | None) -> None:
    assert millis_date_token(millis) == date_token(millis_to_datetime(millis))


def test_a_summary_is_its_own_counts_environment_and_language_however_often_asked() -> None:
    chinese = translator("zh_CN")
    counts = {"found": 1, "failed": 0, "malformed": 0, "unanswered": 1}
    asked = [
        (counts, None, EN),
        (counts, "staging", EN),
        (counts, None, chinese),
        ({**counts, "failed": 2}, None, EN),
        (counts, "prod", EN),
    ]
    first = [lookup_summary(*question) for question in asked]
    assert first == [lookup_summary(*question) for question in asked]  # and again, from what was made once
    assert len(set(first)) == len(asked)
    assert first[0] == "*1* found · *1* unanswered"
    assert first[3] == "*1* found · *2* failed · *1* unanswered"
    assert "`staging`" in first[1] and "`prod`" in first[4]
    assert "found" not in first[2]  # in Chinese
