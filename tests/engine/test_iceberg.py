"""Icebergs: only the display slice is visible; each new slice joins the back of the queue."""

from nyquestro.domain.enums import Side, TimeInForce
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    Execution,
    Expired,
    LevelEvent,
    Replaced,
)
from nyquestro.domain.reasons import ExpireReason
from tests.engine.conftest import A2, A3, Harness, fills_of, kinds, of, one


def test_only_the_display_slice_is_in_the_book_and_level_events(h: Harness) -> None:
    events = h.sell(20, 100, cl="ice", display_qty=5)
    assert one(events, Accepted).display_qty == 5
    lvl = one(events, LevelEvent)
    assert (lvl.qty, lvl.orders, lvl.order_qty) == (5, 1, 5)
    assert h.asks() == [(100, 5, 1)]
    view = h.engine.order(h.oid("ice"))
    assert view is not None
    assert (view.qty, view.leaves_qty, view.visible_qty, view.display_qty) == (20, 20, 5, 5)


def test_level_total_counts_visible_slices_only(h: Harness) -> None:
    h.sell(20, 100, display_qty=5)
    h.sell(7, 100, account=A2)
    events = h.sell(30, 100, display_qty=3, account=A3)
    assert one(events, LevelEvent).qty == 5 + 7 + 3
    assert h.asks() == [(100, 15, 3)]


def test_replenished_slice_goes_to_the_back_of_the_queue(h: Harness) -> None:
    h.sell(20, 100, cl="ice", display_qty=5)
    h.sell(5, 100, cl="plain", account=A2)
    first = h.buy(5, 100, account=A3)
    assert fills_of(first, h.oid("ice")) == [(100, 5)]
    assert h.queue(Side.SELL) == ["plain", "ice"]
    assert h.asks() == [(100, 10, 2)]
    # Visible quantity of the new slice, never the hidden rest, in the level events.
    assert [(ev.order_id, ev.order_qty) for ev in of(first, LevelEvent)][-1] == (h.oid("ice"), 5)
    assert max(ev.qty for ev in of(first, LevelEvent)) <= 10

    second = h.buy(7, 100, account=A3)
    assert fills_of(second, h.oid("plain")) == [(100, 5)]
    assert fills_of(second, h.oid("ice")) == [(100, 2)]


def test_slice_that_is_only_partly_used_keeps_its_place(h: Harness) -> None:
    h.sell(20, 100, cl="ice", display_qty=5)
    h.sell(5, 100, cl="plain", account=A2)
    h.buy(3, 100, account=A3)
    assert h.queue(Side.SELL) == ["ice", "plain"]
    assert h.asks() == [(100, 7, 2)]


def test_large_aggressor_takes_several_slices_of_a_lone_iceberg(h: Harness) -> None:
    h.sell(20, 100, cl="ice", display_qty=5)
    h.sell(10, 101, cl="behind", account=A2)
    events = h.buy(12, 100, cl="b1", account=A3)
    assert fills_of(events, h.oid("ice")) == [(100, 5), (100, 5), (100, 2)]
    assert fills_of(events, h.oid("b1")) == [(100, 5), (100, 5), (100, 2)]
    view = h.engine.order(h.oid("ice"))
    assert view is not None and (view.leaves_qty, view.visible_qty, view.cum_qty) == (8, 3, 12)
    assert h.asks() == [(100, 3, 1), (101, 10, 1)]
    assert all(ev.qty <= 5 and ev.order_qty <= 5 for ev in of(events, LevelEvent))


def test_iceberg_slices_interleave_with_orders_at_the_same_price(h: Harness) -> None:
    h.sell(20, 100, cl="ice", display_qty=5)
    h.sell(5, 100, cl="plain", account=A2)
    events = h.buy(15, 100, account=A3)
    makers = [(ev.cl_ord_id, ev.qty) for ev in of(events, Execution) if ev.side is Side.SELL]
    assert makers == [("ice", 5), ("plain", 5), ("ice", 5)]
    assert h.asks() == [(100, 5, 1)]


def test_iceberg_fully_consumed_leaves_nothing(h: Harness) -> None:
    h.sell(12, 100, cl="ice", display_qty=5)
    events = h.buy(20, 100, cl="b1", account=A2)
    assert fills_of(events, h.oid("ice")) == [(100, 5), (100, 5), (100, 2)]
    assert h.asks() == []
    assert h.bids() == [(100, 8, 1)]
    assert h.engine.order(h.oid("ice")) is None


def test_hidden_quantity_counts_for_fok(h: Harness) -> None:
    h.sell(20, 100, cl="ice", display_qty=5)
    too_big = h.buy(21, 100, tif=TimeInForce.FOK, account=A2)
    assert one(too_big, Expired).reason is ExpireReason.FOK_NOT_FILLABLE
    assert kinds(too_big) == ["Accepted", "Expired"]
    events = h.buy(15, 100, cl="f1", tif=TimeInForce.FOK, account=A2)
    assert fills_of(events, h.oid("f1")) == [(100, 5), (100, 5), (100, 5)]
    assert h.asks() == [(100, 5, 1)]


def test_hidden_quantity_behind_other_orders_counts_for_fok(h: Harness) -> None:
    h.sell(20, 100, cl="ice", display_qty=5)
    h.sell(5, 100, cl="plain", account=A2)
    events = h.buy(25, 100, cl="f1", tif=TimeInForce.FOK, account=A3)
    assert sum(q for _, q in fills_of(events, h.oid("f1"))) == 25
    assert h.asks() == []


def test_aggressive_iceberg_rests_only_a_slice_of_its_remainder(h: Harness) -> None:
    h.sell(3, 100, account=A2)
    events = h.buy(20, 100, cl="ice", display_qty=5)
    assert fills_of(events, h.oid("ice")) == [(100, 3)]
    assert h.bids() == [(100, 5, 1)]
    view = h.engine.order(h.oid("ice"))
    assert view is not None and (view.leaves_qty, view.visible_qty) == (17, 5)


def test_last_slice_is_smaller_than_display(h: Harness) -> None:
    h.sell(12, 100, cl="ice", display_qty=5)
    h.buy(10, 100, account=A2)
    assert h.asks() == [(100, 2, 1)]


def test_cancelling_an_iceberg_cancels_hidden_quantity_too(h: Harness) -> None:
    h.sell(20, 100, cl="ice", display_qty=5)
    h.buy(7, 100, account=A2)
    events = h.cancel("ice")
    c = one(events, Cancelled)
    assert (c.cancelled_qty, c.cum_qty) == (13, 7)
    assert h.asks() == []


def test_end_of_day_expires_hidden_quantity_too(h: Harness) -> None:
    h.sell(20, 100, cl="ice", display_qty=5)
    exp = one(h.end_of_day(), Expired)
    assert (exp.expired_qty, exp.reason) == (20, ExpireReason.END_OF_DAY)


def test_reducing_hidden_quantity_keeps_priority_and_depth(h: Harness) -> None:
    h.sell(20, 100, cl="ice", display_qty=5)
    h.sell(5, 100, cl="plain", account=A2)
    events = h.replace("ice", 12, 100, cl="ice-r")
    assert one(events, Replaced).priority_kept is True
    assert h.queue(Side.SELL) == ["ice-r", "plain"]
    assert h.asks() == [(100, 10, 2)]


def test_changing_display_size_loses_priority(h: Harness) -> None:
    h.sell(20, 100, cl="ice", display_qty=5)
    h.sell(5, 100, cl="plain", account=A2)
    events = h.replace("ice", 20, 100, cl="ice-r", display_qty=8)
    r = one(events, Replaced)
    assert (r.display_qty, r.priority_kept) == (8, False)
    assert h.queue(Side.SELL) == ["plain", "ice-r"]
    assert h.asks() == [(100, 13, 2)]


def test_hidden_quantity_behind_a_self_match_does_not_count_for_fok(h: Harness) -> None:
    # The next slice would queue behind the FOK owner's own order, which stops the sweep.
    h.sell(20, 100, cl="ice", display_qty=5, account=A2)
    h.sell(5, 100, cl="own", account=A3)
    events = h.buy(10, 100, tif=TimeInForce.FOK, account=A3)
    assert one(events, Expired).reason is ExpireReason.FOK_NOT_FILLABLE
    assert of(events, Execution) == []
    assert h.queue(Side.SELL) == ["ice", "own"]
    # Within the visible slice ahead of the own order, the FOK goes through.
    events = h.buy(5, 100, cl="f2", tif=TimeInForce.FOK, account=A3)
    assert fills_of(events, h.oid("f2")) == [(100, 5)]


def test_reducing_qty_below_display_shows_what_is_left_and_keeps_priority(h: Harness) -> None:
    h.sell(30, 100, cl="ice", display_qty=10)
    h.sell(5, 100, cl="plain", account=A2)
    events = h.replace("ice", 8, 100, cl="ice-r")
    r = one(events, Replaced)
    assert (r.qty, r.leaves_qty, r.priority_kept) == (8, 8, True)
    assert h.queue(Side.SELL) == ["ice-r", "plain"]
    assert h.asks() == [(100, 13, 2)]
