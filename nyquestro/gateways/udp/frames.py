"""The UDP order-entry wire format: fixed-size little-endian frames (pure: no sockets).

Every frame, in both directions, starts with the same 16-byte header:

    offset size type  field
     0     2    u16   length          bytes in the whole frame, header included; must equal
                                      the datagram's size and the fixed size of its type
     2     1    u8    msg_type        see the tables below
     3     1    u8    version         1
     4     4    u32   session         client session id, configured in [udp.sessions]
     8     8    u64   seq             client sequence number, >= 1, unique per session;
                                      a reply carries the seq of the request it answers

Requests (client -> venue). Prices are signed 64-bit integers in ticks of the
instrument (price 190.25 at tick 0.01 is 19025); symbols are 8 ASCII bytes, left-aligned,
NUL-padded (printable, no spaces); every reserved byte must be 0.

    0x01 NewOrder     44 bytes   16 symbol[8]  24 side u8 (1 buy, 2 sell)
                                 25 ord_type u8 (1 market, 2 limit)
                                 26 tif u8 (0 day, 1 gtc, 3 ioc, 4 fok)  27 reserved u8
                                 28 qty u32 (>= 1)  32 price i64 (limit: > 0; market: 0)
                                 40 display_qty u32 (0: show all; else 1..qty, an iceberg)
    0x02 Cancel       24 bytes   16 order_id u64 (>= 1, from the Accepted reply)
    0x03 Replace      40 bytes   16 order_id u64 (>= 1)  24 qty u32 (>= 1, total incl.
                                 filled)  28 display_qty u32 (0: keep)  32 price i64
                                 (limit orders: > 0; market orders: 0)
    0x04 MassCancel   24 bytes   16 symbol[8] (all NUL: every symbol); cancels this
                                 session's open orders

Replies (venue -> client; the header's seq is the request's, or for a fill or cancel of a
resting order the seq that last named the order, its NewOrder's or Replace's):

    0x81 Accepted       32 bytes  16 order_id u64  24 ts u64 (venue nanoseconds)
    0x82 Rejected       88 bytes  16 request_type u8  17 reserved u8  18 reason u16
                                  20 reserved u32  24 text[64] (ASCII, NUL-padded: names
                                  the field and value, or the limit)
    0x83 Filled         56 bytes  16 order_id u64  24 trade_id u64  32 price i64
                                  40 qty u32  44 leaves_qty u32 (0: filled in full)
                                  48 ts u64
    0x84 Cancelled      40 bytes  16 order_id u64  24 cancelled_qty u32  28 reason u8
                                  29 reserved[3]  32 ts u64
    0x85 Replaced       48 bytes  16 order_id u64  24 qty u32  28 leaves_qty u32
                                  32 price i64  40 ts u64 (also sent when the venue
                                  reduced the order itself: self-match decrement)
    0x86 MassCancelled  32 bytes  16 count u32  20 reserved u32  24 ts u64

Reject reasons: the `FrameErrorCode` values below (1..10) for frames the gateway refuses,
else the engine's `RejectReason` (100 and up, e.g. 400 price outside the band). Cancel
reasons: `CANCEL_REASONS`.

`decode` is the one door: any bytes come out as a request frame or a `FrameError`, never
as an exception (fuzz/fuzz_udp_frame.py holds it to that).
"""

import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from nyquestro.domain.enums import OrdType, Side, TimeInForce
from nyquestro.domain.reasons import CancelReason, ExpireReason

VERSION = 1
HEADER = struct.Struct("<HBBIQ")
SYMBOL_SIZE = 8


class MsgType(IntEnum):
    NEW_ORDER = 0x01
    CANCEL = 0x02
    REPLACE = 0x03
    MASS_CANCEL = 0x04
    ACCEPTED = 0x81
    REJECTED = 0x82
    FILLED = 0x83
    CANCELLED = 0x84
    REPLACED = 0x85
    MASS_CANCELLED = 0x86


class FrameErrorCode(IntEnum):
    TOO_SHORT = 1
    """Shorter than a header: the sender cannot be identified, so no reply."""
    LENGTH_MISMATCH = 2
    BAD_VERSION = 3
    UNKNOWN_TYPE = 4
    BAD_SIZE = 5
    BAD_FIELD = 6
    BAD_SEQUENCE = 7
    UNKNOWN_SESSION = 8
    UNKNOWN_SYMBOL = 9
    STALE_SEQUENCE = 10
    """The seq is older than the idempotency window: it cannot be told from a retry."""


# Bodies after the header, per type.
_BODIES = {
    MsgType.NEW_ORDER: struct.Struct("<8sBBBBIqI"),
    MsgType.CANCEL: struct.Struct("<Q"),
    MsgType.REPLACE: struct.Struct("<QIIq"),
    MsgType.MASS_CANCEL: struct.Struct("<8s"),
    MsgType.ACCEPTED: struct.Struct("<QQ"),
    MsgType.REJECTED: struct.Struct("<BBHI64s"),
    MsgType.FILLED: struct.Struct("<QQqIIQ"),
    MsgType.CANCELLED: struct.Struct("<QIB3xQ"),
    MsgType.REPLACED: struct.Struct("<QIIqQ"),
    MsgType.MASS_CANCELLED: struct.Struct("<IIQ"),
}
SIZES = {msg_type: HEADER.size + body.size for msg_type, body in _BODIES.items()}
REQUEST_TYPES = frozenset({MsgType.NEW_ORDER, MsgType.CANCEL, MsgType.REPLACE,
                           MsgType.MASS_CANCEL})  # fmt: skip
TEXT_SIZE = 64

SIDES = {1: Side.BUY, 2: Side.SELL}
ORD_TYPES = {1: OrdType.MARKET, 2: OrdType.LIMIT}
TIFS = {0: TimeInForce.DAY, 1: TimeInForce.GTC, 3: TimeInForce.IOC, 4: TimeInForce.FOK}
SIDE_CODES = {side: code for code, side in SIDES.items()}
ORD_TYPE_CODES = {ord_type: code for code, ord_type in ORD_TYPES.items()}
TIF_CODES = {tif: code for code, tif in TIFS.items()}
CANCEL_REASONS: dict[CancelReason | ExpireReason, int] = {
    CancelReason.REQUESTED: 1,
    CancelReason.MASS_CANCEL: 2,
    CancelReason.SELF_MATCH: 3,
    CancelReason.REPLACED_AT_OR_BELOW_FILLED: 4,
    CancelReason.KILL_SWITCH: 5,
    ExpireReason.IOC_REMAINDER: 6,
    ExpireReason.FOK_NOT_FILLABLE: 7,
    ExpireReason.MARKET_REMAINDER: 8,
    ExpireReason.END_OF_DAY: 9,
    ExpireReason.EXPIRE_TIME: 10,
    ExpireReason.AUCTION_REMAINDER: 11,
}
_NO_SYMBOL = bytes(SYMBOL_SIZE)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewOrderFrame:
    session: int
    seq: int
    symbol: str
    side: Side
    ord_type: OrdType
    tif: TimeInForce
    qty: int
    px: int
    """Ticks; 0 for a market order."""
    display_qty: int
    """0: the whole order shows."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelFrame:
    session: int
    seq: int
    order_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceFrame:
    session: int
    seq: int
    order_id: int
    qty: int
    px: int
    """Ticks; 0 for a market order."""
    display_qty: int
    """0: keep the order's display setting."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MassCancelFrame:
    session: int
    seq: int
    symbol: str | None
    """None: every symbol."""


Request = NewOrderFrame | CancelFrame | ReplaceFrame | MassCancelFrame


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameError:
    """Why a frame was refused; `session`/`seq` are None when no header could be read."""

    code: FrameErrorCode
    text: str
    msg_type: int = 0
    session: int | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """A decoded venue reply (clients, tests): its type, header and body fields by name."""

    msg_type: MsgType
    session: int
    seq: int
    fields: dict[str, int | str]


def decode(data: bytes) -> Request | FrameError:
    """Any bytes → a request frame or a FrameError naming the first problem found."""
    if len(data) < HEADER.size:
        return FrameError(
            code=FrameErrorCode.TOO_SHORT,
            text=f"datagram of {len(data)} bytes is shorter than the {HEADER.size}-byte header",
        )
    length, raw_type, version, session, seq = HEADER.unpack_from(data)

    def error(code: FrameErrorCode, text: str) -> FrameError:
        return FrameError(code=code, text=text, msg_type=raw_type, session=session, seq=seq)

    if length != len(data):
        return error(
            FrameErrorCode.LENGTH_MISMATCH,
            f"length field {length} but the datagram has {len(data)} bytes",
        )
    if version != VERSION:
        return error(FrameErrorCode.BAD_VERSION, f"version {version}; expected {VERSION}")
    if raw_type not in _REQUEST_CODES:
        return error(FrameErrorCode.UNKNOWN_TYPE, f"msg_type 0x{raw_type:02x} is no request")
    msg_type = MsgType(raw_type)
    if length != SIZES[msg_type]:
        return error(
            FrameErrorCode.BAD_SIZE,
            f"{msg_type.name} is {SIZES[msg_type]} bytes; got {length}",
        )
    if seq == 0:
        return error(FrameErrorCode.BAD_SEQUENCE, "seq 0; expected >= 1")
    body = _BODIES[msg_type].unpack_from(data, HEADER.size)
    if msg_type is MsgType.NEW_ORDER:
        return _new_order(session, seq, body, error)
    if msg_type is MsgType.CANCEL:
        if body[0] == 0:
            return error(FrameErrorCode.BAD_FIELD, "order_id 0; expected >= 1")
        return CancelFrame(session=session, seq=seq, order_id=body[0])
    if msg_type is MsgType.REPLACE:
        return _replace(session, seq, body, error)
    raw_symbol = body[0]
    if raw_symbol == _NO_SYMBOL:
        return MassCancelFrame(session=session, seq=seq, symbol=None)
    symbol = _symbol(raw_symbol)
    if symbol is None:
        return error(FrameErrorCode.BAD_FIELD, f"symbol {raw_symbol!r}: {_SYMBOL_RULE}")
    return MassCancelFrame(session=session, seq=seq, symbol=symbol)


_REQUEST_CODES = frozenset(int(t) for t in REQUEST_TYPES)
_Error = Callable[[FrameErrorCode, str], FrameError]
_SYMBOL_RULE = "expected printable ASCII without spaces, left-aligned, NUL-padded"


def _symbol(raw: bytes) -> str | None:
    """The symbol in an 8-byte field, or None when the field breaks the rule."""
    text = raw.rstrip(b"\0")
    if not text or any(byte < 0x21 or byte > 0x7E for byte in text):
        return None
    return text.decode("ascii")


def _new_order(
    session: int, seq: int, body: tuple[bytes, int, int, int, int, int, int, int], error: _Error
) -> NewOrderFrame | FrameError:
    raw_symbol, side, ord_type, tif, reserved, qty, px, display_qty = body
    bad = None
    symbol = _symbol(raw_symbol)
    if symbol is None:
        bad = f"symbol {raw_symbol!r}: {_SYMBOL_RULE}"
    elif side not in SIDES:
        bad = f"side {side}; expected 1 (buy) or 2 (sell)"
    elif ord_type not in ORD_TYPES:
        bad = f"ord_type {ord_type}; expected 1 (market) or 2 (limit)"
    elif tif not in TIFS:
        bad = f"tif {tif}; expected 0 (day), 1 (gtc), 3 (ioc) or 4 (fok)"
    elif reserved:
        bad = f"reserved byte 27 is {reserved}; expected 0"
    elif qty == 0:
        bad = "qty 0; expected >= 1"
    elif ORD_TYPES[ord_type] is OrdType.LIMIT and px <= 0:
        bad = f"price {px} for a limit order; expected > 0 ticks"
    elif ORD_TYPES[ord_type] is OrdType.MARKET and px != 0:
        bad = f"price {px} for a market order; expected 0"
    elif display_qty > qty:
        bad = f"display_qty {display_qty} above qty {qty}"
    if bad is not None:
        return error(FrameErrorCode.BAD_FIELD, bad)
    assert symbol is not None
    return NewOrderFrame(
        session=session, seq=seq, symbol=symbol, side=SIDES[side], ord_type=ORD_TYPES[ord_type],
        tif=TIFS[tif], qty=qty, px=px, display_qty=display_qty,
    )  # fmt: skip


def _replace(
    session: int, seq: int, body: tuple[int, int, int, int], error: _Error
) -> ReplaceFrame | FrameError:
    order_id, qty, display_qty, px = body
    bad = None
    if order_id == 0:
        bad = "order_id 0; expected >= 1"
    elif qty == 0:
        bad = "qty 0; expected >= 1"
    elif px < 0:
        bad = f"price {px}; expected > 0 ticks (limit) or 0 (market)"
    elif display_qty > qty:
        bad = f"display_qty {display_qty} above qty {qty}"
    if bad is not None:
        return error(FrameErrorCode.BAD_FIELD, bad)
    return ReplaceFrame(
        session=session, seq=seq, order_id=order_id, qty=qty, px=px, display_qty=display_qty
    )


def check_known(
    request: Request, sessions: frozenset[int], symbols: frozenset[str]
) -> FrameError | None:
    """What only the venue's config can judge: a known session, a known symbol."""
    msg_type = REQUEST_TYPE_OF[type(request)]
    if request.session not in sessions:
        return FrameError(
            code=FrameErrorCode.UNKNOWN_SESSION,
            text=f"session {request.session} is not configured",
            msg_type=msg_type, session=request.session, seq=request.seq,
        )  # fmt: skip
    symbol = getattr(request, "symbol", None)
    if symbol is not None and symbol not in symbols:
        return FrameError(
            code=FrameErrorCode.UNKNOWN_SYMBOL, text=f"symbol {symbol!r} is not traded here",
            msg_type=msg_type, session=request.session, seq=request.seq,
        )  # fmt: skip
    return None


REQUEST_TYPE_OF: dict[type, int] = {
    NewOrderFrame: MsgType.NEW_ORDER,
    CancelFrame: MsgType.CANCEL,
    ReplaceFrame: MsgType.REPLACE,
    MassCancelFrame: MsgType.MASS_CANCEL,
}


# --- encoding -------------------------------------------------------------------------------


def _frame(msg_type: MsgType, session: int, seq: int, *body: object) -> bytes:
    header = HEADER.pack(SIZES[msg_type], msg_type, VERSION, session, seq)
    return header + _BODIES[msg_type].pack(*body)


def _symbol_field(symbol: str | None) -> bytes:
    return b"" if symbol is None else symbol.encode("ascii")


def encode(request: Request) -> bytes:
    """A request frame's bytes (clients, tests, the benchmark's load generator)."""
    r = request
    if isinstance(r, NewOrderFrame):
        return _frame(
            MsgType.NEW_ORDER, r.session, r.seq, _symbol_field(r.symbol), SIDE_CODES[r.side],
            ORD_TYPE_CODES[r.ord_type], TIF_CODES[r.tif], 0, r.qty, r.px, r.display_qty,
        )  # fmt: skip
    if isinstance(r, CancelFrame):
        return _frame(MsgType.CANCEL, r.session, r.seq, r.order_id)
    if isinstance(r, ReplaceFrame):
        return _frame(MsgType.REPLACE, r.session, r.seq, r.order_id, r.qty, r.display_qty, r.px)
    return _frame(MsgType.MASS_CANCEL, r.session, r.seq, _symbol_field(r.symbol))


def accepted(session: int, seq: int, order_id: int, ts: int) -> bytes:
    return _frame(MsgType.ACCEPTED, session, seq, order_id, ts)


def rejected(session: int, seq: int, request_type: int, reason: int, text: str) -> bytes:
    raw = text.encode("ascii", "replace")[:TEXT_SIZE]
    return _frame(MsgType.REJECTED, session, seq, request_type, 0, reason, 0, raw)


def filled(
    session: int, seq: int, order_id: int, trade_id: int, px: int, qty: int, leaves: int, ts: int
) -> bytes:
    return _frame(MsgType.FILLED, session, seq, order_id, trade_id, px, qty, leaves, ts)


def cancelled(session: int, seq: int, order_id: int, qty: int, reason: int, ts: int) -> bytes:
    return _frame(MsgType.CANCELLED, session, seq, order_id, qty, reason, ts)


def replaced(
    session: int, seq: int, order_id: int, qty: int, leaves: int, px: int, ts: int
) -> bytes:
    return _frame(MsgType.REPLACED, session, seq, order_id, qty, leaves, px, ts)


def mass_cancelled(session: int, seq: int, count: int, ts: int) -> bytes:
    return _frame(MsgType.MASS_CANCELLED, session, seq, count, 0, ts)


def error_reply(error: FrameError) -> bytes | None:
    """The Rejected reply to a refused frame, or None when its sender is unknown."""
    if error.session is None or error.seq is None:
        return None
    return rejected(error.session, error.seq, error.msg_type, error.code, error.text)


_REPLY_FIELDS = {
    MsgType.ACCEPTED: ("order_id", "ts"),
    MsgType.REJECTED: ("request_type", "_", "reason", "_", "text"),
    MsgType.FILLED: ("order_id", "trade_id", "px", "qty", "leaves_qty", "ts"),
    MsgType.CANCELLED: ("order_id", "cancelled_qty", "reason", "ts"),
    MsgType.REPLACED: ("order_id", "qty", "leaves_qty", "px", "ts"),
    MsgType.MASS_CANCELLED: ("count", "_", "ts"),
}


def decode_reply(data: bytes) -> Reply:
    """A venue reply's fields; raises ValueError on anything the venue would never send."""
    if len(data) < HEADER.size:
        raise ValueError(f"reply of {len(data)} bytes")
    length, raw_type, _version, session, seq = HEADER.unpack_from(data)
    msg_type = MsgType(raw_type)
    if msg_type not in _REPLY_FIELDS or not length == len(data) == SIZES[msg_type]:
        raise ValueError(f"not a reply: {data!r}")
    values = _BODIES[msg_type].unpack_from(data, HEADER.size)
    fields: dict[str, int | str] = {}
    for name, value in zip(_REPLY_FIELDS[msg_type], values, strict=True):
        if name != "_":
            fields[name] = (
                value.rstrip(b"\0").decode("ascii") if isinstance(value, bytes) else value
            )
    return Reply(msg_type=msg_type, session=session, seq=seq, fields=fields)
