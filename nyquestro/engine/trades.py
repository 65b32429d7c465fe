"""The engine's recent trades, kept so that a trade can be busted or corrected later.

A bust (FIX ExecType H) takes a fill back from both orders; a correction (ExecType G)
changes its price or lowers its quantity. Either needs the trade's two orders, and an
order that traded to the end has left the live map: so an order that leaves it while one
of its trades is kept leaves its facts behind (`DoneOrders`), and its fill totals stay
right across a bust even once it is done.

Only the last `BUST_WINDOW` trades are kept: a venue's bust window is short (minutes),
and an unbounded log would grow all day. Counted in trades, not in time, because the
engine has no clock but the commands' stamps, and a count keeps the memory bound
whatever the rate.

Nothing here allocates an object the cyclic garbage collector tracks: a trade and a done
order are entries in dicts of ints and of the strings the order already had, one dict per
field. A tracked object per trade (a record holding its two orders, then a tuple) made
the collector run as the log grew and walk what it kept: the engine benchmark's longest
process() call went from 18-35 ms to 80-490 ms. Building a string of a done order's
facts instead cost 2 µs a trade.
"""

from collections import deque

from mypy_extensions import mypyc_attr

from nyquestro.domain.commands import BUST_WINDOW
from nyquestro.domain.enums import Side
from nyquestro.domain.events import (
    EventBase,
    ExecutionBusted,
    ExecutionCorrected,
    TradeBusted,
    TradeCorrected,
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
from nyquestro.engine.order import LiveOrder

Kept = tuple[int, int, int, int]
"""A kept trade: buy order id, sell order id, price, quantity."""


@mypyc_attr(serializable=True)
class DoneOrders:
    """Orders that left the live map while one of their trades is kept, field by field."""

    __slots__ = ("accounts", "cl_ord_ids", "cum_notionals", "cum_qtys", "qtys", "sessions",
                 "symbols")  # fmt: skip

    def __init__(self) -> None:
        self.sessions: dict[int, SessionKey] = {}
        self.accounts: dict[int, Account] = {}
        self.cl_ord_ids: dict[int, ClOrdId] = {}
        self.symbols: dict[int, Symbol] = {}
        self.qtys: dict[int, int] = {}
        self.cum_qtys: dict[int, int] = {}
        self.cum_notionals: dict[int, int] = {}

    def add(self, order: LiveOrder) -> None:
        order_id = order.order_id
        self.sessions[order_id] = order.session
        self.accounts[order_id] = order.account
        self.cl_ord_ids[order_id] = order.cl_ord_id
        self.symbols[order_id] = order.symbol
        self.qtys[order_id] = order.qty
        self.cum_qtys[order_id] = order.cum_qty
        self.cum_notionals[order_id] = order.cum_notional

    def drop(self, order_id: int) -> None:
        if order_id in self.sessions:
            del self.sessions[order_id]
            del self.accounts[order_id]
            del self.cl_ord_ids[order_id]
            del self.symbols[order_id]
            del self.qtys[order_id]
            del self.cum_qtys[order_id]
            del self.cum_notionals[order_id]

    def state(self) -> list[tuple[int, str, str, str, str, int, int, int]]:
        return [
            (o, self.sessions[o], self.accounts[o], self.cl_ord_ids[o], self.symbols[o],
             self.qtys[o], self.cum_qtys[o], self.cum_notionals[o])
            for o in sorted(self.sessions)
        ]  # fmt: skip


@mypyc_attr(serializable=True)
class TradeLog:
    __slots__ = ("buys", "done", "latest", "order", "pxs", "qtys", "sells", "window")

    def __init__(self, window: int = BUST_WINDOW) -> None:
        self.window = window
        # A kept trade, by its id, one dict per field: see the module doc.
        self.buys: dict[int, int] = {}
        self.sells: dict[int, int] = {}
        self.pxs: dict[int, int] = {}
        self.qtys: dict[int, int] = {}
        """As it stands: a correction changes it, a bust makes it 0."""
        self.order: deque[int] = deque()
        """The kept trades' ids, oldest first (the next to be forgotten)."""
        self.latest: dict[int, int] = {}
        """Each order with a kept trade: its latest one's id."""
        self.done = DoneOrders()

    def record(self, trade_id: int, buy: LiveOrder, sell: LiveOrder, px: int, qty: int) -> None:
        self.buys[trade_id] = buy.order_id
        self.sells[trade_id] = sell.order_id
        self.pxs[trade_id] = px
        self.qtys[trade_id] = qty
        self.latest[buy.order_id] = trade_id
        self.latest[sell.order_id] = trade_id
        order = self.order
        order.append(trade_id)
        if len(order) > self.window:
            gone = order.popleft()
            del self.pxs[gone]
            del self.qtys[gone]
            self._release(gone, self.buys.pop(gone))
            self._release(gone, self.sells.pop(gone))

    def finished(self, order: LiveOrder) -> None:
        """`order` leaves the live map: keep its facts while one of its trades is kept."""
        if order.cum_qty and order.order_id in self.latest:
            self.done.add(order)

    def get(self, trade_id: int) -> Kept | None:
        """A trade that can still be busted or corrected."""
        qty = self.qtys.get(trade_id, 0)
        if not qty:
            return None
        return self.buys[trade_id], self.sells[trade_id], self.pxs[trade_id], qty

    def latest_of(self, order_id: int) -> int | None:
        """The order's latest trade that can still be busted or corrected."""
        found = self.latest.get(order_id)
        if found is not None and self.get(found) is not None:
            return found
        for trade_id in reversed(self.order):  # its latest was busted: look further back
            if self.qtys[trade_id] and order_id in (self.buys[trade_id], self.sells[trade_id]):
                return trade_id
        return None

    def symbol(self, kept: Kept, live: dict[int, LiveOrder]) -> str:
        buyer = live.get(kept[0])
        return buyer.symbol if buyer is not None else self.done.symbols[kept[0]]

    def state(
        self,
    ) -> tuple[
        list[tuple[int, int, int, int, int]], list[tuple[int, str, str, str, str, int, int, int]]
    ]:
        """What the state hash covers: the kept trades oldest first, the done orders."""
        return (
            [(t, self.buys[t], self.sells[t], self.pxs[t], self.qtys[t]) for t in self.order],
            self.done.state(),
        )

    def _release(self, trade_id: int, order_id: int) -> None:
        if self.latest.get(order_id) == trade_id:
            del self.latest[order_id]
            self.done.drop(order_id)


def amend(
    seq: Seq, ts: Ts, trade_id: TradeId, log: TradeLog, kept: Kept, px: int, qty: int,
    reason: str, live: dict[int, LiveOrder], out: list[EventBase],
) -> None:  # fmt: skip
    """Change the kept trade to `px` x `qty` (qty 0: a bust), moving both orders' fill
    totals, and append the two orders' events, then the public one, to `out`."""
    busted = qty == 0
    orig_px, orig_qty = kept[2], kept[3]
    less, notional = orig_qty - qty, px * qty - orig_px * orig_qty
    symbol = Symbol(log.symbol(kept, live))
    done = log.done
    for order_id, side in ((kept[0], Side.BUY), (kept[1], Side.SELL)):
        order = live.get(order_id)
        if order is not None:
            order.cum_qty -= less
            order.cum_notional += notional
            session, account, cl_ord_id = order.session, order.account, order.cl_ord_id
            order_qty, cum_qty, cum_notional = order.qty, order.cum_qty, order.cum_notional
            leaves = order.leaves_qty
        else:
            session, account = done.sessions[order_id], done.accounts[order_id]
            cl_ord_id, order_qty = done.cl_ord_ids[order_id], done.qtys[order_id]
            cum_qty = done.cum_qtys[order_id] = done.cum_qtys[order_id] - less
            cum_notional = done.cum_notionals[order_id] = done.cum_notionals[order_id] + notional
            leaves = 0  # done: nothing is open
        # Classes called through a variable: slower in the compiled core, and a bust is rare.
        execution = ExecutionBusted if busted else ExecutionCorrected
        out.append(execution(
            seq=seq, ts=ts, order_id=OrderId(order_id), session=session, account=account,
            cl_ord_id=cl_ord_id, symbol=symbol, side=side, trade_id=trade_id,
            orig_px=Px(orig_px), orig_qty=Qty(orig_qty), px=Px(px), qty=Qty(qty),
            cum_qty=Qty(cum_qty), leaves_qty=Qty(leaves), order_qty=Qty(order_qty),
            cum_notional=cum_notional, reason=reason,
        ))  # fmt: skip
    public = TradeBusted if busted else TradeCorrected
    out.append(public(
        seq=seq, ts=ts, symbol=symbol, trade_id=trade_id, orig_px=Px(orig_px),
        orig_qty=Qty(orig_qty), px=Px(px), qty=Qty(qty),
    ))  # fmt: skip
    log.pxs[trade_id] = px
    log.qtys[trade_id] = qty
