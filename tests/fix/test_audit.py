"""The audit trail and the projections of a real venue, read back through the CLI and
the database after FIX traffic, a clean stop and a restart."""

import json
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from nyquestro.store.database import create_db_engine
from nyquestro.store.models import ExecutionRecord, OrderRecord, SessionRecord
from tests.fix.client import FixClient
from tests.fix.conftest import Server, gateway_pids

BUY, SELL = "1", "2"


def export(db: Path) -> list[dict[str, object]]:
    run = subprocess.run(
        [sys.executable, "-m", "nyquestro", "journal", "export", "--jsonl", "--db", str(db)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_every_message_and_decision_is_audited_once_and_projected(tmp_path: Path) -> None:
    server = Server(tmp_path)
    buyer = FixClient(0, "CLIENT1", "FIX.4.4")
    seller = FixClient(0, "CLIENT2", "FIX.4.2")
    server.start()
    db = server.root / "store1" / "nyquestro.db"
    try:
        buyer.port = seller.port = server.port
        buyer.logon()
        seller.logon()
        buyer.new_order("IBM", BUY, 10, "170.00", cl_ord_id="b1")
        buyer.expect("8", {11: "b1", 150: "0"})
        seller.new_order("IBM", SELL, 4, "170.00", cl_ord_id="s1")
        seller.expect("8", {11: "s1", 150: "2"})
        buyer.expect("8", {11: "b1", 150: "F"})
        buyer.logout()
        seller.logout()
        server.stop()
        server.start(fresh=False)  # recovery replays nothing twice into the trail
        server.stop()
    finally:
        buyer.close()
        seller.close()
        server.stop()

    rows = export(db)
    decisions = [r for r in rows if r["kind"] == "decision"]
    # The first is the Configure every new journal starts with.
    assert [d["seq"] for d in decisions] == [1, 2, 3], decisions
    assert decisions[0]["payload"]["command"]["type"] == "configure"  # type: ignore[index]
    accepted = decisions[1]["payload"]["events"][0]  # type: ignore[index]
    assert (accepted["type"], accepted["cl_ord_id"], accepted["px"]) == ("accepted", "b1", "170.00")
    buyer_key = "FIX.4.4:NYQUESTRO->CLIENT1"

    def position(kind: str, session: str, needle: str) -> int:
        return next(
            i for i, r in enumerate(rows)
            if r["kind"] == kind and r["session"] == session and needle in str(r["payload"])
        )  # fmt: skip

    # The order came in, was decided, and its report went out, in that order.
    came_in = position("inbound", buyer_key, "|35=D|")
    decided = rows.index(decisions[1])
    went_out = position("outbound", buyer_key, "|11=b1|")
    assert came_in < decided < went_out
    assert "|150=0|" in str(rows[went_out]["payload"])
    assert any(r["kind"] == "inbound" and "|35=A|" in str(r["payload"]) for r in rows)

    engine = create_db_engine(str(db))
    with engine.connect() as connection:
        orders = {r.cl_ord_id: r for r in connection.execute(select(OrderRecord))}
        fills = list(connection.execute(select(ExecutionRecord)))
        sessions = {r.session_key: r for r in connection.execute(select(SessionRecord))}
    assert (orders["b1"].status, orders["b1"].cum_qty, orders["b1"].leaves_qty) == (
        "partially_filled", 4, 6,
    )  # fmt: skip
    assert (orders["s1"].status, orders["s1"].leaves_qty) == ("filled", 0)
    assert sorted((f.side, f.qty, f.aggressor) for f in fills) == [
        ("buy", 4, False),
        ("sell", 4, True),
    ]
    buyer_session = sessions[buyer_key]
    assert buyer_session.state == "logged_out"
    assert buyer_session.next_target_seq > 3  # Logon, D, Logout at least


def test_without_audit_the_venue_keeps_no_trail_but_still_snapshots(tmp_path: Path) -> None:
    server = Server(tmp_path, audit=False, snapshot_every=2)
    client = FixClient(0, "CLIENT1", "FIX.4.4")
    server.start()
    try:
        client.port = server.port
        client.logon()
        for n in range(3):
            client.new_order("IBM", BUY, 10, "170.00", cl_ord_id=f"n{n}")
            client.expect("8", {11: f"n{n}", 150: "0"})
        deadline = time.monotonic() + 10
        while "replica: snapshot after command" not in server.log.read_text():
            assert time.monotonic() < deadline, server.tail()
            time.sleep(0.05)
        client.logout()
    finally:
        client.close()
        server.stop()
    assert export(server.root / "store1" / "nyquestro.db") == []


def replica_pid(server: Server) -> int:
    """The venue's replica, as the log names it, checked to be the core's child."""
    core = server.core_pid
    assert core is not None
    (pid,) = gateway_pids(server, "replica")
    assert str(pid) in Path(f"/proc/{core}/task/{core}/children").read_text().split()
    return pid


def decision_seqs(db: Path) -> list[int]:
    return [int(str(r["seq"])) for r in export(db) if r["kind"] == "decision"]


def test_the_replica_records_while_the_venue_runs_and_a_killed_one_leaves_no_hole(
    tmp_path: Path,
) -> None:
    server = Server(tmp_path)
    client = FixClient(0, "CLIENT1", "FIX.4.4")
    server.start()
    db = server.root / "store1" / "nyquestro.db"
    try:
        client.port = server.port
        client.logon()
        for n in range(5):
            client.expect("8", {11: client.new_order("IBM", BUY, 10, "150.00", cl_ord_id=f"a{n}")})
        # Recorded by the replica as it follows the journal, without stopping the venue.
        deadline = time.monotonic() + 10
        while decision_seqs(db) != [1, 2, 3, 4, 5, 6]:
            assert time.monotonic() < deadline, decision_seqs(db)
            time.sleep(0.05)
        subprocess.run(["kill", "-9", str(replica_pid(server))], check=True)
        for n in range(5):  # acknowledged while no replica records them
            client.expect("8", {11: client.new_order("IBM", BUY, 10, "150.00", cl_ord_id=f"b{n}")})
        client.logout()
        server.stop()
        server.start(fresh=False)  # its replica records what the killed one had not
        server.stop()
    finally:
        client.close()
        server.stop()
    assert decision_seqs(db) == list(range(1, 12))
