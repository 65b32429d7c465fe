"""The engine's recent trades, kept so that a trade can be busted or corrected later.

A bust (FIX ExecType H) takes a fill back from both orders; a correction (ExecType G)
changes its price or lowers its quantity. Either needs the trade's two orders, and an
order that traded to the end has left the live map: so each trade keeps its two order
records, and the orders' fill totals stay right across a bust even once they are done.

Only the last `BUST_WINDOW` trades are kept: a venue's bust window is short (minutes),
and an unbounded log would hold every order that ever traded. Counted in trades, not in
time, because the engine has no clock but the commands' stamps, and a count keeps the
memory bound whatever the rate.
"""

from collections import deque

from mypy_extensions import mypyc_attr

from nyquestro.domain.commands import BUST_WINDOW
from nyquestro.domain.events import (
    EventBase,
    ExecutionBusted,
    ExecutionCorrected,
    TradeBusted,
    TradeCorrected,
)
from nyquestro.domain.ids import OrderId, Px, Qty, Seq, TradeId, Ts
from nyquestro.engine.order import LiveOrder


@mypyc_attr(serializable=True)
class TradeRecord:
    __slots__ = ("buy", "px", "qty", "sell")

    def __init__(self, buy: LiveOrder, sell: LiveOrder, px: int, qty: int) -> None:
        self.buy = buy
        self.sell = sell
        self.px = px
        self.qty = qty
        """As it stands now: a correction changes it."""


@mypyc_attr(serializable=True)
class TradeLog:
    __slots__ = ("order", "records", "window")

    def __init__(self, window: int = BUST_WINDOW) -> None:
        self.window = window
        self.records: dict[int, TradeRecord] = {}
        self.order: deque[int] = deque()
        """The kept trades' ids, oldest first (the next to be forgotten)."""

    def record(self, trade_id: int, buy: LiveOrder, sell: LiveOrder, px: int, qty: int) -> None:
        self.records[trade_id] = TradeRecord(buy, sell, px, qty)
        order = self.order
        order.append(trade_id)
        if len(order) > self.window:
            self.records.pop(order.popleft(), None)

    def forget(self, trade_id: int) -> None:
        """A busted trade cannot be busted or corrected again (its id stays queued until
        the window passes it; `record` then pops nothing)."""
        del self.records[trade_id]

    def state(self) -> list[tuple[int, int, int, int, int]]:
        """(trade id, buy order, sell order, px, qty) of every kept trade, oldest first:
        what the state hash covers."""
        kept = self.records
        return [
            (tid, r.buy.order_id, r.sell.order_id, r.px, r.qty)
            for tid in self.order
            if (r := kept.get(tid)) is not None
        ]


def amend(
    seq: Seq, ts: Ts, trade_id: TradeId, record: TradeRecord, px: int, qty: int, reason: str,
    live: dict[int, LiveOrder], out: list[EventBase],
) -> None:  # fmt: skip
    """Change `record` to `px` x `qty` (qty 0: a bust), moving both orders' fill totals,
    and append the two orders' events, then the public one, to `out`."""
    busted = qty == 0
    orig_px, orig_qty = record.px, record.qty
    for order in (record.buy, record.sell):
        order.cum_qty -= orig_qty - qty
        order.cum_notional += px * qty - orig_px * orig_qty
        # An order that is done keeps the leaves of its last report: none.
        leaves = order.leaves_qty if order.order_id in live else 0
        if busted:
            out.append(ExecutionBusted(
                seq=seq, ts=ts, order_id=OrderId(order.order_id), session=order.session,
                account=order.account, cl_ord_id=order.cl_ord_id, symbol=order.symbol,
                side=order.side, trade_id=trade_id, orig_px=Px(orig_px),
                orig_qty=Qty(orig_qty), px=Px(orig_px), qty=Qty(0),
                cum_qty=Qty(order.cum_qty), leaves_qty=Qty(leaves), order_qty=Qty(order.qty),
                cum_notional=order.cum_notional, reason=reason,
            ))  # fmt: skip
        else:
            out.append(ExecutionCorrected(
                seq=seq, ts=ts, order_id=OrderId(order.order_id), session=order.session,
                account=order.account, cl_ord_id=order.cl_ord_id, symbol=order.symbol,
                side=order.side, trade_id=trade_id, orig_px=Px(orig_px),
                orig_qty=Qty(orig_qty), px=Px(px), qty=Qty(qty),
                cum_qty=Qty(order.cum_qty), leaves_qty=Qty(leaves), order_qty=Qty(order.qty),
                cum_notional=order.cum_notional, reason=reason,
            ))  # fmt: skip
    symbol = record.buy.symbol
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
    record.px, record.qty = px, qty
