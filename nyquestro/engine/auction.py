"""Auctions: the one price a call's book uncrosses at, and the uncross itself.

The price follows the four steps Deutsche Börse publishes for Xetra's auctions (its
market model's auction price determination), among the limit prices in the book:
1. the price that executes the most quantity;
2. then the one leaving the smallest surplus (quantity one side would have left over);
3. then market pressure: surplus on the buy side at every price still in the running
   picks the highest of them, surplus on the sell side the lowest;
4. otherwise the one closest to the reference price (the last trade price), the lower
   on a tie or with no trade yet. Xetra may also take the reference price itself when it
   lies between the remaining limits; this venue only ever trades at a limit price.

Every order takes part with all its open quantity (an iceberg's hidden part too); a
market order entered during the call takes part at any price, ahead of every limit.
All executions are at the one price, buy and sell orders each in price-time priority.
"""

from nyquestro.domain.enums import Side
from nyquestro.domain.events import AuctionIndicative
from nyquestro.domain.ids import Px, Qty
from nyquestro.engine.book import BookSide, OrderBook
from nyquestro.engine.context import Context
from nyquestro.engine.matching import finish, trade
from nyquestro.engine.order import LiveOrder

Equilibrium = tuple[int, int, int]
"""(price, quantity executed there, surplus: buy quantity left over minus sell)."""


def equilibrium(book: OrderBook) -> Equilibrium | None:
    """Where the book would uncross now; None when nothing would trade."""
    market_buy = sum(o.leaves_qty for o in book.auction_market.values() if o.side is Side.BUY)
    market_sell = sum(o.leaves_qty for o in book.auction_market.values() if o.side is Side.SELL)
    demand = _cumulative(book.bids, market_buy)
    supply = _cumulative(book.asks, market_sell)
    candidates: list[Equilibrium] = []
    for px in sorted(demand.keys() | supply.keys()):
        bought = _at(demand, px, market_buy, above=True)
        sold = _at(supply, px, market_sell, above=False)
        executed = min(bought, sold)
        if executed > 0:
            candidates.append((px, executed, bought - sold))
    if not candidates:
        return None
    most = max(c[1] for c in candidates)
    candidates = [c for c in candidates if c[1] == most]
    least = min(abs(c[2]) for c in candidates)
    candidates = [c for c in candidates if abs(c[2]) == least]
    if all(c[2] > 0 for c in candidates):
        return max(candidates, key=lambda c: c[0])
    if all(c[2] < 0 for c in candidates):
        return min(candidates, key=lambda c: c[0])
    reference = book.last_px
    if reference is None:
        return min(candidates, key=lambda c: c[0])
    return min(candidates, key=lambda c: (abs(c[0] - reference), c[0]))


def indicative(ctx: Context, book: OrderBook) -> None:
    """Publish where the book would uncross, if that changed since last published."""
    found = equilibrium(book)
    now = (None, 0, 0) if found is None else found
    if now == book.indicative:
        return
    book.indicative = now
    px, qty, surplus = now
    ctx.out.append(
        AuctionIndicative(
            seq=ctx.seq,
            ts=ctx.ts,
            symbol=book.symbol,
            px=None if px is None else Px(px),
            qty=Qty(qty),
            imbalance_qty=Qty(abs(surplus)),
            imbalance_side=None if surplus == 0 else Side.BUY if surplus > 0 else Side.SELL,
        )
    )


def uncross(ctx: Context, book: OrderBook, at: Equilibrium) -> None:
    """Trade the equilibrium's quantity at its price, best buy against best sell."""
    px, remaining, _surplus = at
    buys = _in_priority(book, Side.BUY, px)
    sells = _in_priority(book, Side.SELL, px)
    b = s = 0
    while remaining > 0:
        buy, sell = buys[b], sells[s]
        qty = min(buy.leaves_qty, sell.leaves_qty, remaining)
        # No order crossed another on arrival; the later of the two completes the match.
        taker, maker = (buy, sell) if buy.order_id > sell.order_id else (sell, buy)
        trade(ctx, book, taker, maker, qty, Px(px))
        for order in (maker, taker):
            _leave_book(ctx, book, order, qty)
        if maker.leaves_qty == 0:
            finish(ctx, book, maker)
        remaining -= qty
        if buy.leaves_qty == 0:
            b += 1
        if sell.leaves_qty == 0:
            s += 1
    book.indicative = (None, 0, 0)


def _leave_book(ctx: Context, book: OrderBook, order: LiveOrder, qty: int) -> None:
    """Take `qty` just traded off what the order shows in its level; an iceberg whose
    slice is used up shows its next one at the back, as in continuous trading."""
    if not order.in_book:
        return  # a market order of the call: it was never in a level
    out = ctx.out
    out.append(book.reduce(order, min(qty, order.visible_qty), ctx.seq, ctx.ts))
    if order.visible_qty == 0 and order.leaves_qty > 0:
        order.visible_qty = order.next_slice()
        out.append(book.add(order, ctx.seq, ctx.ts))


def _in_priority(book: OrderBook, side: Side, px: int) -> list[LiveOrder]:
    """One side's orders that would trade at `px`: its market orders in arrival order,
    then its limits best price first and oldest first within a price."""
    orders = [o for o in book.auction_market.values() if o.side is side]
    for level in book.side(side).best_first():
        if (level.px < px) if side is Side.BUY else (level.px > px):
            break
        orders.extend(level.orders.values())
    return orders


def _cumulative(book_side: BookSide, market: int) -> dict[int, int]:
    """Per price of the side, the open quantity at that price or better, markets included."""
    total = market
    out: dict[int, int] = {}
    for level in book_side.best_first():
        total += sum(o.leaves_qty for o in level.orders.values())
        out[level.px] = total
    return out


def _at(cumulative: dict[int, int], px: int, market: int, *, above: bool) -> int:
    """What `cumulative` (of bids if `above`, else of asks) offers at `px`: the total at
    the worst of the side's prices that still trades there."""
    eligible = [p for p in cumulative if (p >= px if above else p <= px)]
    if not eligible:
        return market
    worst = min(eligible) if above else max(eligible)
    return cumulative[worst]
