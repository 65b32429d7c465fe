"""A small UDP order-entry client: build request frames, send them, read replies.

For tests, the benchmark and trying the venue by hand. It keeps its own client sequence
numbers; `request` retries with the same seq until a reply to it arrives, which is the
retry discipline the protocol's idempotency is built for.
"""

import socket
import time

from nyquestro.domain.enums import OrdType, Side, TimeInForce
from nyquestro.gateways.udp import frames
from nyquestro.gateways.udp.frames import (
    CancelFrame,
    MassCancelFrame,
    MsgType,
    NewOrderFrame,
    ReplaceFrame,
    Reply,
    Request,
)


class UdpClient:
    def __init__(self, host: str, port: int, session: int, first_seq: int = 1) -> None:
        self.session = session
        self.seq = first_seq - 1
        """The last sequence number used."""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect((host, port))
        self.inbox: list[Reply] = []
        """Replies read but not yet taken by `expect`."""

    def close(self) -> None:
        self.sock.close()

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def send_raw(self, data: bytes) -> None:
        self.sock.send(data)

    def send(self, request: Request) -> None:
        self.sock.send(frames.encode(request))

    def new_order(
        self,
        symbol: str,
        side: Side,
        qty: int,
        px: int,
        *,
        ord_type: OrdType = OrdType.LIMIT,
        tif: TimeInForce = TimeInForce.DAY,
        display_qty: int = 0,
    ) -> NewOrderFrame:
        return NewOrderFrame(
            session=self.session, seq=self.next_seq(), symbol=symbol, side=side,
            ord_type=ord_type, tif=tif, qty=qty, px=px, display_qty=display_qty,
        )  # fmt: skip

    def cancel(self, order_id: int) -> CancelFrame:
        return CancelFrame(session=self.session, seq=self.next_seq(), order_id=order_id)

    def replace(self, order_id: int, qty: int, px: int, display_qty: int = 0) -> ReplaceFrame:
        return ReplaceFrame(
            session=self.session, seq=self.next_seq(), order_id=order_id, qty=qty, px=px,
            display_qty=display_qty,
        )  # fmt: skip

    def mass_cancel(self, symbol: str | None = None) -> MassCancelFrame:
        return MassCancelFrame(session=self.session, seq=self.next_seq(), symbol=symbol)

    def receive(self, timeout: float) -> Reply | None:
        """The next reply off the socket, or None when none came within `timeout`."""
        self.sock.settimeout(max(timeout, 1e-6))
        try:
            data = self.sock.recv(2048)
        except TimeoutError:
            return None
        return frames.decode_reply(data)

    def expect(self, seq: int, msg_type: MsgType | None = None, timeout: float = 5.0) -> Reply:
        """The first reply to `seq` (of `msg_type` when given), from the inbox or the wire."""
        deadline = time.monotonic() + timeout
        while True:
            for reply in self.inbox:
                if reply.seq == seq and msg_type in (None, reply.msg_type):
                    self.inbox.remove(reply)
                    return reply
            received = self.receive(deadline - time.monotonic())
            if received is None:
                raise TimeoutError(f"no reply to seq {seq} ({msg_type}) within {timeout} s")
            self.inbox.append(received)

    def request(self, request: Request, timeout: float = 5.0, retry_every: float = 0.5) -> Reply:
        """Send `request`, again with the same seq every `retry_every` seconds until its
        first reply arrives; returns that reply."""
        deadline = time.monotonic() + timeout
        while True:
            self.send(request)
            try:
                return self.expect(request.seq, timeout=min(retry_every, timeout))
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise

    def drain(self, quiet: float = 0.2) -> list[Reply]:
        """Every reply that arrives until none has for `quiet` seconds (and the inbox)."""
        replies, self.inbox = self.inbox, []
        while (reply := self.receive(quiet)) is not None:
            replies.append(reply)
        return replies
