"""Progress lines and bars: a line every few seconds with the count, the share, the rate
and the time left; a bar on a terminal."""

import io

from rich.console import Console

from nyquestro.runtime.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_every_few_seconds_says_how_far_how_fast_and_how_long() -> None:
    clock, said = Clock(), []
    progress = Progress("commands replayed", 10_240, say=said.append, every=5.0, clock=clock)
    clock.now += 1.0
    progress(1024)  # a second in: too soon for a line
    assert said == []
    clock.now += 4.0
    progress(2048)
    assert said == ["commands replayed: 2,048 of 10,240 (20%), 410/s, about 20 s left"]
    clock.now += 5.0
    progress(2049)  # between checks of the clock: no line, whatever the time
    progress(4096)
    assert said[-1] == "commands replayed: 4,096 of 10,240 (40%), 410/s, about 15 s left"


def test_without_a_total_the_line_counts_and_rates() -> None:
    clock, said = Clock(), []
    progress = Progress("rows exported", None, say=said.append, every=1.0, clock=clock)
    clock.now += 2.0
    progress(8192)
    assert said == ["rows exported: 8,192 so far, 4,096/s"]


def test_a_terminal_gets_a_bar_and_no_lines() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    said: list[str] = []
    with Progress("rows exported", 4096, console=console, say=said.append, every=0.0) as bar:
        for done in range(1, 4097):
            bar(done)
    assert said == []
    assert "rows exported" in out.getvalue() and "4096/4096" in out.getvalue()


def test_no_terminal_and_nobody_to_tell_shows_nothing() -> None:
    out = io.StringIO()
    with Progress("x", 10, console=Console(file=out), every=0.0) as progress:
        progress(1024)
    assert out.getvalue() == ""
