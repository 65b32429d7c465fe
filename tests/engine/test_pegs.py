"""Pegged orders: price from the non-pegged book or the last sale, repriced as it moves."""

import pytest

from nyquestro.domain.enums import PegType, Side
from nyquestro.domain.events import (
    Accepted,
    CancelRejected,
    Execution,
    Rejected,
    Replaced,
    Restated,
    Resumed,
    Trade,
)
from nyquestro.domain.reasons import RejectReason, RestateReason
from tests.engine.conftest import A1, A2, A3, SYM, Harness, fills_of, kinds, of, one

MID = PegType.MIDPOINT
PRIMARY = PegType.PRIMARY
MARKET = PegType.MARKET
LAST = PegType.LAST_SALE
BUY = Side.BUY
SELL = Side.SELL


def quote(h: Harness, bid: int | None, ask: int | None) -> None:
    """Plain limit orders from accounts the pegs (A1) never share, so SMP stays out of it."""
    if bid is not None:
        h.buy(10, bid, cl=f"bid{bid}", account=A2)
    if ask is not None:
        h.sell(10, ask, cl=f"ask{ask}", account=A3)


def print_trade(h: Harness, px: int) -> None:
    """Leave a last-sale price of `px` without changing the quote."""
    h.sell(1, px, account=A3)
    h.buy(1, px, account=A2)


def peg(h: Harness, side: Side, kind: PegType, offset: int = 0, cl: str = "p", qty: int = 5) -> int:
    events = h.new(side, qty, None, cl=cl, peg=kind, peg_offset=offset, account=A1)
    px = one(events, Accepted).px
    assert px is not None
    return px


@pytest.mark.parametrize(
    ("kind", "bid", "ask", "side", "offset", "expected"),
    [
        (MID, 100, 104, BUY, 0, 102),
        (MID, 100, 104, SELL, 0, 102),
        # Odd spread: the midpoint rounds to the passive side.
        (MID, 100, 103, BUY, 0, 101),
        (MID, 100, 103, SELL, 0, 102),
        (MID, 100, 104, BUY, -1, 101),
        (MID, 100, 103, BUY, -2, 99),
        (MID, 100, 103, SELL, 1, 103),
        (PRIMARY, 100, 104, BUY, 0, 100),
        (PRIMARY, 100, 104, BUY, -2, 98),
        (PRIMARY, 100, 104, SELL, 0, 104),
        (PRIMARY, 100, 104, SELL, 1, 105),
        (MARKET, 100, 104, BUY, -1, 103),
        (MARKET, 100, 104, BUY, -4, 100),
        (MARKET, 100, 104, SELL, 1, 101),
    ],
)
def test_peg_price_from_the_quote(
    h: Harness, kind: PegType, bid: int, ask: int, side: Side, offset: int, expected: int
) -> None:
    quote(h, bid, ask)
    assert peg(h, side, kind, offset) == expected
    view = h.engine.order(h.oid("p"))
    assert view is not None and (view.px, view.peg, view.leaves_qty) == (expected, kind, 5)
    # The peg joins the quote's level when it is priced at it, else it has a level alone.
    same_side_quote = bid if side is BUY else ask
    level = 15 if expected == same_side_quote else 5
    assert (expected, level) in [(px, q) for px, q, _ in h.depth(side)]
    assert of(h.history, Trade) == []


@pytest.mark.parametrize(
    ("side", "offset", "expected"),
    [(BUY, 0, 101), (BUY, -1, 100), (SELL, 1, 102), (SELL, 0, 101)],
)
def test_last_sale_peg(h: Harness, side: Side, offset: int, expected: int) -> None:
    quote(h, 99, 104)
    print_trade(h, 101)
    assert h.engine.last_trade_px(SYM) == 101
    assert peg(h, side, LAST, offset) == expected


@pytest.mark.parametrize(
    ("bid", "ask", "side", "kind"),
    [
        (None, None, BUY, PRIMARY),
        (None, None, SELL, MID),
        (None, None, BUY, MARKET),
        (None, None, SELL, LAST),
        (100, None, BUY, MID),
        (None, 104, SELL, MID),
        (100, None, BUY, MARKET),
        (100, None, SELL, PRIMARY),
        (None, 104, SELL, MARKET),
        (100, 104, BUY, LAST),  # a quote is not a sale
    ],
)
def test_new_peg_without_reference_is_rejected(
    h: Harness, bid: int | None, ask: int | None, side: Side, kind: PegType
) -> None:
    quote(h, bid, ask)
    events = h.new(side, 5, None, cl="p", peg=kind, account=A1)
    assert kinds(events) == ["Rejected"]
    rej = one(events, Rejected)
    assert rej.reason is RejectReason.NO_PEG_REFERENCE
    assert SYM in rej.text


def test_pegs_are_not_a_reference_for_other_pegs(h: Harness) -> None:
    quote(h, 100, 104)
    assert peg(h, BUY, PRIMARY, offset=1, cl="p1") == 101
    # The best bid is now the peg at 101, but pegs only look at non-pegged orders.
    assert peg(h, BUY, PRIMARY, cl="p2") == 100
    h.cancel("bid100")
    rej = one(h.new(BUY, 5, None, peg=PRIMARY, account=A1), Rejected)
    assert rej.reason is RejectReason.NO_PEG_REFERENCE


def test_peg_reprices_when_its_reference_moves(h: Harness) -> None:
    quote(h, 100, 104)
    peg(h, BUY, PRIMARY, cl="p")
    events = h.buy(10, 101, cl="bid101", account=A2)
    r = one(events, Restated)
    assert (r.order_id, r.reason, r.px) == (h.oid("p"), RestateReason.PEG_REPRICE, 101)
    assert (r.qty, r.leaves_qty, r.cum_qty, r.reduced_qty) == (5, 5, 0, 0)
    assert h.bids() == [(101, 15, 2), (100, 10, 1)]
    # A new price is a new place in the queue: behind the order that moved the reference.
    assert h.queue(BUY) == ["bid101", "p", "bid100"]
    events = h.cancel("bid101")
    assert one(events, Restated).px == 100
    assert h.queue(BUY) == ["bid100", "p"]


def test_midpoint_follows_either_side(h: Harness) -> None:
    quote(h, 100, 104)
    peg(h, SELL, MID, cl="p")
    assert one(h.sell(10, 102, cl="a102", account=A3), Restated).px == 101
    assert one(h.cancel("a102"), Restated).px == 102
    # (101 + 104) / 2 = 102.5: a sell rounds up.
    assert one(h.buy(10, 101, account=A2), Restated).px == 103
    assert h.asks() == [(103, 5, 1), (104, 10, 1)]


def test_last_sale_peg_follows_trades(h: Harness) -> None:
    quote(h, 95, 110)
    print_trade(h, 100)
    peg(h, BUY, LAST, offset=-1, cl="p")
    assert h.bids()[0] == (99, 5, 1)
    h.sell(1, 103, account=A3)
    events = h.buy(1, 103, account=A2)
    assert one(events, Restated).px == 102
    assert h.bids()[0] == (102, 5, 1)


def test_peg_keeps_priority_while_its_price_does_not_change(h: Harness) -> None:
    h.buy(10, 100, cl="x", account=A2)
    h.sell(10, 104, cl="ask104", account=A3)
    peg(h, BUY, PRIMARY, cl="p")
    h.buy(10, 100, cl="y", account=A3)
    assert h.queue(BUY) == ["x", "p", "y"]
    # The ask moves: a primary buy does not care.
    assert of(h.sell(10, 103, account=A3), Restated) == []
    # The order behind which it was priced goes, but the best bid is still 100.
    assert of(h.cancel("x"), Restated) == []
    assert h.queue(BUY) == ["p", "y"]
    assert one(h.buy(10, 101, cl="z", account=A2), Restated).px == 101
    assert h.queue(BUY) == ["z", "p", "y"]


def test_midpoint_that_rounds_to_the_same_price_keeps_priority(h: Harness) -> None:
    quote(h, 100, 104)
    print_trade(h, 102)
    peg(h, BUY, MID, cl="mid")
    peg(h, BUY, LAST, cl="last")
    assert h.queue(BUY)[:2] == ["mid", "last"]
    # The ask goes away and comes back at 105: (100 + 105) // 2 is still 102 for a buy.
    moved = h.cancel("ask104") + h.sell(10, 105, account=A3)
    assert of(moved, Restated) == []
    assert h.queue(BUY)[:2] == ["mid", "last"]
    assert h.bids()[0] == (102, 10, 2)


def test_peg_keeps_its_price_when_the_reference_disappears(h: Harness) -> None:
    quote(h, 100, 104)
    peg(h, BUY, PRIMARY, cl="p")
    events = h.cancel("bid100")
    assert of(events, Restated) == []
    assert h.bids() == [(100, 5, 1)]
    # It comes back to life when a reference returns.
    assert one(h.buy(10, 99, account=A2), Restated).px == 99


def test_repricing_is_suspended_during_a_halt_and_resumes_after(h: Harness) -> None:
    h.buy(10, 101, cl="l101", account=A2)
    h.buy(10, 100, cl="l100", account=A3)
    h.sell(10, 104, account=A3)
    peg(h, BUY, PRIMARY, cl="p")
    assert h.bids()[0] == (101, 15, 2)
    h.halt()
    events = h.cancel("l101")
    assert of(events, Restated) == []
    assert h.bids() == [(101, 5, 1), (100, 10, 1)]
    events = h.resume()
    assert isinstance(events[0], Resumed)
    r = one(events, Restated)
    assert (r.order_id, r.px) == (h.oid("p"), 100)
    assert h.bids() == [(100, 15, 2)]


def test_peg_is_a_resting_order_and_trades_at_its_own_price(h: Harness) -> None:
    quote(h, 100, 104)
    peg(h, BUY, MID, cl="p")
    events = h.sell(3, 101, cl="s", account=A3)
    assert fills_of(events, h.oid("s")) == [(102, 3)]
    assert one(events, Trade).buy_order_id == h.oid("p")


def test_peg_entering_at_a_crossing_price_trades(h: Harness) -> None:
    quote(h, 100, 104)
    events = h.new(BUY, 4, None, cl="p", peg=PRIMARY, peg_offset=5, account=A1)
    assert one(events, Accepted).px == 105
    trade = one(events, Trade)
    assert (trade.px, trade.qty, trade.aggressor_side) == (104, 4, BUY)


def test_market_peg_that_reprices_into_a_crossing_price_trades(h: Harness) -> None:
    h.sell(5, 105, cl="s1", account=A2)
    first = h.new(BUY, 10, None, cl="p", peg=MARKET, account=A1)
    assert fills_of(first, h.oid("p")) == [(105, 5)]
    # No ask is left to reference: the peg rests at its last price.
    assert h.bids() == [(105, 5, 1)]

    events = h.sell(3, 107, cl="s2", account=A3)
    r = one(events, Restated)
    trade = one(events, Trade)
    assert events.index(r) < events.index(trade)
    assert (r.px, trade.px, trade.qty) == (107, 107, 3)
    assert trade.aggressor_side is BUY
    assert (trade.buy_order_id, trade.sell_order_id) == (h.oid("p"), h.oid("s2"))
    peg_fill = [ev for ev in of(events, Execution) if ev.order_id == h.oid("p")]
    assert [(ev.qty, ev.cum_qty, ev.leaves_qty) for ev in peg_fill] == [(3, 8, 2)]
    assert h.asks() == []
    assert h.bids() == [(107, 2, 1)]


def test_buy_and_sell_midpoint_pegs_meet_at_the_mid(h: Harness) -> None:
    quote(h, 100, 104)
    peg(h, BUY, MID, cl="pb")
    events = h.new(SELL, 3, None, cl="ps", peg=MID, account=A3)
    assert one(events, Trade).px == 102
    assert fills_of(events, h.oid("pb")) == [(102, 3)]


def test_replacing_a_peg(h: Harness) -> None:
    quote(h, 100, 104)
    peg(h, BUY, PRIMARY, cl="p", qty=10)
    h.buy(5, 100, cl="later", account=A3)
    kept = one(h.replace("p", 6, cl="p2"), Replaced)
    assert (kept.px, kept.priority_kept) == (100, True)
    assert h.queue(BUY)[:2] == ["bid100", "p2"]
    rej = one(h.replace("p2", 6, 101, cl="p3"), CancelRejected)
    assert rej.reason is RejectReason.PRICE_NOT_ALLOWED
    assert h.engine.order(h.oid("p")) is not None


def test_midpoint_pegs_across_an_odd_spread_do_not_meet(h: Harness) -> None:
    quote(h, 100, 103)
    peg(h, BUY, MID, cl="pb")
    events = h.new(SELL, 5, None, cl="ps", peg=MID, account=A3)
    assert one(events, Accepted).px == 102
    assert of(events, Trade) == []
    assert h.bids()[0] == (101, 5, 1)
    assert h.asks()[0] == (102, 5, 1)
