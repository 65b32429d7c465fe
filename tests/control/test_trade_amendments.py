"""Busting and correcting a trade from the control plane: both sides' FIX sessions get the
report naming the fill (4.4 ExecType G/H, 4.2 ExecTransType 2/1), the drop copy gets its
copies, the executions table and positions follow, and the refusals are named."""

from decimal import Decimal

import grpc

from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient
from tests.control.conftest import OPERATOR, ControlServer, eventually
from tests.control.test_control_plane import acknowledged, nyquestro, status_of
from tests.fix.client import Msg
from tests.fix.conftest import Venue, check_against_dictionary
from tests.fix.test_crash import CrashClient
from tests.fix.test_drop_copy import copies_until

BUY, SELL = "1", "2"


def trade_of(ops: ControlClient, order_id: int) -> pb.ExecutionRow:
    def found() -> pb.ExecutionRow | None:
        rows = ops.stub.ListExecutions(pb.ListExecutionsRequest(order_id=order_id), **ops.call())
        return rows.executions[-1] if rows.executions else None

    return eventually(found)


def positions(ops: ControlClient, account: str) -> dict[str, int]:
    risk = ops.stub.GetRisk(pb.GetRiskRequest(account=account), **ops.call())
    return {p.symbol: p.position for a in risk.accounts for p in a.positions}


def test_a_correction_then_a_bust_reach_both_sides_and_the_drop_copy(
    server: ControlServer, venue: Venue, ops: ControlClient
) -> None:
    drop = CrashClient("DROPCOPY", "FIX.4.4")
    drop.barrier = "test_request"
    drop.reconnect(server.port)
    try:
        buyer = venue.client("CLIENT1", "FIX.4.4")
        seller = venue.client("CLIENT4", "FIX.4.2")
        order_id = acknowledged(buyer, "MSFT", BUY, 100, "419.50")
        sold = seller.new_order("MSFT", SELL, 40, "419.50")
        seller_fill = seller.expect("8", {11: sold, 150: "2"})
        buyer_fill = buyer.expect("8", {37: str(order_id), 150: "F"})
        trade = trade_of(ops, order_id)
        copied_before = len(copies_until(drop, 1, timeout=0.5))

        corrected = ops.stub.CorrectTrade(
            pb.CorrectTradeRequest(trade_id=trade.trade_id, px="419.40", qty=30, reason="price"),
            **ops.call(),
        )
        assert corrected.summary.startswith(f"trade {trade.trade_id} corrected: 40 -> 30 MSFT")
        g = buyer.expect("8", {37: str(order_id), 150: "G"})
        assert (g[19], g[32], Decimal(g[31]), g[14], g[151], g[39]) == (
            buyer_fill[17], "30", Decimal("419.40"), "30", "60", "1"
        )  # fmt: skip
        assert Decimal(g[6]) == Decimal("419.40")
        assert g[58] == f"trade {trade.trade_id} corrected from 40 @ 419.50: price"
        # 4.2: ExecTransType 2 (Correct); the seller's order is done and no longer fully
        # filled, so it is reported canceled.
        c = seller.expect("8", {11: sold, 20: "2"})
        assert (c[19], c[32], c[14], c[151], c[39], c[150]) == (
            seller_fill[17], "30", "30", "0", "4", "4"
        )  # fmt: skip

        assert positions(ops, "CLIENT4")["MSFT"] == -30

        busted = ops.stub.BustTrade(
            pb.BustTradeRequest(trade_id=trade.trade_id, reason="error trade"), **ops.call()
        )
        assert busted.summary == f"trade {trade.trade_id} busted (30 MSFT)"
        h = buyer.expect("8", {37: str(order_id), 150: "H"})
        assert (h[19], h[32], Decimal(h[31]), h[14], h[151], h[39], h[6]) == (
            buyer_fill[17], "30", Decimal("419.40"), "0", "60", "0", "0"
        )  # fmt: skip
        b = seller.expect("8", {11: sold, 20: "1"})
        assert (b[19], b[14], b[39]) == (seller_fill[17], "0", "4")
        for report in (g, c, h, b):
            check_against_dictionary(report)

        copies = copies_until(drop, copied_before + 4)
        amendments: list[Msg] = [m for m in copies if m.get(19)]
        assert [(m[115], m[150]) for m in amendments] == [
            ("CLIENT1", "G"), ("CLIENT4", "G"), ("CLIENT1", "H"), ("CLIENT4", "H")
        ]  # fmt: skip

        def amended() -> pb.ExecutionRow | None:
            row = trade_of(ops, order_id)
            return row if row.amended == "busted" else None

        assert (eventually(amended).qty, eventually(amended).px) == (0, 41940)
        # Flat again: a flat symbol with nothing open is not listed.
        assert positions(ops, "CLIENT4").get("MSFT", 0) == 0

        again = status_of(
            lambda: ops.stub.BustTrade(pb.BustTradeRequest(trade_id=trade.trade_id), **ops.call())
        )
        assert again.code() is grpc.StatusCode.NOT_FOUND
        assert again.details().startswith(f"no trade {trade.trade_id} to bust or correct")
    finally:
        drop.close()


def test_a_correction_is_checked_before_it_is_queued(venue: Venue, ops: ControlClient) -> None:
    buyer = venue.client("CLIENT2", "FIX.4.4")
    seller = venue.client("CLIENT3", "FIX.4.4")
    order_id = acknowledged(buyer, "IBM", BUY, 10, "170.00")
    seller.expect("8", {11: seller.new_order("IBM", SELL, 10, "170.00"), 150: "F"})
    trade = trade_of(ops, order_id)
    cases = {
        ("170.005", 5): "px",
        ("0", 5): "px '0': above 0",
        ("170.00", 11): "qty 11: 1 up to the trade's 10 (a correction cannot add)",
    }
    for (px, qty), told in cases.items():
        refused = status_of(lambda px=px, qty=qty: ops.stub.CorrectTrade(
            pb.CorrectTradeRequest(trade_id=trade.trade_id, px=px, qty=qty), **ops.call()
        ))  # fmt: skip
        assert refused.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert told in (refused.details() or "")
    buyer.expect("8", {37: str(order_id), 150: "F"})


def test_nyquestro_trade_bust_and_correct_from_the_command_line(
    server: ControlServer, venue: Venue, ops: ControlClient
) -> None:
    buyer = venue.client("CLIENT1", "FIX.4.4")
    seller = venue.client("CLIENT2", "FIX.4.4")
    order_id = acknowledged(buyer, "AAPL", BUY, 20, "185.00")
    seller.expect("8", {11: seller.new_order("AAPL", SELL, 20, "185.00"), 150: "F"})
    trade = trade_of(ops, order_id).trade_id
    through = ("--connect", server.control_address, "--token", OPERATOR, "--db",
               str(server.store_db))  # fmt: skip
    corrected = nyquestro("trade", "correct", str(trade), "--px", "184.99", "--qty", "20",
                          *through)  # fmt: skip
    assert corrected.returncode == 0, corrected.stderr
    assert f"correct trade {trade} to 20 @ 184.99: done as command" in corrected.stderr
    assert buyer.expect("8", {37: str(order_id), 150: "G"})[39] == "2"  # still filled
    busted = nyquestro("trade", "bust", str(trade), "--reason", "cli", *through)
    assert busted.returncode == 0, busted.stderr
    buyer.expect("8", {37: str(order_id), 150: "H"})
    twice = nyquestro("trade", "bust", str(trade), *through)
    assert twice.returncode == 1
    assert f"bust trade {trade}: refused (NOT_FOUND)" in twice.stderr
    untokened = nyquestro("trade", "correct", str(trade), "--px", "1", "--qty", "1")
    assert untokened.returncode == 2
    assert "needs a control-plane token" in untokened.stderr
