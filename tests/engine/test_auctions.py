"""Trading phases and auctions: orders collect without matching during a call, and the
book uncrosses at one price when the call ends (nyquestro/engine/auction.py)."""

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from nyquestro.domain.commands import SetPhase
from nyquestro.domain.enums import OrdType, Side, TimeInForce, TradingPhase
from nyquestro.domain.events import (
    Accepted,
    AuctionIndicative,
    EventBase,
    Execution,
    Expired,
    OperatorRejected,
    PhaseChanged,
    Rejected,
    Trade,
)
from nyquestro.domain.ids import Symbol
from nyquestro.domain.reasons import ExpireReason, RejectReason
from nyquestro.engine import Engine
from tests.engine.conftest import A1, A2, S1, S2, SYM, Harness, kinds, of, one

CALL = TradingPhase.OPENING_AUCTION
OPEN = TradingPhase.CONTINUOUS


def phase(h: Harness, to: TradingPhase, symbol: str | None = SYM) -> list[EventBase]:
    seq, ts = h.stamp()
    target = None if symbol is None else Symbol(symbol)
    return h.send(SetPhase(seq=seq, ts=ts, phase=to, symbol=target))


def trades(events: list[EventBase]) -> list[tuple[int, int]]:
    return [(t.px, t.qty) for t in of(events, Trade)]


def test_a_call_collects_crossing_orders_and_its_end_uncrosses_them_at_one_price() -> None:
    h = Harness()
    assert one(phase(h, CALL), PhaseChanged).previous is OPEN
    h.buy(10, 102, cl="b1")
    h.buy(5, 101, cl="b2")
    h.sell(8, 100, session=S2, account=A2, cl="s1")
    h.sell(10, 103, session=S2, account=A2, cl="s2")
    assert h.bids()[0][0] > h.asks()[0][0], "a call may leave the book crossed"
    assert not of(h.history, Trade)
    # 8 can trade at 100, 101 or 102; the buy surplus (10 + 5 - 8 at 100 and 101, 10 - 8
    # at 102) is smallest at 102.
    latest = of(h.history, AuctionIndicative)[-1]
    assert (latest.px, latest.qty, latest.imbalance_qty, latest.imbalance_side) == (
        102, 8, 2, Side.BUY,
    )  # fmt: skip
    events = phase(h, OPEN)
    assert trades(events) == [(102, 8)]
    assert kinds(events)[-1] == "PhaseChanged"
    assert h.bids() == [(102, 2, 1), (101, 5, 1)] and h.asks() == [(103, 10, 1)]
    assert h.engine.last_trade_px(Symbol(SYM)) == 102
    # Continuous trading from here: a marketable order trades at once.
    assert trades(h.sell(2, 102, session=S2, account=A2)) == [(102, 2)]


def test_the_price_follows_volume_then_surplus_then_pressure_then_reference() -> None:
    # Volume: 10 trades at 100, only 5 at 101.
    h = Harness()
    phase(h, CALL)
    h.buy(10, 101, cl="b")
    h.sell(5, 99, session=S2, account=A2)
    h.sell(5, 101, session=S2, account=A2)
    assert trades(phase(h, OPEN)) == [(101, 5), (101, 5)]

    # Pressure: at 100 and 101 the same 5 trade with a buy surplus of 5: the higher.
    h = Harness()
    phase(h, CALL)
    h.buy(10, 101)
    h.sell(5, 100, session=S2, account=A2)
    assert trades(phase(h, OPEN)) == [(101, 5)]
    h = Harness()
    phase(h, CALL)
    h.buy(5, 101)
    h.sell(10, 100, session=S2, account=A2)
    assert trades(phase(h, OPEN)) == [(100, 5)]

    # No surplus at 100 or 101: the one nearer the last trade price (here 103).
    h = Harness()
    h.sell(1, 103, session=S2, account=A2)
    h.buy(1, 103)
    phase(h, CALL)
    h.buy(5, 101)
    h.sell(5, 100, session=S2, account=A2)
    assert trades(phase(h, OPEN)) == [(101, 5)]


def test_market_orders_of_the_call_go_first_and_what_they_leave_expires() -> None:
    h = Harness()
    phase(h, CALL)
    h.market(Side.BUY, 4, cl="mkt")
    h.buy(6, 100, cl="lim")
    h.sell(7, 100, session=S2, account=A2)
    h.market(Side.SELL, 2, session=S2, account=A2, cl="mkt-sell")
    assert [o.cl_ord_id for o in h.engine.auction_market_orders(Symbol(SYM))] == [
        "mkt", "mkt-sell",
    ]  # fmt: skip
    events = phase(h, OPEN)
    # Buys: 4 market then 6 at 100; sells: 2 market then 7 at 100: 9 trade at 100.
    mkt = [e for e in of(events, Execution) if e.cl_ord_id == "mkt"]
    assert sum(e.qty for e in mkt) == 4 and all(e.px == 100 for e in mkt)
    assert sum(t.qty for t in of(events, Trade)) == 9
    assert h.bids() == [(100, 1, 1)] and h.asks() == []
    assert h.engine.auction_market_orders(Symbol(SYM)) == []

    h = Harness()
    phase(h, CALL)
    h.market(Side.BUY, 10, cl="mkt")
    h.sell(3, 100, session=S2, account=A2)
    events = phase(h, OPEN)
    expired = one(events, Expired)
    assert (expired.cl_ord_id, expired.reason, expired.expired_qty) == (
        "mkt", ExpireReason.AUCTION_REMAINDER, 7,
    )  # fmt: skip


def test_opg_and_atc_orders_are_for_their_auction_only() -> None:
    h = Harness()
    refused = one(h.buy(5, 100, tif=TimeInForce.OPG), Rejected)
    assert refused.reason is RejectReason.NOT_IN_THIS_PHASE and "OPG" in refused.text
    phase(h, TradingPhase.PRE_OPEN)
    h.buy(5, 100, tif=TimeInForce.OPG, cl="opg")
    h.buy(5, 99, cl="day")
    assert one(h.buy(5, 100, tif=TimeInForce.ATC), Rejected).reason is (
        RejectReason.NOT_IN_THIS_PHASE
    )
    assert not of(h.history, AuctionIndicative), "pre-open publishes no indicative price"
    h.sell(2, 100, session=S2, account=A2)
    events = phase(h, OPEN)
    assert trades(events) == [(100, 2)]
    assert [(e.cl_ord_id, e.expired_qty) for e in of(events, Expired)] == [("opg", 3)]
    assert h.is_live("day")

    phase(h, TradingPhase.CLOSING_AUCTION)
    h.sell(8, 99, tif=TimeInForce.ATC, session=S2, account=A2, cl="atc")
    h.sell(5, 100, session=S2, account=A2, cl="day-sell")
    closing = phase(h, TradingPhase.CLOSED)
    assert trades(closing) == [(99, 5)]
    assert [(e.cl_ord_id, e.expired_qty) for e in of(closing, Expired)] == [("atc", 3)]
    assert h.is_live("day-sell", S2)


def test_calls_refuse_what_cannot_wait_and_closed_phases_take_only_cancels() -> None:
    h = Harness()
    phase(h, CALL)
    for tif in (TimeInForce.IOC, TimeInForce.FOK):
        assert one(h.buy(1, 100, tif=tif), Rejected).reason is RejectReason.NOT_IN_THIS_PHASE
    h.buy(5, 100, cl="resting")
    phase(h, OPEN)
    phase(h, TradingPhase.POST_CLOSE)
    refused = one(h.buy(1, 100), Rejected)
    assert refused.reason is RejectReason.MARKET_CLOSED and "post_close" in refused.text
    assert kinds(h.replace("resting", 4, 100)) == ["CancelRejected"]
    assert kinds(h.cancel("resting")) == ["Cancelled", "LevelRemoved"]


def test_a_halted_book_stays_in_its_call_and_others_move_on() -> None:
    h = Harness()
    phase(h, CALL, None)
    h.halt()
    events = phase(h, OPEN, None)
    assert one(events, OperatorRejected).reason is RejectReason.SYMBOL_HALTED
    assert h.engine.phase(Symbol(SYM)) is CALL
    assert h.engine.phase(Symbol("ABC")) is OPEN


def test_a_snapshot_taken_during_a_call_uncrosses_the_same_way() -> None:
    h = Harness()
    phase(h, CALL)
    h.buy(10, 102, display_qty=2)
    h.market(Side.BUY, 3)
    h.sell(12, 100, session=S2, account=A2)
    restored = Engine.restored(pickle.loads(pickle.dumps(h.engine.export_state())))
    assert restored.state_hash() == h.engine.state_hash()
    seq, ts = h.stamp()
    command = SetPhase(seq=seq, ts=ts, phase=OPEN, symbol=Symbol(SYM))
    assert restored.process(command) == h.send(command)
    assert restored.state_hash() == h.engine.state_hash()


# --- properties ------------------------------------------------------------------------

orders = st.lists(
    st.tuples(
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(1, 20),  # qty
        st.one_of(st.none(), st.integers(95, 105)),  # None: a market order
        st.one_of(st.none(), st.integers(1, 5)),  # display
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(orders)
def test_the_uncross_executes_the_most_any_price_could_at_one_price_within_every_limit(
    drawn: list[tuple[Side, int, int | None, int | None]],
) -> None:
    h = Harness()
    phase(h, CALL)
    accepted: dict[int, tuple[Side, int, int | None]] = {}
    for n, (side, qty, px, display) in enumerate(drawn):
        session, account = (S2, A2) if side is Side.SELL else (S1, A1)  # no self-match
        events = h.new(
            side, qty, px,
            ord_type=OrdType.MARKET if px is None else OrdType.LIMIT,
            display_qty=None if px is None or display is None else min(display, qty),
            session=session, account=account, cl=f"o{n}",
        )  # fmt: skip
        ack = one(events, Accepted)
        accepted[ack.order_id] = (side, qty, px)
    events = phase(h, OPEN)

    executed = sum(t.qty for t in of(events, Trade))
    assert executed == _most_any_price_executes(list(accepted.values()))
    prices = {t.px for t in of(events, Trade)}
    assert len(prices) <= 1, "an auction trades at one price"
    for e in of(events, Execution):
        side, _qty, limit = accepted[e.order_id]
        if limit is not None:
            assert e.px <= limit if side is Side.BUY else e.px >= limit, e
    # Conservation: every order is filled, open, or expired, to the unit.
    done: dict[int, int] = {}
    for e in events:
        if isinstance(e, Expired):
            done[e.order_id] = done.get(e.order_id, 0) + e.expired_qty
    filled: dict[int, int] = {}
    for e in of(events, Execution):
        filled[e.order_id] = e.cum_qty
    for order_id, (_side, qty, _px) in accepted.items():
        view = h.engine.order(order_id)  # type: ignore[arg-type]
        leaves = 0 if view is None else view.leaves_qty
        assert filled.get(order_id, 0) + leaves + done.get(order_id, 0) == qty, order_id
    if prices:
        (px,) = prices
        bids, asks = h.bids(), h.asks()
        assert not (bids and asks and bids[0][0] >= asks[0][0])
        surplus = _surplus_at(list(accepted.values()), px)
        tied = [
            p for p in range(95, 106)
            if _volume_at(list(accepted.values()), p) == executed
            and any(limit == p for _s, _q, limit in accepted.values())
        ]  # fmt: skip
        assert all(abs(_surplus_at(list(accepted.values()), p)) >= abs(surplus) for p in tied)


def _volume_at(book: list[tuple[Side, int, int | None]], px: int) -> int:
    demand = sum(q for s, q, p in book if s is Side.BUY and (p is None or p >= px))
    supply = sum(q for s, q, p in book if s is Side.SELL and (p is None or p <= px))
    return min(demand, supply)


def _surplus_at(book: list[tuple[Side, int, int | None]], px: int) -> int:
    demand = sum(q for s, q, p in book if s is Side.BUY and (p is None or p >= px))
    supply = sum(q for s, q, p in book if s is Side.SELL and (p is None or p <= px))
    return demand - supply


def _most_any_price_executes(book: list[tuple[Side, int, int | None]]) -> int:
    """The largest quantity any one limit price in the book would execute."""
    limits = {p for _s, _q, p in book if p is not None}
    return max((_volume_at(book, p) for p in limits), default=0)


def test_an_atc_order_entered_before_the_close_waits_for_the_closing_call() -> None:
    h = Harness()
    h.sell(5, 101, tif=TimeInForce.ATC, session=S2, account=A2, cl="moc")
    assert [o.cl_ord_id for o in h.engine.at_close_orders(Symbol(SYM))] == ["moc"]
    assert h.asks() == [] and not of(h.buy(5, 101), Trade), "it is not in the book"
    h.replace("moc", 6, 100, cl="moc2", session=S2)
    refused = one(h.buy(1, tif=TimeInForce.ATC, ord_type=OrdType.STOP, stop_px=105), Rejected)
    assert refused.reason is RejectReason.INVALID_TIF_FOR_ORD_TYPE
    phase(h, TradingPhase.CLOSING_AUCTION)
    assert h.asks() == [(100, 6, 1)] and h.bids() == [(101, 5, 1)]
    closing = phase(h, TradingPhase.POST_CLOSE)
    assert trades(closing) == [(100, 5)]  # 5 trade; 1 sell left at 100 and 101: the lower
    assert [(e.cl_ord_id, e.expired_qty) for e in of(closing, Expired)] == [("moc2", 1)]

    # Held through a day that closes without a closing auction, it expires unfilled.
    h2 = Harness()
    h2.sell(5, 101, tif=TimeInForce.ATC, session=S2, account=A2, cl="unused")
    ended = phase(h2, TradingPhase.POST_CLOSE)
    assert [(e.cl_ord_id, e.reason) for e in of(ended, Expired)] == [
        ("unused", ExpireReason.AUCTION_REMAINDER),
    ]  # fmt: skip
