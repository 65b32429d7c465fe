"""`[fix] own_process`: the FIX gateway in a process of its own, through its real port.

A status request is answered after the reports of the orders sent before it (the gateway
waits for a mark from the core), a stop logs sessions out with their cancel-on-disconnect
carried out and journaled, and the gateway dies with a killed core. (Its kill -9 alone,
mid-flow, is one of `test_crash.py`'s variants.)"""

import re
import time
from pathlib import Path

from tests.fix.conftest import Server, Venue, alive, gateway_pids, rest

BUY, SELL = "1", "2"


def own_process_server(root: Path, durability: str = "group") -> Server:
    return Server(root, durability=durability, fix_settings="own_process = true\n")


def test_a_status_request_is_answered_after_the_orders_sent_before_it(tmp_path: Path) -> None:
    server = own_process_server(tmp_path)
    server.start()
    venue = Venue(server)
    try:
        client = venue.client("CLIENT1", "FIX.4.4")
        # Pipelined: 30 orders and a status request for the last, without waiting.
        ids = [client.new_order("MSFT", BUY, 1, f"{400 + i}.00") for i in range(30)]
        client.status(ids[-1], "MSFT", BUY)
        seen: list[str] = []
        deadline = time.monotonic() + 10
        while len(seen) < 31 and time.monotonic() < deadline:
            msg = client.receive(1.0)
            if msg is not None and msg.type == "8":
                seen.append(msg[150])
        # 30 acknowledgements, then the status (ExecType I, the order it names is New).
        assert seen == ["0"] * 30 + ["I"], seen
        client.cancel_open_orders()
    finally:
        for fix_client in venue.clients:
            fix_client.close()
        server.stop()
    assert server.returncode == 0, server.tail()


def test_a_stop_logs_out_and_cancel_on_disconnect_is_carried_out(tmp_path: Path) -> None:
    server = own_process_server(tmp_path)
    server.start()
    venue = Venue(server)
    try:
        careful = venue.client("CLIENT4", "FIX.4.4")  # cancel_on_disconnect = true
        order = rest(careful, "AAPL", BUY, 10, "189.00")
        careful.orders.clear()
        server.stop()
        assert server.returncode == 0, server.tail()
        assert careful.hung_up(), "the venue did not log the session out"
        careful.close()
        server.start(fresh=False)
        again = venue.client("CLIENT4", "FIX.4.4")
        again.status(order, "AAPL", BUY)
        assert again.expect("8", {150: "I"})[39] == "4"  # cancelled before the stop
    finally:
        for fix_client in venue.clients:
            fix_client.close()
        server.stop()


def test_the_gateway_dies_with_a_killed_core_and_acknowledged_orders_survive(
    tmp_path: Path,
) -> None:
    server = own_process_server(tmp_path, durability="sync")
    server.start()
    venue = Venue(server)
    try:
        client = venue.client("CLIENT1", "FIX.4.4")
        order = rest(client, "IBM", SELL, 7, "181.00")
        client.orders.clear()
        (gateway,) = gateway_pids(server, "fix")
        server.kill()
        deadline = time.monotonic() + 10
        while alive(gateway) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(gateway), "the FIX gateway outlived the core"
        client.close()
        server.start(fresh=False)  # the same port: nothing of the old run holds it
        again = venue.client("CLIENT1", "FIX.4.4")
        again.expect("8", {11: again.cancel(order, "IBM", SELL), 150: "4"})
    finally:
        for fix_client in venue.clients:
            fix_client.close()
        server.stop()


def test_the_replica_takes_the_final_snapshot_and_both_processes_start_from_it(
    tmp_path: Path,
) -> None:
    """The core keeps no FIX gateway state here (the FIX process renders the reports), so
    the replica snapshots at the clean stop; the next start uses that snapshot, the FIX
    process its order views (a status request answers from them)."""
    server = own_process_server(tmp_path)
    server.start()
    venue = Venue(server)
    try:
        client = venue.client("CLIENT1", "FIX.4.4")
        order = rest(client, "IBM", BUY, 5, "179.00")
        client.orders.clear()
        client.logout()
        client.close()
        server.stop()
        assert server.returncode == 0, server.tail()
        log = server.log.read_text()
        final = re.findall(r"runtime\.replica: snapshot after command (\d+) written", log)
        assert final, server.tail()
        assert "runtime.serve: snapshot after command" not in log
        server.start(fresh=False)
        recovered = f"recovered from the snapshot after command {final[-1]} and 0 journaled"
        assert recovered in server.log.read_text(), server.tail()
        again = venue.client("CLIENT1", "FIX.4.4")
        again.status(order, "IBM", BUY)
        status = again.expect("8", {150: "I"})
        assert (status[39], status[151]) == ("0", "5"), status  # New, 5 left
        again.cancel_open_orders()
    finally:
        for fix_client in venue.clients:
            fix_client.close()
        server.stop()
