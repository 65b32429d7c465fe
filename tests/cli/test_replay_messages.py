"""`nyquestro replay` compares the FIX messages it renders with those a real `nyquestro
serve` run sent (its audit trail), and names the first one that differs."""

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.fix.client import FixClient
from tests.fix.conftest import Server, check_against_dictionary, rest


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A venue that saw rests, a fill, engine rejects, a refused cancel, a mass cancel
    and a cancel-on-disconnect, then stopped: (its journal database, its config)."""
    server = Server(tmp_path_factory.mktemp("venue"))
    server.start()
    clients: list[FixClient] = []
    try:

        def client(comp_id: str, begin: str) -> FixClient:
            c = FixClient(server.port, comp_id, begin)
            c.validate = check_against_dictionary
            clients.append(c)
            c.logon()
            return c

        one, two = client("CLIENT1", "FIX.4.4"), client("CLIENT2", "FIX.4.2")
        gone = client("CLIENT4", "FIX.4.4")
        rest(one, "AAPL", "2", 100, "190.00")
        rest(one, "MSFT", "1", 50, "419.00")
        rest(gone, "IBM", "1", 10, "179.00")
        # The case: a sell of 5000 the engine rejects (ESZ6 takes at most 5000
        # lots; 5001 is one too many) must replay with Side=2 and OrderQty=5001.
        rejected = two.new_order("ESZ6", "2", 5001, "6000.00")
        assert two.expect("8", {11: rejected})[150] == "8"
        unknown = two.new_order("ZZZZ", "1", 10)
        assert two.expect("8", {11: unknown})[150] == "8"
        taker = two.new_order("AAPL", "1", 60, "190.00")
        two.expect("8", {11: taker, 39: "2"})
        refused = two.cancel("never-sent", "AAPL", "1")
        two.expect("9", {11: refused})
        one.send("q", [(11, "MASS1"), (530, "7"), (60, "20260101-00:00:00")])
        one.expect("r", {11: "MASS1"})
        gone.close()  # an abrupt drop: cancel-on-disconnect, no report to anyone
        two.logout()
        one.logout()
    finally:
        for c in clients:
            c.close()
        server.stop()
    config = sorted(server.root.glob("venue*.toml"))[-1]
    databases = list(server.root.glob("store*/nyquestro.db"))
    assert len(databases) == 1, databases
    yield databases[0], config


def replay(db: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nyquestro", "replay", "--journal", str(db),
         "--config", str(config)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_replay_matches_the_messages_a_real_run_sent(served: tuple[Path, Path]) -> None:
    db, config = served
    result = replay(db, config)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "matches the hash recorded live" in result.stdout
    matched = int(result.stdout.split(" outbound messages match the audit trail")[0].split()[-1])
    # Acks, the fill (both sides), rejects, the cancel reject, the mass cancel's reports
    # and cancels, the cancel-on-disconnect's cancel; each also as a drop copy.
    assert matched >= 20, result.stdout


def test_replay_names_the_first_message_that_differs(
    served: tuple[Path, Path], tmp_path: Path
) -> None:
    db, config = served
    doctored = tmp_path / "doctored.db"
    # The backup API, not a file copy: what the WAL holds comes along.
    with closing(sqlite3.connect(db)) as source, closing(sqlite3.connect(doctored)) as copy:
        source.backup(copy)
    with closing(sqlite3.connect(doctored)) as connection, connection:
        # The trail refuses updates; the doctor lifts that for this copy only.
        connection.execute("DROP TRIGGER audit_no_update")
        changed = connection.execute(
            "UPDATE audit SET payload = replace(payload, '|38=5001|', '|38=0|') "
            "WHERE kind = 'outbound' AND payload LIKE '%|35=8|%' AND payload LIKE '%|38=5001|%'"
            " AND session LIKE 'FIX.4.2:%'"
        ).rowcount
    assert changed == 1
    result = replay(doctored, config)
    assert result.returncode == 1, result.stdout + result.stderr
    line = result.stdout.splitlines()[-1]
    assert "outbound messages DIFFER" in line
    assert "session FIX.4.2:NYQUESTRO->CLIENT2" in line and "MsgType 8" in line
    assert "tag 38 live '0', replayed '5001'" in line
    assert "ExecID " in line and "MsgSeqNum " in line


def test_without_an_audit_trail_replay_compares_hashes_only(tmp_path: Path) -> None:
    server = Server(tmp_path, audit=False)
    server.start()
    try:
        c = FixClient(server.port, "CLIENT1", "FIX.4.4")
        c.logon()
        rest(c, "AAPL", "1", 10, "189.00")
        c.logout()
        c.close()
    finally:
        server.stop()
    (db,) = tmp_path.glob("store*/nyquestro.db")
    result = replay(db, sorted(tmp_path.glob("venue*.toml"))[-1])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "matches the hash recorded live" in result.stdout
    assert "no outbound messages in the audit trail" in result.stdout


def test_replay_with_a_config_lacking_a_session_says_to_give_the_right_one(
    served: tuple[Path, Path], tmp_path: Path
) -> None:
    db, config = served
    fewer = tmp_path / "fewer.toml"
    fewer.write_text("".join(line for line in config.read_text().splitlines(keepends=True)
                             if '"CLIENT2"' not in line))  # fmt: skip
    result = replay(db, fewer)
    assert result.returncode == 1, result.stdout + result.stderr
    line = result.stdout.splitlines()[-1]
    assert "session FIX.4.2:NYQUESTRO->CLIENT2" in line, line
    assert "a session the venue config does not have" in line and "--config" in line, line
