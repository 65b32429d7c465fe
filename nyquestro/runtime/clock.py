"""The venue's clock: the machine's, or a virtual one that moves only when it is set
(`[clock] mode = "virtual"`, nyquestro/config/clock.py).

The core holds the venue's time: it stamps commands with it and carries out every set
(the control plane's SetClock, over the bus), then tells every gateway process the new
time on the bus. A gateway process's `VirtualClock` follows those announcements, so the
replies the FIX gateway makes itself carry the same time as the core's commands.
"""

import threading
import time
from collections.abc import Callable

from nyquestro.config.clock import ClockMode
from nyquestro.domain.errors import NyquestroError


class ClockBackwards(NyquestroError):
    """A set asked for a time before the clock's: a virtual clock never goes back."""


class VirtualClock:
    """Nanoseconds since the epoch, as last set; call it to read."""

    def __init__(self, start: int = 0) -> None:
        self._now = start
        # Readers take no lock (an int attribute is read whole); sets are serialised so a
        # check and its write are one step.
        self._setting = threading.Lock()

    def __call__(self) -> int:
        return self._now

    def set(self, ts: int) -> None:
        """Move to `ts`; ClockBackwards if it is before the time now (the same is fine)."""
        with self._setting:
            if ts < self._now:
                raise ClockBackwards(
                    f"the venue's clock is at {self._now} ns; {ts} ns is before it, and a "
                    "virtual clock never goes back"
                )
            self._now = ts


def venue_clock(mode: ClockMode) -> VirtualClock | None:
    """A virtual clock (at the epoch until set), or None for the machine's clock."""
    return VirtualClock() if mode is ClockMode.VIRTUAL else None


def reader(clock: VirtualClock | None) -> Callable[[], int]:
    """What to call for the venue's time now."""
    return time.time_ns if clock is None else clock
