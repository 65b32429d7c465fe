"""The domain's UTC timestamps agree with the standard library's calendar everywhere."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from nyquestro.domain.times import utc_text


# Years 1000 to 9999: strftime pads no year below 1000 to four digits.
@given(st.integers(-30_610_224_000 * 10**9, 253_402_300_799 * 10**9 + 999_999_999))
def test_utc_text_is_the_calendars_timestamp(ns: int) -> None:
    moment = datetime.fromtimestamp(ns // 10**9, tz=UTC)
    expected = f"{moment:%Y%m%d-%H:%M:%S}.{ns // 10**6 % 1000:03d}"
    assert utc_text(ns) == expected


def test_known_moments() -> None:
    assert utc_text(0) == "19700101-00:00:00.000"
    assert utc_text(951_782_400_123_000_000) == "20000229-00:00:00.123"  # a leap day
    assert utc_text(1_796_698_133_546_999_999) == "20261208-02:48:53.546"
