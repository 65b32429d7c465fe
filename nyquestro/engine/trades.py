"""The engine's recent trades, kept so that a trade can be busted or corrected later.

A bust (FIX ExecType H) takes a fill back from both orders; a correction (ExecType G)
changes its price or lowers its quantity. Either needs the trade's two orders, and an
order that traded to the end has left the live map: so an order that leaves it while one
of its trades is kept leaves its facts behind (`Facts`), and its fill totals stay right
across a bust even once it is done.

Only the last `BUST_WINDOW` trades are kept: a venue's bust window is short (minutes),
and an unbounded log would grow all day. Counted in trades, not in time, because the
engine has no clock but the commands' stamps, and a count keeps the memory bound
whatever the rate.

Nothing here is an object the cyclic garbage collector tracks: ints in dicts and a deque,
and a done order's facts in one string. A tracked object per trade (first a record
holding its two orders, then a tuple) made the collector run as the log grew and walk
what it kept: the engine benchmark's longest process() call went from 18-35 ms to 80-490
ms. Ints and strings are never tracked, so the log grows without the collector noticing.
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
"""A kept trade: buy order id, sell order id, price, quantity (0: busted)."""
Facts = tuple[str, str, str, str, int, int, int, int]
"""A done order as it left the book: session, account, ClOrdID, symbol, side (its value),
quantity, cum qty, cum notional."""
_SIDES = {side.value: side for side in Side}
_SEP = "\x1f"
"""Between a done order's facts in its string (FIX fields cannot hold it)."""


@mypyc_attr(serializable=True)
class TradeLog:
    __slots__ = ("buys", "facts", "latest", "order", "pxs", "qtys", "sells", "window")

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
        self.facts: dict[int, str] = {}
        """Done orders with a kept trade: their `Facts`, joined."""

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
            self.facts[order.order_id] = _joined(_facts(order))

    def get(self, trade_id: int) -> Kept | None:
        """A trade that can still be busted or corrected."""
        qty = self.qtys.get(trade_id, 0)
        if not qty:
            return None
        return self.buys[trade_id], self.sells[trade_id], self.pxs[trade_id], qty

    def set(self, trade_id: int, px: int, qty: int) -> None:
        self.pxs[trade_id] = px
        self.qtys[trade_id] = qty

    def facts_of(self, order_id: int) -> Facts:
        parts = self.facts[order_id].split(_SEP)
        return (parts[0], parts[1], parts[2], parts[3], int(parts[4]), int(parts[5]),
                int(parts[6]), int(parts[7]))  # fmt: skip

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
        return buyer.symbol if buyer is not None else self.facts_of(kept[0])[3]

    def state(self) -> tuple[list[tuple[int, int, int, int, int]], list[tuple[int, str]]]:
        """What the state hash covers: the kept trades oldest first, the done orders'
        facts by order id."""
        return (
            [(t, self.buys[t], self.sells[t], self.pxs[t], self.qtys[t]) for t in self.order],
            sorted(self.facts.items()),
        )

    def _release(self, trade_id: int, order_id: int) -> None:
        if self.latest.get(order_id) == trade_id:
            del self.latest[order_id]
            self.facts.pop(order_id, None)


def _facts(order: LiveOrder) -> Facts:
    return (order.session, order.account, order.cl_ord_id, order.symbol, order.side.value,
            order.qty, order.cum_qty, order.cum_notional)  # fmt: skip


def _joined(facts: Facts) -> str:
    return _SEP.join((facts[0], facts[1], facts[2], facts[3], str(facts[4]), str(facts[5]),
                      str(facts[6]), str(facts[7])))  # fmt: skip


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
    for order_id in (kept[0], kept[1]):
        order = live.get(order_id)
        if order is not None:
            order.cum_qty -= less
            order.cum_notional += notional
            facts = _facts(order)
            leaves = order.leaves_qty
        else:
            was = log.facts_of(order_id)
            facts = (*was[:6], was[6] - less, was[7] + notional)
            log.facts[order_id] = _joined(facts)
            leaves = 0  # done: nothing is open
        session, account, cl_ord_id, _, side, order_qty, cum_qty, cum_notional = facts
        if busted:
            out.append(ExecutionBusted(
                seq=seq, ts=ts, order_id=OrderId(order_id), session=SessionKey(session),
                account=Account(account), cl_ord_id=ClOrdId(cl_ord_id), symbol=symbol,
                side=_SIDES[side], trade_id=trade_id, orig_px=Px(orig_px),
                orig_qty=Qty(orig_qty), px=Px(orig_px), qty=Qty(0), cum_qty=Qty(cum_qty),
                leaves_qty=Qty(leaves), order_qty=Qty(order_qty), cum_notional=cum_notional,
                reason=reason,
            ))  # fmt: skip
        else:
            out.append(ExecutionCorrected(
                seq=seq, ts=ts, order_id=OrderId(order_id), session=SessionKey(session),
                account=Account(account), cl_ord_id=ClOrdId(cl_ord_id), symbol=symbol,
                side=_SIDES[side], trade_id=trade_id, orig_px=Px(orig_px),
                orig_qty=Qty(orig_qty), px=Px(px), qty=Qty(qty), cum_qty=Qty(cum_qty),
                leaves_qty=Qty(leaves), order_qty=Qty(order_qty), cum_notional=cum_notional,
                reason=reason,
            ))  # fmt: skip
    if busted:
        out.append(TradeBusted(
            seq=seq, ts=ts, symbol=symbol, trade_id=trade_id, orig_px=Px(orig_px),
            orig_qty=Qty(orig_qty), px=Px(orig_px), qty=Qty(0),
        ))  # fmt: skip
    else:
        out.append(TradeCorrected(
            seq=seq, ts=ts, symbol=symbol, trade_id=trade_id, orig_px=Px(orig_px),
            orig_qty=Qty(orig_qty), px=Px(px), qty=Qty(qty),
        ))  # fmt: skip
    log.set(trade_id, px, qty)
