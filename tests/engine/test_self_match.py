"""Self-match prevention: the aggressor's policy decides what happens when it meets itself."""

from collections.abc import Sequence

import pytest

from nyquestro.domain.enums import Side, SmpPolicy, TimeInForce
from nyquestro.domain.events import (
    Cancelled,
    EventBase,
    Execution,
    Expired,
    Restated,
    Trade,
)
from nyquestro.domain.reasons import CancelReason, ExpireReason, RestateReason
from tests.engine.conftest import (
    A1,
    A2,
    A3,
    S2,
    Harness,
    fills_of,
    kinds,
    make_instrument,
    of,
    one,
)

RESTING = SmpPolicy.CANCEL_RESTING
INCOMING = SmpPolicy.CANCEL_INCOMING
BOTH = SmpPolicy.CANCEL_BOTH
DECREMENT = SmpPolicy.DECREMENT_AND_CANCEL
SELF_MATCH = CancelReason.SELF_MATCH


def cancelled(events: Sequence[EventBase], cl: str) -> Cancelled:
    found = [ev for ev in of(events, Cancelled) if ev.cl_ord_id == cl]
    assert len(found) == 1, f"expected {cl} cancelled once, got {kinds(events)}"
    return found[0]


def test_cancel_resting_removes_own_order_and_trades_on(h: Harness) -> None:
    h.sell(5, 100, cl="own", account=A1)
    h.sell(5, 100, cl="other", account=A2)
    events = h.buy(8, 100, cl="b1", account=A1, smp_policy=RESTING)
    c = cancelled(events, "own")
    # Nobody asked for this cancel, so it carries the order's own ClOrdID and no orig.
    assert (c.reason, c.cancelled_qty, c.orig_cl_ord_id) == (SELF_MATCH, 5, None)
    assert fills_of(events, h.oid("b1")) == [(100, 5)]
    assert fills_of(events, h.oid("own")) == []
    assert h.asks() == []
    assert h.bids() == [(100, 3, 1)]


def test_cancel_incoming_cancels_the_aggressor_and_keeps_earlier_fills(h: Harness) -> None:
    h.sell(5, 100, cl="other", account=A2)
    h.sell(5, 100, cl="own", account=A1)
    events = h.buy(8, 100, cl="b1", account=A1, smp_policy=INCOMING)
    assert fills_of(events, h.oid("b1")) == [(100, 5)]
    c = cancelled(events, "b1")
    assert (c.reason, c.cancelled_qty, c.cum_qty) == (SELF_MATCH, 3, 5)
    assert of(events, Expired) == []
    assert h.is_live("own")
    assert h.asks() == [(100, 5, 1)]
    assert h.bids() == []


def test_cancel_both_cancels_both(h: Harness) -> None:
    h.sell(5, 100, cl="own", account=A1)
    h.sell(5, 100, cl="other", account=A2)
    events = h.buy(8, 100, cl="b1", account=A1, smp_policy=BOTH)
    assert cancelled(events, "own").cancelled_qty == 5
    assert cancelled(events, "b1").cancelled_qty == 8
    assert of(events, Trade) == []
    assert h.asks() == [(100, 5, 1)]
    assert h.queue(Side.SELL) == ["other"]
    assert h.bids() == []


def test_decrement_larger_aggressor_cancels_resting_and_trades_the_rest(h: Harness) -> None:
    h.sell(5, 100, cl="own", account=A1)
    h.sell(2, 100, cl="other", account=A2)
    events = h.buy(8, 100, cl="b1", account=A1, smp_policy=DECREMENT)
    assert cancelled(events, "own").cancelled_qty == 5
    r = one(events, Restated)
    assert (r.order_id, r.reason) == (h.oid("b1"), RestateReason.SELF_MATCH_DECREMENT)
    assert (r.reduced_qty, r.qty, r.leaves_qty, r.cum_qty) == (5, 3, 3, 0)
    assert fills_of(events, h.oid("b1")) == [(100, 2)]
    assert h.asks() == []
    assert h.bids() == [(100, 1, 1)]
    view = h.engine.order(h.oid("b1"))
    assert view is not None and (view.qty, view.cum_qty, view.leaves_qty) == (3, 2, 1)


def test_decrement_smaller_aggressor_is_cancelled_and_resting_shrinks(h: Harness) -> None:
    h.sell(8, 100, cl="own", account=A1)
    events = h.buy(5, 100, cl="b1", account=A1, smp_policy=DECREMENT)
    assert cancelled(events, "b1").cancelled_qty == 5
    r = one(events, Restated)
    assert (r.order_id, r.reduced_qty, r.leaves_qty) == (h.oid("own"), 5, 3)
    assert of(events, Trade) == []
    assert h.asks() == [(100, 3, 1)]
    assert h.queue(Side.SELL) == ["own"]


def test_decrement_with_equal_quantities_cancels_both(h: Harness) -> None:
    h.sell(5, 100, cl="own", account=A1)
    events = h.buy(5, 100, cl="b1", account=A1, smp_policy=DECREMENT)
    assert cancelled(events, "own").cancelled_qty == 5
    assert cancelled(events, "b1").cancelled_qty == 5
    assert of(events, Restated) == []
    assert h.asks() == [] and h.bids() == []
    assert h.engine.live_orders() == []


def test_decrement_cuts_an_icebergs_hidden_quantity_first(h: Harness) -> None:
    h.sell(20, 100, cl="own", account=A1, display_qty=5)
    events = h.buy(8, 100, account=A1, smp_policy=DECREMENT)
    assert one(events, Restated).leaves_qty == 12
    view = h.engine.order(h.oid("own"))
    assert view is not None and (view.leaves_qty, view.visible_qty) == (12, 5)
    assert h.asks() == [(100, 5, 1)]


@pytest.mark.parametrize(
    ("default", "survivor"),
    [(RESTING, "b1"), (INCOMING, "own"), (BOTH, None)],
)
def test_policy_defaults_to_the_instrument(default: SmpPolicy, survivor: str | None) -> None:
    h = Harness([make_instrument("XYZ", smp_policy=default)])
    h.sell(5, 100, cl="own", account=A1)
    h.buy(5, 100, cl="b1", account=A1)
    assert [o.cl_ord_id for o in h.engine.live_orders()] == ([survivor] if survivor else [])
    assert of(h.history, Trade) == []


def test_the_aggressors_policy_wins_over_the_resting_orders(h: Harness) -> None:
    h.sell(5, 100, cl="own", account=A1, smp_policy=INCOMING)
    events = h.buy(5, 100, cl="b1", account=A1, smp_policy=RESTING)
    assert cancelled(events, "own").reason is SELF_MATCH
    assert h.is_live("b1") and not h.is_live("own")


def test_smp_id_groups_orders_of_different_accounts(h: Harness) -> None:
    h.sell(5, 100, cl="s1", account=A2, smp_id="desk-7")
    events = h.buy(5, 100, cl="b1", account=A3, smp_id="desk-7")
    assert cancelled(events, "b1").reason is SELF_MATCH
    assert of(events, Trade) == []
    assert h.asks() == [(100, 5, 1)]


def test_same_account_with_different_smp_ids_trades(h: Harness) -> None:
    h.sell(5, 100, cl="s1", account=A1, smp_id="strategy-a")
    events = h.buy(5, 100, cl="b1", account=A1, smp_id="strategy-b")
    assert one(events, Trade).qty == 5


def test_different_accounts_without_smp_id_trade_normally(h: Harness) -> None:
    h.sell(5, 100, cl="s1", account=A2)
    events = h.buy(5, 100, cl="b1", account=A3)
    assert one(events, Trade).qty == 5
    assert of(events, Cancelled) == []


def test_same_account_from_another_session_is_still_a_self_match(h: Harness) -> None:
    h.sell(5, 100, cl="s1", account=A1, session=S2)
    events = h.buy(5, 100, cl="b1", account=A1)
    assert of(events, Trade) == []
    assert cancelled(events, "b1").reason is SELF_MATCH


def test_resting_side_self_match_does_not_block_deeper_liquidity_for_cancel_resting(
    h: Harness,
) -> None:
    h.sell(5, 100, cl="own", account=A1)
    h.sell(5, 101, cl="other", account=A2)
    events = h.buy(5, 101, cl="b1", account=A1, smp_policy=RESTING)
    assert fills_of(events, h.oid("b1")) == [(101, 5)]
    assert h.asks() == []


# --- FOK with a self-match in the way -------------------------------------------------------


@pytest.mark.parametrize("policy", [INCOMING, BOTH, DECREMENT])
def test_fok_blocked_by_own_order_expires_and_touches_nothing(
    h: Harness, policy: SmpPolicy
) -> None:
    h.sell(5, 100, cl="own", account=A1)
    h.sell(10, 100, cl="other", account=A2)
    events = h.buy(10, 100, cl="f1", account=A1, tif=TimeInForce.FOK, smp_policy=policy)
    assert kinds(events) == ["Accepted", "Expired"]
    assert one(events, Expired).reason is ExpireReason.FOK_NOT_FILLABLE
    assert h.queue(Side.SELL) == ["own", "other"]
    assert h.asks() == [(100, 15, 2)]


def test_fok_with_own_order_behind_enough_liquidity_fills(h: Harness) -> None:
    h.sell(6, 100, cl="other", account=A2)
    h.sell(4, 100, cl="other2", account=A3)
    h.sell(5, 100, cl="own", account=A1)
    events = h.buy(10, 100, cl="f1", account=A1, tif=TimeInForce.FOK)
    assert fills_of(events, h.oid("f1")) == [(100, 6), (100, 4)]
    assert h.queue(Side.SELL) == ["own"]


def test_fok_stopped_midway_by_own_order_does_not_fill_partially(h: Harness) -> None:
    h.sell(4, 100, cl="other", account=A2)
    h.sell(5, 100, cl="own", account=A1)
    h.sell(10, 100, cl="other2", account=A3)
    events = h.buy(10, 100, cl="f1", account=A1, tif=TimeInForce.FOK)
    assert of(events, Execution) == []
    assert one(events, Expired).expired_qty == 10
    assert h.asks() == [(100, 19, 3)]


def test_fok_cancel_resting_fills_past_own_order(h: Harness) -> None:
    h.sell(5, 100, cl="own", account=A1)
    h.sell(10, 101, cl="other", account=A2)
    events = h.buy(10, 101, cl="f1", account=A1, tif=TimeInForce.FOK, smp_policy=RESTING)
    assert cancelled(events, "own").reason is SELF_MATCH
    assert fills_of(events, h.oid("f1")) == [(101, 10)]
    assert h.asks() == []


def test_fok_cancel_resting_does_not_count_own_quantity(h: Harness) -> None:
    h.sell(5, 100, cl="own", account=A1)
    h.sell(6, 100, cl="other", account=A2)
    events = h.buy(10, 100, cl="f1", account=A1, tif=TimeInForce.FOK, smp_policy=RESTING)
    assert kinds(events) == ["Accepted", "Expired"]
    # All or nothing: the own order is not cancelled when the FOK does not go ahead.
    assert h.queue(Side.SELL) == ["own", "other"]


@pytest.mark.parametrize(
    ("resting", "incoming", "resting_left", "incoming_left"),
    [(6, 5, 1, 0), (5, 6, 0, 1), (2, 1, 1, 0), (1, 2, 0, 1), (7, 7, 0, 0)],
)
def test_decrement_by_the_smaller_open_quantity(
    h: Harness, resting: int, incoming: int, resting_left: int, incoming_left: int
) -> None:
    h.sell(resting, 100, cl="own", account=A1)
    events = h.buy(incoming, 100, cl="b1", account=A1, smp_policy=DECREMENT)
    left = {o.cl_ord_id: o.leaves_qty for o in h.engine.live_orders()}
    assert left == {cl: qty for cl, qty in (("own", resting_left), ("b1", incoming_left)) if qty}
    assert {c.cl_ord_id for c in of(events, Cancelled)} == {
        cl for cl, qty in (("own", resting_left), ("b1", incoming_left)) if qty == 0
    }
    assert of(events, Trade) == []
