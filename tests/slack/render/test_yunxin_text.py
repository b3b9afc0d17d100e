"""Yunxin's data as mrkdwn: a conversation's dates, written from Yunxin's milliseconds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.slack.render.kit import date_token
from bot.slack.render.yunxin_text import millis_date_token
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
