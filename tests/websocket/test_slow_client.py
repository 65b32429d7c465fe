"""A client that stops reading is dropped; the venue and the other clients carry on."""

import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from tests.fix.conftest import rest
from tests.websocket.client import silent_client
from tests.websocket.conftest import WsServer, WsVenue

QUEUE = 16
DEADLINE = 20.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WsServer]:
    srv = WsServer(Path(tmp_path_factory.mktemp("ws-slow")), client_queue=QUEUE)
    srv.start()
    yield srv
    srv.stop()


def test_a_client_that_never_reads_is_dropped_and_others_keep_receiving(venue: WsVenue) -> None:
    a = venue.client("CLIENT1", "FIX.4.4")
    for i in range(60):  # a deep book makes each snapshot a few kilobytes
        rest(a, "IBM", "1", 1, f"{150 + i}.00")
    fast = venue.ws()
    fast.send(type="subscribe", symbols=["IBM"])
    fast.expect("snapshot")

    # Far more snapshot bytes than the socket buffers and the queue of 16 hold.
    silent = silent_client(venue.ws_port, 200, "IBM")
    try:
        deadline = time.monotonic() + DEADLINE
        while "dropped (slow client" not in venue.server.tail(400):
            assert time.monotonic() < deadline, f"not dropped:\n{venue.server.tail()}"
            time.sleep(0.05)
        rest(a, "IBM", "2", 1, "300.00")
        assert fast.expect("update")["changes"][0]["px"] == "300.00"
        # The dropped client finds its connection closed (cleanly, or reset once the
        # closing handshake timed out) when it reads what was buffered.
        silent.settimeout(DEADLINE)
        with suppress(ConnectionResetError):
            while silent.recv(65536):
                pass
    finally:
        silent.close()
