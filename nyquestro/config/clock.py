"""The `[clock]` table: where the venue's time comes from.

    [clock]
    mode   "wall" (the default): the venue's time is the machine's clock.
           "virtual": the venue's time stands still until it is set (the control plane's
           SetClock, `nyquestro clock set`), and never goes back. It starts at the time of
           the journal's last command (the epoch for a new store). What the core stamps on
           commands, and the times the FIX gateway puts on replies it makes itself
           (TransactTime of its own rejects and status reports) and counts its throttles
           by, are then this time: a replay sets it from a recording (docs/replay.md).

Errors name the field path, the value and what was expected.
"""

from enum import Enum
from typing import Any

from nyquestro.config.instruments import ConfigError, only_fields


class ClockMode(Enum):
    WALL = "wall"
    VIRTUAL = "virtual"


def clock_from(table: Any) -> ClockMode:
    """The mode in the `[clock]` table (absent: the wall clock)."""
    if table is None:
        return ClockMode.WALL
    if not isinstance(table, dict):
        raise ConfigError("clock", table, "a table")
    only_fields(table, "clock", {"mode"})
    mode = table.get("mode", ClockMode.WALL.value)
    try:
        return ClockMode(mode)
    except ValueError:
        raise ConfigError("clock.mode", mode, '"wall" or "virtual"') from None
