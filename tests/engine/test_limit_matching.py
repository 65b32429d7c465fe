"""Limit orders: price-time priority, execution at the resting price, fills and level events."""

from hypothesis import given, settings
from hypothesis import strategies as st

from nyquestro.domain.enums import Side
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    Execution,
    Filled,
    LevelAdded,
    LevelChanged,
    LevelEvent,
    LevelRemoved,
    PartiallyFilled,
    Trade,
)
from nyquestro.domain.ids import Account, Symbol
from tests.engine.conftest import (
    A1,
    A2,
    A3,
    S2,
    SYM,
    Harness,
    assert_not_crossed,
    fills_of,
    kinds,
    of,
    one,
    ts_of,
)


def test_resting_order_is_accepted_and_adds_a_level(h: Harness) -> None:
    events = h.buy(10, 100, cl="b1")
    assert kinds(events) == ["Accepted", "LevelAdded"]
    acc, lvl = events
    assert isinstance(acc, Accepted) and isinstance(lvl, LevelAdded)
    assert (acc.side, acc.qty, acc.px, acc.cl_ord_id, acc.symbol) == (Side.BUY, 10, 100, "b1", SYM)
    assert (lvl.side, lvl.px, lvl.qty, lvl.orders) == (Side.BUY, 100, 10, 1)
    assert (lvl.order_id, lvl.order_qty) == (acc.order_id, 10)
    assert h.bids() == [(100, 10, 1)]
    assert h.asks() == []


def test_second_order_at_a_price_changes_the_level(h: Harness) -> None:
    h.sell(10, 105, cl="s1", account=A2)
    events = h.sell(4, 105, cl="s2", account=A3)
    lvl = one(events, LevelEvent)
    assert isinstance(lvl, LevelChanged)
    assert (lvl.qty, lvl.orders, lvl.order_id, lvl.order_qty) == (14, 2, h.oid("s2"), 4)


def test_buy_aggressor_executes_at_the_resting_sell_price(h: Harness) -> None:
    h.sell(5, 100, cl="s1", account=A2)
    events = h.buy(5, 105, cl="b1")
    trade = one(events, Trade)
    assert trade.px == 100
    assert trade.aggressor_side is Side.BUY
    assert (trade.buy_order_id, trade.sell_order_id) == (h.oid("b1"), h.oid("s1"))
    assert {ev.px for ev in of(events, Execution)} == {100}


def test_sell_aggressor_executes_at_the_resting_buy_price(h: Harness) -> None:
    h.buy(5, 105, cl="b1", account=A2)
    events = h.sell(5, 100, cl="s1")
    trade = one(events, Trade)
    assert trade.px == 105
    assert trade.aggressor_side is Side.SELL
    assert (trade.buy_order_id, trade.sell_order_id) == (h.oid("b1"), h.oid("s1"))
    assert {ev.px for ev in of(events, Execution)} == {105}


def test_non_crossing_orders_do_not_trade(h: Harness) -> None:
    h.buy(5, 100, account=A2)
    events = h.sell(5, 101)
    assert kinds(events) == ["Accepted", "LevelAdded"]
    assert h.bids() == [(100, 5, 1)]
    assert h.asks() == [(101, 5, 1)]


def test_events_of_one_trade_come_in_the_documented_order(h: Harness) -> None:
    h.sell(4, 100, cl="s1", account=A2)
    events = h.buy(10, 101, cl="b1")
    assert kinds(events) == [
        "Accepted",
        "Filled",  # resting side first
        "PartiallyFilled",  # then the aggressor
        "Trade",
        "LevelRemoved",  # the ask level the trade emptied
        "LevelAdded",  # the aggressor's remainder rests
    ]
    maker, taker = of(events, Execution)
    assert maker.order_id == h.oid("s1") and taker.order_id == h.oid("b1")
    assert {ev.seq for ev in events} == {h.seq}
    assert {ev.ts for ev in events} == {ts_of(h.seq)}


def test_execution_reports_carry_both_sides_of_the_trade(h: Harness) -> None:
    h.sell(4, 100, cl="s1", account=A2, session=S2)
    events = h.buy(10, 101, cl="b1")
    maker, taker = of(events, Execution)
    trade = one(events, Trade)
    assert maker.trade_id == taker.trade_id == trade.trade_id
    assert (maker.contra_order_id, taker.contra_order_id) == (h.oid("b1"), h.oid("s1", S2))
    assert maker.aggressor_side is taker.aggressor_side is Side.BUY
    assert (maker.session, maker.account, maker.cl_ord_id, maker.side) == (S2, A2, "s1", Side.SELL)
    assert (taker.account, taker.cl_ord_id, taker.side) == (A1, "b1", Side.BUY)
    assert (maker.qty, maker.cum_qty, maker.leaves_qty, maker.cum_notional) == (4, 4, 0, 400)
    assert (taker.qty, taker.cum_qty, taker.leaves_qty, taker.cum_notional) == (4, 4, 6, 400)
    assert (trade.qty, trade.symbol) == (4, SYM)


def test_remainder_rests_at_its_own_limit_not_the_trade_price(h: Harness) -> None:
    h.sell(4, 100, account=A2)
    h.buy(10, 101, cl="b1")
    assert h.asks() == []
    assert h.bids() == [(101, 6, 1)]
    view = h.engine.order(h.oid("b1"))
    assert view is not None
    assert (view.px, view.qty, view.cum_qty, view.leaves_qty) == (101, 10, 4, 6)


def test_price_priority_across_levels_then_time_within_a_level(h: Harness) -> None:
    h.sell(5, 102, cl="s102", account=A2)
    h.sell(5, 101, cl="s101a", account=A2)
    h.sell(5, 103, cl="s103", account=A3)
    h.sell(5, 101, cl="s101b", account=A3)
    assert h.queue(Side.SELL) == ["s101a", "s101b", "s102", "s103"]

    events = h.buy(17, 103, cl="b1")
    makers = [ev for ev in of(events, Execution) if ev.side is Side.SELL]
    assert [(ev.cl_ord_id, ev.px, ev.qty) for ev in makers] == [
        ("s101a", 101, 5),
        ("s101b", 101, 5),
        ("s102", 102, 5),
        ("s103", 103, 2),
    ]
    assert h.asks() == [(103, 3, 1)]
    assert h.bids() == []


def test_time_priority_within_a_level_with_partial_fills(h: Harness) -> None:
    for cl, acct in (("s1", A2), ("s2", A3), ("s3", A2)):
        h.sell(5, 101, cl=cl, account=acct)
    first = h.buy(7, 101, cl="b1")
    assert fills_of(first, h.oid("s1")) == [(101, 5)]
    assert fills_of(first, h.oid("s2")) == [(101, 2)]
    assert fills_of(first, h.oid("s3")) == []
    # A partially filled order keeps its place at the head of the queue.
    assert h.queue(Side.SELL) == ["s2", "s3"]
    second = h.buy(4, 101, cl="b2")
    assert fills_of(second, h.oid("s2")) == [(101, 3)]
    assert fills_of(second, h.oid("s3")) == [(101, 1)]
    assert h.asks() == [(101, 4, 1)]


def test_partial_fills_accumulate_until_filled(h: Harness) -> None:
    h.buy(10, 100, cl="b1", account=A2)
    first = h.sell(4, 100)
    second = h.sell(6, 99)
    b1 = h.oid("b1")
    p = [ev for ev in of(first, Execution) if ev.order_id == b1]
    f = [ev for ev in of(second, Execution) if ev.order_id == b1]
    assert len(p) == 1 and isinstance(p[0], PartiallyFilled)
    assert (p[0].qty, p[0].cum_qty, p[0].leaves_qty, p[0].cum_notional) == (4, 4, 6, 400)
    assert len(f) == 1 and isinstance(f[0], Filled)
    assert (f[0].qty, f[0].cum_qty, f[0].leaves_qty, f[0].cum_notional) == (6, 10, 0, 1000)
    assert h.engine.order(b1) is None
    assert h.bids() == []


def test_sweep_of_several_levels_reports_cumulative_notional(h: Harness) -> None:
    h.sell(2, 100, account=A2)
    h.sell(3, 101, account=A2)
    h.sell(5, 102, account=A2)
    events = h.buy(7, 102, cl="b1")
    mine = [ev for ev in of(events, Execution) if ev.order_id == h.oid("b1")]
    assert [(ev.px, ev.qty, ev.cum_qty, ev.leaves_qty, ev.cum_notional) for ev in mine] == [
        (100, 2, 2, 5, 200),
        (101, 3, 5, 2, 503),
        (102, 2, 7, 0, 707),
    ]
    assert [type(ev) for ev in mine] == [PartiallyFilled, PartiallyFilled, Filled]
    assert h.asks() == [(102, 3, 1)]
    trades = of(events, Trade)
    assert [(t.px, t.qty) for t in trades] == [(100, 2), (101, 3), (102, 2)]
    ids = [t.trade_id for t in trades]
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_sell_sweep_walks_bids_from_the_highest(h: Harness) -> None:
    h.buy(2, 98, account=A2)
    h.buy(2, 100, account=A2)
    h.buy(2, 99, account=A2)
    events = h.sell(5, 98, cl="s1")
    mine = [ev for ev in of(events, Execution) if ev.order_id == h.oid("s1")]
    assert [(ev.px, ev.qty) for ev in mine] == [(100, 2), (99, 2), (98, 1)]
    assert mine[-1].cum_notional == 200 + 198 + 98
    assert h.bids() == [(98, 1, 1)]


def test_aggressor_never_trades_through_its_limit(h: Harness) -> None:
    h.sell(5, 100, account=A2)
    h.sell(5, 102, account=A2)
    events = h.buy(8, 101, cl="b1")
    assert [t.px for t in of(events, Trade)] == [100]
    assert h.bids() == [(101, 3, 1)]
    assert h.asks() == [(102, 5, 1)]
    assert_not_crossed(h)


def test_level_events_report_level_totals_after_each_change(h: Harness) -> None:
    h.sell(5, 100, cl="s1", account=A2)
    h.sell(3, 100, cl="s2", account=A3)
    events = h.buy(6, 100, cl="b1")
    lv = of(events, LevelEvent)
    assert [type(ev) for ev in lv] == [LevelChanged, LevelChanged]
    # s1 left the level (order_qty 0), then s2 was reduced to 2.
    assert [(ev.qty, ev.orders, ev.order_id, ev.order_qty) for ev in lv] == [
        (3, 1, h.oid("s1"), 0),
        (2, 1, h.oid("s2"), 2),
    ]
    events = h.buy(2, 100, cl="b2")
    removed = one(events, LevelEvent)
    assert isinstance(removed, LevelRemoved)
    assert (removed.side, removed.px, removed.qty, removed.orders) == (Side.SELL, 100, 0, 0)
    assert (removed.order_id, removed.order_qty) == (h.oid("s2"), 0)


def test_order_and_trade_ids_increase(h: Harness) -> None:
    h.sell(1, 100, cl="s1", account=A2)
    h.sell(1, 100, cl="s2", account=A2)
    h.buy(1, 100, cl="b1")
    h.buy(1, 100, cl="b2")
    ids = [h.oid(c) for c in ("s1", "s2", "b1", "b2")]
    assert ids == sorted(ids) and len(set(ids)) == 4
    trade_ids = [t.trade_id for t in of(h.history, Trade)]
    assert trade_ids == sorted(trade_ids) and len(set(trade_ids)) == 2


# --- whole-run invariants over random limit-order flow --------------------------------------

order_flow = st.lists(
    st.tuples(
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(min_value=1, max_value=20),
        st.integers(min_value=95, max_value=105),
        st.sampled_from([A1, A2, A3]),  # buyers; sellers get a disjoint set of accounts
        st.booleans(),  # cancel some earlier order first
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(flow=order_flow)
def test_random_limit_flow_keeps_every_invariant(
    flow: list[tuple[Side, int, int, Account, bool]],
) -> None:
    h = Harness()
    placed: list[str] = []
    for i, (side, qty, px, account, cancel_first) in enumerate(flow):
        if cancel_first and placed:
            h.cancel(placed[i % len(placed)])
        cl = f"o{i}"
        # Buyers and sellers never share an account: SMP has its own tests.
        acct = Account(account if side is Side.BUY else f"SELLER-{account}")
        h.new(side, qty, px, cl=cl, account=acct)
        placed.append(cl)
        assert_not_crossed(h)

    # Depth equals the sum of the resting orders' visible quantities, level by level.
    for side in (Side.BUY, Side.SELL):
        per_px: dict[int, tuple[int, int]] = {}
        for view in h.engine.book_orders(Symbol(SYM), side):
            assert view.px is not None
            q, n = per_px.get(view.px, (0, 0))
            per_px[view.px] = (q + view.visible_qty, n + 1)
        assert {px: (q, n) for px, q, n in h.depth(side)} == per_px

    # Replaying the level events reproduces the depth a market-data consumer would show.
    shown: dict[tuple[Side, int], tuple[int, int]] = {}
    for ev in of(h.history, LevelEvent):
        if isinstance(ev, LevelRemoved):
            assert (ev.side, ev.px) in shown
            del shown[(ev.side, ev.px)]
        else:
            if isinstance(ev, LevelAdded):
                assert (ev.side, ev.px) not in shown
            shown[(ev.side, ev.px)] = (ev.qty, ev.orders)
    for side in (Side.BUY, Side.SELL):
        assert {px: (q, n) for (s, px), (q, n) in shown.items() if s is side} == {
            px: (q, n) for px, q, n in h.depth(side)
        }

    # Every trade has one buy and one sell execution of its size, at its price.
    executions = of(h.history, Execution)
    for trade in of(h.history, Trade):
        pair = [ev for ev in executions if ev.trade_id == trade.trade_id]
        assert sorted(ev.side for ev in pair) == [Side.BUY, Side.SELL]
        assert {(ev.px, ev.qty) for ev in pair} == {(trade.px, trade.qty)}

    # Quantity is conserved: every order's fills + what is open + what was cancelled = qty.
    cancels = of(h.history, Cancelled)
    for acc in of(h.history, Accepted):
        filled = sum(ev.qty for ev in executions if ev.order_id == acc.order_id)
        cancelled = sum(ev.cancelled_qty for ev in cancels if ev.order_id == acc.order_id)
        live = h.engine.order(acc.order_id)
        if live is None:
            assert filled + cancelled == acc.qty
        else:
            assert cancelled == 0
            assert (live.cum_qty, live.leaves_qty) == (filled, acc.qty - filled)
