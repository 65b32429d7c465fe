"""The session schedule against a clock it is handed: which phase changes are due,
where a venue starting mid-day catches up to, and a day run faster than the clock."""

from datetime import UTC, datetime

import pytest

from nyquestro.config.instruments import ConfigError
from nyquestro.config.schedule import schedule_from
from nyquestro.domain.enums import TradingPhase as P
from nyquestro.runtime.schedule import Move, Scheduler

DAY = [
    {"at": "08:00", "phase": "pre_open"},
    {"at": "09:00", "phase": "opening_auction"},
    {"at": "09:30", "phase": "continuous"},
    {"at": "16:00", "phase": "closing_auction"},
    {"at": "16:05", "phase": "post_close"},
    {"at": "18:00", "phase": "closed"},
]
SYMBOLS = ["AAPL", "MSFT"]


def ns(text: str) -> int:
    """An ISO time (UTC unless it names its offset) in ns since the epoch."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000


def scheduler(started: str, **table: object) -> Scheduler:
    config = schedule_from({"phases": DAY, **table}, set(SYMBOLS))
    assert config is not None
    return Scheduler(config, SYMBOLS, ns(started))


def test_a_venue_started_mid_day_catches_up_to_the_schedules_phase() -> None:
    s = scheduler("2026-12-08T10:15")
    continuous = dict.fromkeys(SYMBOLS, P.CONTINUOUS)
    assert s.catch_up(ns("2026-12-08T10:15"), continuous) == []
    s = scheduler("2026-12-08T07:00")
    assert s.catch_up(ns("2026-12-08T07:00"), continuous) == [
        Move("AAPL", P.CLOSED, False), Move("MSFT", P.CLOSED, False),
    ]  # fmt: skip


def test_changes_come_due_in_order_and_the_last_one_ends_the_day() -> None:
    s = scheduler("2026-12-08T07:59")
    s.catch_up(ns("2026-12-08T07:59"), dict.fromkeys(SYMBOLS, P.CLOSED))
    assert s.due(ns("2026-12-08T08:59:59")) == [Move(None, P.PRE_OPEN, False)]
    assert s.due(ns("2026-12-08T08:59:59")) == []
    assert [m.phase for m in s.due(ns("2026-12-08T16:02"))] == [
        P.OPENING_AUCTION, P.CONTINUOUS, P.CLOSING_AUCTION,
    ]  # fmt: skip
    assert s.due(ns("2026-12-08T23:00")) == [
        Move(None, P.POST_CLOSE, False), Move(None, P.CLOSED, True),
    ]  # fmt: skip
    # The next day starts over; a clock set days ahead replays only the last day.
    assert [m.phase for m in s.due(ns("2026-12-20T08:30"))] == [
        P.OPENING_AUCTION, P.CONTINUOUS, P.CLOSING_AUCTION, P.POST_CLOSE, P.CLOSED, P.PRE_OPEN,
    ]  # fmt: skip


def test_times_are_read_in_the_schedules_zone() -> None:
    s = scheduler("2026-12-08T14:00", timezone="America/New_York")  # 09:00 in New York
    assert s.catch_up(ns("2026-12-08T14:00"), dict.fromkeys(SYMBOLS, P.CLOSED)) == [
        Move("AAPL", P.OPENING_AUCTION, False), Move("MSFT", P.OPENING_AUCTION, False),
    ]  # fmt: skip
    assert s.due(ns("2026-12-08T14:30")) == [Move(None, P.CONTINUOUS, False)]


def test_at_speed_the_day_starts_at_start_when_the_venue_starts() -> None:
    # 3600 times faster from 07:59: an hour of schedule a second.
    s = scheduler("2026-12-08T21:00", speed=3600, start="07:59")
    assert s.catch_up(ns("2026-12-08T21:00"), dict.fromkeys(SYMBOLS, P.CLOSED)) == []
    assert s.due(ns("2026-12-08T21:00:01")) == [Move(None, P.PRE_OPEN, False)]  # 08:59
    assert [m.phase for m in s.due(ns("2026-12-08T21:00:11"))] == [  # 18:59
        P.OPENING_AUCTION, P.CONTINUOUS, P.CLOSING_AUCTION, P.POST_CLOSE, P.CLOSED,
    ]  # fmt: skip


def test_a_symbol_of_its_own_moves_alone() -> None:
    s = scheduler(
        "2026-12-08T07:59",
        symbols={"MSFT": {"phases": [{"at": "10:00", "phase": "continuous"}]}},
    )
    s.catch_up(ns("2026-12-08T07:59"), {"AAPL": P.CLOSED, "MSFT": P.CONTINUOUS})
    assert s.due(ns("2026-12-08T10:00")) == [
        Move("AAPL", P.PRE_OPEN, False), Move("AAPL", P.OPENING_AUCTION, False),
        Move("AAPL", P.CONTINUOUS, False), Move("MSFT", P.CONTINUOUS, False),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("table", "field", "expected"),
    [
        ({"phases": []}, "schedule.phases", "non-empty list"),
        ({"phases": [{"at": "8am", "phase": "closed"}]}, "schedule.phases[0].at", "HH:MM"),
        ({"phases": [{"at": "08:00", "phase": "lunch"}]}, "schedule.phases[0].phase", "continuous"),
        ({"phases": [*DAY[:2], {"at": "08:30", "phase": "continuous"}]}, "schedule.phases[2].at",
         "after the one before"),
        ({"phases": DAY, "timezone": "Mars/Olympus"}, "schedule.timezone", "IANA"),
        ({"phases": DAY, "speed": 0.5}, "schedule.speed", ">= 1"),
        ({"phases": DAY, "symbols": {"TSLA": {"phases": DAY}}}, "schedule.symbols.TSLA",
         "AAPL, MSFT"),
        ({"phases": DAY, "lunch": "12:00"}, "schedule.lunch", "a known field"),
    ],
)  # fmt: skip
def test_a_bad_schedule_is_refused_naming_the_field(
    table: dict[str, object], field: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        schedule_from(table, set(SYMBOLS))
    assert field in str(raised.value) and expected in str(raised.value), str(raised.value)
