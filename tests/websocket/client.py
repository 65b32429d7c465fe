"""A WebSocket test client: websockets' sync client with an inbox and deadlines.

Every read has a deadline; `expect` returns the first message that fits and keeps the
others in the inbox, so a test can wait for one message without losing the rest.
"""

import json
import socket
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from typing import Any

from websockets.client import ClientProtocol
from websockets.sync.client import ClientConnection, connect
from websockets.uri import parse_uri

from tests.fix.client import next_id

Msg = dict[str, Any]


class WsClient:
    def __init__(self, port: int) -> None:
        self._stack = ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(f"ws://127.0.0.1:{port}/ws", open_timeout=5)
        )
        self.inbox: list[Msg] = []
        self.orders: list[str] = []
        """ClOrdIDs of the orders this client sent."""
        hello = self.expect("hello")
        self.symbols: list[str] = hello["symbols"]

    def send(self, **message: object) -> None:
        self.ws.send(json.dumps({"v": 1, **message}))

    def send_raw(self, data: str | bytes) -> None:
        self.ws.send(data)

    def expect(
        self, kind: str, where: Callable[[Msg], bool] = lambda _m: True, timeout: float = 5.0
    ) -> Msg:
        deadline = time.monotonic() + timeout
        while True:
            for i, msg in enumerate(self.inbox):
                if msg["type"] == kind and where(msg):
                    return self.inbox.pop(i)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind} message within {timeout}s; inbox: {self.inbox}")
            try:
                text = self.ws.recv(timeout=remaining)
            except TimeoutError:
                continue
            self.inbox.append(json.loads(text))

    def login(self, token: str) -> Msg:
        self.send(type="login", token=token)
        return self.expect("logged_in")

    def new_order(self, symbol: str, side: str, qty: int, px: str | None, **extra: object) -> str:
        """Send a new_order; returns its ClOrdID (limit when priced, market otherwise)."""
        cl_ord_id = next_id("W")
        fields = {"px": px} if px is not None else {"ord_type": "market"}
        self.send(type="new_order", cl_ord_id=cl_ord_id, symbol=symbol, side=side, qty=qty,
                  **fields, **extra)  # fmt: skip
        self.orders.append(cl_ord_id)
        return cl_ord_id

    def order(self, event: str, cl_ord_id: str, timeout: float = 5.0) -> Msg:
        """Wait for an own-order message about `cl_ord_id`."""
        return self.expect(
            "order", lambda m: m["event"] == event and m["cl_ord_id"] == cl_ord_id, timeout
        )

    def cancel_open_orders(self) -> None:
        """Cancel every order this client sent (done ones just get a cancel_reject), so
        a shared venue's books are empty again for the next test."""
        for orig in self.orders:
            cl_ord_id = next_id("WX")
            self.send(type="cancel", cl_ord_id=cl_ord_id, orig_cl_ord_id=orig)
            self.expect("order", partial(_about, cl_ord_id))
        self.orders.clear()

    def close(self) -> None:
        self._stack.close()


class Book:
    """A symbol's book as a WebSocket client holds it: snapshot, then updates."""

    def __init__(self, snapshot: Msg) -> None:
        self.levels: dict[tuple[str, str], int] = {}
        for side, levels in (("buy", snapshot["bids"]), ("sell", snapshot["asks"])):
            for px, qty, _orders in levels:
                self.levels[(side, px)] = qty
        self.seq: int = snapshot["seq"]

    def apply(self, update: Msg) -> None:
        assert update["seq"] > self.seq, f"update {update['seq']} not after {self.seq}"
        self.seq = update["seq"]
        for change in update["changes"]:
            key = (change["side"], change["px"])
            if change["qty"]:
                self.levels[key] = change["qty"]
            else:
                assert key in self.levels, f"removal of a level the client never had: {change}"
                del self.levels[key]


def _about(cl_ord_id: str, msg: Msg) -> bool:
    return bool(msg["cl_ord_id"] == cl_ord_id)


def silent_client(port: int, subscribe_times: int, symbol: str) -> socket.socket:
    """A client that asks for `subscribe_times` snapshots of `symbol` and never reads
    a byte of them, with a small receive buffer so the venue's side fills up fast."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/ws"))
    protocol.send_request(protocol.connect())
    sock.sendall(b"".join(protocol.data_to_send()))
    sock.settimeout(5)
    while protocol.handshake_exc is None and protocol.state.name == "CONNECTING":
        protocol.receive_data(sock.recv(4096))
    assert protocol.handshake_exc is None, protocol.handshake_exc
    request = json.dumps({"v": 1, "type": "subscribe", "symbols": [symbol]}).encode()
    for _ in range(subscribe_times):
        protocol.send_text(request)
    sock.sendall(b"".join(protocol.data_to_send()))
    return sock
