"""The kill switch through its real interfaces: `nyquestro kill-switch` queues it, the
running venue cancels the scope's orders (each client sees its cancels) and refuses new
ones over FIX until released; a restart does not carry a request out twice."""

import subprocess
import sys
import time
from pathlib import Path

from tests.fix.client import FixClient
from tests.fix.conftest import Server
from tests.fix.test_audit import export
from tests.fix.test_rejects import rejected

BUY = "1"


def kill_switch(db: Path, *args: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "nyquestro", "kill-switch", *args, "--db", str(db)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "queued" in run.stderr


def test_engage_cancels_and_refuses_release_restores_and_restarts_do_not_repeat(
    tmp_path: Path,
) -> None:
    server = Server(tmp_path)
    target = FixClient(0, "CLIENT1", "FIX.4.4")
    bystander = FixClient(0, "CLIENT2", "FIX.4.2")
    server.start()
    db = server.root / "store1" / "nyquestro.db"
    try:
        target.port = bystander.port = server.port
        target.logon()
        bystander.logon()
        resting = [target.new_order("IBM", BUY, 5, "150.00") for _ in range(2)]
        for cl_ord_id in resting:
            target.expect("8", {11: cl_ord_id, 150: "0"})
        keep = bystander.new_order("IBM", BUY, 5, "150.00")
        bystander.expect("8", {11: keep, 150: "0"})

        kill_switch(db, "engage", "--account", "CLIENT1", "--reason", "desk breach")
        for cl_ord_id in resting:
            cancel = target.expect("8", {11: cl_ord_id, 150: "4"}, timeout=5.0)
            assert cancel[58] == "cancelled: kill switch", cancel
        reason, text = rejected(target, target.new_order("IBM", BUY, 1, "150.00"))
        assert (reason, text) == ("99", "kill switch engaged for account CLIENT1: desk breach")
        bystander.status(keep, "IBM", BUY)
        assert bystander.expect("8", {11: keep})[39] == "0"  # untouched

        kill_switch(db, "release", "--account", "CLIENT1")
        deadline = time.monotonic() + 10.0  # the venue polls its queue a few times a second
        while True:
            cl_ord_id = target.new_order("IBM", BUY, 1, "150.00")
            if target.expect("8", {11: cl_ord_id})[150] == "0":
                break
            assert time.monotonic() < deadline, "the kill switch was never released"
            time.sleep(0.1)
        server.kill()
        server.start(fresh=False)  # both requests already carried out: nothing repeats
        target.close()
        target.port = server.port
        target.logon()
        target.expect("8", {11: target.new_order("IBM", BUY, 1, "150.00"), 150: "0"})
        target.logout()
        bystander.close()
        server.stop()
    finally:
        target.close()
        bystander.close()
        server.stop()
    switches = [r for r in export(db) if r["kind"] == "decision"
                and r["payload"]["command"]["type"] == "kill_switch"]  # type: ignore[index]  # fmt: skip
    assert [r["payload"]["command"]["engage"] for r in switches] == [True, False]  # type: ignore[index]


def test_the_cli_names_a_bad_scope(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "nyquestro", "kill-switch", "engage", "--account", "A",
         "--session", "S", "--db", str(tmp_path / "x.db")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2
    assert "--account and --session: give one scope" in run.stderr
