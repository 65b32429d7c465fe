"""One UDP gateway worker process: receive, decode, validate, forward; send replies.

Started by `gateway.py` as `python -m nyquestro.gateways.udp.worker SPEC` with one end of
a Unix stream socket (SPEC's `fd`). It binds the UDP port with SO_REUSEPORT beside its
siblings, refuses invalid frames itself (a Rejected reply naming the error when the
header could be read, and a count either way: they never reach the venue) and forwards
valid ones in batches, one per wake-up. It exits when told to (STOP, after reporting its
counters) or when the venue's end of the socket closes, so a venue killed outright never
leaves a worker holding the port. SIGINT is ignored: Ctrl-C reaches the whole process
group, and the venue stops its workers itself once it has drained them.
"""

import json
import selectors
import signal
import socket
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

from nyquestro.gateways.udp import frames, relay

BATCH = 64
"""Datagrams read per wake-up before forwarding them as one record."""
RECEIVE_BUFFER = 4 << 20


@dataclass(frozen=True, slots=True)
class Spec:
    index: int
    fd: int
    host: str
    port: int
    sessions: frozenset[int]
    symbols: frozenset[str]


def spec_from(text: str) -> Spec:
    raw: dict[str, Any] = json.loads(text)
    return Spec(
        index=raw["index"], fd=raw["fd"], host=raw["host"], port=raw["port"],
        sessions=frozenset(raw["sessions"]), symbols=frozenset(raw["symbols"]),
    )  # fmt: skip


def validate(data: bytes, spec: Spec) -> frames.Request | frames.FrameError:
    decoded = frames.decode(data)
    if isinstance(decoded, frames.FrameError):
        return decoded
    return frames.check_known(decoded, spec.sessions, spec.symbols) or decoded


def serve(spec: Spec) -> Counter[str]:
    """Run until stopped; returns the counters."""
    counters: Counter[str] = Counter()
    venue = socket.socket(fileno=spec.fd)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    udp.bind((spec.host, spec.port))
    udp.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(udp, selectors.EVENT_READ)
    selector.register(venue, selectors.EVENT_READ)
    venue.sendall(relay.record(relay.READY, bytes([spec.index])))
    reader = relay.Reader()
    while True:
        for key, _mask in selector.select():
            if key.fileobj is udp:
                batch = _receive(udp, spec, counters)
                if batch:
                    # Blocking: a venue that falls behind slows this worker down, and the
                    # kernel drops what then overflows the UDP buffer, as UDP may.
                    venue.sendall(relay.record(relay.FORWARD, bytes([spec.index]) + batch))
                continue
            data = venue.recv(1 << 20)
            if not data:
                return counters
            for kind, payload in reader.feed(data):
                if kind == relay.STOP:
                    venue.sendall(relay.record(relay.COUNTERS, json.dumps(counters).encode()))
                    return counters
                address = relay.unpack_address(payload[: relay.ADDRESS.size])
                _send(udp, payload[relay.ADDRESS.size :], address, counters)


def _receive(udp: socket.socket, spec: Spec, counters: Counter[str]) -> bytes:
    """Read up to BATCH datagrams; answer the invalid ones, return the valid ones packed."""
    batch = bytearray()
    for _ in range(BATCH):
        try:
            data, address = udp.recvfrom(2048)
        except BlockingIOError:
            break
        counters["received"] += 1
        checked = validate(data, spec)
        if isinstance(checked, frames.FrameError):
            counters[f"refused {checked.code.name}"] += 1
            reply = frames.error_reply(checked)
            if reply is not None:
                _send(udp, reply, address, counters)
            continue
        counters["forwarded"] += 1
        batch += relay.forward_item(relay.pack_address(address), data)
    return bytes(batch)


def _send(udp: socket.socket, frame: bytes, address: relay.Address, counters: Counter[str]) -> None:
    try:
        udp.sendto(frame, address)
        counters["replies sent"] += 1
    except OSError:  # a full buffer or an unreachable client: UDP loses it, a retry recovers
        counters["replies lost"] += 1


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(spec_from(sys.argv[1]))


if __name__ == "__main__":
    main()
