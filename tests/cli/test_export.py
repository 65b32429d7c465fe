"""`journal export --jsonl` through the real entry point on a trail the test recorded:
what it writes to standard output and to --out, --after-seq, and --db values that name
nothing it can open. (A missing file, a missing --jsonl and an unreachable server are in
test_journal_commands.py.)"""

import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from nyquestro.cli.export import export_command
from nyquestro.codec.jsonl import encode_command, encode_event
from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.instruments import default_instruments
from nyquestro.engine import Engine
from nyquestro.store.audit import AuditTrail
from nyquestro.store.database import create_db_engine, upgrade
from tests.cli.test_journal_commands import nyquestro
from tests.runtime.flows import random_flow

INSTRUMENTS = default_instruments()
PRICES = DecimalPrices({i.symbol: i for i in INSTRUMENTS})
SESSION = "FIX.4.4:NYQUESTRO->CLIENT1"


def record_trail(db: Path, commands: int) -> list[dict[str, Any]]:
    """Record a venue-shaped trail (message in, decision, report out per command) and
    return the rows export should produce for it."""
    store = create_db_engine(str(db))
    upgrade(store)
    trail = AuditTrail(store, PRICES)
    engine = Engine(INSTRUMENTS)
    expected: list[dict[str, Any]] = []

    def row(seq: int, ts: int, session: str | None, kind: str, payload: object) -> None:
        expected.append({"id": len(expected) + 1, "seq": seq, "ts": ts, "session": session,
                         "kind": kind, "payload": payload})  # fmt: skip

    for command in random_flow(4, commands):
        inbound = f"8=FIX.4.4\x0135=D\x0111=c{command.seq}\x01"
        trail.inbound(command.seq - 1, command.ts, SESSION, inbound)
        row(command.seq - 1, command.ts, SESSION, "inbound", inbound.replace("\x01", "|"))
        events = engine.process(command)
        trail.decision(command, events)
        session = getattr(command, "session", None)
        decision = {"command": encode_command(command),
                    "events": [encode_event(e, PRICES) for e in events]}  # fmt: skip
        row(command.seq, command.ts, session, "decision", decision)
        trail.outbound(command.seq, command.ts, SESSION, "8=FIX.4.4\x0135=8\x01")
        row(command.seq, command.ts, SESSION, "outbound", "8=FIX.4.4|35=8|")
    trail.write_pending()
    store.dispose()
    return expected


def test_export_writes_every_row_to_stdout_or_a_file(tmp_path: Path) -> None:
    expected = record_trail(tmp_path / "venue.db", 80)
    assert any(
        event["type"] in ("partially_filled", "filled")
        for row in expected if row["kind"] == "decision"
        for event in row["payload"]["events"]
    ), "the flow should trade"  # fmt: skip

    to_stdout = nyquestro("journal", "export", "--jsonl", "--db", "venue.db", cwd=tmp_path)
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert [json.loads(line) for line in to_stdout.stdout.splitlines()] == expected
    assert to_stdout.stderr.strip() == f"{len(expected)} audit rows exported"

    to_file = nyquestro(
        "journal", "export", "--jsonl", "--db", "venue.db", "--out", "a.jsonl", cwd=tmp_path
    )
    assert (to_file.returncode, to_file.stdout) == (0, ""), to_file.stderr
    assert (tmp_path / "a.jsonl").read_text(encoding="utf-8") == to_stdout.stdout


def test_after_seq_keeps_the_rows_of_later_commands(tmp_path: Path) -> None:
    expected = record_trail(tmp_path / "venue.db", 30)
    run = nyquestro(
        "journal", "export", "--jsonl", "--db", "venue.db", "--after-seq", "27", cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert rows == [row for row in expected if row["seq"] > 27]
    assert [(row["seq"], row["kind"]) for row in rows] == [
        (28, "decision"), (28, "outbound"), (28, "inbound"),
        (29, "decision"), (29, "outbound"), (29, "inbound"),
        (30, "decision"), (30, "outbound"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("db", "message"),
    [
        ("://", "neither a file path nor a database URL"),
        ("mysql+mysqldb://u@127.0.0.1/x", "no driver for this database"),
    ],
)
def test_a_db_it_cannot_open_is_one_line_and_exit_2(tmp_path: Path, db: str, message: str) -> None:
    if db.startswith("mysql") and importlib.util.find_spec("MySQLdb") is not None:
        pytest.skip("MySQLdb is installed here")
    run = nyquestro("journal", "export", "--jsonl", "--db", db, cwd=tmp_path)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.startswith(f"--db {db}: {message}")
    assert len(run.stderr.splitlines()) == 1, run.stderr


def test_on_a_terminal_a_long_export_shows_a_bar(tmp_path: Path) -> None:
    db = tmp_path / "trail.db"
    expected = record_trail(db, 1200)  # three rows a command: the bar moves
    terminal = io.StringIO()
    errors = Console(file=terminal, force_terminal=True, width=120)
    out = tmp_path / "trail.jsonl"
    assert export_command(str(db), out, None, errors) == 0
    assert len(out.read_text().splitlines()) == len(expected)
    shown = terminal.getvalue()
    assert "audit rows exported" in shown and f"{len(expected)}/{len(expected)}" in shown
    assert "audit rows exported\n" in shown  # the closing line, after the bar
