"""scripts/profile.sh's tool at a small size: a live venue under load, and a flamegraph of
each of its processes (the core and the FIX gateway's at least)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import profile_venue


def py_spy_can_attach() -> str | None:
    """Why py-spy cannot sample another process here, or None."""
    if not profile_venue._PY_SPY.exists():
        return "py-spy is not installed beside this interpreter"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        probe = subprocess.run(
            [str(profile_venue._PY_SPY), "dump", "--pid", str(child.pid)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    finally:
        child.kill()
        child.wait()
    if probe.returncode != 0:
        return f"py-spy cannot attach here: {probe.stderr.strip()[-200:]}"
    return None


def test_every_process_gets_a_flamegraph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = py_spy_can_attach()
    if reason is not None:
        pytest.skip(reason)
    out = tmp_path / "profiles"
    assert profile_venue.main(["--seconds", "2", "--sessions", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    made = {path.name.split("-")[0] for path in out.glob("*.svg")}
    assert {"serve", "core", "fix", "replica", "control"} <= made, printed
    assert all(path.read_text().startswith("<?xml") for path in out.glob("*.svg"))
    assert "CLIENT1:" in printed and " answered in 2 s" in printed
    assert os.path.getsize(next(out.glob("core-*.svg"))) > 1000
