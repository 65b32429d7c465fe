"""Stop and stop-limit orders: they wait off the book until the last trade price reaches
their stop price, then trade as market or limit orders (FIX OrdType 3 / 4, StopPx)."""

import pickle

from nyquestro.domain.enums import OrdType, Side, TimeInForce
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    CancelRejected,
    Expired,
    LevelEvent,
    Rejected,
    Replaced,
    Trade,
    Triggered,
)
from nyquestro.domain.ids import Symbol
from nyquestro.domain.reasons import ExpireReason, RejectReason
from nyquestro.engine import Engine
from tests.engine.conftest import A2, A3, S2, SYM, Harness, fills_of, kinds, of, one

STOP = OrdType.STOP
STOP_LIMIT = OrdType.STOP_LIMIT


def trade_at(h: Harness, px: int, qty: int = 1) -> None:
    """One trade of `qty` at `px` between two accounts that hold no stops."""
    h.sell(qty, px, session=S2, account=A2)
    assert of(h.buy(qty, px, session=S2, account=A3), Trade)


def waiting(h: Harness) -> list[str]:
    return [str(o.cl_ord_id) for o in h.engine.stop_orders(Symbol(SYM))]


def test_a_buy_stop_waits_unseen_until_a_trade_reaches_its_stop_price() -> None:
    h = Harness()
    trade_at(h, 100)
    accepted = one(h.buy(10, ord_type=STOP, stop_px=102, cl="stop"), Accepted)
    assert (accepted.ord_type, accepted.stop_px, accepted.px) == (STOP, 102, None)
    h.sell(20, 105, session=S2, account=A2)
    assert waiting(h) == ["stop"] and h.bids() == []
    trade_at(h, 101)  # below the stop price: nothing
    assert waiting(h) == ["stop"]

    h.sell(5, 102, session=S2, account=A2)
    events = h.buy(5, 102, session=S2, account=A3)
    triggered = one(events, Triggered)
    assert (triggered.cl_ord_id, triggered.stop_px, triggered.last_px) == ("stop", 102, 102)
    # The trade that reached it comes first, then the trigger, then the stop's own trades:
    # a market order now, it takes the 105 offer.
    assert kinds(events).index("Trade") < kinds(events).index("Triggered")
    assert fills_of(events, h.oid("stop")) == [(105, 10)]
    assert waiting(h) == []
    assert not h.is_live("stop")


def test_a_sell_stop_triggers_on_a_trade_at_or_below_its_stop_price() -> None:
    h = Harness()
    trade_at(h, 100)
    h.sell(10, ord_type=STOP, stop_px=98, cl="stop")
    h.buy(10, 95, session=S2, account=A2)
    trade_at(h, 99)
    assert waiting(h) == ["stop"]
    h.buy(1, 97, session=S2, account=A2)
    events = h.sell(1, 97, session=S2, account=A3)  # last 97: at or below 98
    assert one(events, Triggered).last_px == 97
    assert fills_of(events, h.oid("stop")) == [(95, 10)]  # the 97 bid went in that trade


def test_a_stop_limit_rests_at_its_limit_once_triggered() -> None:
    h = Harness()
    trade_at(h, 100)
    h.buy(10, 103, ord_type=STOP_LIMIT, stop_px=102, cl="stop")
    h.sell(4, 103, session=S2, account=A2)
    h.sell(5, 104, session=S2, account=A2)
    trade_at(h, 102)
    # It buys the 4 at 103, not the 104s, and rests for the other 6 at 103.
    assert h.bids() == [(103, 6, 1)]
    assert h.queue(Side.BUY) == ["stop"]
    assert h.asks() == [(104, 5, 1)]


def test_a_stop_already_reached_triggers_on_arrival_and_without_a_last_trade_it_waits() -> None:
    h = Harness()
    h.buy(10, ord_type=STOP, stop_px=1, cl="early")
    assert waiting(h) == ["early"]  # no trade yet: no last price to reach it
    trade_at(h, 100)  # reaches the early stop: it triggers but finds nothing to buy
    h.sell(3, 101, session=S2, account=A2)
    events = h.buy(3, ord_type=STOP, stop_px=99, cl="late")
    assert kinds(events)[:2] == ["Accepted", "Triggered"]
    assert fills_of(events, h.oid("late")) == [(101, 3)]


def test_a_triggered_stop_market_with_nothing_to_trade_expires() -> None:
    h = Harness()
    trade_at(h, 100)
    h.buy(10, ord_type=STOP, stop_px=100, cl="stop")
    expired = one(of(h.history, Expired), Expired)
    assert (expired.reason, expired.expired_qty) == (ExpireReason.MARKET_REMAINDER, 10)
    assert waiting(h) == []


def test_due_stops_trigger_in_the_order_a_move_reaches_them() -> None:
    h = Harness()
    trade_at(h, 100)
    # Sell stops at 98 then 99; a fall to 97 reaches 99 first although it came second.
    h.sell(1, ord_type=STOP, stop_px=98, cl="s98")
    h.sell(1, ord_type=STOP, stop_px=99, cl="s99")
    for px in (97, 96, 90):
        h.buy(1, px, session=S2, account=A2)
    events = h.sell(1, 97, session=S2, account=A3)
    assert [t.cl_ord_id for t in of(events, Triggered)] == ["s99", "s98"]
    assert fills_of(events, h.oid("s99")) == [(96, 1)]
    assert fills_of(events, h.oid("s98")) == [(90, 1)]


def test_a_triggered_stops_trade_can_reach_the_next_stop() -> None:
    h = Harness()
    trade_at(h, 100)
    h.sell(1, ord_type=STOP, stop_px=92, cl="s92")
    h.sell(1, ord_type=STOP, stop_px=95, cl="s95")
    h.buy(1, 95, session=S2, account=A2)
    h.buy(1, 91, session=S2, account=A2)
    events = h.sell(1, 95, session=S2, account=A3)  # 95 reaches s95, whose sale at 91 s92
    assert [t.cl_ord_id for t in of(events, Triggered)] == ["s95", "s92"]
    assert fills_of(events, h.oid("s95")) == [(91, 1)]
    assert one(events, Expired).cl_ord_id == "s92"  # nothing left to sell to


def test_an_untriggered_stop_cancels_without_touching_the_book() -> None:
    h = Harness()
    h.buy(10, ord_type=STOP, stop_px=102, cl="stop")
    events = h.cancel("stop", cl="x")
    assert kinds(events) == ["Cancelled"]
    assert one(events, Cancelled).cancelled_qty == 10
    assert waiting(h) == []
    assert not of(events, LevelEvent)


def test_a_replaced_stop_keeps_waiting_and_triggers_at_its_new_price_only() -> None:
    """Liquibook #25: a replaced stop must not land in the book as a live order."""
    h = Harness()
    trade_at(h, 100)
    h.buy(10, 104, ord_type=STOP_LIMIT, stop_px=102, cl="stop")
    replaced = one(h.replace("stop", 8, 105, cl="stop2", stop_px=103), Replaced)
    assert (replaced.stop_px, replaced.px, replaced.qty) == (103, 105, 8)
    assert waiting(h) == ["stop2"] and h.bids() == []
    h.sell(20, 105, session=S2, account=A2)
    trade_at(h, 102)  # the old stop price: nothing
    assert waiting(h) == ["stop2"]
    h.buy(1, 103, session=S2, account=A3)
    events = h.sell(1, 103, session=S2, account=A2)
    assert one(events, Triggered).stop_px == 103
    assert fills_of(events, h.oid("stop2")) == [(105, 8)]


def test_a_replace_to_a_stop_price_already_reached_triggers_it() -> None:
    h = Harness()
    trade_at(h, 100)
    h.sell(5, 101, session=S2, account=A2)
    h.buy(5, ord_type=STOP, stop_px=110, cl="stop")
    events = h.replace("stop", 5, cl="stop2", stop_px=100)
    assert kinds(events)[:2] == ["Replaced", "Triggered"]
    assert fills_of(events, h.oid("stop2")) == [(101, 5)]


def test_a_stop_price_is_refused_where_it_does_not_belong() -> None:
    h = Harness()
    cases = [
        ({"ord_type": STOP}, RejectReason.STOP_PX_REQUIRED),
        ({"ord_type": STOP_LIMIT, "stop_px": 99}, RejectReason.PRICE_REQUIRED),
        ({"ord_type": OrdType.LIMIT, "stop_px": 99}, RejectReason.PRICE_REQUIRED),
        ({"ord_type": STOP, "stop_px": 0}, RejectReason.INVALID_PRICE),
    ]
    for opts, reason in cases:
        assert one(h.buy(1, **opts), Rejected).reason is reason, opts  # type: ignore[arg-type]
    rejected = one(h.buy(1, 100, stop_px=99), Rejected)
    assert rejected.reason is RejectReason.STOP_PX_NOT_ALLOWED
    assert "stop_px" in rejected.text
    assert one(h.buy(1, 100, ord_type=STOP, stop_px=99), Rejected).reason is (
        RejectReason.PRICE_NOT_ALLOWED
    )
    # A triggered stop-limit resting in the book is a limit order now.
    trade_at(h, 100)
    h.buy(5, 99, ord_type=STOP_LIMIT, stop_px=100, cl="live")
    assert h.queue(Side.BUY) == ["live"]
    refused = one(h.replace("live", 5, 99, stop_px=101), CancelRejected)
    assert refused.reason is RejectReason.STOP_PX_NOT_ALLOWED
    assert "triggered already" in refused.text


def test_end_of_day_expires_waiting_day_stops_and_keeps_gtc_ones() -> None:
    h = Harness()
    h.buy(5, ord_type=STOP, stop_px=102, cl="day")
    h.buy(5, ord_type=STOP, stop_px=102, cl="gtc", tif=TimeInForce.GTC)
    events = h.end_of_day()
    assert [e.cl_ord_id for e in of(events, Expired)] == ["day"]
    assert not of(events, LevelEvent)
    assert waiting(h) == ["gtc"]


def test_mass_cancel_takes_waiting_stops_too() -> None:
    h = Harness()
    h.buy(5, ord_type=STOP, stop_px=102, cl="stop")
    h.buy(5, 99, cl="limit")
    events = h.mass_cancel()
    assert sorted(e.cl_ord_id for e in of(events, Cancelled)) == ["limit", "stop"]
    assert waiting(h) == []


def test_a_snapshot_keeps_waiting_stops_and_the_restored_engine_triggers_them_alike() -> None:
    h = Harness()
    trade_at(h, 100)
    h.buy(5, ord_type=STOP, stop_px=102, cl="b")
    h.sell(5, 98, ord_type=STOP_LIMIT, stop_px=99, cl="s", tif=TimeInForce.GTC)
    restored = Engine.restored(pickle.loads(pickle.dumps(h.engine.export_state())))
    at = h.seq
    assert restored.state_hash() == h.engine.state_hash()
    assert [o.cl_ord_id for o in restored.stop_orders(Symbol(SYM))] == ["b", "s"]
    before = h.engine.state_hash()
    h.sell(5, 102, session=S2, account=A2, cl="offer")
    assert h.engine.state_hash() != before
    events = h.buy(1, 102, session=S2, account=A3, cl="lift")
    assert one(events, Triggered).cl_ord_id == "b"
    other = Harness()
    other.engine = restored
    other.seq = at
    other.sell(5, 102, session=S2, account=A2, cl="offer")
    assert other.buy(1, 102, session=S2, account=A3, cl="lift") == events
    assert restored.state_hash() == h.engine.state_hash()
