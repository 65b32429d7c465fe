"""The restart benchmark runs end to end at a tiny size: it builds a crashed venue's store
(a snapshot and a journal tail after it), starts `nyquestro serve` on it in each layout
and finds the FIX port open. No timing is asserted; the logs it keeps show how each
venue recovered: the split layout's FIX process folded the tail from the core's stream as
the core replayed it, and replayed nothing itself."""

import re
from pathlib import Path

import pytest

from benchmarks.restart_bench import main


def test_both_layouts_restart_and_the_fix_process_folds_the_tail_from_the_stream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--commands", "2000", "--runs", "1", "--keep-logs", str(tmp_path)])
    out = capsys.readouterr().out
    assert "store built: 2,000 commands, snapshot after 1,800" in out
    assert "seconds to the FIX port" in out
    split = (tmp_path / "serve-split-0.log").read_text()
    one = (tmp_path / "serve-one-process-0.log").read_text()
    for log in (split, one):
        assert "recovered from the snapshot after command 1800 and 200 journaled" in log
    assert "fix follows the core after command 1800 (history to command 2000)" in split
    assert re.search(r"replayed \d+ journaled commands", split) is None
    assert "fix process" not in one
