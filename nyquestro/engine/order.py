"""The engine's mutable record of a live order. Never leaves the engine."""

from collections.abc import Callable

from mypy_extensions import mypyc_attr

from nyquestro.domain.enums import OrdType, PegType, Side, SmpPolicy, TimeInForce
from nyquestro.domain.ids import Account, ClOrdId, OrderId, Px, Qty, SessionKey, Symbol


@mypyc_attr(serializable=True)
class LiveOrder:
    """A live order; `visible_qty` is what sits in the book, `leaves_qty` all that is open.

    For a plain order the two are equal; for an iceberg `visible_qty` is at most
    `display_qty` and the rest of `leaves_qty` is hidden.
    """

    __slots__ = (
        "account",
        "cl_ord_id",
        "cum_notional",
        "cum_qty",
        "display_qty",
        "expire_ts",
        "in_book",
        "leaves_qty",
        "ord_type",
        "order_id",
        "peg",
        "peg_offset",
        "px",
        "qty",
        "session",
        "side",
        "smp_key",
        "smp_policy",
        "stop_px",
        "symbol",
        "tif",
        "visible_qty",
    )

    # Internal state is plain ints; the NewTypes apply where values leave the engine.
    order_id: OrderId
    session: SessionKey
    account: Account
    cl_ord_id: ClOrdId
    symbol: Symbol
    side: Side
    ord_type: OrdType
    tif: TimeInForce
    px: Px | None
    qty: int
    cum_qty: int
    cum_notional: int
    leaves_qty: int
    visible_qty: int
    display_qty: Qty | None
    peg: PegType | None
    peg_offset: int
    smp_key: str
    smp_policy: SmpPolicy
    in_book: bool
    """True while the order's visible slice sits in a price level."""
    stop_px: Px | None
    """A stop order's trigger price, while it waits in `OrderBook.stops` and after."""
    expire_ts: int | None
    """A GTD order's expire time (ns)."""

    def __init__(
        self,
        *,
        order_id: OrderId,
        session: SessionKey,
        account: Account,
        cl_ord_id: ClOrdId,
        symbol: Symbol,
        side: Side,
        ord_type: OrdType,
        tif: TimeInForce,
        px: Px | None,
        qty: Qty,
        display_qty: Qty | None,
        peg: PegType | None,
        peg_offset: Px,
        smp_key: str,
        smp_policy: SmpPolicy,
        stop_px: Px | None = None,
        expire_ts: int | None = None,
    ) -> None:
        self.order_id = order_id
        self.session = session
        self.account = account
        self.cl_ord_id = cl_ord_id
        self.symbol = symbol
        self.side = side
        self.ord_type = ord_type
        self.tif = tif
        self.px = px
        self.qty = qty
        self.cum_qty = 0
        self.cum_notional = 0
        self.leaves_qty = qty
        self.display_qty = display_qty
        self.visible_qty = qty if display_qty is None else min(display_qty, qty)
        self.peg = peg
        self.peg_offset = peg_offset
        self.smp_key = smp_key
        self.smp_policy = smp_policy
        self.in_book = False
        self.stop_px = stop_px
        self.expire_ts = expire_ts

    def __reduce__(self) -> tuple[Callable[..., "LiveOrder"], tuple[object, ...]]:
        # A snapshot holds every resting order: one tuple read back by a function, rather
        # than mypyc's dictionary of attributes set name by name at loading.
        return (
            _restored,
            (self.order_id, self.session, self.account, self.cl_ord_id, self.symbol,
             self.side, self.ord_type, self.tif, self.px, self.qty, self.display_qty,
             self.peg, self.peg_offset, self.smp_key, self.smp_policy, self.cum_qty,
             self.cum_notional, self.leaves_qty, self.visible_qty, self.in_book,
             self.stop_px, self.expire_ts),
        )  # fmt: skip

    def next_slice(self) -> int:
        """Quantity to show after the visible part is used up (iceberg replenishment)."""
        if self.display_qty is None:
            return self.leaves_qty
        return min(self.display_qty, self.leaves_qty)


def _restored(
    order_id: OrderId, session: SessionKey, account: Account, cl_ord_id: ClOrdId,
    symbol: Symbol, side: Side, ord_type: OrdType, tif: TimeInForce, px: Px | None,
    qty: Qty, display_qty: Qty | None, peg: PegType | None, peg_offset: Px, smp_key: str,
    smp_policy: SmpPolicy, cum_qty: int, cum_notional: int, leaves_qty: int,
    visible_qty: int, in_book: bool, stop_px: Px | None, expire_ts: int | None,
) -> LiveOrder:  # fmt: skip
    """A pickled order (`LiveOrder.__reduce__`), with the fills it had."""
    order = LiveOrder(
        order_id=order_id, session=session, account=account, cl_ord_id=cl_ord_id,
        symbol=symbol, side=side, ord_type=ord_type, tif=tif, px=px, qty=qty,
        display_qty=display_qty, peg=peg, peg_offset=peg_offset, smp_key=smp_key,
        smp_policy=smp_policy, stop_px=stop_px, expire_ts=expire_ts,
    )  # fmt: skip
    order.cum_qty = cum_qty
    order.cum_notional = cum_notional
    order.leaves_qty = leaves_qty
    order.visible_qty = visible_qty
    order.in_book = in_book
    return order
