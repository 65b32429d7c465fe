"""Price-time matching of one aggressive order against one book.

Executions happen at the resting order's price. The aggressor walks the opposite side
best price first and, within a price, oldest first. Self-match prevention is applied
when the aggressor meets a resting order with the same SMP key. An iceberg whose visible
slice is used up shows its next slice at the back of the queue, with fresh priority,
and can trade again within the same sweep once the orders ahead of it have.
"""

from nyquestro.domain.enums import Side, SmpPolicy, TimeInForce
from nyquestro.domain.events import (
    Cancelled,
    Expired,
    Filled,
    PartiallyFilled,
    Restated,
    Trade,
)
from nyquestro.domain.ids import ClOrdId, Px, Qty, TradeId
from nyquestro.domain.reasons import CancelReason, ExpireReason, RestateReason
from nyquestro.engine.book import BookSide, OrderBook
from nyquestro.engine.context import Context
from nyquestro.engine.order import LiveOrder


def crosses(side: Side, limit: int | None, resting_px: int) -> bool:
    """Would an order on `side` with `limit` (None: market) trade at `resting_px`?"""
    if limit is None:
        return True
    return limit >= resting_px if side is Side.BUY else limit <= resting_px


def execute(ctx: Context, book: OrderBook, order: LiveOrder) -> None:
    """Match an accepted (or repriced) order, then rest or expire whatever is left."""
    limit = order.px
    if order.tif is TimeInForce.FOK and not fok_fillable(book, order, limit):
        expire(ctx, book, order, ExpireReason.FOK_NOT_FILLABLE)
        return
    match(ctx, book, order, limit)
    if order.leaves_qty == 0:
        return
    if order.px is None:  # a market order, or a triggered stop (a market order now)
        expire(ctx, book, order, ExpireReason.MARKET_REMAINDER)
    elif order.tif is TimeInForce.IOC:
        expire(ctx, book, order, ExpireReason.IOC_REMAINDER)
    else:
        # FOK never gets here: fok_fillable guaranteed a complete fill.
        order.visible_qty = order.next_slice()
        ctx.out.append(book.add(order, ctx.seq, ctx.ts))


def match(ctx: Context, book: OrderBook, taker: LiveOrder, limit: int | None) -> None:
    opposite = book.asks if taker.side is Side.BUY else book.bids
    out = ctx.out
    while taker.leaves_qty > 0:
        level = opposite.best
        if level is None or not crosses(taker.side, limit, level.px):
            return
        orders = level.orders
        while orders and taker.leaves_qty > 0:
            maker = next(iter(orders.values()))
            if maker.smp_key == taker.smp_key:
                prevent_self_match(ctx, book, taker, maker)
                continue
            qty = min(taker.leaves_qty, maker.visible_qty)
            px = maker.px
            assert px is not None
            trade(ctx, book, taker, maker, qty, px)
            out.append(book.reduce(maker, qty, ctx.seq, ctx.ts))
            if maker.leaves_qty == 0:
                finish(ctx, book, maker)
            elif maker.visible_qty == 0:
                maker.visible_qty = maker.next_slice()
                out.append(book.add(maker, ctx.seq, ctx.ts))
        # A level emptied by this sweep has already been deleted by book.reduce.


def trade(
    ctx: Context, book: OrderBook, taker: LiveOrder, maker: LiveOrder, qty: int, px: Px
) -> None:
    """One trade at `px` (continuous matching: the maker's price; an auction: its
    price): both executions, the Trade, and the taker finished if it filled."""
    trade_id = TradeId(ctx.next_trade_id)
    ctx.next_trade_id += 1
    book.last_px = px
    aggressor = taker.side
    out = ctx.out
    for order, contra in ((maker, taker), (taker, maker)):
        order.leaves_qty -= qty
        order.cum_qty += qty
        order.cum_notional += px * qty
        # Named at each call site, not chosen into a variable: see OrderBook.add.
        if order.leaves_qty == 0:
            out.append(
                Filled(
                    seq=ctx.seq,
                    ts=ctx.ts,
                    order_id=order.order_id,
                    session=order.session,
                    account=order.account,
                    cl_ord_id=order.cl_ord_id,
                    symbol=order.symbol,
                    side=order.side,
                    trade_id=trade_id,
                    px=px,
                    qty=Qty(qty),
                    cum_qty=Qty(order.cum_qty),
                    leaves_qty=Qty(order.leaves_qty),
                    cum_notional=order.cum_notional,
                    aggressor_side=aggressor,
                    contra_order_id=contra.order_id,
                )
            )
        else:
            out.append(
                PartiallyFilled(
                    seq=ctx.seq,
                    ts=ctx.ts,
                    order_id=order.order_id,
                    session=order.session,
                    account=order.account,
                    cl_ord_id=order.cl_ord_id,
                    symbol=order.symbol,
                    side=order.side,
                    trade_id=trade_id,
                    px=px,
                    qty=Qty(qty),
                    cum_qty=Qty(order.cum_qty),
                    leaves_qty=Qty(order.leaves_qty),
                    cum_notional=order.cum_notional,
                    aggressor_side=aggressor,
                    contra_order_id=contra.order_id,
                )
            )
    buy, sell = (taker, maker) if aggressor is Side.BUY else (maker, taker)
    ctx.trades.record(trade_id, buy, sell, px, qty)
    out.append(
        Trade(
            seq=ctx.seq,
            ts=ctx.ts,
            symbol=book.symbol,
            trade_id=trade_id,
            px=px,
            qty=Qty(qty),
            aggressor_side=aggressor,
            buy_order_id=buy.order_id,
            sell_order_id=sell.order_id,
        )
    )
    if taker.leaves_qty == 0:
        finish(ctx, book, taker)


def prevent_self_match(ctx: Context, book: OrderBook, taker: LiveOrder, maker: LiveOrder) -> None:
    """Apply the aggressor's SMP policy; the maker is at the head of its level."""
    policy = taker.smp_policy
    if policy is SmpPolicy.CANCEL_RESTING:
        cancel(ctx, book, maker, CancelReason.SELF_MATCH, maker.cl_ord_id, None)
    elif policy is SmpPolicy.CANCEL_INCOMING:
        cancel(ctx, book, taker, CancelReason.SELF_MATCH, taker.cl_ord_id, None)
    elif policy is SmpPolicy.CANCEL_BOTH:
        cancel(ctx, book, maker, CancelReason.SELF_MATCH, maker.cl_ord_id, None)
        cancel(ctx, book, taker, CancelReason.SELF_MATCH, taker.cl_ord_id, None)
    else:
        both = min(taker.leaves_qty, maker.leaves_qty)
        for order in (maker, taker):
            if order.leaves_qty == both:
                cancel(ctx, book, order, CancelReason.SELF_MATCH, order.cl_ord_id, None)
            else:
                decrement(ctx, book, order, both)


def decrement(ctx: Context, book: OrderBook, order: LiveOrder, qty: int) -> None:
    """Remove `qty` of open quantity without a fill, hidden quantity first."""
    order.leaves_qty -= qty
    order.qty -= qty
    # Hidden quantity goes first: the visible slice shrinks only below what is left.
    visible_cut = max(order.visible_qty - order.leaves_qty, 0)
    level_event = None
    if visible_cut and order.in_book:
        level_event = book.reduce(order, visible_cut, ctx.seq, ctx.ts)
    else:
        order.visible_qty -= visible_cut
    ctx.out.append(
        Restated(
            seq=ctx.seq,
            ts=ctx.ts,
            order_id=order.order_id,
            session=order.session,
            cl_ord_id=order.cl_ord_id,
            symbol=order.symbol,
            side=order.side,
            reason=RestateReason.SELF_MATCH_DECREMENT,
            px=order.px,
            qty=Qty(order.qty),
            leaves_qty=Qty(order.leaves_qty),
            cum_qty=Qty(order.cum_qty),
            reduced_qty=Qty(qty),
        )
    )
    if level_event is not None:
        ctx.out.append(level_event)


def cancel(
    ctx: Context,
    book: OrderBook,
    order: LiveOrder,
    reason: CancelReason,
    cl_ord_id: ClOrdId,
    orig_cl_ord_id: ClOrdId | None,
) -> None:
    cancelled = order.leaves_qty
    # The book change is computed first but published after the order's own event.
    level_event = book.remove(order, ctx.seq, ctx.ts) if order.in_book else None
    order.leaves_qty = 0
    order.visible_qty = 0
    ctx.out.append(
        Cancelled(
            seq=ctx.seq,
            ts=ctx.ts,
            order_id=order.order_id,
            session=order.session,
            cl_ord_id=cl_ord_id,
            orig_cl_ord_id=orig_cl_ord_id,
            symbol=order.symbol,
            side=order.side,
            reason=reason,
            cancelled_qty=Qty(cancelled),
            cum_qty=Qty(order.cum_qty),
        )
    )
    if level_event is not None:
        ctx.out.append(level_event)
    finish(ctx, book, order)


def expire(ctx: Context, book: OrderBook, order: LiveOrder, reason: ExpireReason) -> None:
    """End a non-resting remainder (IOC, FOK, market). Resting DAY orders use `expire_resting`."""
    expired = order.leaves_qty
    order.leaves_qty = 0
    order.visible_qty = 0
    ctx.out.append(
        Expired(
            seq=ctx.seq,
            ts=ctx.ts,
            order_id=order.order_id,
            session=order.session,
            cl_ord_id=order.cl_ord_id,
            symbol=order.symbol,
            side=order.side,
            reason=reason,
            expired_qty=Qty(expired),
            cum_qty=Qty(order.cum_qty),
        )
    )
    finish(ctx, book, order)


def expire_resting(ctx: Context, book: OrderBook, order: LiveOrder, reason: ExpireReason) -> None:
    """End a live order that may rest: in the book, or a stop not yet triggered."""
    level_event = book.remove(order, ctx.seq, ctx.ts) if order.in_book else None
    expire(ctx, book, order, reason)
    if level_event is not None:
        ctx.out.append(level_event)


def finish(ctx: Context, book: OrderBook, order: LiveOrder) -> None:
    """Forget an order that can no longer trade."""
    ctx.live.pop(order.order_id, None)
    ctx.trades.finished(order)
    if order.peg is not None:
        book.pegs.pop(order.order_id, None)
    elif order.stop_px is not None:
        book.stops.pop(order.order_id, None)
    if order.px is None and book.auction_market:
        book.auction_market.pop(order.order_id, None)
    if order.tif is TimeInForce.ATC:
        book.at_close.pop(order.order_id, None)


def fok_fillable(book: OrderBook, taker: LiveOrder, limit: int | None) -> bool:
    """Dry run: would `taker` fill completely, with SMP applied, without touching the book?

    A self-match whose policy stops the aggressor cuts the sweep short. Iceberg hidden
    quantity at that level would only come back behind the self-match (replenishment goes
    to the back of the queue), so ahead of it only visible quantity counts.
    """
    need = taker.leaves_qty
    opposite: BookSide = book.asks if taker.side is Side.BUY else book.bids
    stops_taker = taker.smp_policy is not SmpPolicy.CANCEL_RESTING
    for level in opposite.best_first():
        if not crosses(taker.side, limit, level.px):
            return False
        blocker = None
        if stops_taker:
            blocker = next((o for o in level.orders.values() if o.smp_key == taker.smp_key), None)
        if blocker is None:
            need -= sum(o.leaves_qty for o in level.orders.values() if o.smp_key != taker.smp_key)
        else:
            for maker in level.orders.values():
                if maker is blocker:
                    return False
                need -= maker.visible_qty
                if need <= 0:
                    return True
        if need <= 0:
            return True
    return False
