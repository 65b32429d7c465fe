"""The WebSocket bridge's wire format: JSON text messages, version 1 (docs/websocket.md).

Sans-IO: `parse_request` takes a received message and returns a request value or raises
`ProtocolError`, the one door bad input leaves through (the peer's fault, answered with
an `error` message; the connection stays open). The `*_message` functions build what
the bridge sends. Every message is a JSON object with `"v": 1` and a `"type"`.

Client to bridge:
    login        {"token"}                       log in with a configured session token
    subscribe    {"symbols": [...]}              a snapshot per symbol, then its updates
    unsubscribe  {"symbols": [...]}
    new_order    {"cl_ord_id", "symbol", "side": "buy"|"sell", "qty",
                  "ord_type": "limit"|"market" (default limit), "px" (limit only, a
                  decimal string), "tif": "day"|"gtc"|"ioc"|"fok" (default day)}
    cancel       {"cl_ord_id", "orig_cl_ord_id"}

Bridge to client: hello (on connect), logged_in, snapshot, update, trade, trade_bust,
trade_correct, order, unsubscribed, error (fields in the builders below and in docs/websocket.md).
"""

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from nyquestro.domain.enums import OrdType, Side, TimeInForce

VERSION = 1
MAX_SYMBOLS = 64
MAX_ID_LENGTH = 64
MAX_QTY = 10**12

SIDES = {"buy": Side.BUY, "sell": Side.SELL}
SIDE_NAMES = {side: name for name, side in SIDES.items()}
ORD_TYPES = {"limit": OrdType.LIMIT, "market": OrdType.MARKET}
# GTD, OPG and ATC need fields (an expire time) or phases this protocol does not carry.
TIFS = {
    tif.value: tif for tif in (TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK)
}
_DECIMAL = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,18})?")
_ID = re.compile(r"[\x21-\x7e]+")
"""Printable ASCII without spaces: ids travel on to FIX drop copies and audit rows."""
_T = TypeVar("_T")


class ProtocolError(Exception):
    """A client message the bridge cannot handle; `code` and `text` go back to the client."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text


@dataclass(frozen=True, slots=True, kw_only=True)
class Login:
    token: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe:
    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsubscribe:
    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewOrderRequest:
    cl_ord_id: str
    symbol: str
    side: Side
    qty: int
    ord_type: OrdType
    px: str | None
    """The decimal as sent; the bridge converts it to the instrument's ticks."""
    tif: TimeInForce


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRequest:
    cl_ord_id: str
    orig_cl_ord_id: str


Request = Login | Subscribe | Unsubscribe | NewOrderRequest | CancelRequest


def parse_request(data: str | bytes, max_bytes: int) -> Request:
    """One client message as a request, or ProtocolError naming what is wrong with it."""
    size = len(data.encode() if isinstance(data, str) else data)
    if size > max_bytes:
        raise ProtocolError("too_large", f"message of {size} bytes; the limit is {max_bytes}")
    if isinstance(data, bytes):
        raise ProtocolError("malformed", "binary message; send JSON as a text message")
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("malformed", f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("malformed", "a message is a JSON object")
    version = obj.get("v")
    if type(version) is not int or version != VERSION:
        raise ProtocolError("bad_version", f"v: {_show(version)}; this bridge speaks v {VERSION}")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in _PARSERS:
        raise ProtocolError(
            "unknown_type", f"type: {_show(kind)}; expected one of {', '.join(_PARSERS)}"
        )
    parse, fields = _PARSERS[kind]
    unknown = sorted(set(obj) - fields - {"v", "type"})
    if unknown:
        raise ProtocolError("bad_field", f"{unknown[0]}: not a field of {kind}")
    return parse(obj)


def _login(obj: dict[str, Any]) -> Login:
    return Login(token=_text(obj, "token", 256))


def _symbols(obj: dict[str, Any]) -> tuple[str, ...]:
    symbols = obj.get("symbols")
    if not isinstance(symbols, list) or not 0 < len(symbols) <= MAX_SYMBOLS:
        raise ProtocolError(
            "bad_field", f"symbols: {_show(symbols)}; expected a list of 1 to {MAX_SYMBOLS} names"
        )
    for i, symbol in enumerate(symbols):
        if not isinstance(symbol, str) or not _ID.fullmatch(symbol) or len(symbol) > 32:
            raise ProtocolError("bad_field", f"symbols[{i}]: {_show(symbol)}; expected a symbol")
    return tuple(dict.fromkeys(symbols))


def _subscribe(obj: dict[str, Any]) -> Subscribe:
    return Subscribe(symbols=_symbols(obj))


def _unsubscribe(obj: dict[str, Any]) -> Unsubscribe:
    return Unsubscribe(symbols=_symbols(obj))


def _new_order(obj: dict[str, Any]) -> NewOrderRequest:
    ord_type = _choice(obj, "ord_type", ORD_TYPES, "limit")
    px = obj.get("px")
    if ord_type is OrdType.LIMIT:
        if not isinstance(px, str) or not _DECIMAL.fullmatch(px):
            raise ProtocolError(
                "bad_field", f'px: {_show(px)}; a limit order needs a decimal string, e.g. "190.25"'
            )
    elif px is not None:
        raise ProtocolError("bad_field", f"px: {_show(px)}; a market order has no price")
    qty = obj.get("qty")
    if type(qty) is not int or not 0 < qty <= MAX_QTY:
        raise ProtocolError("bad_field", f"qty: {_show(qty)}; expected a whole number >= 1")
    return NewOrderRequest(
        cl_ord_id=_text(obj, "cl_ord_id", MAX_ID_LENGTH, pattern=_ID),
        symbol=_text(obj, "symbol", 32, pattern=_ID),
        side=_choice(obj, "side", SIDES, None),
        qty=qty,
        ord_type=ord_type,
        px=px,
        tif=_choice(obj, "tif", TIFS, "day"),
    )


def _cancel(obj: dict[str, Any]) -> CancelRequest:
    return CancelRequest(
        cl_ord_id=_text(obj, "cl_ord_id", MAX_ID_LENGTH, pattern=_ID),
        orig_cl_ord_id=_text(obj, "orig_cl_ord_id", MAX_ID_LENGTH, pattern=_ID),
    )


_PARSERS: dict[str, tuple[Callable[[dict[str, Any]], Request], set[str]]] = {
    "login": (_login, {"token"}),
    "subscribe": (_subscribe, {"symbols"}),
    "unsubscribe": (_unsubscribe, {"symbols"}),
    "new_order": (_new_order, {"cl_ord_id", "symbol", "side", "qty", "ord_type", "px", "tif"}),
    "cancel": (_cancel, {"cl_ord_id", "orig_cl_ord_id"}),
}
"""Each request type's parser and fields."""


def _text(obj: dict[str, Any], field: str, limit: int, pattern: re.Pattern[str] = _ID) -> str:
    value = obj.get(field)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ProtocolError(
            "bad_field", f"{field}: {_show(value)}; expected a string of 1 to {limit} characters"
        )
    if not pattern.fullmatch(value):
        raise ProtocolError(
            "bad_field", f"{field}: {_show(value)}; expected printable ASCII without spaces"
        )
    return value


def _choice(obj: dict[str, Any], field: str, options: Mapping[str, _T], default: str | None) -> _T:
    value = obj.get(field, default)
    if not isinstance(value, str) or value not in options:
        raise ProtocolError(
            "bad_field", f"{field}: {_show(value)}; expected one of {', '.join(options)}"
        )
    return options[value]


def _show(value: object) -> str:
    """A value for an error text, cut short: the client may have sent a lot of it."""
    text = "missing" if value is None else json.dumps(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


# --- bridge to client ---------------------------------------------------------------------

Level = tuple[str, int, int]
"""(price as a decimal string, visible quantity, order count)"""


def encode(message: Mapping[str, object]) -> str:
    return json.dumps(message, separators=(",", ":"))


def error_message(code: str, text: str) -> str:
    return encode({"v": VERSION, "type": "error", "code": code, "text": text})


def hello_message(symbols: Iterable[str], max_message_bytes: int) -> str:
    """The first message on every connection: what can be subscribed to, and the size
    limit of client messages."""
    return encode({"v": VERSION, "type": "hello", "symbols": list(symbols),
                   "max_message_bytes": max_message_bytes})  # fmt: skip


def logged_in_message(name: str, account: str) -> str:
    return encode({"v": VERSION, "type": "logged_in", "name": name, "account": account})


def unsubscribed_message(symbols: Iterable[str]) -> str:
    return encode({"v": VERSION, "type": "unsubscribed", "symbols": list(symbols)})


def snapshot_message(
    symbol: str,
    seq: int,
    bids: Iterable[Level],
    asks: Iterable[Level],
    trades: Iterable[Mapping[str, object]],
) -> str:
    """The whole visible book of `symbol` after command `seq`, best prices first, and the
    latest trades, oldest first."""
    return encode({
        "v": VERSION, "type": "snapshot", "symbol": symbol, "seq": seq,
        "bids": [list(level) for level in bids], "asks": [list(level) for level in asks],
        "trades": list(trades),
    })  # fmt: skip


def update_message(
    symbol: str, seq: int, ts: int, changes: Iterable[tuple[str, str, int, int]]
) -> str:
    """Levels of `symbol` that command `seq` changed: (side, px, qty, orders); qty 0
    removes the level."""
    return encode({
        "v": VERSION, "type": "update", "symbol": symbol, "seq": seq, "ts": ts,
        "changes": [
            {"side": side, "px": px, "qty": qty, "orders": orders}
            for side, px, qty, orders in changes
        ],
    })  # fmt: skip


def trade_fields(trade_id: int, px: str, qty: int, aggressor: Side, ts: int) -> dict[str, object]:
    return {"trade_id": trade_id, "px": px, "qty": qty, "aggressor": SIDE_NAMES[aggressor],
            "ts": ts}  # fmt: skip


def trade_message(symbol: str, seq: int, fields: Mapping[str, object]) -> str:
    return encode({"v": VERSION, "type": "trade", "symbol": symbol, "seq": seq, **fields})


def trade_amended_message(symbol: str, seq: int, busted: bool, fields: Mapping[str, object]) -> str:
    """A trade printed earlier was busted (type trade_bust) or corrected (trade_correct,
    with its corrected px and qty)."""
    kind = "trade_bust" if busted else "trade_correct"
    return encode({"v": VERSION, "type": kind, "symbol": symbol, "seq": seq, **fields})


def order_message(event: str, seq: int, fields: Mapping[str, object]) -> str:
    """One of the logged-in session's own orders changed: `event` is ack, fill, cancel,
    expire, restate, replace, reject, cancel_reject, bust or correct."""
    return encode({"v": VERSION, "type": "order", "event": event, "seq": seq, **fields})
