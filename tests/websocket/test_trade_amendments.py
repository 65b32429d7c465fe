"""A bust and a correction on the WebSocket bridge: subscribers get trade_bust and
trade_correct and a late subscriber's tape shows the trade as it stands; the WebSocket
session that traded gets its own order's bust and correct."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient
from tests.control.conftest import OPERATOR, control_toml
from tests.fix.conftest import Server, Venue, free_port, managed
from tests.websocket.client import WsClient
from tests.websocket.conftest import TOKEN, websocket_toml

SELL = "2"


class BothServer(Server):
    """The FIX tests' venue with the bridge and the control plane on."""

    def __init__(self, root: Path) -> None:
        self.ws_port, self.control_port = free_port(), free_port()
        extra = websocket_toml(self.ws_port) + control_toml(self.control_port)
        super().__init__(root, extra_toml=extra)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[BothServer]:
    srv = BothServer(tmp_path)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def venue(server: BothServer) -> Iterator[Venue]:
    yield from managed(Venue(server), server)


def test_subscribers_and_the_trading_session_hear_of_a_correction_then_a_bust(
    server: BothServer, venue: Venue
) -> None:
    watcher, alice = WsClient(server.ws_port), WsClient(server.ws_port)
    try:
        watcher.send(type="subscribe", symbols=["AAPL"])
        watcher.expect("snapshot")
        alice.login(TOKEN)
        buy = alice.new_order("AAPL", "buy", 50, "189.00")
        alice.order("ack", buy)
        fix = venue.client("CLIENT2", "FIX.4.4")
        fix.new_order("AAPL", SELL, 20, "189.00")
        fix.expect("8", {150: "F"})
        trade = watcher.expect("trade")
        alice.order("fill", buy)
        with ControlClient(f"127.0.0.1:{server.control_port}", OPERATOR) as ops:
            ops.stub.CorrectTrade(pb.CorrectTradeRequest(
                trade_id=trade["trade_id"], px="188.95", qty=15), **ops.call())  # fmt: skip
            corrected = watcher.expect("trade_correct")
            assert (corrected["trade_id"], corrected["px"], corrected["qty"]) == (
                trade["trade_id"], "188.95", 15
            )  # fmt: skip
            own = alice.order("correct", buy)
            assert (own["orig_qty"], own["qty"], own["px"], own["cum_qty"]) == (
                20, 15, "188.95", 15
            )  # fmt: skip
            assert (own["leaves_qty"], own["status"]) == (30, "partially_filled")
            late = WsClient(server.ws_port)
            late.send(type="subscribe", symbols=["AAPL"])
            (taped,) = [t for t in late.expect("snapshot")["trades"]
                        if t["trade_id"] == trade["trade_id"]]  # fmt: skip
            assert (taped["px"], taped["qty"]) == ("188.95", 15)
            late.close()

            ops.stub.BustTrade(pb.BustTradeRequest(trade_id=trade["trade_id"]), **ops.call())
            assert watcher.expect("trade_bust")["trade_id"] == trade["trade_id"]
            own = alice.order("bust", buy)
            assert (own["cum_qty"], own["leaves_qty"], own["status"]) == (0, 30, "new")
            late = WsClient(server.ws_port)
            late.send(type="subscribe", symbols=["AAPL"])
            tape = late.expect("snapshot")["trades"]
            assert trade["trade_id"] not in [t["trade_id"] for t in tape]
            late.close()
        alice.cancel_open_orders()
    finally:
        watcher.close()
        alice.close()
