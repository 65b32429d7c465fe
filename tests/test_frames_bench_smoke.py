"""The frames benchmark runs end to end at a tiny size (no timing asserted): it checks
that frames round-trip the flow's commands before it measures anything."""

import io

from rich.console import Console

from benchmarks.frames_bench import main, measure


def test_it_measures_each_figure_for_both_forms() -> None:
    rows = measure(ops=300, seed=3, repeat=1)
    assert [name for name, _, _ in rows] == ["encode", "decode", "hash", "bytes per command"]
    assert all(baseline > 0 and new > 0 for _, baseline, new in rows)
    # Frames are smaller than the JSON text for any mix of commands.
    assert rows[-1][2] < rows[-1][1]


def test_the_command_prints_the_table() -> None:
    out = io.StringIO()
    assert main(["--ops", "200", "--repeat", "1"], Console(file=out, width=120)) == 0
    assert "JSON form (baseline) against binary frames" in out.getvalue()
    assert "bytes per command" in out.getvalue()
