"""Progress of long work (recovery at start-up, `nyquestro replay`, `journal export`): a
bar on a terminal, a log line every few seconds otherwise.

The work calls the `Progress` with how many items it has done, after every item: the
clock is read only every `_CHECK_EVERY` items, so the call costs a comparison.
"""

import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as Bar

_CHECK_EVERY = 1024
DEFAULT_LOG_EVERY_SECONDS = 5.0


class Progress:
    def __init__(
        self,
        what: str,
        total: int | None,
        *,
        console: Console | None = None,
        say: Callable[[str], object] | None = None,
        every: float = DEFAULT_LOG_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`what`: the items, as the lines name them ("commands replayed"). A bar goes to
        `console` when it is a terminal; else `say` gets a line every `every` seconds (a
        logger's `info`, or the console's `print`)."""
        self._what = what
        self._total = total
        self._say = say
        self._every = every
        self._clock = clock
        self._started = self._told = clock()
        self._done = 0
        self._bar: Bar | None = None
        self._task = None
        if console is not None and console.is_terminal:
            self._bar = Bar(
                TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                console=console, transient=True,
            )  # fmt: skip
            self._task = self._bar.add_task(what, total=total)
            self._bar.start()

    def __call__(self, done: int) -> None:
        self._done = done
        if done % _CHECK_EVERY:
            return
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done)
            return
        now = self._clock()
        if self._say is not None and now - self._told >= self._every:
            self._told = now
            self._say(self.line(done, now))

    def line(self, done: int, now: float) -> str:
        """What a log line says at `done` items, `now` on the clock."""
        elapsed = max(now - self._started, 1e-9)
        rate = done / elapsed
        if not self._total:
            return f"{self._what}: {done:,} so far, {rate:,.0f}/s"
        left = max(self._total - done, 0) / rate if rate else 0.0
        return (
            f"{self._what}: {done:,} of {self._total:,} ({100 * done / self._total:.0f}%), "
            f"{rate:,.0f}/s, about {left:,.0f} s left"
        )

    def close(self) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self._done)
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:  # fmt: skip
        self.close()
