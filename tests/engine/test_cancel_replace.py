"""Cancel and cancel/replace: addressing, ownership, lateness, and what keeps priority."""

import pytest

from nyquestro.domain.enums import Side, TimeInForce
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    CancelRejected,
    Execution,
    LevelChanged,
    LevelEvent,
    Rejected,
    Replaced,
    Trade,
)
from nyquestro.domain.reasons import CancelReason, CancelRequestKind, RejectReason
from tests.engine.conftest import A2, S1, S2, Harness, fills_of, kinds, of, one

CANCEL = CancelRequestKind.CANCEL
REPLACE = CancelRequestKind.REPLACE


def three_bids(h: Harness) -> None:
    for cl in ("b1", "b2", "b3"):
        h.buy(10, 100, cl=cl)


# --- cancel -------------------------------------------------------------------------------


def test_cancel_by_orig_clordid(h: Harness) -> None:
    h.buy(10, 100, cl="b1")
    events = h.cancel("b1", cl="c1")
    assert kinds(events) == ["Cancelled", "LevelRemoved"]
    c = one(events, Cancelled)
    assert (c.order_id, c.cl_ord_id, c.orig_cl_ord_id) == (h.oid("b1"), "c1", "b1")
    assert (c.reason, c.cancelled_qty, c.cum_qty, c.side) == (CancelReason.REQUESTED, 10, 0, 1)
    assert h.engine.order(h.oid("b1")) is None
    assert h.bids() == []


def test_cancel_by_order_id(h: Harness) -> None:
    h.sell(10, 100, cl="s1")
    h.sell(5, 100, cl="s2")
    events = h.cancel(order_id=h.oid("s1"), cl="c1")
    c = one(events, Cancelled)
    assert (c.order_id, c.cl_ord_id, c.orig_cl_ord_id) == (h.oid("s1"), "c1", "s1")
    lvl = one(events, LevelEvent)
    assert isinstance(lvl, LevelChanged)
    assert (lvl.qty, lvl.orders) == (5, 1)
    assert h.asks() == [(100, 5, 1)]


def test_cancel_of_a_partly_filled_order_reports_both_parts(h: Harness) -> None:
    h.buy(10, 100, cl="b1")
    h.sell(3, 100, account=A2)
    c = one(h.cancel("b1"), Cancelled)
    assert (c.cancelled_qty, c.cum_qty) == (7, 3)


@pytest.mark.parametrize("by", ["orig", "order_id", "neither", "both_mismatched"])
def test_cancel_of_an_unknown_order(h: Harness, by: str) -> None:
    h.buy(10, 100, cl="b1")
    h.buy(10, 99, cl="b2")
    if by == "orig":
        events = h.cancel("nope", cl="c1")
    elif by == "order_id":
        events = h.cancel(order_id=987654, cl="c1")
    elif by == "neither":
        events = h.cancel(cl="c1")
    else:
        events = h.cancel("b1", order_id=h.oid("b2"), cl="c1")
    assert kinds(events) == ["CancelRejected"]
    rej = one(events, CancelRejected)
    assert (rej.reason, rej.response_to, rej.cl_ord_id) == (
        RejectReason.UNKNOWN_ORDER,
        CANCEL,
        "c1",
    )
    assert rej.text
    assert h.bids() == [(100, 10, 1), (99, 10, 1)]


@pytest.mark.parametrize("how", ["filled", "cancelled", "expired", "replaced_away"])
@pytest.mark.parametrize("by_order_id", [False, True])
def test_cancel_of_a_done_order_is_too_late(h: Harness, how: str, by_order_id: bool) -> None:
    if how == "filled":
        h.buy(5, 100, cl="o1")
        h.sell(5, 100, account=A2)
    elif how == "cancelled":
        h.buy(5, 100, cl="o1")
        h.cancel("o1")
    elif how == "expired":
        h.buy(5, 100, cl="o1", tif=TimeInForce.IOC)
    else:
        h.buy(5, 100, cl="o1")
        h.sell(2, 100, account=A2)
        h.replace("o1", 2, 100)  # at or below filled: cancels the order
    order_id = h.oid("o1")
    events = h.cancel(order_id=order_id, cl="late") if by_order_id else h.cancel("o1", cl="late")
    rej = one(events, CancelRejected)
    assert kinds(events) == ["CancelRejected"]
    assert (rej.reason, rej.order_id, rej.response_to) == (RejectReason.TOO_LATE, order_id, CANCEL)


def test_cancel_of_another_sessions_order_is_refused(h: Harness) -> None:
    h.buy(10, 100, cl="b1", session=S1)
    by_id = h.cancel(order_id=h.oid("b1", S1), cl="x1", session=S2)
    assert one(by_id, CancelRejected).reason is RejectReason.NOT_ORDER_OWNER
    # By ClOrdID the other session's order is simply not found: ClOrdIDs are per session.
    by_cl = h.cancel("b1", cl="x2", session=S2)
    assert one(by_cl, CancelRejected).reason is RejectReason.UNKNOWN_ORDER
    assert h.is_live("b1", S1)
    assert h.bids() == [(100, 10, 1)]


def test_cancel_with_a_used_clordid_is_rejected(h: Harness) -> None:
    h.buy(10, 100, cl="b1")
    h.buy(10, 101, cl="b2")
    events = h.cancel("b1", cl="b2")
    rej = one(events, CancelRejected)
    assert kinds(events) == ["CancelRejected"]
    assert rej.reason is RejectReason.DUPLICATE_CL_ORD_ID
    assert "b2" in rej.text
    assert h.is_live("b1")
    h.cancel("b1", cl="c1")
    rej = one(h.cancel("b2", cl="c1"), CancelRejected)
    assert rej.reason is RejectReason.DUPLICATE_CL_ORD_ID
    assert h.is_live("b2")


def test_cancel_works_during_a_halt(h: Harness) -> None:
    h.buy(10, 100, cl="b1")
    h.halt()
    assert one(h.cancel("b1"), Cancelled).reason is CancelReason.REQUESTED
    assert h.bids() == []


# --- replace: priority ----------------------------------------------------------------------


def test_replace_qty_down_at_same_price_keeps_priority(h: Harness) -> None:
    three_bids(h)
    events = h.replace("b1", 6, 100, cl="b1r")
    assert kinds(events) == ["Replaced", "LevelChanged"]
    r = one(events, Replaced)
    assert (r.cl_ord_id, r.orig_cl_ord_id, r.order_id) == ("b1r", "b1", h.oid("b1"))
    assert (r.px, r.qty, r.leaves_qty, r.cum_qty, r.priority_kept) == (100, 6, 6, 0, True)
    lvl = one(events, LevelEvent)
    assert (lvl.qty, lvl.orders, lvl.order_qty) == (26, 3, 6)
    assert h.queue(Side.BUY) == ["b1r", "b2", "b3"]
    fill = h.sell(6, 100, account=A2)
    assert fills_of(fill, h.oid("b1")) == [(100, 6)]


def test_replace_qty_is_total_including_what_is_filled(h: Harness) -> None:
    three_bids(h)
    h.sell(4, 100, account=A2)  # b1 has 4 filled, 6 open
    r = one(h.replace("b1", 8, 100, cl="b1r"), Replaced)
    assert (r.qty, r.cum_qty, r.leaves_qty, r.priority_kept) == (8, 4, 4, True)
    assert h.bids() == [(100, 24, 3)]
    assert h.queue(Side.BUY)[0] == "b1r"


def test_replace_qty_up_loses_priority(h: Harness) -> None:
    three_bids(h)
    events = h.replace("b1", 12, 100, cl="b1r")
    r = one(events, Replaced)
    assert (r.qty, r.leaves_qty, r.priority_kept) == (12, 12, False)
    assert h.queue(Side.BUY) == ["b2", "b3", "b1r"]
    assert h.bids() == [(100, 32, 3)]


def test_replace_price_change_loses_priority_even_when_coming_back(h: Harness) -> None:
    three_bids(h)
    assert one(h.replace("b1", 10, 99, cl="b1r"), Replaced).priority_kept is False
    assert h.bids() == [(100, 20, 2), (99, 10, 1)]
    assert one(h.replace("b1r", 10, 100, cl="b1rr"), Replaced).priority_kept is False
    assert h.queue(Side.BUY) == ["b2", "b3", "b1rr"]


def test_replace_to_a_crossing_price_trades_at_the_resting_price(h: Harness) -> None:
    h.sell(5, 102, cl="s1", account=A2)
    h.buy(10, 100, cl="b1")
    events = h.replace("b1", 10, 103, cl="b1r")
    assert kinds(events)[:2] == ["Replaced", "LevelRemoved"]
    trade = one(events, Trade)
    assert (trade.px, trade.qty, trade.aggressor_side) == (102, 5, Side.BUY)
    mine = [ev for ev in of(events, Execution) if ev.order_id == h.oid("b1")]
    assert [(ev.cl_ord_id, ev.qty, ev.leaves_qty) for ev in mine] == [("b1r", 5, 5)]
    assert h.asks() == []
    assert h.bids() == [(103, 5, 1)]


def test_replace_at_or_below_filled_qty_cancels(h: Harness) -> None:
    h.buy(10, 100, cl="b1")
    h.sell(6, 100, account=A2)
    events = h.replace("b1", 6, 100, cl="b1r")
    assert kinds(events) == ["Cancelled", "LevelRemoved"]
    c = one(events, Cancelled)
    assert (c.cl_ord_id, c.orig_cl_ord_id) == ("b1r", "b1")
    assert (c.reason, c.cancelled_qty, c.cum_qty) == (
        CancelReason.REPLACED_AT_OR_BELOW_FILLED,
        4,
        6,
    )
    assert h.bids() == []
    # The replace was accepted, so its ClOrdID is now taken.
    assert one(h.buy(1, 90, cl="b1r"), Rejected).reason is RejectReason.DUPLICATE_CL_ORD_ID


def test_replace_below_filled_qty_cancels_too(h: Harness) -> None:
    h.sell(10, 100, cl="s1")
    h.buy(6, 100, account=A2)
    c = one(h.replace("s1", 5, 100), Cancelled)
    assert (c.reason, c.cancelled_qty, c.cum_qty) == (
        CancelReason.REPLACED_AT_OR_BELOW_FILLED,
        4,
        6,
    )


def test_replace_at_or_below_filled_cancels_an_iceberg_too(h: Harness) -> None:
    # The display size the order already has must not turn "cancel the rest" into a reject.
    h.buy(30, 100, cl="ice", display_qty=10)
    h.sell(12, 100, account=A2)
    events = h.replace("ice", 5, 100, cl="ice-r")
    c = one(events, Cancelled)
    assert (c.reason, c.cancelled_qty, c.cum_qty) == (
        CancelReason.REPLACED_AT_OR_BELOW_FILLED,
        18,
        12,
    )
    assert h.bids() == []


def test_later_requests_use_the_new_clordid(h: Harness) -> None:
    h.buy(10, 100, cl="b1")
    h.replace("b1", 8, 100, cl="b1r")
    fill = h.sell(3, 100, account=A2)
    mine = [ev for ev in of(fill, Execution) if ev.order_id == h.oid("b1")]
    assert [ev.cl_ord_id for ev in mine] == ["b1r"]
    c = one(h.cancel("b1r", cl="c1"), Cancelled)
    assert (c.orig_cl_ord_id, c.cancelled_qty, c.cum_qty) == ("b1r", 5, 3)


# --- replace: refusals ----------------------------------------------------------------------


def test_replace_that_changes_side_is_rejected(h: Harness) -> None:
    h.buy(10, 100, cl="b1")
    events = h.replace("b1", 10, 100, side=Side.SELL, cl="r1")
    rej = one(events, CancelRejected)
    assert kinds(events) == ["CancelRejected"]
    assert (rej.reason, rej.response_to) == (RejectReason.REPLACE_CHANGES_SIDE, REPLACE)
    assert h.bids() == [(100, 10, 1)] and h.asks() == []
    # Naming the same side is fine (FIX repeats Side on a replace).
    assert one(h.replace("b1", 8, 100, side=Side.BUY, cl="r1"), Replaced).priority_kept is True


def test_replace_during_halt_is_rejected_but_cancel_works(h: Harness) -> None:
    h.buy(10, 100, cl="b1")
    h.halt()
    events = h.replace("b1", 5, 100, cl="r1")
    rej = one(events, CancelRejected)
    assert (rej.reason, rej.response_to) == (RejectReason.SYMBOL_HALTED, REPLACE)
    assert h.bids() == [(100, 10, 1)]
    assert one(h.cancel("b1", cl="c1"), Cancelled).cancelled_qty == 10


@pytest.mark.parametrize(
    ("qty", "px", "reason"),
    [
        (0, 100, RejectReason.INVALID_QTY),
        (-4, 100, RejectReason.INVALID_QTY),
        (10, None, RejectReason.PRICE_REQUIRED),
        (10, 0, RejectReason.INVALID_PRICE),
        (10, -5, RejectReason.INVALID_PRICE),
    ],
)
def test_replace_with_invalid_values_is_rejected_and_changes_nothing(
    h: Harness, qty: int, px: int | None, reason: RejectReason
) -> None:
    h.buy(10, 100, cl="b1")
    h.buy(10, 100, cl="b2")
    rej = one(h.replace("b1", qty, px, cl="r1"), CancelRejected)
    assert (rej.reason, rej.response_to, rej.order_id) == (reason, REPLACE, h.oid("b1"))
    assert h.queue(Side.BUY) == ["b1", "b2"]
    # A rejected replace does not register its ClOrdID.
    assert one(h.replace("b1", 9, 100, cl="r1"), Replaced).cl_ord_id == "r1"


def test_replace_of_unknown_done_and_foreign_orders(h: Harness) -> None:
    h.buy(5, 100, cl="b1", session=S1)
    h.sell(5, 100, account=A2)
    h.buy(5, 99, cl="b2", session=S1)
    unknown = one(h.replace("zzz", 5, 100), CancelRejected)
    late = one(h.replace("b1", 4, 100), CancelRejected)
    foreign = one(h.replace(None, 4, 99, order_id=h.oid("b2"), session=S2), CancelRejected)
    assert [r.reason for r in (unknown, late, foreign)] == [
        RejectReason.UNKNOWN_ORDER,
        RejectReason.TOO_LATE,
        RejectReason.NOT_ORDER_OWNER,
    ]
    assert {r.response_to for r in (unknown, late, foreign)} == {REPLACE}
    assert h.bids() == [(99, 5, 1)]


def test_replace_with_a_used_clordid_is_rejected(h: Harness) -> None:
    h.buy(10, 100, cl="b1")
    h.buy(10, 100, cl="b2")
    rej = one(h.replace("b1", 5, 100, cl="b2"), CancelRejected)
    assert rej.reason is RejectReason.DUPLICATE_CL_ORD_ID
    assert h.bids() == [(100, 20, 2)]


def test_replace_keeps_the_accepted_order_identity(h: Harness) -> None:
    acc = one(h.buy(10, 100, cl="b1"), Accepted)
    r = one(h.replace("b1", 10, 101, cl="b1r"), Replaced)
    assert r.order_id == acc.order_id
    view = h.engine.order(acc.order_id)
    assert view is not None
    assert (view.cl_ord_id, view.px, view.qty) == ("b1r", 101, 10)


def test_any_clordid_of_the_chain_names_the_order(h: Harness) -> None:
    h.buy(10, 100, cl="v1")
    h.replace("v1", 9, 100, cl="v2")
    h.replace("v2", 8, 100, cl="v3")
    # The original ClOrdID still names the order after two replaces ...
    r = one(h.replace("v1", 7, 100, cl="v4"), Replaced)
    assert (r.order_id, r.orig_cl_ord_id, r.qty) == (h.oid("v3"), "v3", 7)
    # ... and so does one from the middle of the chain.
    c = one(h.cancel("v2", cl="c1"), Cancelled)
    assert (c.order_id, c.orig_cl_ord_id, c.cancelled_qty) == (h.oid("v1"), "v4", 7)
    assert one(h.cancel("v3", cl="c2"), CancelRejected).reason is RejectReason.TOO_LATE


def test_mass_cancel_works_during_a_halt(h: Harness) -> None:
    h.buy(10, 100, cl="b1")
    h.sell(10, 105, cl="s1")
    h.halt()
    events = h.mass_cancel()
    assert {c.cl_ord_id for c in of(events, Cancelled)} == {"b1", "s1"}
    assert h.bids() == [] and h.asks() == []
