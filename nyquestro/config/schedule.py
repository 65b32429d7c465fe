"""The `[schedule]` table: when each instrument changes trading phase.

    [schedule]
    phases     required: the day, in order, as [{at = "HH:MM[:SS]", phase = "..."}, ...];
               phase is one of pre_open, opening_auction, continuous, closing_auction,
               post_close, closed (docs/phases.md). Each time is later than the one
               before, within one day.
    timezone   the zone the times are in (an IANA name; default "UTC").
    speed      how many times faster than the clock the day runs (default 1). At 1 the
               phases follow the venue's clock's time of day. Above 1 the day starts
               at `start` when the venue starts and runs `speed` times faster, over and
               over: `speed = 60` runs an 8-hour day in 8 minutes.
    start      with speed above 1: the time of day the run starts at (default: the
               first phase's time).
    end_of_day whether entering the day's last phase ends the trading day too (DAY
               orders expire, ClOrdIDs of finished orders may be reused): default true
               when that phase is closed.

    [schedule.symbols.SYMBOL]
    phases     that symbol's own day, in the same form (other symbols follow [schedule]).

With no [schedule] every symbol trades continuously until an operator moves it
(`nyquestro phase`, the control plane's SetPhase).

Errors name the field path, the value and what was expected.
"""

from dataclasses import dataclass
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nyquestro.config.instruments import ConfigError, only_fields
from nyquestro.domain.enums import TradingPhase

DAY_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class PhaseAt:
    second: int
    """Seconds after midnight, in the schedule's zone."""
    phase: TradingPhase


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    day: tuple[PhaseAt, ...]
    by_symbol: dict[str, tuple[PhaseAt, ...]]
    timezone: str = "UTC"
    speed: float = 1.0
    start: int | None = None
    """With speed above 1: seconds after midnight the run starts at."""
    end_of_day: bool = True

    def day_of(self, symbol: str) -> tuple[PhaseAt, ...]:
        return self.by_symbol.get(symbol, self.day)


def schedule_from(table: Any, symbols: set[str]) -> ScheduleConfig | None:
    """The `[schedule]` table (None when absent); `symbols` are the venue's instruments."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError("schedule", table, "a table")
    only_fields(table, "schedule", {"phases", "timezone", "speed", "start", "end_of_day",
                                    "symbols"})  # fmt: skip
    day = _day(table.get("phases"), "schedule.phases")
    zone = table.get("timezone", "UTC")
    if not isinstance(zone, str):
        raise ConfigError("schedule.timezone", zone, 'an IANA time zone name, e.g. "UTC"')
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "schedule.timezone", zone, 'an IANA time zone name, e.g. "America/New_York"'
        ) from None
    speed = table.get("speed", 1)
    if isinstance(speed, bool) or not isinstance(speed, int | float) or speed < 1:
        raise ConfigError("schedule.speed", speed, "a number >= 1 (how many times faster)")
    start = None
    if "start" in table:
        start = _second(table["start"], "schedule.start")
    end_of_day = table.get("end_of_day", day[-1].phase is TradingPhase.CLOSED)
    if not isinstance(end_of_day, bool):
        raise ConfigError("schedule.end_of_day", end_of_day, "true or false")
    by_symbol: dict[str, tuple[PhaseAt, ...]] = {}
    overrides = table.get("symbols", {})
    if not isinstance(overrides, dict):
        raise ConfigError("schedule.symbols", overrides, "a table of [schedule.symbols.SYMBOL]")
    for symbol, spec in overrides.items():
        where = f"schedule.symbols.{symbol}"
        if symbol not in symbols:
            raise ConfigError(
                where, symbol, f"one of the venue's symbols ({', '.join(sorted(symbols))})"
            )
        if not isinstance(spec, dict):
            raise ConfigError(where, spec, "a table with phases = [...]")
        only_fields(spec, where, {"phases"})
        by_symbol[symbol] = _day(spec.get("phases"), f"{where}.phases")
    return ScheduleConfig(day, by_symbol, zone, float(speed), start, end_of_day)


def _day(value: Any, where: str) -> tuple[PhaseAt, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(where, value, 'a non-empty list of {at = "HH:MM", phase = "..."}')
    day: list[PhaseAt] = []
    names = ", ".join(p.value for p in TradingPhase)
    for i, entry in enumerate(value):
        field = f"{where}[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(field, entry, 'a table {at = "HH:MM", phase = "..."}')
        only_fields(entry, field, {"at", "phase"})
        second = _second(entry.get("at"), f"{field}.at")
        try:
            phase = TradingPhase(str(entry.get("phase")))
        except ValueError:
            raise ConfigError(f"{field}.phase", entry.get("phase"), f"one of {names}") from None
        if day and second <= day[-1].second:
            raise ConfigError(f"{field}.at", entry.get("at"), "a time after the one before it")
        day.append(PhaseAt(second, phase))
    return tuple(day)


def _second(value: Any, where: str) -> int:
    if not isinstance(value, str):
        raise ConfigError(where, value, 'a time of day "HH:MM" or "HH:MM:SS"')
    try:
        moment = time.fromisoformat(value)
    except ValueError:
        raise ConfigError(where, value, 'a time of day "HH:MM" or "HH:MM:SS"') from None
    return moment.hour * 3600 + moment.minute * 60 + moment.second
