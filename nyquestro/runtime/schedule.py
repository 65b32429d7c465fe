"""The session schedule: which phase changes the venue's clock has reached.

The core asks `Scheduler.due` from its committer loop and journals a SetPhase for each
change (and an EndOfDay after the day's last one, when the schedule says so), so the
engine still reads no clock and a replay changes phase at the same command. At start,
`catch_up` moves every symbol to the phase the schedule has it in now.

Schedule time is seconds on a local, zone-adjusted timeline: at speed 1 it is the
venue's clock read in the schedule's zone; above 1 it starts at the schedule's `start`
on the day the venue starts and runs `speed` times faster.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from nyquestro.config.schedule import DAY_SECONDS, PhaseAt, ScheduleConfig
from nyquestro.domain.enums import TradingPhase

_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Move:
    symbol: str | None
    """None: every symbol."""
    phase: TradingPhase
    end_of_day: bool
    """The day's last change of the schedule every symbol follows: the trading day ends."""


class Scheduler:
    def __init__(self, config: ScheduleConfig, symbols: Sequence[str], started_ns: int) -> None:
        self._config = config
        self._zone = ZoneInfo(config.timezone)
        self._symbols = sorted(symbols)
        self._origin = 0.0
        if config.speed > 1:
            start = config.day[0].second if config.start is None else config.start
            midnight = (self._local(started_ns) // DAY_SECONDS) * DAY_SECONDS
            self._origin = midnight + start
        self._started_ns = started_ns
        self._checked: float | None = None
        """Schedule time of the last check: changes after it and up to now are due."""

    def now(self, now_ns: int) -> float:
        """Schedule time at the venue's clock reading `now_ns`."""
        if self._config.speed == 1:
            return self._local(now_ns)
        return self._origin + (now_ns - self._started_ns) / _NS * self._config.speed

    def catch_up(self, now_ns: int, phases: Mapping[str, TradingPhase]) -> list[Move]:
        """Moves that bring every symbol to the phase the schedule has it in now (none
        for a symbol already there); checks start from here."""
        at = self.now(now_ns)
        self._checked = at
        second = at % DAY_SECONDS
        return [
            Move(symbol, wanted, False)
            for symbol in self._symbols
            if phases[symbol] is not (wanted := _phase_at(self._config.day_of(symbol), second))
        ]

    def due(self, now_ns: int) -> list[Move]:
        """The changes the schedule reached since the last check, in time order."""
        at = self.now(now_ns)
        since = self._checked
        self._checked = at
        if since is None or at <= since:
            return []
        # A clock set forward by days (a virtual one) replays only the last day's changes.
        since = max(since, at - DAY_SECONDS)
        timed: list[tuple[float, int, Move]] = []
        for n, (symbols, day) in enumerate(self._groups()):
            last = day[-1]
            for moment, change in _between(day, since, at):
                end = symbols is None and change is last and self._config.end_of_day
                for symbol in [None] if symbols is None else symbols:
                    timed.append((moment, n, Move(symbol, change.phase, end)))
        timed.sort(key=lambda t: (t[0], t[1]))
        return [move for _, _, move in timed]

    def _groups(self) -> list[tuple[list[str] | None, tuple[PhaseAt, ...]]]:
        """(symbols, day): None for the schedule every symbol follows when none has its
        own, else one group per symbol."""
        config = self._config
        if not config.by_symbol:
            return [(None, config.day)]
        return [([symbol], config.day_of(symbol)) for symbol in self._symbols]

    def _local(self, ns: int) -> float:
        moment = datetime.fromtimestamp(ns / _NS, tz=UTC)
        offset = self._zone.utcoffset(moment)
        return ns / _NS + (0 if offset is None else offset.total_seconds())


def _phase_at(day: tuple[PhaseAt, ...], second: float) -> TradingPhase:
    """The phase the day is in at `second` after midnight (before the first change: the
    day before's last phase)."""
    current = day[-1].phase
    for change in day:
        if change.second <= second:
            current = change.phase
    return current


def _between(day: tuple[PhaseAt, ...], since: float, until: float) -> list[tuple[float, PhaseAt]]:
    """Every change of `day` (repeated daily) in (since, until], with its time."""
    found: list[tuple[float, PhaseAt]] = []
    first_day = int(since // DAY_SECONDS)
    last_day = int(until // DAY_SECONDS)
    for d in range(first_day, last_day + 1):
        for change in day:
            moment = d * DAY_SECONDS + change.second
            if since < moment <= until:
                found.append((moment, change))
    return found
