"""Market, IOC and FOK orders, and DAY vs GTC at end of day."""

import pytest

from nyquestro.domain.enums import Side, TimeInForce
from nyquestro.domain.events import (
    Accepted,
    Execution,
    Expired,
    Filled,
    LevelEvent,
    LevelRemoved,
    Rejected,
    Trade,
)
from nyquestro.domain.reasons import ExpireReason, RejectReason
from tests.engine.conftest import (
    A2,
    A3,
    OTHER_SYM,
    Harness,
    fills_of,
    kinds,
    of,
    one,
)

IOC = TimeInForce.IOC
FOK = TimeInForce.FOK
GTC = TimeInForce.GTC


def ladder(h: Harness, side: Side, levels: list[tuple[int, int]]) -> None:
    """Rest one order per (px, qty) from an account the tests never aggress with."""
    for px, qty in levels:
        h.new(side, qty, px, account=A2)


# --- market -------------------------------------------------------------------------------


def test_market_buy_sweeps_levels_and_never_rests(h: Harness) -> None:
    ladder(h, Side.SELL, [(100, 5), (101, 5)])
    events = h.market(Side.BUY, 7, cl="m1")
    acc = one(events, Accepted)
    assert acc.px is None
    assert fills_of(events, h.oid("m1")) == [(100, 5), (101, 2)]
    assert isinstance(of(events, Execution)[-1], Filled)
    assert of(events, Expired) == []
    assert h.asks() == [(101, 3, 1)]
    assert h.bids() == []
    assert h.engine.order(h.oid("m1")) is None


def test_market_sell_takes_bids_best_first(h: Harness) -> None:
    ladder(h, Side.BUY, [(99, 5), (100, 5)])
    events = h.market(Side.SELL, 6, cl="m1")
    assert fills_of(events, h.oid("m1")) == [(100, 5), (99, 1)]
    assert h.bids() == [(99, 4, 1)]


def test_market_remainder_expires_when_the_side_runs_dry(h: Harness) -> None:
    ladder(h, Side.SELL, [(100, 5)])
    events = h.market(Side.BUY, 8, cl="m1")
    assert kinds(events) == [
        "Accepted",
        "Filled",
        "PartiallyFilled",
        "Trade",
        "LevelRemoved",
        "Expired",
    ]
    exp = one(events, Expired)
    assert exp.reason is ExpireReason.MARKET_REMAINDER
    assert (exp.expired_qty, exp.cum_qty) == (3, 5)
    assert h.bids() == [] and h.asks() == []
    assert h.engine.live_orders() == []


def test_market_order_on_an_empty_side_is_rejected_without_an_order(h: Harness) -> None:
    ladder(h, Side.BUY, [(100, 5)])  # liquidity on the wrong side does not help a buyer
    events = h.market(Side.BUY, 5, cl="m1")
    assert kinds(events) == ["Rejected"]
    rej = one(events, Rejected)
    assert rej.reason is RejectReason.NO_LIQUIDITY
    assert h.bids() == [(100, 5, 1)]


def test_market_liquidity_is_per_symbol(h: Harness) -> None:
    ladder(h, Side.SELL, [(100, 5)])
    events = h.market(Side.BUY, 5, symbol=OTHER_SYM)
    assert one(events, Rejected).reason is RejectReason.NO_LIQUIDITY


# --- IOC ----------------------------------------------------------------------------------


def test_ioc_fills_what_it_can_and_expires_the_rest(h: Harness) -> None:
    ladder(h, Side.SELL, [(100, 5), (102, 5)])
    events = h.buy(8, 101, cl="i1", tif=IOC)
    assert fills_of(events, h.oid("i1")) == [(100, 5)]
    exp = one(events, Expired)
    assert exp.reason is ExpireReason.IOC_REMAINDER
    assert (exp.expired_qty, exp.cum_qty, exp.side) == (3, 5, Side.BUY)
    assert events[-1] is exp
    assert h.bids() == []
    assert h.asks() == [(102, 5, 1)]


def test_ioc_that_cannot_trade_expires_whole(h: Harness) -> None:
    ladder(h, Side.SELL, [(101, 5)])
    events = h.buy(8, 100, cl="i1", tif=IOC)
    assert kinds(events) == ["Accepted", "Expired"]
    exp = one(events, Expired)
    assert (exp.reason, exp.expired_qty, exp.cum_qty) == (ExpireReason.IOC_REMAINDER, 8, 0)
    assert h.bids() == []


def test_ioc_completely_filled_has_no_expiry(h: Harness) -> None:
    ladder(h, Side.BUY, [(100, 5), (99, 5)])
    events = h.sell(7, 99, cl="i1", tif=IOC)
    assert fills_of(events, h.oid("i1")) == [(100, 5), (99, 2)]
    assert of(events, Expired) == []


# --- FOK ----------------------------------------------------------------------------------


def test_fok_that_cannot_fill_completely_expires_with_no_fills(h: Harness) -> None:
    ladder(h, Side.SELL, [(100, 5), (101, 5)])
    before = h.asks()
    events = h.buy(11, 101, cl="f1", tif=FOK)
    assert kinds(events) == ["Accepted", "Expired"]
    exp = one(events, Expired)
    assert (exp.reason, exp.expired_qty, exp.cum_qty) == (ExpireReason.FOK_NOT_FILLABLE, 11, 0)
    assert h.asks() == before


def test_fok_counts_only_liquidity_within_its_limit(h: Harness) -> None:
    ladder(h, Side.SELL, [(100, 5), (102, 50)])
    events = h.buy(10, 101, cl="f1", tif=FOK)
    assert one(events, Expired).reason is ExpireReason.FOK_NOT_FILLABLE
    assert of(events, Trade) == [] and of(events, LevelEvent) == []
    assert h.asks() == [(100, 5, 1), (102, 50, 1)]


def test_fok_exactly_fillable_across_several_levels_fills(h: Harness) -> None:
    ladder(h, Side.SELL, [(100, 3), (101, 4), (102, 3)])
    events = h.buy(10, 102, cl="f1", tif=FOK)
    assert fills_of(events, h.oid("f1")) == [(100, 3), (101, 4), (102, 3)]
    assert of(events, Expired) == []
    assert h.asks() == []
    assert h.bids() == []


def test_fok_sell_exactly_fillable_over_several_orders_in_a_level(h: Harness) -> None:
    ladder(h, Side.BUY, [(100, 2), (100, 2), (99, 6)])
    events = h.sell(10, 99, cl="f1", tif=FOK)
    assert fills_of(events, h.oid("f1")) == [(100, 2), (100, 2), (99, 6)]
    assert h.bids() == []


def test_fok_one_unit_short_does_nothing(h: Harness) -> None:
    ladder(h, Side.BUY, [(100, 2), (100, 2), (99, 6)])
    events = h.sell(11, 99, tif=FOK)
    assert kinds(events) == ["Accepted", "Expired"]
    assert h.bids() == [(100, 4, 2), (99, 6, 1)]


def test_market_fok_is_all_or_nothing_too(h: Harness) -> None:
    ladder(h, Side.SELL, [(100, 5)])
    events = h.market(Side.BUY, 6, tif=FOK)
    assert one(events, Expired).reason is ExpireReason.FOK_NOT_FILLABLE
    assert h.asks() == [(100, 5, 1)]
    events = h.market(Side.BUY, 5, tif=FOK, cl="m2")
    assert fills_of(events, h.oid("m2")) == [(100, 5)]


# --- DAY / GTC ----------------------------------------------------------------------------


def test_end_of_day_expires_day_orders_and_keeps_gtc(h: Harness) -> None:
    h.buy(10, 100, cl="day-bid")
    h.buy(5, 99, cl="gtc-bid", tif=GTC)
    h.sell(7, 105, cl="gtc-ask", tif=GTC, account=A2)
    h.sell(4, 106, cl="day-ask", account=A2)
    events = h.end_of_day()

    expired = of(events, Expired)
    assert {e.cl_ord_id for e in expired} == {"day-bid", "day-ask"}
    assert {e.reason for e in expired} == {ExpireReason.END_OF_DAY}
    assert {e.cl_ord_id: e.expired_qty for e in expired} == {"day-bid": 10, "day-ask": 4}
    removed = of(events, LevelRemoved)
    assert {(e.side, e.px) for e in removed} == {(Side.BUY, 100), (Side.SELL, 106)}
    assert h.bids() == [(99, 5, 1)]
    assert h.asks() == [(105, 7, 1)]
    assert not h.is_live("day-bid") and h.is_live("gtc-bid")


def test_each_expiry_precedes_its_level_change(h: Harness) -> None:
    h.buy(10, 100, cl="d1")
    h.buy(10, 100, cl="d2")
    events = h.end_of_day()
    assert kinds(events) == ["Expired", "LevelChanged", "Expired", "LevelRemoved"]


def test_end_of_day_reports_the_open_part_of_a_partly_filled_order(h: Harness) -> None:
    h.buy(10, 100, cl="d1")
    h.sell(4, 100, account=A2)
    exp = one(h.end_of_day(), Expired)
    assert (exp.cl_ord_id, exp.expired_qty, exp.cum_qty) == ("d1", 6, 4)


def test_a_new_day_frees_clordids_of_finished_orders_but_not_of_live_gtc_orders(
    h: Harness,
) -> None:
    # ClOrdIDs are unique per trading day; a GTC order still working keeps its own.
    h.buy(10, 100, cl="day")
    h.buy(10, 99, cl="gtc", tif=GTC)
    h.end_of_day()
    assert one(h.buy(1, 98, cl="day"), Accepted)
    rej = one(h.buy(1, 98, cl="gtc"), Rejected)
    assert rej.reason is RejectReason.DUPLICATE_CL_ORD_ID


def test_gtc_orders_trade_after_end_of_day(h: Harness) -> None:
    h.sell(5, 100, cl="g1", tif=GTC, account=A2)
    h.end_of_day()
    events = h.buy(5, 100, cl="b1", account=A3)
    assert fills_of(events, h.oid("g1")) == [(100, 5)]


def test_end_of_day_covers_every_symbol_and_is_quiet_when_nothing_is_left(h: Harness) -> None:
    h.buy(1, 100, cl="x")
    h.buy(1, 100, cl="y", symbol=OTHER_SYM)
    assert {e.symbol for e in of(h.end_of_day(), Expired)} == {"XYZ", OTHER_SYM}
    assert h.end_of_day() == []


@pytest.mark.parametrize("tif", [TimeInForce.DAY, GTC, IOC])
def test_market_order_tif_other_than_fok_changes_nothing(h: Harness, tif: TimeInForce) -> None:
    ladder(h, Side.SELL, [(100, 5)])
    events = h.market(Side.BUY, 8, cl="m1", tif=tif)
    exp = one(events, Expired)
    assert (exp.reason, exp.expired_qty, exp.cum_qty) == (ExpireReason.MARKET_REMAINDER, 3, 5)
    assert h.bids() == []
