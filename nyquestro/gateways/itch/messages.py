"""Nasdaq TotalView-ITCH 5.0 messages: encoders and decoders, big-endian as the spec says.

Every message starts with the common header of spec section 1.3 / 4: Message Type (1
byte), Stock Locate (2), Tracking Number (2), Timestamp (6, nanoseconds since midnight).
The layouts below are the spec's, field for field; docs/itch.md lists each field with
its section and says where Nyquestro fills it differently from Nasdaq (stock locate is
our index of the symbol, tracking number is the low 16 bits of the engine's command
sequence number, prices are the instrument's ticks scaled to Price(4)).

Encoders are plain functions over precompiled `struct.Struct`s because the feed calls
them once per book change; the frozen dataclasses are the decoded form (and encode
themselves through the same functions, so the two cannot drift apart). `decode` is the
one door bytes come in through: it returns a message or raises `ItchError`.
"""

import struct
from collections.abc import Callable
from dataclasses import dataclass
from struct import Struct
from typing import Any

from nyquestro.gateways.itch.errors import ItchError

# Header: type, stock locate, tracking number, timestamp as high 16 + low 32 bits.
_SYSTEM_EVENT = Struct(">cHHHIc")
_STOCK_DIRECTORY = Struct(">cHHHI8sccIcc2scccccIc")
_TRADING_ACTION = Struct(">cHHHI8scc4s")
_ADD_ORDER = Struct(">cHHHIQcI8sI")
_ADD_ORDER_MPID = Struct(">cHHHIQcI8sI4s")
_EXECUTED = Struct(">cHHHIQIQ")
_EXECUTED_PRICE = Struct(">cHHHIQIQcI")
_CANCEL = Struct(">cHHHIQI")
_DELETE = Struct(">cHHHIQ")
_REPLACE = Struct(">cHHHIQQII")
_TRADE = Struct(">cHHHIQcI8sIQ")
_BROKEN_TRADE = Struct(">cHHHIQ")
_NOII = Struct(">cHHHIQQc8sIIIcc")

MAX_U32 = 0xFFFF_FFFF
"""Largest Shares or Price(4) value: larger quantities or prices cannot be published."""
NANOS_PER_DAY = 86_400 * 1_000_000_000
PRICE_DECIMALS = 4
"""Price(4): an integer with four implied decimal places (spec section 3, Data Types)."""

BUY, SELL = b"B", b"S"

# System event codes (section 4.1).
START_OF_MESSAGES, END_OF_MESSAGES = b"O", b"C"
START_OF_MARKET_HOURS, END_OF_MARKET_HOURS = b"Q", b"M"
START_OF_SYSTEM_HOURS, END_OF_SYSTEM_HOURS = b"S", b"E"
# Trading states (section 4.2.2). ITCH has no "closed" state: docs/itch.md says why a
# closed stock is shown halted.
HALTED, QUOTATION_ONLY, TRADING = b"H", b"Q", b"T"
NO_REASON = b"    "
"""Reason (4 bytes) "not available": the spec's blank."""
CLOSED = b"CLSD"
"""Nyquestro's reason for a stock after the close (Nasdaq's codes have none)."""
# Net Order Imbalance Indicator codes (section 4.6).
NO_IMBALANCE, INSUFFICIENT_ORDERS = b"N", b"O"
OPENING_CROSS, CLOSING_CROSS = b"O", b"C"
VARIATION_UNDER_1PCT, VARIATION_UNKNOWN = b"L", b" "


def _split(ts: int) -> tuple[int, int]:
    return ts >> 32, ts & MAX_U32


def pack_system_event(locate: int, tracking: int, ts: int, code: bytes) -> bytes:
    return _SYSTEM_EVENT.pack(b"S", locate, tracking, ts >> 32, ts & MAX_U32, code)


def pack_stock_directory(
    locate: int, tracking: int, ts: int, stock: bytes, round_lot: int
) -> bytes:
    # Market category, financial status and the regulatory flags describe Nasdaq listings;
    # a simulator has none of them, so they carry the spec's "not available" values.
    return _STOCK_DIRECTORY.pack(
        b"R",
        locate,
        tracking,
        ts >> 32,
        ts & MAX_U32,
        stock,
        b" ",
        b" ",
        round_lot,
        b"N",
        b"Z",
        b"  ",
        b"P",
        b" ",
        b"N",
        b" ",
        b" ",
        0,
        b"N",
    )


def pack_trading_action(
    locate: int, tracking: int, ts: int, stock: bytes, state: bytes, reason: bytes
) -> bytes:
    return _TRADING_ACTION.pack(
        b"H", locate, tracking, ts >> 32, ts & MAX_U32, stock, state, b" ", reason
    )


def pack_add_order(
    locate: int,
    tracking: int,
    ts: int,
    ref: int,
    side: bytes,
    shares: int,
    stock: bytes,
    price: int,
    attribution: bytes | None,
) -> bytes:
    if attribution is None:
        return _ADD_ORDER.pack(
            b"A", locate, tracking, ts >> 32, ts & MAX_U32, ref, side, shares, stock, price
        )
    return _ADD_ORDER_MPID.pack(
        b"F",
        locate,
        tracking,
        ts >> 32,
        ts & MAX_U32,
        ref,
        side,
        shares,
        stock,
        price,
        attribution,
    )


def pack_executed(locate: int, tracking: int, ts: int, ref: int, shares: int, match: int) -> bytes:
    return _EXECUTED.pack(b"E", locate, tracking, ts >> 32, ts & MAX_U32, ref, shares, match)


def pack_executed_with_price(
    locate: int, tracking: int, ts: int, ref: int, shares: int, match: int, price: int
) -> bytes:
    return _EXECUTED_PRICE.pack(
        b"C", locate, tracking, ts >> 32, ts & MAX_U32, ref, shares, match, b"Y", price
    )


def pack_cancel(locate: int, tracking: int, ts: int, ref: int, shares: int) -> bytes:
    return _CANCEL.pack(b"X", locate, tracking, ts >> 32, ts & MAX_U32, ref, shares)


def pack_delete(locate: int, tracking: int, ts: int, ref: int) -> bytes:
    return _DELETE.pack(b"D", locate, tracking, ts >> 32, ts & MAX_U32, ref)


def pack_replace(
    locate: int, tracking: int, ts: int, old_ref: int, new_ref: int, shares: int, price: int
) -> bytes:
    return _REPLACE.pack(
        b"U", locate, tracking, ts >> 32, ts & MAX_U32, old_ref, new_ref, shares, price
    )


def pack_trade(
    locate: int,
    tracking: int,
    ts: int,
    side: bytes,
    shares: int,
    stock: bytes,
    price: int,
    match: int,
) -> bytes:
    # Order Reference Number 0: the executed order is not displayed, so there is no
    # reference to give (Nasdaq zero-fills it for non-displayed orders too).
    return _TRADE.pack(
        b"P", locate, tracking, ts >> 32, ts & MAX_U32, 0, side, shares, stock, price, match
    )


def pack_broken_trade(locate: int, tracking: int, ts: int, match: int) -> bytes:
    return _BROKEN_TRADE.pack(b"B", locate, tracking, ts >> 32, ts & MAX_U32, match)


def pack_noii(
    locate: int,
    tracking: int,
    ts: int,
    paired: int,
    imbalance: int,
    direction: bytes,
    stock: bytes,
    price: int,
    cross: bytes,
    variation: bytes,
) -> bytes:
    # Far, near and current reference price are one number here: the engine computes a
    # single equilibrium over every order of the call, there is no separate "cross orders
    # only" book (far) nor an NBBO to bound a reference price by.
    return _NOII.pack(
        b"I",
        locate,
        tracking,
        ts >> 32,
        ts & MAX_U32,
        paired,
        imbalance,
        direction,
        stock,
        price,
        price,
        price,
        cross,
        variation,
    )


def stock_field(symbol: str) -> bytes:
    """Stock (8 bytes, alpha): left-justified, space-padded (section 3)."""
    return symbol.encode("ascii").ljust(8)


# --- decoded form -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    locate: int
    tracking: int
    timestamp: int
    """Nanoseconds since midnight."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemEvent(Header):
    code: str

    def encode(self) -> bytes:
        return pack_system_event(
            self.locate, self.tracking, self.timestamp, self.code.encode("ascii")
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StockDirectory(Header):
    stock: str
    round_lot: int

    def encode(self) -> bytes:
        return pack_stock_directory(
            self.locate, self.tracking, self.timestamp, stock_field(self.stock), self.round_lot
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StockTradingAction(Header):
    stock: str
    state: str
    """"H" halted (or closed), "P" paused, "Q" quotation only, "T" trading."""
    reason: str

    def encode(self) -> bytes:
        return pack_trading_action(
            self.locate,
            self.tracking,
            self.timestamp,
            stock_field(self.stock),
            self.state.encode("ascii"),
            self.reason.encode("ascii").ljust(4),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AddOrder(Header):
    ref: int
    side: str
    """"B" or "S"."""
    shares: int
    stock: str
    price: int
    """Price(4)."""
    attribution: str | None
    """The MPID of an 'F' message; None for 'A'."""

    def encode(self) -> bytes:
        mpid = None if self.attribution is None else self.attribution.encode("ascii").ljust(4)
        return pack_add_order(
            self.locate,
            self.tracking,
            self.timestamp,
            self.ref,
            self.side.encode("ascii"),
            self.shares,
            stock_field(self.stock),
            self.price,
            mpid,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderExecuted(Header):
    ref: int
    shares: int
    match: int

    def encode(self) -> bytes:
        return pack_executed(
            self.locate, self.tracking, self.timestamp, self.ref, self.shares, self.match
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderExecutedWithPrice(Header):
    ref: int
    shares: int
    match: int
    printable: str
    price: int

    def encode(self) -> bytes:
        return _EXECUTED_PRICE.pack(
            b"C",
            self.locate,
            self.tracking,
            *_split(self.timestamp),
            self.ref,
            self.shares,
            self.match,
            self.printable.encode("ascii"),
            self.price,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancel(Header):
    ref: int
    shares: int
    """Shares cancelled (not the shares left)."""

    def encode(self) -> bytes:
        return pack_cancel(self.locate, self.tracking, self.timestamp, self.ref, self.shares)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDelete(Header):
    ref: int

    def encode(self) -> bytes:
        return pack_delete(self.locate, self.tracking, self.timestamp, self.ref)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReplace(Header):
    old_ref: int
    new_ref: int
    shares: int
    price: int

    def encode(self) -> bytes:
        return pack_replace(
            self.locate,
            self.tracking,
            self.timestamp,
            self.old_ref,
            self.new_ref,
            self.shares,
            self.price,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class NonCrossTrade(Header):
    ref: int
    side: str
    shares: int
    stock: str
    price: int
    match: int

    def encode(self) -> bytes:
        return _TRADE.pack(
            b"P",
            self.locate,
            self.tracking,
            *_split(self.timestamp),
            self.ref,
            self.side.encode("ascii"),
            self.shares,
            stock_field(self.stock),
            self.price,
            self.match,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokenTrade(Header):
    match: int

    def encode(self) -> bytes:
        return pack_broken_trade(self.locate, self.tracking, self.timestamp, self.match)


@dataclass(frozen=True, slots=True, kw_only=True)
class NetOrderImbalance(Header):
    """Net Order Imbalance Indicator ('I'): where an auction would uncross now."""

    paired: int
    """Shares that would trade at the reference price."""
    imbalance: int
    """Shares left over on `direction`'s side at that price."""
    direction: str
    """"B", "S", "N" (no imbalance) or "O" (insufficient orders: nothing would trade)."""
    stock: str
    far: int
    near: int
    reference: int
    """Price(4); 0 when there is none."""
    cross: str
    """"O" opening, "C" closing, "H" IPO or halted."""
    variation: str
    """Near price's deviation from the reference price: "L" under 1%, "1".."9", "A".."C",
    or " " (cannot be calculated)."""

    def encode(self) -> bytes:
        return _NOII.pack(
            b"I",
            self.locate,
            self.tracking,
            *_split(self.timestamp),
            self.paired,
            self.imbalance,
            self.direction.encode("ascii"),
            stock_field(self.stock),
            self.far,
            self.near,
            self.reference,
            self.cross.encode("ascii"),
            self.variation.encode("ascii"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Unknown:
    """A message type this decoder does not know: skipped, as the spec asks of clients."""

    type: str
    body: bytes


Message = (
    SystemEvent
    | StockDirectory
    | StockTradingAction
    | AddOrder
    | OrderExecuted
    | OrderExecutedWithPrice
    | OrderCancel
    | OrderDelete
    | OrderReplace
    | NonCrossTrade
    | BrokenTrade
    | NetOrderImbalance
)


def decode(data: bytes) -> Message | Unknown:
    """One ITCH message; `ItchError` when its bytes do not fit its type's layout."""
    if not data:
        raise ItchError("empty message")
    kind = data[0:1]
    layout = _LAYOUTS.get(kind)
    if layout is None:
        return Unknown(type=kind.decode("latin-1"), body=bytes(data))
    try:
        fields = layout.unpack(data)
        return _BUILDERS[kind](fields)
    except struct.error:
        raise ItchError(
            f"message {kind!r}: {len(data)} bytes, its layout has {layout.size}"
        ) from None
    except UnicodeDecodeError:
        raise ItchError(f"message {kind!r}: a text field is not ASCII") from None


def _text(raw: bytes) -> str:
    return raw.decode("ascii").rstrip(" ")


def _code(raw: bytes, allowed: bytes, name: str) -> str:
    if raw not in allowed or len(raw) != 1:
        raise ItchError(f"{name} {raw!r}: expected one of {allowed.decode('latin-1')}")
    return raw.decode("ascii")


_SIDES = b"BS"


def _system_event(f: tuple[Any, ...]) -> SystemEvent:
    return SystemEvent(
        locate=f[1],
        tracking=f[2],
        timestamp=_ts(f),
        code=_code(f[5], b"OSQMEC", "event code"),
    )


def _stock_directory(f: tuple[Any, ...]) -> StockDirectory:
    return StockDirectory(
        locate=f[1],
        tracking=f[2],
        timestamp=_ts(f),
        stock=_text(f[5]),
        round_lot=f[8],
    )


def _trading_action(f: tuple[Any, ...]) -> StockTradingAction:
    return StockTradingAction(
        locate=f[1],
        tracking=f[2],
        timestamp=_ts(f),
        stock=_text(f[5]),
        state=_code(f[6], b"HPQT", "trading state"),
        reason=_text(f[8]),
    )


def _add_order(f: tuple[Any, ...]) -> AddOrder:
    return AddOrder(
        locate=f[1],
        tracking=f[2],
        timestamp=_ts(f),
        ref=f[5],
        side=_code(f[6], _SIDES, "side"),
        shares=f[7],
        stock=_text(f[8]),
        price=f[9],
        attribution=_text(f[10]) if len(f) > 10 else None,
    )


def _executed(f: tuple[Any, ...]) -> OrderExecuted:
    return OrderExecuted(
        locate=f[1],
        tracking=f[2],
        timestamp=_ts(f),
        ref=f[5],
        shares=f[6],
        match=f[7],
    )


def _executed_price(f: tuple[Any, ...]) -> OrderExecutedWithPrice:
    return OrderExecutedWithPrice(
        locate=f[1],
        tracking=f[2],
        timestamp=_ts(f),
        ref=f[5],
        shares=f[6],
        match=f[7],
        printable=_code(f[8], b"YN", "printable"),
        price=f[9],
    )


def _cancel(f: tuple[Any, ...]) -> OrderCancel:
    return OrderCancel(
        locate=f[1],
        tracking=f[2],
        timestamp=_ts(f),
        ref=f[5],
        shares=f[6],
    )


def _delete(f: tuple[Any, ...]) -> OrderDelete:
    return OrderDelete(locate=f[1], tracking=f[2], timestamp=_ts(f), ref=f[5])


def _replace(f: tuple[Any, ...]) -> OrderReplace:
    return OrderReplace(
        locate=f[1],
        tracking=f[2],
        timestamp=_ts(f),
        old_ref=f[5],
        new_ref=f[6],
        shares=f[7],
        price=f[8],
    )


def _trade(f: tuple[Any, ...]) -> NonCrossTrade:
    return NonCrossTrade(
        locate=f[1],
        tracking=f[2],
        timestamp=_ts(f),
        ref=f[5],
        side=_code(f[6], _SIDES, "side"),
        shares=f[7],
        stock=_text(f[8]),
        price=f[9],
        match=f[10],
    )


def _broken_trade(f: tuple[Any, ...]) -> BrokenTrade:
    return BrokenTrade(locate=f[1], tracking=f[2], timestamp=_ts(f), match=f[5])


def _noii(f: tuple[Any, ...]) -> NetOrderImbalance:
    return NetOrderImbalance(
        locate=f[1],
        tracking=f[2],
        timestamp=_ts(f),
        paired=f[5],
        imbalance=f[6],
        direction=_code(f[7], b"BSNO", "imbalance direction"),
        stock=_text(f[8]),
        far=f[9],
        near=f[10],
        reference=f[11],
        cross=_code(f[12], b"OCH", "cross type"),
        variation=_code(f[13], b"L123456789ABC ", "price variation indicator"),
    )


def _ts(f: tuple[Any, ...]) -> int:
    return int(f[3] << 32 | f[4])


_LAYOUTS = {
    b"S": _SYSTEM_EVENT,
    b"R": _STOCK_DIRECTORY,
    b"H": _TRADING_ACTION,
    b"A": _ADD_ORDER,
    b"F": _ADD_ORDER_MPID,
    b"E": _EXECUTED,
    b"C": _EXECUTED_PRICE,
    b"X": _CANCEL,
    b"D": _DELETE,
    b"U": _REPLACE,
    b"P": _TRADE,
    b"B": _BROKEN_TRADE,
    b"I": _NOII,
}
_BUILDERS: dict[bytes, Callable[[tuple[Any, ...]], Message]] = {
    b"S": _system_event,
    b"R": _stock_directory,
    b"H": _trading_action,
    b"A": _add_order,
    b"F": _add_order,
    b"E": _executed,
    b"C": _executed_price,
    b"X": _cancel,
    b"D": _delete,
    b"U": _replace,
    b"P": _trade,
    b"B": _broken_trade,
    b"I": _noii,
}
