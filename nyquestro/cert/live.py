"""The live view of a run on a terminal: the running scenario's steps in a table that
changes as they run (pending, running with its clock, then PASS, FAIL with the reason or
SKIP), and a line of counts under it.

The runner says only when a step has finished, and plays the pack's steps in order, so the
step after the last finished one is the one running. Each scenario's table is printed
above the live area once its last step is in, so the scrollback keeps the whole run; the
live area itself goes when the run ends, before the summary is printed."""

import time
from dataclasses import dataclass
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.padding import Padding
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from nyquestro.cert.pack import Pack
from nyquestro.cert.runner import StepResult

_MARKS = {
    "passed": Text("PASS", style="green"),
    "failed": Text("FAIL", style="bold red"),
    "skipped": Text("SKIP", style="dim"),
}


@dataclass(frozen=True)
class _Progress:
    """Replaced whole at each finished step: Live redraws from its own thread, and must
    never see the steps of one moment with the start time of another."""

    finished: tuple[StepResult, ...]
    began: float
    """When the running step began (time.monotonic())."""


class LiveView:
    """`with LiveView(console, pack) as observe:` then `Runner(..., observe)`."""

    def __init__(self, console: Console, pack: Pack) -> None:
        self._console = console
        self._pack = pack
        self._total = sum(len(scenario.steps) for scenario in pack.scenarios)
        self._started = time.monotonic()
        self._progress = _Progress((), self._started)
        self._live = Live(console=console, get_renderable=self._render, transient=True)

    def __enter__(self) -> "LiveView":
        self._live.start(refresh=True)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:  # fmt: skip
        self._live.stop()

    def __call__(self, result: StepResult) -> None:
        finished = (*self._progress.finished, result)
        self._progress = _Progress(finished, time.monotonic())
        # Drawn now, not at the next tick: a print above the live area redraws the frame
        # last drawn, which may be older than this step.
        self._live.refresh()
        index, done = self._position(len(finished))
        if done == 0:
            # The step completed the scenario before `index`: its table goes to scrollback.
            count = len(self._pack.scenarios[index - 1].steps)
            self._console.print(
                Padding(self._table(index - 1, finished[-count:], None), (1, 0, 0, 0))
            )

    def _position(self, finished: int) -> tuple[int, int]:
        """The scenario running after `finished` steps of the run, and how many of its
        steps are done (the number of scenarios when the run is over)."""
        for index, scenario in enumerate(self._pack.scenarios):
            if finished < len(scenario.steps):
                return index, finished
            finished -= len(scenario.steps)
        return len(self._pack.scenarios), 0

    def _render(self) -> RenderableType:
        progress = self._progress
        index, done = self._position(len(progress.finished))
        if index == len(self._pack.scenarios):
            return self._counts(progress.finished, running=False)
        steps = progress.finished[len(progress.finished) - done :]
        return Group(
            Padding(self._table(index, steps, progress.began), (1, 0, 0, 0)),
            self._counts(progress.finished, running=True),
        )

    def _table(self, index: int, steps: tuple[StepResult, ...], began: float | None) -> Table:
        """Scenario `index` with its finished `steps`; `began` is when its next step began,
        None once the scenario is over."""
        scenario = self._pack.scenarios[index]
        if began is None:
            colour = "green" if all(s.status == "passed" for s in steps) else "red"
        else:
            colour = "yellow"
        title = Text.assemble(
            (scenario.name, f"bold {colour}"), f"  ({index + 1}/{len(self._pack.scenarios)})"
        )
        table = Table(title=title, title_justify="left", box=None, padding=(0, 1, 0, 2))
        table.add_column("", no_wrap=True, min_width=4)
        table.add_column("step", no_wrap=True)
        table.add_column("what happened", overflow="fold")
        table.add_column("time", justify="right", no_wrap=True)
        for result in steps:
            seconds = "" if result.status == "skipped" else f"{result.seconds:.2f} s"
            detail = Text(result.detail, style="red" if result.status == "failed" else "dim")
            table.add_row(_MARKS[result.status], result.step.name, detail, seconds)
        for position, step in enumerate(scenario.steps[len(steps) :]):
            if position == 0 and began is not None:
                elapsed = f"{time.monotonic() - began:.1f} s"
                table.add_row(Spinner("dots", style="yellow"), step.name, "running", elapsed)
            else:
                table.add_row(Text("····", style="dim"), step.name, Text("pending", "dim"), "")
        return table

    def _counts(self, finished: tuple[StepResult, ...], running: bool) -> Text:
        counts = {"passed": 0, "failed": 0, "skipped": 0}
        for result in finished:
            counts[result.status] += 1
        pending = self._total - len(finished) - int(running)
        return Text.assemble(
            "\nsteps: ",
            (f"{counts['passed']} passed", "green"),
            ", ",
            (f"{counts['failed']} failed", "bold red" if counts["failed"] else ""),
            f", {counts['skipped']} skipped, {int(running)} running, {pending} pending",
            f"  ({time.monotonic() - self._started:.1f} s)",
        )
