"""Records between a UDP worker process and the venue process, over a Unix stream socket.

A stream, not datagrams: Linux queues at most `net.unix.max_dgram_qlen` (often 10) Unix
datagrams per socket, so a burst would drop requests the worker had already validated.
Each record is `u32 length, u8 kind, payload`:

    worker → venue   FORWARD   u8 worker index, then per request: u16 frame length,
                               4-byte IPv4 address, u16 port, the frame
                     READY     u8 worker index (its UDP socket is bound)
                     COUNTERS  JSON object of the worker's counters (answer to STOP)
    venue → worker   REPLY     4-byte IPv4 address, u16 port, the frame to send there
                     STOP      (empty): report counters and exit
"""

import socket
import struct
from collections.abc import Iterator

RECORD = struct.Struct("<IB")
ADDRESS = struct.Struct("<4sH")
ITEM = struct.Struct("<H4sH")

FORWARD = 1
READY = 2
COUNTERS = 3
REPLY = 4
STOP = 5

Address = tuple[str, int]


def record(kind: int, payload: bytes = b"") -> bytes:
    return RECORD.pack(len(payload), kind) + payload


def pack_address(address: Address) -> bytes:
    return ADDRESS.pack(socket.inet_aton(address[0]), address[1])


def unpack_address(packed: bytes) -> Address:
    host, port = ADDRESS.unpack(packed)
    return socket.inet_ntoa(host), port


def forwarded(payload: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(packed client address, frame) of each request in a FORWARD payload (after the
    worker index)."""
    offset, end = 1, len(payload)
    while offset < end:
        length, host, port = ITEM.unpack_from(payload, offset)
        offset += ITEM.size
        yield ADDRESS.pack(host, port), payload[offset : offset + length]
        offset += length


def forward_item(packed_address: bytes, frame: bytes) -> bytes:
    return struct.pack("<H", len(frame)) + packed_address + frame


class Reader:
    """Splits a stream into records; feed it what `recv` returned."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Every record `data` completes, as (kind, payload)."""
        buffer = self._buffer
        buffer += data
        offset = 0
        records = []
        while len(buffer) - offset >= RECORD.size:
            length, kind = RECORD.unpack_from(buffer, offset)
            start = offset + RECORD.size
            if len(buffer) - start < length:
                break
            records.append((kind, bytes(buffer[start : start + length])))
            offset = start + length
        del buffer[:offset]
        return records
