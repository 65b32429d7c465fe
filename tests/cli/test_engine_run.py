"""`nyquestro engine run` through its real entry point: a subprocess reading a file or stdin."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nyquestro", "engine", "run", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def events_of(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_example_file_runs_clean_and_shows_every_order_type() -> None:
    result = run_cli(str(EXAMPLES / "order_types.jsonl"))
    assert result.returncode == 0, result.stderr
    events = events_of(result.stdout)
    types = {e["type"] for e in events}
    assert {"accepted", "filled", "partially_filled", "trade", "expired", "replaced"} <= types
    assert {"restated", "cancelled", "cancel_rejected", "halted", "resumed", "rejected"} <= types
    assert {"level_added", "level_changed", "level_removed", "mass_cancelled"} <= types
    accepted = {e["cl_ord_id"]: e for e in events if e["type"] == "accepted"}
    assert {accepted[c]["ord_type"] for c in accepted} == {"limit", "market", "pegged"}
    assert {accepted[c]["tif"] for c in accepted} == {"day", "gtc", "ioc", "fok"}
    # Prices come back as exact decimals of the instrument's tick.
    assert accepted["s1"]["px"] == "190.05"
    assert accepted["es1"]["px"] == "6000.25"


def test_same_file_gives_byte_identical_output() -> None:
    first = run_cli(str(EXAMPLES / "order_types.jsonl"))
    second = run_cli(str(EXAMPLES / "order_types.jsonl"))
    assert first.stdout == second.stdout
    assert first.stdout


def test_bad_lines_are_reported_by_line_and_field_and_processing_goes_on() -> None:
    result = run_cli(str(EXAMPLES / "bad_lines.jsonl"))
    assert result.returncode == 1
    err = result.stderr
    assert "line 2: px: '190.005'" in err and "tick size 0.01" in err
    assert "line 3: qty: 'ten'" in err
    assert "line 4: side: 'up'" in err
    assert "line 5: qyt:" in err and "unknown field" in err
    assert "line 6: px: 190.0" in err
    assert "line 7: not valid JSON" in err
    assert "line 8: type: 'teleport'" in err
    events = events_of(result.stdout)
    # The good lines around the bad ones were all processed, numbered without gaps.
    assert [e["seq"] for e in events if e["type"] in ("accepted", "rejected")] == [1, 2, 3]
    assert [e["type"] for e in events if e["type"] == "trade"] == ["trade"]


def test_stdin_and_custom_instruments(tmp_path: Path) -> None:
    config = tmp_path / "instruments.toml"
    config.write_text('[instruments.ZN]\ntick_size = "0.015625"\nlot_size = 10\n')
    line = {"type": "new_order", "session": "S", "account": "A", "cl_ord_id": "1",
            "symbol": "ZN", "side": "buy", "qty": 20, "px": "110.015625"}  # fmt: skip
    result = run_cli("--instruments", str(config), "-", stdin=json.dumps(line) + "\n")
    assert result.returncode == 0, result.stderr
    accepted = events_of(result.stdout)[0]
    assert accepted["type"] == "accepted"
    assert accepted["px"] == "110.015625"


def test_bad_instrument_file_names_the_field(tmp_path: Path) -> None:
    config = tmp_path / "instruments.toml"
    config.write_text("[instruments.ZN]\ntick_size = 0.01\n")
    result = run_cli("--instruments", str(config), "-", stdin="")
    assert result.returncode == 2
    assert "instruments.ZN.tick_size" in result.stderr
