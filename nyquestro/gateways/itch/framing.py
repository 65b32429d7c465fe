"""MoldUDP64 packets, and the length-prefixed stream the request server speaks over TCP.

MoldUDP64 (Nasdaq MoldUDP64 Protocol Specification 1.00, "Downstream Packets"): a
20-byte header — Session (10 bytes, alphanumeric), Sequence Number (8, the number of
the first message in the packet), Message Count (2) — then Message Count message
blocks, each a 2-byte length and that many bytes. A count of 0 is a heartbeat whose
sequence number is the next one to come; 0xFFFF ends the session. All integers are
big-endian.

Over TCP every frame is a 2-byte big-endian length and that many bytes (the same
block format MoldUDP64 uses for its messages), so one reader serves both directions.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from struct import Struct

from nyquestro.gateways.itch.errors import ItchError

HEADER = Struct(">10sQH")
LENGTH = Struct(">H")
HEARTBEAT = 0
END_OF_SESSION = 0xFFFF
MAX_PAYLOAD = 1400
"""Default largest UDP payload: below a 1500-byte Ethernet MTU with IP and UDP headers."""
SESSION_LENGTH = 10


@dataclass(frozen=True, slots=True)
class Packet:
    session: bytes
    sequence: int
    count: int
    messages: tuple[bytes, ...]

    @property
    def is_heartbeat(self) -> bool:
        return self.count == HEARTBEAT

    @property
    def is_end_of_session(self) -> bool:
        return self.count == END_OF_SESSION


def session_field(name: str) -> bytes:
    """Session (10 bytes): left-justified, space-padded ASCII."""
    raw = name.encode("ascii")
    if len(raw) > SESSION_LENGTH:
        raise ValueError(f"a MoldUDP64 session has at most {SESSION_LENGTH} characters: {name!r}")
    return raw.ljust(SESSION_LENGTH)


def pack_packets(
    session: bytes, first_seq: int, messages: Sequence[bytes], max_payload: int = MAX_PAYLOAD
) -> list[bytes]:
    """As few packets as fit `messages` in order, each at most `max_payload` bytes (a
    single message too large for one is sent alone rather than split)."""
    packets: list[bytes] = []
    seq = first_seq
    block: list[bytes] = []
    size = HEADER.size
    for message in messages:
        framed = LENGTH.pack(len(message)) + message
        if block and (size + len(framed) > max_payload or len(block) == END_OF_SESSION - 1):
            packets.append(HEADER.pack(session, seq, len(block)) + b"".join(block))
            seq += len(block)
            block, size = [], HEADER.size
        block.append(framed)
        size += len(framed)
    if block:
        packets.append(HEADER.pack(session, seq, len(block)) + b"".join(block))
    return packets


def heartbeat(session: bytes, next_seq: int) -> bytes:
    return HEADER.pack(session, next_seq, HEARTBEAT)


def end_of_session(session: bytes, next_seq: int) -> bytes:
    return HEADER.pack(session, next_seq, END_OF_SESSION)


def parse_packet(data: bytes) -> Packet:
    """A downstream packet; `ItchError` unless its blocks exactly fill it."""
    if len(data) < HEADER.size:
        raise ItchError(f"MoldUDP64 packet of {len(data)} bytes, shorter than its header")
    session, sequence, count = HEADER.unpack_from(data)
    if count in (HEARTBEAT, END_OF_SESSION):
        if len(data) != HEADER.size:
            raise ItchError(f"MoldUDP64 packet with count {count} carries data")
        return Packet(session, sequence, count, ())
    messages: list[bytes] = []
    at = HEADER.size
    for _ in range(count):
        if at + LENGTH.size > len(data):
            raise ItchError(f"MoldUDP64 packet truncated at message {len(messages) + 1}")
        (length,) = LENGTH.unpack_from(data, at)
        at += LENGTH.size
        if at + length > len(data):
            raise ItchError(f"MoldUDP64 message {len(messages) + 1} runs past the packet")
        messages.append(bytes(data[at : at + length]))
        at += length
    if at != len(data):
        raise ItchError(f"MoldUDP64 packet has {len(data) - at} bytes after its messages")
    return Packet(session, sequence, count, tuple(messages))


def frame(payload: bytes) -> bytes:
    """One length-prefixed TCP frame."""
    return LENGTH.pack(len(payload)) + payload


class FrameReader:
    """Incremental: bytes in as they arrive, whole frames out (none until one is complete)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        frames = []
        at = 0
        buffer = self._buffer
        while len(buffer) - at >= LENGTH.size:
            (length,) = LENGTH.unpack_from(buffer, at)
            if len(buffer) - at - LENGTH.size < length:
                break
            start = at + LENGTH.size
            frames.append(bytes(buffer[start : start + length]))
            at = start + length
        del buffer[:at]
        return frames
