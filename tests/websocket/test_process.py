"""The bridge in its own process, killed mid-flow: the core goes on (FIX clients trade,
the order acknowledged before the kill stays), the core restarts the bridge, and a client
that reconnects sees the book as it is and trades through the new process."""

import os
import re
import signal
import time
from pathlib import Path

from tests.fix.conftest import Venue, rest
from tests.websocket.client import WsClient
from tests.websocket.conftest import TOKEN, WsServer

SELL = "2"


def bridge_pids(server: WsServer) -> list[int]:
    text = server.log.read_text(errors="replace")
    return [int(pid) for pid in re.findall(r"websocket process started \(pid (\d+)\)", text)]


def connect_when_back(port: int, timeout: float = 20.0) -> WsClient:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return WsClient(port)
        except OSError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def test_a_killed_bridge_process_is_restarted_and_nothing_acknowledged_is_lost(
    tmp_path: Path,
) -> None:
    server = WsServer(tmp_path)
    server.start()
    venue = Venue(server)
    try:
        alice = WsClient(server.ws_port)
        alice.login(TOKEN)
        buy = alice.new_order("AAPL", "buy", 100, "189.00")
        alice.order("ack", buy)
        (first,) = bridge_pids(server)
        assert first != server.pid
        os.kill(first, signal.SIGKILL)
        # The core and FIX go on while the bridge is down: a FIX sell fills 30 of it.
        fix = venue.client("CLIENT2", "FIX.4.4")
        fix.new_order("AAPL", SELL, 30, "189.00")
        fix.expect("8", {150: "F"})
        rest(fix, "AAPL", SELL, 5, "191.00")
        alice.close()

        again = connect_when_back(server.ws_port)
        assert len(bridge_pids(server)) == 2, server.tail()
        again.send(type="subscribe", symbols=["AAPL"])
        snapshot = again.expect("snapshot")
        assert ["189.00", 70, 1] in snapshot["bids"], snapshot
        assert ["191.00", 5, 1] in snapshot["asks"], snapshot
        again.login(TOKEN)
        cancel = "WXC" + buy
        again.send(type="cancel", cl_ord_id=cancel, orig_cl_ord_id=buy)
        done = again.order("cancel", cancel)
        assert done["cancelled_qty"] == 70
        assert "ended with exit status -9; restarting it" in server.log.read_text()
        again.close()
    finally:
        for client in venue.clients:
            client.close()
        server.stop()
    assert server.returncode == 0, server.tail()
