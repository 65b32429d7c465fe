"""Events: everything the engine decided, in the order it decided it.

Every event carries the `seq` and `ts` of the command that caused it, so a consumer can
tie any output back to the journaled input. Events are immutable and hold only plain
values, so they can be published, journaled and compared byte for byte.
"""

from dataclasses import dataclass

from nyquestro.domain.enums import OrdType, PegType, Side, TimeInForce
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


@dataclass(frozen=True, slots=True, kw_only=True)
class EventBase:
    seq: Seq
    ts: Ts


# --- order lifecycle: one event per order state change, addressed to its owner ---------


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected(EventBase):
    """A new order that was not accepted."""

    session: SessionKey
    cl_ord_id: ClOrdId
    symbol: Symbol
    reason: RejectReason
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRejected(EventBase):
    """A cancel or replace request that was not carried out."""

    session: SessionKey
    cl_ord_id: ClOrdId
    orig_cl_ord_id: ClOrdId | None
    order_id: OrderId | None
    response_to: CancelRequestKind
    reason: RejectReason
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class PartiallyFilled(Execution):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Filled(Execution):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class MassCancelled(EventBase):
    session: SessionKey
    cl_ord_id: ClOrdId
    cancelled_count: int


# --- public market data -----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade(EventBase):
    symbol: Symbol
    trade_id: TradeId
    px: Px
    qty: Qty
    aggressor_side: Side
    buy_order_id: OrderId
    sell_order_id: OrderId


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelAdded(LevelEvent):
    """The first order arrived at a price."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelChanged(LevelEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelRemoved(LevelEvent):
    """The last visible quantity left a price; `qty` and `orders` are 0."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Halted(EventBase):
    symbol: Symbol
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Resumed(EventBase):
    symbol: Symbol


@dataclass(frozen=True, slots=True, kw_only=True)
class Configured(EventBase):
    """New settings are in force (Configure); `changes` says what changed, one line each."""

    changes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class KillSwitchSet(EventBase):
    """A kill switch engaged or released; `cancelled` open orders were cancelled by it."""

    engaged: bool
    account: Account | None
    session: SessionKey | None
    reason: str
    cancelled: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorRejected(EventBase):
    """An operator command (halt, resume) that could not be carried out."""

    command: str
    reason: RejectReason
    text: str


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
)
