"""Depth snapshots: the Nyquestro-specific message of the snapshot channel.

Not an ITCH 5.0 message (ITCH has no aggregated depth); it borrows the ITCH header so
the same tooling reads it, and a type letter ITCH 5.0 does not use:

    Message Type   1  "b"
    Stock Locate   2  our index of the symbol, as in the feed
    Tracking       2  0
    Timestamp      6  nanoseconds since midnight of the last command it reflects
    Level Kind     1  0: best bid and offer only; 1: the best N price levels per side
    Bid Levels     1  number of bid levels that follow
    Ask Levels     1  number of ask levels that follow
    then per level, bids best first, then asks best first:
    Price          4  Price(4)
    Shares         4  visible shares at the price
    Orders         4  displayed orders at the price

Each snapshot travels in a MoldUDP64 packet whose Sequence Number is the feed sequence
number of the last message the depth reflects (not a message number of this channel):
apply feed messages after it to bring the depth forward.
"""

import struct
from dataclasses import dataclass
from struct import Struct

from nyquestro.gateways.itch.errors import ItchError

DEPTH = b"b"
BBO, TOP_N = 0, 1
MAX_LEVELS = 255
_HEAD = Struct(">cHHHIBBB")
_LEVEL = Struct(">III")

Level = tuple[int, int, int]
"""(Price(4), visible shares, orders)"""


@dataclass(frozen=True, slots=True, kw_only=True)
class DepthSnapshot:
    locate: int
    timestamp: int
    kind: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]

    def encode(self) -> bytes:
        return encode_depth(self.locate, self.timestamp, self.kind, self.bids, self.asks)


def encode_depth(
    locate: int, timestamp: int, kind: int, bids: tuple[Level, ...], asks: tuple[Level, ...]
) -> bytes:
    head = _HEAD.pack(
        DEPTH, locate, 0, timestamp >> 32, timestamp & 0xFFFF_FFFF, kind, len(bids), len(asks)
    )
    return head + b"".join(_LEVEL.pack(*level) for level in (*bids, *asks))


def decode_depth(data: bytes) -> DepthSnapshot:
    try:
        kind_letter, locate, _tracking, high, low, kind, n_bids, n_asks = _HEAD.unpack_from(data)
    except struct.error:
        raise ItchError(f"depth message of {len(data)} bytes, shorter than its header") from None
    if kind_letter != DEPTH or kind not in (BBO, TOP_N):
        raise ItchError(f"depth message type {kind_letter!r} kind {kind}: expected 'b', 0 or 1")
    if len(data) != _HEAD.size + (n_bids + n_asks) * _LEVEL.size:
        raise ItchError(f"depth message of {len(data)} bytes for {n_bids}+{n_asks} levels")
    levels = [
        _LEVEL.unpack_from(data, _HEAD.size + i * _LEVEL.size) for i in range(n_bids + n_asks)
    ]
    return DepthSnapshot(
        locate=locate,
        timestamp=high << 32 | low,
        kind=kind,
        bids=tuple(levels[:n_bids]),
        asks=tuple(levels[n_bids:]),
    )
