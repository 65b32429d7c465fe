"""kill -9 loses nothing acknowledged: a restart on the same store is a recovery."""

from decimal import Decimal
from pathlib import Path

import pytest

from tests.fix.client import FixClient
from tests.fix.conftest import Server, snapshot

BUY, SELL = "1", "2"


@pytest.mark.parametrize("durability", ["group", "sync"])
def test_acknowledged_orders_survive_sigkill_with_their_ids_and_queue_positions(
    tmp_path: Path, durability: str
) -> None:
    server = Server(tmp_path, durability=durability)
    first = FixClient(0, "CLIENT1", "FIX.4.4")
    second = FixClient(0, "CLIENT2", "FIX.4.4")
    server.start()
    try:
        first.port = server.port
        first.logon()
        acked = {}
        for cl_ord_id, price in (("q1", "170.00"), ("q2", "170.00"), ("q3", "169.99")):
            first.new_order("IBM", BUY, 10, price, cl_ord_id=cl_ord_id)
            acked[cl_ord_id] = first.expect("8", {11: cl_ord_id, 150: "0"})[37]
        server.kill()  # no shutdown at all: SIGKILL

        server.start(fresh=False)
        first.port = second.port = server.port
        first.close()
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
        fill = first.expect("8", {150: "F"})
        assert fill[11] == "q1"
        # New orders continue the id sequence instead of reusing the recovered ones.
        first.new_order("IBM", BUY, 1, "160.00", cl_ord_id="q4")
        new_id = first.expect("8", {11: "q4", 150: "0"})[37]
        assert int(new_id) > max(int(i) for i in acked.values())
    finally:
        first.close()
        second.close()
        server.stop()
