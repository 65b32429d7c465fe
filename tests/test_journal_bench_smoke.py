"""The journal benchmark runs end to end at tiny sizes, on SQLite and on PostgreSQL.

No timing is asserted: only that every mode journals every command (the benchmark itself
checks that the last one became durable), that commits and batches were recorded, and
that recovery replays every journaled command with matching event hashes. PostgreSQL
skips, saying why, when no server answers on 127.0.0.1:5432.
"""

import pytest
from rich.console import Console

from benchmarks.journal_bench import main, postgres_reason, run
from nyquestro.store.journal import Durability


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_every_mode_journals_every_command_and_recovery_replays_them(db: str) -> None:
    if db == "postgresql":
        reason = postgres_reason()
        if reason is not None:
            pytest.skip(reason)
    result = run([db], commands=300, sync_commands=30, recovery_commands=200)

    assert result.skipped == {}
    assert [(r.db, r.mode, r.matching) for r in result.throughput] == [
        (db, Durability.GROUP, False),
        (db, Durability.GROUP, True),
        (db, Durability.SYNC, True),
        (db, Durability.NONE, True),
    ]
    for r in result.throughput:
        expected = 30 if r.mode is Durability.SYNC else 300
        assert r.commands == expected
        assert sum(r.batch_sizes) == expected, r.mode
        assert len(r.commit_ns) == len(r.batch_sizes)
        assert all(ns > 0 for ns in r.commit_ns)
        assert r.durable_ns >= r.submit_ns > 0
    sync = result.throughput[2]
    assert set(sync.batch_sizes) == {1}, "sync commits every command on its own"
    [recovery] = result.recovery
    assert recovery.db == db
    assert recovery.commands == 200
    assert recovery.events > 0
    assert recovery.recover_s > 0 and recovery.core_s > 0
    # The snapshot is taken after command 180 and recovery from it replays the other 20.
    assert (recovery.snapshot.taken.seq, recovery.snapshot.tail) == (180, 20)
    assert recovery.snapshot.taken.size > 0


def test_main_prints_both_tables() -> None:
    console = Console(record=True, width=200)
    code = main(
        ["--db", "sqlite", "--commands", "200", "--recovery-commands", "100"], console=console
    )
    output = console.export_text()
    assert code == 0
    assert "Journal throughput" in output
    assert "Recovery" in output
    for mode in ("group", "sync", "none"):
        assert f" {mode} " in output
