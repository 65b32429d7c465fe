"""Events: everything the engine decided, in the order it decided it.

Every event carries the `seq` and `ts` of the command that caused it, so a consumer can
tie any output back to the journaled input. Events are immutable and hold only plain
values, so they can be published, journaled and compared byte for byte.

Each class writes its `__init__` out (`init=False` to the decorator): the engine builds
about three events per command, and the `__init__` that `dataclass` generates costs
~1.2 µs a call and stays interpreted when the core is compiled with mypyc (mypyc issue
#817), while a written-out one compiles to ~40 ns. `object.__setattr__` is how a frozen
class sets its own fields. Equality, hashing and `repr` are still the dataclass's.
"""

from dataclasses import dataclass

from nyquestro.domain.enums import (
    OrdType,
    PegType,
    SessionAction,
    Side,
    TimeInForce,
    TradingPhase,
)
from nyquestro.domain.ids import (
    Account,
    ClOrdId,
    OrderId,
    Px,
    Qty,
    Seq,
    SessionKey,
    Symbol,
    TradeId,
    Ts,
)
from nyquestro.domain.reasons import (
    CancelReason,
    CancelRequestKind,
    ExpireReason,
    RejectReason,
    RestateReason,
)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class EventBase:
    seq: Seq
    ts: Ts

    def __init__(self, *, seq: Seq, ts: Ts) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)


# --- order lifecycle: one event per order state change, addressed to its owner ---------


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Accepted(EventBase):
    order_id: OrderId
    session: SessionKey
    account: Account
    cl_ord_id: ClOrdId
    symbol: Symbol
    side: Side
    qty: Qty
    ord_type: OrdType
    px: Px | None
    """Limit price, or the peg's initial price; None for market orders."""
    tif: TimeInForce
    display_qty: Qty | None
    peg: PegType | None
    stop_px: Px | None = None
    """Stop and stop-limit orders: the trigger price (see `Triggered`)."""
    expire_ts: Ts | None = None
    """GTD orders: when they expire."""

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        order_id: OrderId,
        session: SessionKey,
        account: Account,
        cl_ord_id: ClOrdId,
        symbol: Symbol,
        side: Side,
        qty: Qty,
        ord_type: OrdType,
        px: Px | None,
        tif: TimeInForce,
        display_qty: Qty | None,
        peg: PegType | None,
        stop_px: Px | None = None,
        expire_ts: Ts | None = None,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "order_id", order_id)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "account", account)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "qty", qty)
        object.__setattr__(self, "ord_type", ord_type)
        object.__setattr__(self, "px", px)
        object.__setattr__(self, "tif", tif)
        object.__setattr__(self, "display_qty", display_qty)
        object.__setattr__(self, "peg", peg)
        object.__setattr__(self, "stop_px", stop_px)
        object.__setattr__(self, "expire_ts", expire_ts)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Rejected(EventBase):
    """A new order that was not accepted."""

    session: SessionKey
    cl_ord_id: ClOrdId
    symbol: Symbol
    reason: RejectReason
    text: str

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        session: SessionKey,
        cl_ord_id: ClOrdId,
        symbol: Symbol,
        reason: RejectReason,
        text: str,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "text", text)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class CancelRejected(EventBase):
    """A cancel or replace request that was not carried out."""

    session: SessionKey
    cl_ord_id: ClOrdId
    orig_cl_ord_id: ClOrdId | None
    order_id: OrderId | None
    response_to: CancelRequestKind
    reason: RejectReason
    text: str

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        session: SessionKey,
        cl_ord_id: ClOrdId,
        orig_cl_ord_id: ClOrdId | None,
        order_id: OrderId | None,
        response_to: CancelRequestKind,
        reason: RejectReason,
        text: str,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "orig_cl_ord_id", orig_cl_ord_id)
        object.__setattr__(self, "order_id", order_id)
        object.__setattr__(self, "response_to", response_to)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "text", text)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Execution(EventBase):
    """One side of a trade, addressed to that order's owner."""

    order_id: OrderId
    session: SessionKey
    account: Account
    cl_ord_id: ClOrdId
    symbol: Symbol
    side: Side
    trade_id: TradeId
    px: Px
    qty: Qty
    cum_qty: Qty
    leaves_qty: Qty
    cum_notional: int
    """Sum of px * qty over this order's fills, in ticks: AvgPx is exact from it."""
    aggressor_side: Side
    contra_order_id: OrderId

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        order_id: OrderId,
        session: SessionKey,
        account: Account,
        cl_ord_id: ClOrdId,
        symbol: Symbol,
        side: Side,
        trade_id: TradeId,
        px: Px,
        qty: Qty,
        cum_qty: Qty,
        leaves_qty: Qty,
        cum_notional: int,
        aggressor_side: Side,
        contra_order_id: OrderId,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "order_id", order_id)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "account", account)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "trade_id", trade_id)
        object.__setattr__(self, "px", px)
        object.__setattr__(self, "qty", qty)
        object.__setattr__(self, "cum_qty", cum_qty)
        object.__setattr__(self, "leaves_qty", leaves_qty)
        object.__setattr__(self, "cum_notional", cum_notional)
        object.__setattr__(self, "aggressor_side", aggressor_side)
        object.__setattr__(self, "contra_order_id", contra_order_id)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class PartiallyFilled(Execution):
    pass


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Filled(Execution):
    pass


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Cancelled(EventBase):
    order_id: OrderId
    session: SessionKey
    cl_ord_id: ClOrdId
    """The cancel request's ClOrdID, or the order's own when nobody asked (SMP, mass)."""
    orig_cl_ord_id: ClOrdId | None
    symbol: Symbol
    side: Side
    reason: CancelReason
    cancelled_qty: Qty
    cum_qty: Qty

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        order_id: OrderId,
        session: SessionKey,
        cl_ord_id: ClOrdId,
        orig_cl_ord_id: ClOrdId | None,
        symbol: Symbol,
        side: Side,
        reason: CancelReason,
        cancelled_qty: Qty,
        cum_qty: Qty,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "order_id", order_id)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "orig_cl_ord_id", orig_cl_ord_id)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "cancelled_qty", cancelled_qty)
        object.__setattr__(self, "cum_qty", cum_qty)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Expired(EventBase):
    """The unfilled remainder of an IOC, FOK or market order, or a DAY order at day end."""

    order_id: OrderId
    session: SessionKey
    cl_ord_id: ClOrdId
    symbol: Symbol
    side: Side
    reason: ExpireReason
    expired_qty: Qty
    cum_qty: Qty

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        order_id: OrderId,
        session: SessionKey,
        cl_ord_id: ClOrdId,
        symbol: Symbol,
        side: Side,
        reason: ExpireReason,
        expired_qty: Qty,
        cum_qty: Qty,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "order_id", order_id)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "expired_qty", expired_qty)
        object.__setattr__(self, "cum_qty", cum_qty)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Replaced(EventBase):
    order_id: OrderId
    session: SessionKey
    cl_ord_id: ClOrdId
    orig_cl_ord_id: ClOrdId
    symbol: Symbol
    side: Side
    px: Px | None
    qty: Qty
    leaves_qty: Qty
    cum_qty: Qty
    display_qty: Qty | None
    priority_kept: bool
    stop_px: Px | None = None
    """A stop order's trigger price after the replace."""

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        order_id: OrderId,
        session: SessionKey,
        cl_ord_id: ClOrdId,
        orig_cl_ord_id: ClOrdId,
        symbol: Symbol,
        side: Side,
        px: Px | None,
        qty: Qty,
        leaves_qty: Qty,
        cum_qty: Qty,
        display_qty: Qty | None,
        priority_kept: bool,
        stop_px: Px | None = None,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "order_id", order_id)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "orig_cl_ord_id", orig_cl_ord_id)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "px", px)
        object.__setattr__(self, "qty", qty)
        object.__setattr__(self, "leaves_qty", leaves_qty)
        object.__setattr__(self, "cum_qty", cum_qty)
        object.__setattr__(self, "display_qty", display_qty)
        object.__setattr__(self, "priority_kept", priority_kept)
        object.__setattr__(self, "stop_px", stop_px)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Triggered(EventBase):
    """A stop order's stop price was reached: from here on it trades as a market order
    (stop) or a limit order at `px` (stop-limit). Its executions follow in the same
    command."""

    order_id: OrderId
    session: SessionKey
    account: Account
    cl_ord_id: ClOrdId
    symbol: Symbol
    side: Side
    ord_type: OrdType
    px: Px | None
    stop_px: Px
    last_px: Px
    """The last trade price that reached the stop price."""
    qty: Qty
    leaves_qty: Qty
    cum_qty: Qty

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        order_id: OrderId,
        session: SessionKey,
        account: Account,
        cl_ord_id: ClOrdId,
        symbol: Symbol,
        side: Side,
        ord_type: OrdType,
        px: Px | None,
        stop_px: Px,
        last_px: Px,
        qty: Qty,
        leaves_qty: Qty,
        cum_qty: Qty,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "order_id", order_id)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "account", account)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "ord_type", ord_type)
        object.__setattr__(self, "px", px)
        object.__setattr__(self, "stop_px", stop_px)
        object.__setattr__(self, "last_px", last_px)
        object.__setattr__(self, "qty", qty)
        object.__setattr__(self, "leaves_qty", leaves_qty)
        object.__setattr__(self, "cum_qty", cum_qty)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Restated(EventBase):
    """The engine changed a live order on its own: a peg repriced or SMP decremented it."""

    order_id: OrderId
    session: SessionKey
    cl_ord_id: ClOrdId
    symbol: Symbol
    side: Side
    reason: RestateReason
    px: Px | None
    qty: Qty
    leaves_qty: Qty
    cum_qty: Qty
    reduced_qty: Qty
    """Quantity removed without a fill (SMP decrement); 0 for a reprice."""

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        order_id: OrderId,
        session: SessionKey,
        cl_ord_id: ClOrdId,
        symbol: Symbol,
        side: Side,
        reason: RestateReason,
        px: Px | None,
        qty: Qty,
        leaves_qty: Qty,
        cum_qty: Qty,
        reduced_qty: Qty,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "order_id", order_id)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "px", px)
        object.__setattr__(self, "qty", qty)
        object.__setattr__(self, "leaves_qty", leaves_qty)
        object.__setattr__(self, "cum_qty", cum_qty)
        object.__setattr__(self, "reduced_qty", reduced_qty)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class MassCancelled(EventBase):
    session: SessionKey
    cl_ord_id: ClOrdId
    cancelled_count: int

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        session: SessionKey,
        cl_ord_id: ClOrdId,
        cancelled_count: int,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "cancelled_count", cancelled_count)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class ExecutionAmended(EventBase):
    """One order's side of a trade busted or corrected after the fact.

    `orig_px`/`orig_qty` are the fill as it was; `px`/`qty` what it is now (a bust leaves
    qty 0). `cum_qty` and `cum_notional` are the order's totals after the change;
    `leaves_qty` is unchanged by it (0 once the order is done), and so is `order_qty`, the
    order's quantity: a done order that is no longer fully filled is done all the same.
    `status` says what every view reports for the order now."""

    order_id: OrderId
    session: SessionKey
    account: Account
    cl_ord_id: ClOrdId
    symbol: Symbol
    side: Side
    trade_id: TradeId
    orig_px: Px
    orig_qty: Qty
    px: Px
    qty: Qty
    cum_qty: Qty
    leaves_qty: Qty
    order_qty: Qty
    cum_notional: int
    reason: str

    @property
    def status(self) -> str:
        """The order's status after the change, from this event alone: working (new or
        partially filled) while it has leaves; once done, filled if its fills still add
        up to its quantity, else canceled (the busted quantity is not offered again)."""
        if self.leaves_qty:
            return "partially_filled" if self.cum_qty else "new"
        return "filled" if self.cum_qty == self.order_qty else "canceled"

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        order_id: OrderId,
        session: SessionKey,
        account: Account,
        cl_ord_id: ClOrdId,
        symbol: Symbol,
        side: Side,
        trade_id: TradeId,
        orig_px: Px,
        orig_qty: Qty,
        px: Px,
        qty: Qty,
        cum_qty: Qty,
        leaves_qty: Qty,
        order_qty: Qty,
        cum_notional: int,
        reason: str,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "order_id", order_id)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "account", account)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "trade_id", trade_id)
        object.__setattr__(self, "orig_px", orig_px)
        object.__setattr__(self, "orig_qty", orig_qty)
        object.__setattr__(self, "px", px)
        object.__setattr__(self, "qty", qty)
        object.__setattr__(self, "cum_qty", cum_qty)
        object.__setattr__(self, "leaves_qty", leaves_qty)
        object.__setattr__(self, "order_qty", order_qty)
        object.__setattr__(self, "cum_notional", cum_notional)
        object.__setattr__(self, "reason", reason)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class ExecutionBusted(ExecutionAmended):
    pass


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class ExecutionCorrected(ExecutionAmended):
    pass


# --- public market data -----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Trade(EventBase):
    symbol: Symbol
    trade_id: TradeId
    px: Px
    qty: Qty
    aggressor_side: Side
    buy_order_id: OrderId
    sell_order_id: OrderId

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        symbol: Symbol,
        trade_id: TradeId,
        px: Px,
        qty: Qty,
        aggressor_side: Side,
        buy_order_id: OrderId,
        sell_order_id: OrderId,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "trade_id", trade_id)
        object.__setattr__(self, "px", px)
        object.__setattr__(self, "qty", qty)
        object.__setattr__(self, "aggressor_side", aggressor_side)
        object.__setattr__(self, "buy_order_id", buy_order_id)
        object.__setattr__(self, "sell_order_id", sell_order_id)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class TradeAmended(EventBase):
    """A printed trade busted (qty 0) or corrected, for the public feeds."""

    symbol: Symbol
    trade_id: TradeId
    orig_px: Px
    orig_qty: Qty
    px: Px
    qty: Qty

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        symbol: Symbol,
        trade_id: TradeId,
        orig_px: Px,
        orig_qty: Qty,
        px: Px,
        qty: Qty,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "trade_id", trade_id)
        object.__setattr__(self, "orig_px", orig_px)
        object.__setattr__(self, "orig_qty", orig_qty)
        object.__setattr__(self, "px", px)
        object.__setattr__(self, "qty", qty)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class TradeBusted(TradeAmended):
    pass


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class TradeCorrected(TradeAmended):
    pass


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class LevelEvent(EventBase):
    """A change to the visible book, at level and at order granularity.

    `qty`/`orders` are the level's visible totals after the change (depth-of-book feeds);
    `order_id`/`order_qty` say which order changed and its visible quantity after it
    (order-level feeds such as ITCH). Hidden iceberg quantity never appears here.
    """

    symbol: Symbol
    side: Side
    px: Px
    qty: Qty
    orders: int
    order_id: OrderId
    order_qty: Qty

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        symbol: Symbol,
        side: Side,
        px: Px,
        qty: Qty,
        orders: int,
        order_id: OrderId,
        order_qty: Qty,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "px", px)
        object.__setattr__(self, "qty", qty)
        object.__setattr__(self, "orders", orders)
        object.__setattr__(self, "order_id", order_id)
        object.__setattr__(self, "order_qty", order_qty)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class LevelAdded(LevelEvent):
    """The first order arrived at a price."""


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class LevelChanged(LevelEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class LevelRemoved(LevelEvent):
    """The last visible quantity left a price; `qty` and `orders` are 0."""


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Halted(EventBase):
    symbol: Symbol
    reason: str

    def __init__(self, *, seq: Seq, ts: Ts, symbol: Symbol, reason: str) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "reason", reason)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class PhaseChanged(EventBase):
    """An instrument entered a trading phase (after the uncross, if it left a call)."""

    symbol: Symbol
    phase: TradingPhase
    previous: TradingPhase

    def __init__(
        self, *, seq: Seq, ts: Ts, symbol: Symbol, phase: TradingPhase, previous: TradingPhase
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "phase", phase)
        object.__setattr__(self, "previous", previous)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class AuctionIndicative(EventBase):
    """During a call, the price the book would uncross at now, the quantity that would
    trade there and what would be left over (published when any of them changes).
    `px` None: nothing would trade."""

    symbol: Symbol
    px: Px | None
    qty: Qty
    imbalance_qty: Qty
    imbalance_side: Side | None
    """The side with quantity left over at `px` (None: none left over)."""

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        symbol: Symbol,
        px: Px | None,
        qty: Qty,
        imbalance_qty: Qty,
        imbalance_side: Side | None,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "px", px)
        object.__setattr__(self, "qty", qty)
        object.__setattr__(self, "imbalance_qty", imbalance_qty)
        object.__setattr__(self, "imbalance_side", imbalance_side)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Resumed(EventBase):
    symbol: Symbol

    def __init__(self, *, seq: Seq, ts: Ts, symbol: Symbol) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "symbol", symbol)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Configured(EventBase):
    """New settings are in force (Configure); `changes` says what changed, one line each."""

    changes: tuple[str, ...]

    def __init__(self, *, seq: Seq, ts: Ts, changes: tuple[str, ...]) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "changes", changes)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class KillSwitchSet(EventBase):
    """A kill switch engaged or released; `cancelled` open orders were cancelled by it."""

    engaged: bool
    account: Account | None
    session: SessionKey | None
    reason: str
    cancelled: int

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        engaged: bool,
        account: Account | None,
        session: SessionKey | None,
        reason: str,
        cancelled: int,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "engaged", engaged)
        object.__setattr__(self, "account", account)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "cancelled", cancelled)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class OperatorRejected(EventBase):
    """An operator command (halt, resume) that could not be carried out."""

    command: str
    reason: RejectReason
    text: str

    def __init__(self, *, seq: Seq, ts: Ts, command: str, reason: RejectReason, text: str) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "command", command)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "text", text)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class SessionControlled(EventBase):
    """An operator's action on a FIX session, for its gateway to carry out."""

    session: SessionKey
    action: SessionAction
    reason: str

    def __init__(
        self, *, seq: Seq, ts: Ts, session: SessionKey, action: SessionAction, reason: str
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "reason", reason)


Event = (
    Accepted
    | Rejected
    | CancelRejected
    | PartiallyFilled
    | Filled
    | Cancelled
    | Expired
    | Replaced
    | Restated
    | MassCancelled
    | Trade
    | LevelAdded
    | LevelChanged
    | LevelRemoved
    | Halted
    | Resumed
    | OperatorRejected
    | Configured
    | KillSwitchSet
    | SessionControlled
    | ExecutionBusted
    | ExecutionCorrected
    | TradeBusted
    | TradeCorrected
    | Triggered
    | PhaseChanged
    | AuctionIndicative
)
