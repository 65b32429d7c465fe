"""One symbol's order book: price levels in `sortedcontainers`, FIFO within a level.

Each side keys its levels so that index 0 is the best price (asks by price, bids by
negated price): best-price access is `peekitem(0)` and walking the book best-first is a
plain iteration on both sides. A level's FIFO is an `OrderedDict` keyed by order id: O(1)
append, O(1) removal of any order (cancel by id), O(1) access to the head.

The book produces the level events for every visible change, so no caller can change
the book without the change being published.
"""

from collections import OrderedDict
from collections.abc import Iterator

from mypy_extensions import mypyc_attr
from sortedcontainers import SortedDict

from nyquestro.domain.enums import Side, TradingPhase
from nyquestro.domain.events import LevelAdded, LevelChanged, LevelEvent, LevelRemoved
from nyquestro.domain.ids import Px, Qty, Seq, Symbol, Ts
from nyquestro.engine.order import LiveOrder


@mypyc_attr(serializable=True)
class Level:
    __slots__ = ("orders", "pegs", "px", "qty")

    def __init__(self, px: Px) -> None:
        self.px = px
        self.orders: OrderedDict[int, LiveOrder] = OrderedDict()
        self.qty = 0
        """Visible quantity of all orders at this price."""
        self.pegs = 0
        """How many of `orders` are pegged (they do not count as a peg reference)."""

    def head(self) -> LiveOrder:
        return next(iter(self.orders.values()))


@mypyc_attr(serializable=True)
class BookSide:
    __slots__ = ("at", "best", "levels", "side", "sign")

    def __init__(self, side: Side) -> None:
        self.side = side
        self.sign = -1 if side is Side.BUY else 1
        self.levels: SortedDict = SortedDict()
        self.at: dict[int, Level] = {}
        """The same levels by key in a plain dict: mypyc looks a key up in a dict natively
        but calls a SortedDict's methods through the generic protocol."""
        self.best: Level | None = None
        """The best level, cached: read on every command, recomputed only when it empties."""

    def best_px(self) -> int | None:
        best = self.best
        return None if best is None else best.px

    def best_unpegged_px(self) -> int | None:
        """Best price among non-pegged orders: what pegs may reference."""
        for level in self.levels.values():
            if len(level.orders) > level.pegs:
                px: int = level.px
                return px
        return None

    def best_first(self) -> Iterator[Level]:
        return iter(self.levels.values())

    def _new_level(self, px: Px, key: int) -> Level:
        level = Level(px)
        self.levels[key] = level
        self.at[key] = level
        best = self.best
        if best is None or key < best.px * self.sign:
            self.best = level
        return level

    def _drop_level(self, level: Level, key: int) -> None:
        del self.levels[key]
        del self.at[key]
        if level is self.best:
            self.best = self.levels.peekitem(0)[1] if self.levels else None


@mypyc_attr(serializable=True)
class OrderBook:
    __slots__ = (
        "asks",
        "at_close",
        "auction_market",
        "bids",
        "halted",
        "indicative",
        "last_px",
        "peg_refs",
        "pegs",
        "phase",
        "stops",
        "symbol",
    )

    def __init__(self, symbol: Symbol) -> None:
        self.symbol = symbol
        self.bids = BookSide(Side.BUY)
        self.asks = BookSide(Side.SELL)
        self.halted = False
        self.last_px: int | None = None
        """Price of the last trade; the last-sale peg reference."""
        self.pegs: dict[int, LiveOrder] = {}
        """Live pegged orders by order id, in arrival order (the repricing order)."""
        self.peg_refs: tuple[int | None, ...] = ()
        """References the resting pegs were last priced from."""
        self.phase = TradingPhase.CONTINUOUS
        self.auction_market: dict[int, LiveOrder] = {}
        """Market orders entered during a call, by order id in arrival order: they wait
        off the levels (they have no price) for the uncross, at any price."""
        self.at_close: dict[int, LiveOrder] = {}
        """ATC orders entered during continuous trading, by order id in arrival order:
        held off the book until the closing auction's call begins."""
        self.indicative: tuple[int | None, int, int] = (None, 0, 0)
        """The (price, quantity, signed surplus) last published during a call."""
        self.stops: dict[int, LiveOrder] = {}
        """Stop orders not yet triggered, by order id, in arrival order. They are not in
        the book's levels: nobody sees them and nothing trades against them."""

    def side(self, side: Side) -> BookSide:
        return self.bids if side is Side.BUY else self.asks

    def add(self, order: LiveOrder, seq: Seq, ts: Ts) -> LevelEvent:
        """Put the order's visible quantity at the back of its price level."""
        book_side = self.bids if order.side is Side.BUY else self.asks
        px = order.px
        assert px is not None
        key = px * book_side.sign
        level = book_side.at.get(key)
        created = level is None
        if level is None:
            level = book_side._new_level(px, key)
        level.orders[order.order_id] = order
        order.in_book = True
        level.qty += order.visible_qty
        if order.peg is not None:
            level.pegs += 1
        # Each event class is named where it is built: mypyc compiles a call to a named
        # class natively but one through a variable goes the slow generic way.
        if created:
            return LevelAdded(
                seq=seq,
                ts=ts,
                symbol=self.symbol,
                side=order.side,
                px=level.px,
                qty=Qty(level.qty),
                orders=len(level.orders),
                order_id=order.order_id,
                order_qty=Qty(order.visible_qty),
            )
        return self._changed(order, level, seq, ts)

    def reduce(self, order: LiveOrder, qty: int, seq: Seq, ts: Ts) -> LevelEvent:
        """Take `qty` off the order's visible quantity; at zero it leaves the level."""
        book_side = self.bids if order.side is Side.BUY else self.asks
        px = order.px
        assert px is not None
        key = px * book_side.sign
        level = book_side.at[key]
        order.visible_qty -= qty
        level.qty -= qty
        if order.visible_qty == 0:
            del level.orders[order.order_id]
            order.in_book = False
            if order.peg is not None:
                level.pegs -= 1
            if not level.orders:
                book_side._drop_level(level, key)
                return LevelRemoved(
                    seq=seq,
                    ts=ts,
                    symbol=self.symbol,
                    side=order.side,
                    px=level.px,
                    qty=Qty(level.qty),
                    orders=0,
                    order_id=order.order_id,
                    order_qty=Qty(order.visible_qty),
                )
        return self._changed(order, level, seq, ts)

    def _changed(self, order: LiveOrder, level: Level, seq: Seq, ts: Ts) -> LevelChanged:
        """The level's totals and the order's visible quantity, both after the change."""
        return LevelChanged(
            seq=seq,
            ts=ts,
            symbol=self.symbol,
            side=order.side,
            px=level.px,
            qty=Qty(level.qty),
            orders=len(level.orders),
            order_id=order.order_id,
            order_qty=Qty(order.visible_qty),
        )

    def remove(self, order: LiveOrder, seq: Seq, ts: Ts) -> LevelEvent:
        return self.reduce(order, order.visible_qty, seq, ts)

    def is_crossed(self) -> bool:
        bid = self.bids.best
        ask = self.asks.best
        return bid is not None and ask is not None and bid.px >= ask.px
