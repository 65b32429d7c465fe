"""Asking the venue's request server for what the UDP feed lost (protocol:
`nyquestro.gateways.itch.requests`). One short TCP connection per request."""

import socket
import time

from nyquestro.config.itch import Address
from nyquestro.gateways.itch import requests as r
from nyquestro.gateways.itch.errors import ItchError
from nyquestro.gateways.itch.framing import FrameReader, frame, parse_packet


class RecoveryError(Exception):
    """The server refused the request (its text says why) or did not answer in time."""


class RequestClient:
    def __init__(self, address: Address, timeout: float = 5.0) -> None:
        self.address = address
        self.timeout = timeout

    def retransmit(self, session: bytes, first: int, count: int) -> tuple[int, list[bytes]]:
        """Messages `first`.. (at most `count`, as many as the server still retains)."""
        packets, done = self._ask(r.encode_retransmit(session, first, count), r.PACKET)
        return done.sequence, [message for packet in packets for message in packet]

    def book(self, session: bytes) -> tuple[int, list[bytes]]:
        """The displayed book as messages, and the sequence number it is consistent with."""
        packets, done = self._ask(r.encode_book_request(session), r.SNAPSHOT_PART)
        return done.sequence, [message for packet in packets for message in packet]

    def _ask(self, request: bytes, kind: bytes) -> tuple[list[tuple[bytes, ...]], r.Done]:
        deadline = time.monotonic() + self.timeout
        packets: list[tuple[bytes, ...]] = []
        reader = FrameReader()
        try:
            with socket.create_connection(self.address, timeout=self.timeout) as conn:
                conn.sendall(frame(request))
                while time.monotonic() < deadline:
                    data = conn.recv(65536)
                    if not data:
                        break
                    for payload in reader.feed(data):
                        head, body = payload[:1], payload[1:]
                        if head == kind:
                            packets.append(parse_packet(body).messages)
                        elif head == r.DONE:
                            return packets, r.decode_done(body)
                        elif head == r.ERROR:
                            raise RecoveryError(body.decode("ascii", "replace"))
                        else:
                            raise RecoveryError(f"unexpected reply frame {head!r}")
        except (OSError, ItchError) as exc:
            raise RecoveryError(f"request to {self.address}: {exc}") from exc
        raise RecoveryError(f"request to {self.address}: no complete reply")
