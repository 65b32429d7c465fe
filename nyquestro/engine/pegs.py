"""Pegged orders: price from a reference, repriced whenever the reference moves.

References come from the book itself and only from non-pegged orders (and the last
trade): a peg referencing other pegs could chase itself (a same-side peg with a positive
offset would ratchet its own best price up on every reprice).

- PRIMARY: same-side best bid/offer + offset.
- MARKET: opposite-side best + offset (aggressive; it trades if it crosses).
- MIDPOINT: (best bid + best ask) / 2 + offset, rounded to the passive side when the
  spread is an odd number of ticks (buys down, sells up): prices stay on the tick grid.
- LAST_SALE: last trade price + offset.

A new peg whose reference does not exist is rejected (RejectReason.NO_PEG_REFERENCE)
rather than parked: a parked order has no price, cannot be shown or matched, and would
be invisible state the client cannot see. A resting peg whose reference disappears keeps
its last price until a reference returns. A peg loses time priority only when its price
actually changes; a reprice to a crossing price trades like any aggressive order.
Repricing is suspended while the symbol is halted and runs again on resume.
"""

from nyquestro.domain.enums import PegType, Side, TradingPhase
from nyquestro.domain.errors import InvariantViolation
from nyquestro.domain.events import Restated
from nyquestro.domain.ids import Px, Qty
from nyquestro.domain.reasons import RestateReason
from nyquestro.engine.book import OrderBook
from nyquestro.engine.context import Context
from nyquestro.engine.matching import execute
from nyquestro.engine.order import LiveOrder

# Each repricing round either trades (finite quantity) or leaves references unchanged,
# so the loop ends; the cap turns a bug into a loud failure instead of a hang.
_MAX_ROUNDS = 100_000

References = tuple[int | None, int | None, int | None]


def references(book: OrderBook) -> References:
    return (book.bids.best_unpegged_px(), book.asks.best_unpegged_px(), book.last_px)


def peg_price(refs: References, peg: PegType, side: Side, offset: int) -> Px | None:
    """The price a peg should have now, or None when its reference is missing."""
    bid, ask, last = refs
    base: int | None
    if peg is PegType.PRIMARY:
        base = bid if side is Side.BUY else ask
    elif peg is PegType.MARKET:
        base = ask if side is Side.BUY else bid
    elif peg is PegType.LAST_SALE:
        base = last
    elif bid is None or ask is None:
        base = None
    else:
        total = bid + ask
        base = total // 2 if side is Side.BUY else -(-total // 2)
    if base is None or base + offset <= 0:
        return None
    return Px(base + offset)


def reprice(ctx: Context, book: OrderBook) -> None:
    """Bring every resting peg of `book` to its reference, until references are stable."""
    if not book.pegs or book.halted or book.phase is not TradingPhase.CONTINUOUS:
        return
    for _ in range(_MAX_ROUNDS):
        refs = references(book)
        if refs == book.peg_refs:
            return
        book.peg_refs = refs
        for order in list(book.pegs.values()):
            if order.leaves_qty > 0:
                _reprice_one(ctx, book, order, refs)
    raise InvariantViolation(f"{book.symbol}: peg repricing did not settle")


def _reprice_one(ctx: Context, book: OrderBook, order: LiveOrder, refs: References) -> None:
    assert order.peg is not None
    px = peg_price(refs, order.peg, order.side, order.peg_offset)
    if px is None or px == order.px:
        return
    removed = book.remove(order, ctx.seq, ctx.ts)
    order.px = px
    ctx.out.append(
        Restated(
            seq=ctx.seq,
            ts=ctx.ts,
            order_id=order.order_id,
            session=order.session,
            cl_ord_id=order.cl_ord_id,
            symbol=order.symbol,
            side=order.side,
            reason=RestateReason.PEG_REPRICE,
            px=px,
            qty=Qty(order.qty),
            leaves_qty=Qty(order.leaves_qty),
            cum_qty=Qty(order.cum_qty),
            reduced_qty=Qty(0),
        )
    )
    ctx.out.append(removed)
    execute(ctx, book, order)
