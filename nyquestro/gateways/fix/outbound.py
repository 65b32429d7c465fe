"""Engine events → FIX messages, per version (pure: no quickfix, no sockets).

Every state change of an order becomes one ExecutionReport to its owner. IOC, FOK and
market remainders are reported as Canceled (ExecType 4) with a Text saying why, as most
venues do; a DAY order at end of day is Expired (ExecType C). A stop order's trigger is
Restated (ExecType D) with a Text naming the last price (`Dialect.trigger_restatement`).
"""

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from nyquestro.codec.prices import DecimalPrices
from nyquestro.domain.commands import MassCancel, NewOrder
from nyquestro.domain.enums import OrdType, PegType, Side, TimeInForce
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    CancelRejected,
    EventBase,
    Execution,
    ExecutionAmended,
    ExecutionBusted,
    Expired,
    Filled,
    MassCancelled,
    Rejected,
    Replaced,
    Restated,
    Triggered,
)
from nyquestro.domain.reasons import (
    CancelRequestKind,
    ExpireReason,
    RejectReason,
    RestateReason,
)
from nyquestro.gateways.fix.dialect import FIX42, Dialect, tag
from nyquestro.gateways.fix.message import OutMessage
from nyquestro.gateways.fix.orders import OrderState, Status
from nyquestro.gateways.fix.spec import ENUMS

ORDER_ID = tag("OrderID")
CL_ORD_ID = tag("ClOrdID")
ORIG_CL_ORD_ID = tag("OrigClOrdID")
EXEC_ID = tag("ExecID")
EXEC_REF_ID = tag("ExecRefID")
EXEC_TRANS_TYPE = tag("ExecTransType")
EXEC_TYPE = tag("ExecType")
ORD_STATUS = tag("OrdStatus")
SYMBOL = tag("Symbol")
SIDE = tag("Side")
ORDER_QTY = tag("OrderQty")
ORD_TYPE = tag("OrdType")
PRICE = tag("Price")
STOP_PX = tag("StopPx")
EXPIRE_TIME = tag("ExpireTime")
TIME_IN_FORCE = tag("TimeInForce")
LAST_QTY = tag("LastQty")
LAST_PX = tag("LastPx")
LEAVES_QTY = tag("LeavesQty")
CUM_QTY = tag("CumQty")
AVG_PX = tag("AvgPx")
TRANSACT_TIME = tag("TransactTime")
ORD_REJ_REASON = tag("OrdRejReason")
CXL_REJ_REASON = tag("CxlRejReason")
CXL_REJ_RESPONSE_TO = tag("CxlRejResponseTo")
TEXT = tag("Text")
ACCOUNT = tag("Account")
MAX_FLOOR = tag("MaxFloor")
EXEC_INST = tag("ExecInst")
RESTATEMENT = tag("ExecRestatementReason")

SIDE_CODE = {Side.BUY: "1", Side.SELL: "2"}
EXEC_TRANS_TYPES = ENUMS[FIX42]["ExecTransType"]
"""FIX 4.2's ExecTransType (20): NEW, CANCEL, CORRECT, STATUS."""
ORD_TYPE_CODE = {
    OrdType.MARKET: "1",
    OrdType.LIMIT: "2",
    OrdType.STOP: "3",
    OrdType.STOP_LIMIT: "4",
    OrdType.PEGGED: "P",
}
TIF_CODE = {
    TimeInForce.DAY: "0",
    TimeInForce.GTC: "1",
    TimeInForce.IOC: "3",
    TimeInForce.FOK: "4",
    TimeInForce.GTD: "6",
    TimeInForce.OPG: "2",
    TimeInForce.ATC: "7",
}
PEG_EXEC_INST = {
    PegType.MARKET: "P",
    PegType.PRIMARY: "R",
    PegType.MIDPOINT: "M",
    PegType.LAST_SALE: "L",
}
STATUS_NAME = {
    Status.NEW: "NEW",
    Status.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    Status.FILLED: "FILLED",
    Status.CANCELED: "CANCELED",
    Status.EXPIRED: "EXPIRED",
}

# Our reason codes → FIX names; 4.2 lacks the finer 4.4 codes and says "exchange option".
_QTY = ("INCORRECT_QUANTITY", "BROKER_CREDIT")
_SHAPE = ("UNSUPPORTED_ORDER_CHARACTERISTIC", "BROKER_CREDIT")
_OTHER = ("OTHER", "BROKER_CREDIT")
ORD_REJ: dict[RejectReason, tuple[str, str]] = {
    RejectReason.UNKNOWN_SYMBOL: ("UNKNOWN_SYMBOL", "UNKNOWN_SYMBOL"),
    RejectReason.INVALID_QTY: _QTY,
    RejectReason.QTY_BELOW_MIN: _QTY,
    RejectReason.QTY_ABOVE_MAX: ("ORDER_EXCEEDS_LIMIT", "ORDER_EXCEEDS_LIMIT"),
    RejectReason.QTY_NOT_LOT_MULTIPLE: _QTY,
    RejectReason.INVALID_DISPLAY_QTY: _QTY,
    RejectReason.INVALID_PRICE: _SHAPE,
    RejectReason.PRICE_NOT_ALLOWED: _SHAPE,
    RejectReason.PRICE_REQUIRED: _SHAPE,
    RejectReason.INVALID_TIF_FOR_ORD_TYPE: _SHAPE,
    RejectReason.PEG_REQUIRED: _SHAPE,
    RejectReason.PEG_NOT_ALLOWED: _SHAPE,
    RejectReason.STOP_PX_REQUIRED: _SHAPE,
    RejectReason.STOP_PX_NOT_ALLOWED: _SHAPE,
    RejectReason.EXPIRE_TIME_REQUIRED: _SHAPE,
    RejectReason.EXPIRE_TIME_NOT_ALLOWED: _SHAPE,
    RejectReason.EXPIRE_TIME_PASSED: _SHAPE,
    RejectReason.NOT_IN_THIS_PHASE: _SHAPE,
    RejectReason.MARKET_CLOSED: ("EXCHANGE_CLOSED", "EXCHANGE_CLOSED"),
    RejectReason.DUPLICATE_CL_ORD_ID: ("DUPLICATE_ORDER", "DUPLICATE_ORDER"),
    RejectReason.UNKNOWN_ORDER: ("UNKNOWN_ORDER", "UNKNOWN_ORDER"),
    RejectReason.TOO_LATE: ("TOO_LATE_TO_ENTER", "TOO_LATE_TO_ENTER"),
    RejectReason.SYMBOL_HALTED: ("EXCHANGE_CLOSED", "EXCHANGE_CLOSED"),
    RejectReason.NO_LIQUIDITY: _OTHER,
    RejectReason.NO_PEG_REFERENCE: _OTHER,
    RejectReason.PRICE_OUTSIDE_BAND: ("ORDER_EXCEEDS_LIMIT", "ORDER_EXCEEDS_LIMIT"),
    RejectReason.NOTIONAL_ABOVE_MAX: ("ORDER_EXCEEDS_LIMIT", "ORDER_EXCEEDS_LIMIT"),
    RejectReason.POSITION_LIMIT: ("ORDER_EXCEEDS_LIMIT", "ORDER_EXCEEDS_LIMIT"),
    RejectReason.GROSS_NOTIONAL_LIMIT: ("ORDER_EXCEEDS_LIMIT", "ORDER_EXCEEDS_LIMIT"),
    RejectReason.THROTTLED: _OTHER,
    RejectReason.KILL_SWITCH: _OTHER,
}
CXL_REJ: dict[RejectReason, tuple[str, str]] = {
    RejectReason.UNKNOWN_ORDER: ("UNKNOWN_ORDER", "UNKNOWN_ORDER"),
    RejectReason.NOT_ORDER_OWNER: ("UNKNOWN_ORDER", "UNKNOWN_ORDER"),
    RejectReason.TOO_LATE: ("TOO_LATE_TO_CANCEL", "TOO_LATE_TO_CANCEL"),
    RejectReason.DUPLICATE_CL_ORD_ID: ("DUPLICATE_CL_ORD_ID", "BROKER_CREDIT"),
}
EXPIRY_TEXT = {
    ExpireReason.IOC_REMAINDER: "IOC remainder cancelled",
    ExpireReason.FOK_NOT_FILLABLE: "FOK order could not be filled in full; cancelled",
    ExpireReason.MARKET_REMAINDER: "market order remainder cancelled: no more liquidity",
    ExpireReason.END_OF_DAY: "DAY order expired at end of day",
    ExpireReason.EXPIRE_TIME: "GTD order expired at its ExpireTime",
    ExpireReason.AUCTION_REMAINDER: "left unfilled by its auction (market, OPG or ATC order)",
}
# Orders that ended because their time ran out: ExecType and OrdStatus Expired. The
# other expiries are remainders the venue cancels as the order arrives.
_TIMED_OUT = (ExpireReason.END_OF_DAY, ExpireReason.EXPIRE_TIME)
RESTATE_CODE = {
    RestateReason.PEG_REPRICE: "REPRICING_OF_ORDER",
    RestateReason.SELF_MATCH_DECREMENT: "BROKER_OPTION",
}


# Engine texts name command fields; a FIX client should read the tag it sent.
_FIX_NAMES = {
    "px": "Price (44)",
    "stop_px": "StopPx (99)",
    "expire_ts": "ExpireTime (126)",
    "qty": "OrderQty (38)",
    "display_qty": "MaxFloor (111)",
    "cl_ord_id": "ClOrdID (11)",
    "orig_cl_ord_id": "OrigClOrdID (41)",
    "order_id": "OrderID (37)",
    "peg": "ExecInst (18) peg",
}
_ENGINE_FIELD = re.compile(r"\b(" + "|".join(sorted(_FIX_NAMES, key=len, reverse=True)) + r")\b")


def fix_text(engine_text: str) -> str:
    return _ENGINE_FIELD.sub(lambda m: _FIX_NAMES[m.group(1)], engine_text)


class _SecondStamp:
    """The last formatted second: reports in the same second reuse it (strftime is slow)."""

    __slots__ = ("second", "text")

    def __init__(self) -> None:
        self.second = -1
        self.text = ""


_STAMP = _SecondStamp()


def fix_time(ts: int) -> str:
    """UTCTimestamp with milliseconds."""
    second = ts // 1_000_000_000
    stamp = _STAMP
    if stamp.second != second:
        stamp.text = f"{datetime.fromtimestamp(second, tz=UTC):%Y%m%d-%H:%M:%S}"
        stamp.second = second
    return f"{stamp.text}.{(ts // 1_000_000) % 1000:03d}"


class Outbound:
    """Builds messages for one dialect; prices rendered in each symbol's tick."""

    def __init__(self, dialect: Dialect, prices: DecimalPrices) -> None:
        self.dialect = dialect
        self._prices = prices
        self._is42 = dialect.has_exec_trans_type

    def _px(self, symbol: str, ticks: int) -> str:
        return self._prices.to_wire(symbol, ticks)

    def _avg_px(self, state: OrderState) -> str:
        if state.cum_qty == 0:
            return "0"
        tick = self._prices.tick(state.symbol, "symbol")
        avg = Decimal(state.cum_notional) * tick / Decimal(state.cum_qty)
        rounded = avg.quantize(Decimal("0.00000001"), rounding=ROUND_HALF_EVEN).normalize()
        return format(rounded, "f")

    def execution_report(
        self, event: EventBase, state: OrderState, exec_id: str
    ) -> OutMessage | None:
        """The ExecutionReport for an order event, or None when the event needs none."""
        d = self.dialect
        text = None
        extra: list[tuple[int, str]] = []
        orig = None
        if isinstance(event, Accepted):
            exec_type = d.exec_type["NEW"]
        elif isinstance(event, Execution):
            exec_type = d.fill_exec_types[1 if isinstance(event, Filled) else 0]
            extra = [
                (LAST_QTY, str(event.qty)),
                (LAST_PX, self._px(event.symbol, event.px)),
            ]
        elif isinstance(event, Cancelled):
            exec_type = d.exec_type["CANCELED"]
            orig = event.orig_cl_ord_id
            text = f"cancelled: {event.reason.value.replace('_', ' ')}"
        elif isinstance(event, Expired):
            if event.reason in _TIMED_OUT:
                exec_type = d.exec_type["EXPIRED"]
            else:
                exec_type = d.exec_type["CANCELED"]
            text = EXPIRY_TEXT[event.reason]
        elif isinstance(event, Replaced):
            exec_type = d.exec_type["REPLACED"]
            orig = event.orig_cl_ord_id
        elif isinstance(event, Restated):
            exec_type = d.exec_type["RESTATED"]
            extra = [(RESTATEMENT, d.restatement[RESTATE_CODE[event.reason]])]
            text = f"restated: {event.reason.value.replace('_', ' ')}"
        elif isinstance(event, Triggered):
            exec_type = d.exec_type["RESTATED"]
            if d.trigger_restatement is not None:
                extra = [(RESTATEMENT, d.trigger_restatement)]
            text = (
                f"stop triggered: last trade price {self._px(event.symbol, event.last_px)} "
                f"reached StopPx {self._px(event.symbol, event.stop_px)}"
            )
        else:
            return None
        if isinstance(event, Replaced) and self._is42:
            ord_status = d.ord_status["REPLACED"]
        elif isinstance(event, Expired) and event.reason not in _TIMED_OUT:
            ord_status = d.ord_status["CANCELED"]
        else:
            ord_status = d.ord_status[STATUS_NAME[state.status]]
        return self._report(state, exec_id, exec_type, ord_status, event.ts, orig, text, extra)

    def status_report(self, state: OrderState, exec_id: str, ts: int) -> OutMessage:
        """Answer to OrderStatusRequest: 4.4 ExecType I; 4.2 the current state, ExecTransType 3."""
        d = self.dialect
        ord_status = d.ord_status[STATUS_NAME[state.status]]
        exec_type = d.status_exec_type or self._state_exec_type(state)
        return self._report(
            state, exec_id, exec_type, ord_status, ts, None, None, [], trans_type="STATUS"
        )

    def amendment_report(
        self, event: ExecutionAmended, state: OrderState, exec_id: str, ref_exec_id: str
    ) -> OutMessage:
        """A busted or corrected fill: 4.4 ExecType H (Trade Cancel) or G (Trade Correct);
        4.2 ExecTransType 1 (Cancel) or 2 (Correct) with the order's current ExecType. Both
        name the fill in ExecRefID; LastQty/LastPx are the busted fill, or the corrected one."""
        d = self.dialect
        busted = isinstance(event, ExecutionBusted)
        if self._is42:
            exec_type = self._state_exec_type(state)
        else:
            exec_type = d.exec_type["TRADE_CANCEL" if busted else "TRADE_CORRECT"]
        last_qty, last_px = (event.orig_qty, event.orig_px) if busted else (event.qty, event.px)
        extra = [
            (EXEC_REF_ID, ref_exec_id),
            (LAST_QTY, str(last_qty)),
            (LAST_PX, self._px(event.symbol, last_px)),
        ]
        if busted:
            text = f"trade {event.trade_id} busted"
        else:
            text = (
                f"trade {event.trade_id} corrected from {event.orig_qty} @ "
                f"{self._px(event.symbol, event.orig_px)}"
            )
        if event.reason:
            text += f": {event.reason}"
        ord_status = d.ord_status[STATUS_NAME[state.status]]
        return self._report(
            state, exec_id, exec_type, ord_status, event.ts, None, text, extra,
            trans_type="CANCEL" if busted else "CORRECT",
        )  # fmt: skip

    def _state_exec_type(self, state: OrderState) -> str:
        """4.2's ExecType for the order's current state (it has no Order Status or Trade
        Cancel/Correct types: ExecTransType says what the report is)."""
        d = self.dialect
        return {
            Status.NEW: d.exec_type["NEW"],
            Status.PARTIALLY_FILLED: d.fill_exec_types[0],
            Status.FILLED: d.fill_exec_types[1],
            Status.CANCELED: d.exec_type["CANCELED"],
            Status.EXPIRED: d.exec_type["EXPIRED"],
        }[state.status]

    def _report(
        self,
        state: OrderState,
        exec_id: str,
        exec_type: str,
        ord_status: str,
        ts: int,
        orig: str | None,
        text: str | None,
        extra: list[tuple[int, str]],
        trans_type: str = "NEW",
    ) -> OutMessage:
        fields = [(ORDER_ID, str(state.order_id)), (CL_ORD_ID, state.cl_ord_id)]
        if orig is not None:
            fields.append((ORIG_CL_ORD_ID, orig))
        fields.append((EXEC_ID, exec_id))
        if self._is42:
            fields.append((EXEC_TRANS_TYPE, EXEC_TRANS_TYPES[trans_type]))
        fields += [
            (EXEC_TYPE, exec_type),
            (ORD_STATUS, ord_status),
            (ACCOUNT, state.account),
            (SYMBOL, state.symbol),
            (SIDE, SIDE_CODE[state.side]),
            (ORDER_QTY, str(state.qty)),
            (ORD_TYPE, ORD_TYPE_CODE[state.ord_type]),
        ]
        if state.px is not None and state.ord_type is not OrdType.MARKET:
            fields.append((PRICE, self._px(state.symbol, state.px)))
        if state.stop_px is not None:
            fields.append((STOP_PX, self._px(state.symbol, state.stop_px)))
        fields.append((TIME_IN_FORCE, TIF_CODE[state.tif]))
        if state.expire_ts is not None:
            fields.append((EXPIRE_TIME, fix_time(state.expire_ts)))
        if state.peg is not None:
            fields.append((EXEC_INST, PEG_EXEC_INST[state.peg]))
        if state.display_qty is not None:
            fields.append((MAX_FLOOR, str(state.display_qty)))
        fields += extra
        fields += [
            (LEAVES_QTY, str(state.leaves_qty)),
            (CUM_QTY, str(state.cum_qty)),
            (AVG_PX, self._avg_px(state)),
            (TRANSACT_TIME, fix_time(ts)),
        ]
        if text is not None:
            fields.append((TEXT, text))
        return OutMessage("8", fields)

    def rejected(self, event: Rejected, order: NewOrder, exec_id: str) -> OutMessage:
        """ExecutionReport(Rejected) for the new order `order` the engine refused."""
        return self.order_rejected(
            event.cl_ord_id,
            event.symbol,
            SIDE_CODE[order.side],
            str(order.qty),
            event.reason,
            fix_text(event.text),
            exec_id,
            event.ts,
        )

    def order_rejected(
        self,
        cl_ord_id: str,
        symbol: str,
        side: str,
        qty: str,
        reason: RejectReason,
        text: str,
        exec_id: str,
        ts: int,
        status: bool = False,
    ) -> OutMessage:
        """ExecutionReport(Rejected); `status` when it answers an OrderStatusRequest."""
        d = self.dialect
        code = d.ord_rej_reason[ORD_REJ[reason][1 if self._is42 else 0]]
        fields = [(ORDER_ID, "NONE"), (CL_ORD_ID, cl_ord_id), (EXEC_ID, exec_id)]
        if self._is42:
            fields.append((EXEC_TRANS_TYPE, EXEC_TRANS_TYPES["STATUS" if status else "NEW"]))
        exec_type = d.status_exec_type if status and d.status_exec_type else d.exec_type["REJECTED"]
        fields += [
            (EXEC_TYPE, exec_type),
            (ORD_STATUS, d.ord_status["REJECTED"]),
            (ORD_REJ_REASON, code),
            (SYMBOL, symbol or "NONE"),
            (SIDE, side or "1"),
            (ORDER_QTY, qty or "0"),
            (LEAVES_QTY, "0"),
            (CUM_QTY, "0"),
            (AVG_PX, "0"),
            (TRANSACT_TIME, fix_time(ts)),
            (TEXT, text),
        ]
        return OutMessage("8", fields)

    def cancel_rejected(
        self,
        cl_ord_id: str,
        orig_cl_ord_id: str | None,
        order_id: str | None,
        response_to: CancelRequestKind,
        reason: RejectReason,
        text: str,
        state: OrderState | None,
    ) -> OutMessage:
        d = self.dialect
        names = CXL_REJ.get(reason, ("OTHER", "BROKER_CREDIT"))
        status = (
            d.ord_status["REJECTED"] if state is None else d.ord_status[STATUS_NAME[state.status]]
        )
        return OutMessage(
            "9",
            [
                (ORDER_ID, order_id or (str(state.order_id) if state is not None else "NONE")),
                (CL_ORD_ID, cl_ord_id),
                (ORIG_CL_ORD_ID, orig_cl_ord_id or "NONE"),
                (ORD_STATUS, status),
                (CXL_REJ_RESPONSE_TO, "1" if response_to is CancelRequestKind.CANCEL else "2"),
                (CXL_REJ_REASON, d.cxl_rej_reason[names[1 if self._is42 else 0]]),
                (TEXT, fix_text(text)),
            ],
        )

    def cancel_rejected_event(self, event: CancelRejected, state: OrderState | None) -> OutMessage:
        return self.cancel_rejected(
            event.cl_ord_id,
            event.orig_cl_ord_id,
            None if event.order_id is None else str(event.order_id),
            event.response_to,
            event.reason,
            event.text,
            state,
        )

    def mass_cancel_report(self, event: MassCancelled, request: MassCancel) -> OutMessage:
        """OrderMassCancelReport: the venue takes only 1 (by Symbol) and 7 (all orders)."""
        request_type = "7" if request.symbol is None else "1"
        fields = [
            (CL_ORD_ID, event.cl_ord_id),
            (ORDER_ID, f"MC{event.seq}"),
            (tag("MassCancelRequestType"), request_type),
            (tag("MassCancelResponse"), request_type),
            (tag("TotalAffectedOrders"), str(event.cancelled_count)),
        ]
        if request.symbol is not None:
            fields.append((SYMBOL, request.symbol))
        return OutMessage("r", fields)
