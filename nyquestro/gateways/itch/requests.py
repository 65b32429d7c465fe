"""The request server's protocol: what goes inside each length-prefixed TCP frame.

Client to server, one frame per request, the first byte saying which:

    "R" + MoldUDP64 request packet: Session (10), Sequence Number (8), Requested
          Message Count (2) — the messages from that number on, as MoldUDP64's request
          model asks (its UDP request packet, carried over TCP)
    "B" + Session (10) — the whole displayed order book

Server to client, for each request, in order:

    "P" + MoldUDP64 packet   retransmitted messages (header sequence = the first one's)
    "B" + MoldUDP64 packet   part of a book snapshot: Stock Trading Action, Add Order and
                             Net Order Imbalance Indicator messages; the header's
                             sequence number is the feed sequence number of the last
                             message the book reflects
    "Z" + Sequence (8) + Count (4)
                             the reply is complete: for "R" the first sequence number
                             sent and how many messages; for "B" the snapshot's sequence
                             number and how many messages it had
    "X" + ASCII text         the request was refused (the reply ends here)
"""

from dataclasses import dataclass
from struct import Struct

from nyquestro.gateways.itch.errors import ItchError
from nyquestro.gateways.itch.framing import SESSION_LENGTH

RETRANSMIT, BOOK = b"R", b"B"
PACKET, SNAPSHOT_PART, DONE, ERROR = b"P", b"B", b"Z", b"X"

_RETRANSMIT = Struct(">10sQH")
_DONE = Struct(">QI")


@dataclass(frozen=True, slots=True)
class Retransmit:
    session: bytes
    sequence: int
    count: int


@dataclass(frozen=True, slots=True)
class BookRequest:
    session: bytes


@dataclass(frozen=True, slots=True)
class Done:
    sequence: int
    count: int


def encode_retransmit(session: bytes, sequence: int, count: int) -> bytes:
    return RETRANSMIT + _RETRANSMIT.pack(session, sequence, count)


def encode_book_request(session: bytes) -> bytes:
    return BOOK + session


def decode_request(payload: bytes) -> Retransmit | BookRequest:
    kind, body = payload[:1], payload[1:]
    if kind == RETRANSMIT and len(body) == _RETRANSMIT.size:
        return Retransmit(*_RETRANSMIT.unpack(body))
    if kind == BOOK and len(body) == SESSION_LENGTH:
        return BookRequest(body)
    raise ItchError(f"request {payload[:24]!r}: expected 'R' + 20 bytes or 'B' + 10 bytes")


def encode_done(sequence: int, count: int) -> bytes:
    return DONE + _DONE.pack(sequence, count)


def decode_done(body: bytes) -> Done:
    if len(body) != _DONE.size:
        raise ItchError(f"end of reply of {len(body)} bytes, expected {_DONE.size}")
    return Done(*_DONE.unpack(body))
