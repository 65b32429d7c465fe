"""FIX application messages → engine command requests (pure: no quickfix, no sockets).

quickfix has already validated framing, required fields and enum values against the
dictionary before a message gets here. What is left is what only a venue can judge:
prices on the instrument's tick grid, whole quantities, supported order shapes. Each such
problem becomes a `BadOrder`/`BadCancel` naming the tag, which the venue turns into an
ExecutionReport(Rejected) or OrderCancelReject; it never raises.
"""

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Protocol, TypeVar

from nyquestro.codec.prices import DecimalPrices
from nyquestro.domain.commands import Cancel, CancelReplace, Command, NewOrder
from nyquestro.domain.enums import OrdType, PegType, Side, SmpPolicy, TimeInForce
from nyquestro.domain.errors import InputError
from nyquestro.domain.ids import Account, ClOrdId, OrderId, Px, Qty, Seq, SessionKey, SmpId, Ts
from nyquestro.domain.reasons import CancelRequestKind, RejectReason
from nyquestro.domain.ticks import parse_decimal
from nyquestro.gateways.fix.dialect import Dialect, tag


class FieldSource(Protocol):
    """Read access to one message's body fields (quickfix.Message or a test double)."""

    def get(self, tag: int) -> str | None: ...

    def groups(self, count_tag: int, delimiter: int, tags: Sequence[int]) -> list[dict[int, str]]:
        """The entries of a repeating group, each as {tag: value} for the tags asked for."""
        ...

    def detach(self) -> "FieldSource":
        """A copy that stays valid after the callback that delivered the message returns
        (queue-mode throttles hold messages for later)."""
        ...


CommandFactory = Callable[[Seq, Ts], Command]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Submit:
    build: CommandFactory


@dataclass(frozen=True, slots=True)
class BadOrder:
    cl_ord_id: str
    symbol: str
    side: str
    qty: str
    reason: RejectReason
    text: str


@dataclass(frozen=True, slots=True)
class BadCancel:
    cl_ord_id: str
    orig_cl_ord_id: str | None
    order_id: str | None
    response_to: CancelRequestKind
    reason: RejectReason
    text: str


Translation = Submit | BadOrder | BadCancel

SIDES = {"1": Side.BUY, "2": Side.SELL}
ORD_TYPES = {
    "1": OrdType.MARKET,
    "2": OrdType.LIMIT,
    "3": OrdType.STOP,
    "4": OrdType.STOP_LIMIT,
    "P": OrdType.PEGGED,
}
TIFS = {
    "0": TimeInForce.DAY,
    "1": TimeInForce.GTC,
    "3": TimeInForce.IOC,
    "4": TimeInForce.FOK,
    "6": TimeInForce.GTD,
    "2": TimeInForce.OPG,
    "7": TimeInForce.ATC,
}
PEGS = {"P": PegType.MARKET, "R": PegType.PRIMARY, "M": PegType.MIDPOINT, "L": PegType.LAST_SALE}
SMP = {
    "1": SmpPolicy.CANCEL_RESTING,
    "2": SmpPolicy.CANCEL_INCOMING,
    "3": SmpPolicy.CANCEL_BOTH,
    "4": SmpPolicy.DECREMENT_AND_CANCEL,
}

CL_ORD_ID = tag("ClOrdID")
ORIG_CL_ORD_ID = tag("OrigClOrdID")
ORDER_ID = tag("OrderID")
ACCOUNT = tag("Account")
SYMBOL = tag("Symbol")
SIDE = tag("Side")
ORDER_QTY = tag("OrderQty")
ORD_TYPE = tag("OrdType")
PRICE = tag("Price")
STOP_PX = tag("StopPx")
EXPIRE_TIME = tag("ExpireTime")
EXPIRE_DATE = tag("ExpireDate")
TIME_IN_FORCE = tag("TimeInForce")
EXEC_INST = tag("ExecInst")
MAX_FLOOR = tag("MaxFloor")
SMP_ID = tag("SmpID")
SMP_INSTRUCTION = tag("SmpInstruction")


class _Refused(Exception):
    """Internal: carries a reject reason out of the field parsers."""

    def __init__(self, reason: RejectReason, text: str) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text


class Inbound:
    """Translator for one session (its key, its dialect, its default account)."""

    def __init__(self, session: SessionKey, account: str, dialect: Dialect, prices: DecimalPrices):
        self.session = session
        self.account = account
        self.dialect = dialect
        self._prices = prices

    # --- D, F, G ----------------------------------------------------------------------------

    def new_order(self, msg: FieldSource) -> Translation:
        cl_ord_id = msg.get(CL_ORD_ID) or ""
        symbol = msg.get(SYMBOL) or ""
        side_code = msg.get(SIDE) or ""
        qty_text = msg.get(ORDER_QTY) or ""
        try:
            side = self._side(side_code)
            qty = self._qty(qty_text, ORDER_QTY, "OrderQty")
            ord_type = self._choice(ORD_TYPES, msg.get(ORD_TYPE), ORD_TYPE, "OrdType")
            tif = TimeInForce.DAY
            if msg.get(TIME_IN_FORCE) is not None:
                tif = self._choice(TIFS, msg.get(TIME_IN_FORCE), TIME_IN_FORCE, "TimeInForce")
            px = self._positive_price(symbol, msg.get(PRICE), PRICE, "Price")
            stop_px = self._positive_price(symbol, msg.get(STOP_PX), STOP_PX, "StopPx")
            expire_ts = _expiry(msg.get(EXPIRE_TIME), msg.get(EXPIRE_DATE))
            peg = None
            offset = Px(0)
            if ord_type is OrdType.PEGGED:
                peg = self._peg(msg.get(EXEC_INST))
                offset = self._price(
                    symbol,
                    msg.get(self.dialect.peg_offset_tag),
                    self.dialect.peg_offset_tag,
                    "peg offset",
                ) or Px(0)
            if not ord_type.has_limit and px is not None:
                # Price on a market, stop or pegged order is meaningless here; say so
                # rather than silently ignore it.
                raise _Refused(
                    RejectReason.PRICE_NOT_ALLOWED,
                    f"Price (44) is not allowed on OrdType {msg.get(ORD_TYPE)}",
                )
            display = None
            if msg.get(MAX_FLOOR) is not None:
                display = self._qty(msg.get(MAX_FLOOR) or "", MAX_FLOOR, "MaxFloor")
            smp_policy = None
            if msg.get(SMP_INSTRUCTION) is not None:
                smp_policy = self._choice(
                    SMP, msg.get(SMP_INSTRUCTION), SMP_INSTRUCTION, "SmpInstruction"
                )
        except _Refused as exc:
            return BadOrder(cl_ord_id, symbol, side_code, qty_text, exc.reason, exc.text)
        smp_id = msg.get(SMP_ID)
        build = partial(
            _new_order,
            session=self.session,
            account=Account(msg.get(ACCOUNT) or self.account),
            cl_ord_id=ClOrdId(cl_ord_id),
            symbol=symbol,
            side=side,
            qty=qty,
            ord_type=ord_type,
            px=px,
            tif=tif,
            display_qty=display,
            peg=peg,
            peg_offset=offset,
            smp_id=None if smp_id is None else SmpId(smp_id),
            smp_policy=smp_policy,
            stop_px=stop_px,
            expire_ts=expire_ts,
        )
        return Submit(build)

    def cancel(self, msg: FieldSource) -> Translation:
        cl_ord_id = msg.get(CL_ORD_ID) or ""
        orig = msg.get(ORIG_CL_ORD_ID)
        order_id_text = msg.get(ORDER_ID)
        try:
            order_id = self._order_id(order_id_text)
        except _Refused as exc:
            return BadCancel(
                cl_ord_id, orig, order_id_text, CancelRequestKind.CANCEL, exc.reason, exc.text
            )
        return Submit(
            partial(
                _cancel,
                session=self.session,
                cl_ord_id=ClOrdId(cl_ord_id),
                orig_cl_ord_id=None if orig is None else ClOrdId(orig),
                order_id=order_id,
            )
        )

    def replace(self, msg: FieldSource) -> Translation:
        cl_ord_id = msg.get(CL_ORD_ID) or ""
        orig = msg.get(ORIG_CL_ORD_ID)
        order_id_text = msg.get(ORDER_ID)
        symbol = msg.get(SYMBOL) or ""
        try:
            order_id = self._order_id(order_id_text)
            side = self._side(msg.get(SIDE) or "")
            qty = self._qty(msg.get(ORDER_QTY) or "", ORDER_QTY, "OrderQty")
            px = self._positive_price(symbol, msg.get(PRICE), PRICE, "Price")
            stop_px = self._positive_price(symbol, msg.get(STOP_PX), STOP_PX, "StopPx")
            display = None
            if msg.get(MAX_FLOOR) is not None:
                display = self._qty(msg.get(MAX_FLOOR) or "", MAX_FLOOR, "MaxFloor")
        except _Refused as exc:
            return BadCancel(
                cl_ord_id, orig, order_id_text, CancelRequestKind.REPLACE, exc.reason, exc.text
            )
        return Submit(
            partial(
                _replace,
                session=self.session,
                cl_ord_id=ClOrdId(cl_ord_id),
                orig_cl_ord_id=None if orig is None else ClOrdId(orig),
                order_id=order_id,
                qty=qty,
                px=px,
                side=side,
                display_qty=display,
                stop_px=stop_px,
            )
        )

    # --- field parsers --------------------------------------------------------------------

    def _side(self, code: str) -> Side:
        side = SIDES.get(code)
        if side is None:
            raise _Refused(
                RejectReason.INVALID_TIF_FOR_ORD_TYPE,
                f"Side (54) {code!r} is not supported; use 1 (buy) or 2 (sell)",
            )
        return side

    def _qty(self, text: str, number: int, name: str) -> Qty:
        if text.isdigit() and text.isascii():  # the usual case, without Decimal
            return Qty(int(text))
        try:
            value = parse_decimal(text, f"{name} ({number})")
        except InputError as exc:
            raise _Refused(RejectReason.INVALID_QTY, str(exc)) from None
        if value != value.to_integral_value():
            raise _Refused(
                RejectReason.INVALID_QTY, f"{name} ({number}) {text!r} is not a whole quantity"
            )
        return Qty(int(value))

    def _price(self, symbol: str, text: str | None, number: int, name: str) -> Px | None:
        if text is None:
            return None
        field = f"{name} ({number})"
        try:
            self._prices.tick(symbol, "Symbol (55)")
        except InputError:
            # Unknown symbol: without a tick size the price cannot be judged beyond its
            # syntax; the engine rejects the order for its symbol before it needs one.
            _checked_decimal(text, field)
            return None
        try:
            return self._prices.to_ticks(symbol, text, field)
        except InputError as exc:
            raise _Refused(RejectReason.INVALID_PRICE, f"{exc} of {symbol}") from None

    def _positive_price(self, symbol: str, text: str | None, number: int, name: str) -> Px | None:
        """Price (44) or StopPx (99), judged by value only: whether the order type needs
        one is the engine's check (PRICE_REQUIRED, STOP_PX_REQUIRED, STOP_PX_NOT_ALLOWED),
        which journals the reject and names the field in its text."""
        px = self._price(symbol, text, number, name)
        if px is not None and px <= 0:
            raise _Refused(
                RejectReason.INVALID_PRICE, f"{name} ({number}) {text!r} must be positive"
            )
        return px

    def _choice(self, table: dict[str, _T], code: str | None, number: int, name: str) -> _T:
        value = table.get(code or "")
        if value is None:
            supported = ", ".join(table)
            raise _Refused(
                RejectReason.INVALID_TIF_FOR_ORD_TYPE,
                f"{name} ({number}) {code!r} is not supported; use one of {supported}",
            )
        return value

    def _peg(self, exec_inst: str | None) -> PegType:
        for code in (exec_inst or "").split():
            if code in PEGS:
                return PEGS[code]
        raise _Refused(
            RejectReason.PEG_REQUIRED, "OrdType P (pegged) needs ExecInst (18) P, R, M or L"
        )

    def _order_id(self, text: str | None) -> OrderId | None:
        if text is None or text == "NONE":
            return None
        if not text.isdigit() or not text.isascii():
            raise _Refused(RejectReason.UNKNOWN_ORDER, f"OrderID (37) {text!r} is not one of ours")
        return OrderId(int(text))


def _expiry(expire_time: str | None, expire_date: str | None) -> Ts | None:
    """A GTD order's expire time in ns: ExpireTime (126), else the end of ExpireDate (432)
    (the last nanosecond of that UTC day: the venue has no trading calendar of its own).
    Whether the order may have one is the engine's check."""
    if expire_time is not None:
        try:
            moment = datetime.strptime(expire_time, _UTC_TIMESTAMP if "." in expire_time
                                       else _UTC_SECONDS).replace(tzinfo=UTC)  # fmt: skip
        except ValueError:
            raise _Refused(
                RejectReason.EXPIRE_TIME_REQUIRED,
                f"ExpireTime (126) {expire_time!r} is not a UTCTimestamp "
                "(YYYYMMDD-HH:MM:SS or YYYYMMDD-HH:MM:SS.sss)",
            ) from None
        seconds = calendar.timegm(moment.timetuple())
        return Ts(seconds * 1_000_000_000 + moment.microsecond * 1000)
    if expire_date is not None:
        try:
            day = datetime.strptime(expire_date, "%Y%m%d").replace(tzinfo=UTC)
        except ValueError:
            raise _Refused(
                RejectReason.EXPIRE_TIME_REQUIRED,
                f"ExpireDate (432) {expire_date!r} is not a LocalMktDate (YYYYMMDD)",
            ) from None
        return Ts((calendar.timegm(day.timetuple()) + 86_400) * 1_000_000_000 - 1)
    return None


_UTC_SECONDS = "%Y%m%d-%H:%M:%S"
_UTC_TIMESTAMP = "%Y%m%d-%H:%M:%S.%f"


def _checked_decimal(text: str, field: str) -> Decimal:
    try:
        return parse_decimal(text, field)
    except InputError as exc:
        raise _Refused(RejectReason.INVALID_PRICE, str(exc)) from None


def _new_order(seq: Seq, ts: Ts, **fields: object) -> Command:
    return NewOrder(seq=seq, ts=ts, **fields)  # type: ignore[arg-type]


def _cancel(seq: Seq, ts: Ts, **fields: object) -> Command:
    return Cancel(seq=seq, ts=ts, **fields)  # type: ignore[arg-type]


def _replace(seq: Seq, ts: Ts, **fields: object) -> Command:
    return CancelReplace(seq=seq, ts=ts, **fields)  # type: ignore[arg-type]
