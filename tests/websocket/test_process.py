"""Gateway processes and kill -9. The bridge killed mid-flow: the core goes on (FIX
clients trade, the order acknowledged before the kill stays), the core restarts the
bridge, and a client that reconnects sees the book as it is and trades through the new
process. The core killed: its gateway processes die with it, and the restarted venue has
every acknowledged order, whichever gateway took it."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from websockets.exceptions import WebSocketException

from tests.fix.conftest import Venue, alive, gateway_pids, rest
from tests.websocket.client import WsClient
from tests.websocket.conftest import TOKEN, WsServer

SELL = "2"


def resting_buy(server: WsServer) -> tuple[WsClient, str]:
    """A client logged in as alice with a buy of 100 AAPL at 189.00 acknowledged."""
    alice = WsClient(server.ws_port)
    alice.login(TOKEN)
    buy = alice.new_order("AAPL", "buy", 100, "189.00")
    alice.order("ack", buy)
    return alice, buy


def connect_when_back(port: int, timeout: float = 20.0) -> WsClient:
    """Connects as a client would while the bridge restarts: a refused connection, or a
    handshake cut short or reset (accepted by the dying process's socket before the kernel
    tore it down, or by the port's brief other user while it was free), means try again
    shortly."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return WsClient(port)
        except (OSError, WebSocketException):
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
        alice, buy = resting_buy(server)
        (first,) = gateway_pids(server, "websocket")
        assert first != server.pid
        os.kill(first, signal.SIGKILL)
        # The core and FIX go on while the bridge is down: a FIX sell fills 30 of it.
        fix = venue.client("CLIENT2", "FIX.4.4")
        fix.new_order("AAPL", SELL, 30, "189.00")
        fix.expect("8", {150: "F"})
        rest(fix, "AAPL", SELL, 5, "191.00")
        alice.close()
        deadline = time.monotonic() + 10
        while alive(first) and time.monotonic() < deadline:
            time.sleep(0.05)

        again = connect_when_back(server.ws_port)
        assert len(gateway_pids(server, "websocket")) == 2, server.tail()
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


def test_gateway_processes_die_with_a_killed_core_and_a_restart_finds_every_order(
    tmp_path: Path,
) -> None:
    itch_sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    itch_sink.bind(("127.0.0.1", 0))
    server = WsServer(tmp_path)
    server.extra_toml += f'\n[itch]\ndestinations = ["127.0.0.1:{itch_sink.getsockname()[1]}"]\n'
    server.start()
    venue = Venue(server)
    try:
        alice, buy = resting_buy(server)
        fix = venue.client("CLIENT2", "FIX.4.4")
        resting = rest(fix, "AAPL", SELL, 5, "191.00")
        children = [*gateway_pids(server, "websocket"), *gateway_pids(server, "itch")]
        assert len(children) == 2
        alice.close()
        fix.close()
        server.kill()  # SIGKILL: the core gets no chance to stop anything
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in children if alive(pid)], "a gateway outlived the core"
        # Same WebSocket port: nothing of the old run holds it.
        server.start(fresh=False)
        watcher = connect_when_back(server.ws_port)
        watcher.send(type="subscribe", symbols=["AAPL"])
        snapshot = watcher.expect("snapshot")
        assert ["189.00", 100, 1] in snapshot["bids"], snapshot
        assert ["191.00", 5, 1] in snapshot["asks"], snapshot
        again = venue.client("CLIENT2", "FIX.4.4")
        again.expect("8", {11: again.cancel(resting, "AAPL", SELL), 150: "4"})
        watcher.login(TOKEN)
        cancel = "WXC" + buy
        watcher.send(type="cancel", cl_ord_id=cancel, orig_cl_ord_id=buy)
        assert watcher.order("cancel", cancel)["cancelled_qty"] == 100
        watcher.close()
    finally:
        for client in venue.clients:
            client.close()
        server.stop()
        itch_sink.close()


def test_the_fix_port_opens_only_once_every_gateway_process_has_joined(tmp_path: Path) -> None:
    """A client that waits for the FIX port (as certification scripts and these tests do)
    finds the whole venue ready: the FIX gateway's process, which could listen first,
    opens its port when the core opens the venue."""
    for run in range(3):  # the processes start in parallel: give a race a few chances
        (tmp_path / f"run{run}").mkdir()
        server = WsServer(tmp_path / f"run{run}")
        server.start()  # returns once the FIX port accepts
        try:
            socket.create_connection(("127.0.0.1", server.ws_port), timeout=1).close()
            # The FIX process logs that it listens just after the port opens: on a loaded
            # machine the client can be in first, so wait for the line, then check the
            # order of the lines (what the test is about).
            deadline = time.monotonic() + 10
            while "Nyquestro FIX acceptor on port" not in (log := server.log.read_text()):
                assert time.monotonic() < deadline, log
                time.sleep(0.05)
            listening = log.index("Nyquestro FIX acceptor on port")
            assert log.index("gateway websocket joined the bus") < listening, log
            assert log.index("gateway fix joined the bus") < listening, log
        finally:
            server.stop()


def test_a_taken_fix_port_stops_serve_with_an_error_naming_it(tmp_path: Path) -> None:
    """The FIX gateway's process opens its port last, but checks it is free before it
    joins: `serve` exits non-zero at start-up rather than running without a FIX port."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = WsServer(tmp_path)
        server.port = taken.getsockname()[1]
        server.config_path.write_text(server.config_text())
        done = subprocess.run(
            [sys.executable, "-m", "nyquestro", "serve", "--config", str(server.config_path)],
            check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode != 0, done.stderr
    assert f"[fix] port {server.port} cannot be listened on" in done.stderr, done.stderr
    assert "the fix process ended with exit status 1 before it joined the bus" in done.stderr
