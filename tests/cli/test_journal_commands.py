"""`engine run --journal`, `replay` and `db upgrade` through the real entry point."""

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "order_types.jsonl"


def nyquestro(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nyquestro", *args],
        capture_output=True, text=True, check=False, timeout=120, cwd=cwd,
    )  # fmt: skip


def test_a_journaled_run_replays_to_the_same_hash(tmp_path: Path) -> None:
    run = nyquestro("engine", "run", str(EXAMPLE), "--journal", "j.db", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    live_hash = run.stderr.rsplit("event-stream hash ", 1)[1].split()[0]
    again = nyquestro("replay", "--journal", "j.db", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"event-stream hash {live_hash}" in again.stdout
    assert "matches the hash recorded live" in again.stdout


def test_replay_with_other_instruments_diverges_and_says_where(tmp_path: Path) -> None:
    assert (
        nyquestro("engine", "run", str(EXAMPLE), "--journal", "j.db", cwd=tmp_path).returncode == 0
    )
    other = tmp_path / "other.toml"
    # The same symbols, but AAPL now refuses orders above 200: the example's 1000-lot
    # orders are rejected on replay, so the event stream departs from the recorded one.
    other.write_text(
        "".join(
            f'[instruments.{symbol}]\ntick_size = "{tick}"\n{extra}\n'
            for symbol, tick, extra in [
                ("AAPL", "0.01", "max_qty = 200"),
                ("MSFT", "0.01", ""),
                ("IBM", "0.01", ""),
                ("ESZ6", "0.25", 'smp_policy = "cancel_resting"'),
            ]
        )
    )
    result = nyquestro("replay", "--journal", "j.db", "--instruments", str(other), cwd=tmp_path)
    assert result.returncode == 1
    assert "DIFFERS from the hash recorded live, first at command seq" in result.stdout


def test_db_upgrade_creates_the_store(tmp_path: Path) -> None:
    result = nyquestro("db", "upgrade", "--db", "var/x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "x.db").exists()


def test_serve_takes_the_journal_database_from_the_command_line(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "venue.toml"
    config.write_text(
        f'[store]\ndir = "store"\n[fix]\nport = {port}\n'
        'sessions = [{ begin_string = "FIX.4.4", target_comp_id = "C1" }]\n'
        '[instruments.AAPL]\ntick_size = "0.01"\n'
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "nyquestro", "serve", "--config", str(config), "--db", "j.db"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        server.send_signal(signal.SIGTERM)
        assert server.wait(20) == 0
    finally:
        if server.poll() is None:
            server.kill()
    assert (tmp_path / "j.db").exists()
    assert not (tmp_path / "store" / "nyquestro.db").exists()


def test_journal_export_names_what_is_wrong(tmp_path: Path) -> None:
    missing = nyquestro("journal", "export", "--jsonl", "--db", "nope.db", cwd=tmp_path)
    assert (missing.returncode, missing.stdout) == (2, "")
    assert "--db nope.db: no such database file" in missing.stderr
    no_format = nyquestro("journal", "export", "--db", "nope.db", cwd=tmp_path)
    assert no_format.returncode == 2
    assert "the following arguments are required: --jsonl" in no_format.stderr
    url = "postgresql+psycopg://postgres@127.0.0.1:1/test"  # nothing listens on port 1
    unreachable = nyquestro("journal", "export", "--jsonl", "--db", url, cwd=tmp_path)
    assert unreachable.returncode == 2
    assert f"--db {url}: cannot read the audit trail:" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr


def test_journal_export_writes_a_file(tmp_path: Path) -> None:
    run = nyquestro("engine", "run", str(EXAMPLE), "--journal", "j.db", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    done = nyquestro(
        "journal", "export", "--jsonl", "--db", "j.db", "--out", "a.jsonl", cwd=tmp_path
    )
    # The JSON CLI journals commands; only the venue keeps an audit trail.
    assert (done.returncode, done.stderr.strip()) == (0, "0 audit rows exported")
    assert (tmp_path / "a.jsonl").read_text() == ""


def test_journal_export_commands_renders_the_binary_journal(tmp_path: Path) -> None:
    run = nyquestro("engine", "run", str(EXAMPLE), "--journal", "j.db", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    live_hash = run.stderr.rsplit("event-stream hash ", 1)[1].split()[0]
    done = nyquestro(
        "journal", "export", "--jsonl", "--commands", "--db", "j.db", "--after-seq", "2",
        cwd=tmp_path,
    )  # fmt: skip
    assert (done.returncode, done.stderr.strip()) == (0, "20 journaled commands exported")
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["seq"] for row in rows] == list(range(3, 23))
    assert rows[-1]["event_hash"] == live_hash
    # As the example file says, the price in ticks of AAPL (0.01): "190.00" -> 19000.
    example = [json.loads(line) for line in EXAMPLE.read_text().splitlines()]
    assert [row["command"]["type"] for row in rows] == [line["type"] for line in example[2:]]
    assert (example[2]["cl_ord_id"], example[2]["px"]) == ("b1", "190.00")
    assert (
        rows[0]["command"] | {"px": 19000, "cl_ord_id": "b1", "side": "buy"} == rows[0]["command"]
    )
