"""kill -9 loses nothing acknowledged: a restart on the same store is a recovery."""

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fix.client import FixClient
from tests.fix.conftest import Server, log_matches, snapshot

BUY, SELL = "1", "2"


def _rest_three(client: FixClient) -> dict[str, str]:
    acked = {}
    for cl_ord_id, price in (("r1", "170.00"), ("r2", "170.00"), ("r3", "169.99")):
        client.new_order("IBM", BUY, 10, price, cl_ord_id=cl_ord_id)
        acked[cl_ord_id] = client.expect("8", {11: cl_ord_id, 150: "0"})[37]
    return acked


def _check_recovered(server: Server, acked: dict[str, str]) -> None:
    """`_rest_three`'s orders are back: ids, state, book, queue position, id sequence."""
    first = FixClient(server.port, "CLIENT1", "FIX.4.4")
    second = FixClient(server.port, "CLIENT2", "FIX.4.4")
    try:
        first.logon()
        for cl_ord_id, order_id in acked.items():
            first.status(cl_ord_id, "IBM", BUY)
            status = first.expect("8", {11: cl_ord_id})
            assert (status[37], status[39], status[151]) == (order_id, "0", "10"), status
        second.logon()
        assert snapshot(second, "IBM") == {
            ("0", Decimal("170.00")): 20,
            ("0", Decimal("169.99")): 10,
        }
        # Queue position survived too: the first order at 170.00 trades first.
        second.new_order("IBM", SELL, 10, "170.00", cl_ord_id="s1")
        assert first.expect("8", {150: "F"})[11] == "r1"
        # New orders continue the id sequence instead of reusing the recovered ones.
        first.new_order("IBM", BUY, 1, "160.00", cl_ord_id="r4")
        new_id = first.expect("8", {11: "r4", 150: "0"})[37]
        assert int(new_id) > max(int(i) for i in acked.values())
    finally:
        first.close()
        second.close()


@contextmanager
def _three_resting(server: Server) -> Iterator[tuple[FixClient, dict[str, str]]]:
    """Start `server` with `_rest_three`'s orders resting; stop everything afterwards."""
    client = FixClient(0, "CLIENT1", "FIX.4.4")
    server.start()
    try:
        client.port = server.port
        client.logon()
        yield client, _rest_three(client)
    finally:
        client.close()
        server.stop()


@pytest.mark.parametrize("durability", ["group", "sync"])
def test_acknowledged_orders_survive_sigkill_with_their_ids_and_queue_positions(
    tmp_path: Path, durability: str
) -> None:
    server = Server(tmp_path, durability=durability)
    with _three_resting(server) as (_, acked):
        server.kill()  # no shutdown at all: SIGKILL
        server.start(fresh=False)
        _check_recovered(server, acked)


def test_a_clean_stop_snapshots_and_the_restart_replays_nothing(tmp_path: Path) -> None:
    server = Server(tmp_path, snapshot_every=0)  # no periodic snapshots: only the final one
    with _three_resting(server) as (client, acked):
        client.close()
        server.stop()
        assert server.returncode == 0
        taken = int(log_matches(server, r"snapshot after command (\d+) written").group(1))
        assert taken == 4  # the start's Configure, then three orders

        server.start(fresh=False)
        log_matches(server, r"recovered from the snapshot after command 4 and 0 journaled")
        _check_recovered(server, acked)


def test_sigkill_after_a_periodic_snapshot_recovers_from_it_and_the_journal_tail(
    tmp_path: Path,
) -> None:
    server = Server(tmp_path, durability="group", snapshot_every=2)
    with _three_resting(server) as (_, acked):
        log_matches(server, r"snapshot after command [234] written")
        server.kill()

        server.start(fresh=False)
        found = log_matches(
            server, r"recovered from the snapshot after command (\d+) and (\d+) journaled"
        )
        assert int(found.group(1)) + int(found.group(2)) == 4
        _check_recovered(server, acked)


def test_a_stopping_venue_refuses_new_logons_and_snapshots_what_it_drained(tmp_path: Path) -> None:
    server = Server(tmp_path, snapshot_every=0)
    staying = FixClient(0, "CLIENT1", "FIX.4.4")
    late = FixClient(0, "CLIENT2", "FIX.4.4")
    server.start()
    try:
        staying.port = late.port = server.port
        staying.logon()
        acked = _rest_three(staying)
        # `staying` does not answer the venue's Logout, so the venue waits out its grace
        # period with the port still open: a Logon now must be refused.
        server.signal_stop()
        staying.expect("5", timeout=5.0)
        late.connect()
        late.send("A", [(98, 0), (108, 30), (141, "Y")])
        refusal = late.expect("5", timeout=5.0)
        assert "shutting down" in refusal.get(58, ""), refusal
        server.wait_stopped()
        assert server.returncode == 0
        log_matches(server, r"snapshot after command 4 written")

        server.start(fresh=False)
        log_matches(server, r"recovered from the snapshot after command 4 and 0 journaled")
        _check_recovered(server, acked)
    finally:
        staying.close()
        late.close()
        server.stop()
