"""Busts and corrections: a trade taken back or changed after the fact (ExecType H/G)."""

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from nyquestro.domain.commands import BustTrade, CorrectTrade, EndOfDay
from nyquestro.domain.enums import Side
from nyquestro.domain.events import (
    Accepted,
    EventBase,
    ExecutionBusted,
    ExecutionCorrected,
    Filled,
    OperatorRejected,
    Trade,
    TradeBusted,
    TradeCorrected,
)
from nyquestro.domain.ids import Px, Qty, TradeId
from nyquestro.domain.reasons import RejectReason
from nyquestro.engine import Engine
from tests.engine.conftest import A1, A2, S2, SYM, Harness, one


def bust(h: Harness, trade_id: int) -> list[EventBase]:
    seq, ts = h.stamp()
    return h.send(BustTrade(seq=seq, ts=ts, trade_id=TradeId(trade_id), reason="error trade"))


def correct(h: Harness, trade_id: int, px: int, qty: int) -> list[EventBase]:
    seq, ts = h.stamp()
    return h.send(CorrectTrade(seq=seq, ts=ts, trade_id=TradeId(trade_id), px=Px(px), qty=Qty(qty)))


def test_a_bust_takes_the_fill_back_from_both_orders_and_both_positions() -> None:
    h = Harness()
    one(h.buy(100, 50), Accepted)
    fill = one(h.sell(40, 50, session=S2, account=A2), Filled)
    events = bust(h, fill.trade_id)
    maker, taker, public = events
    assert isinstance(maker, ExecutionBusted) and isinstance(taker, ExecutionBusted)
    assert (maker.side, maker.cum_qty, maker.leaves_qty, maker.cum_notional) == (
        Side.BUY, 0, 60, 0
    )  # fmt: skip
    # The seller's order is done: nothing is open, and its one fill is gone.
    assert (taker.side, taker.cum_qty, taker.leaves_qty) == (Side.SELL, 0, 0)
    assert (maker.orig_px, maker.orig_qty, maker.qty, maker.reason) == (50, 40, 0, "error trade")
    assert public == TradeBusted(seq=public.seq, ts=public.ts, symbol=SYM,
                                 trade_id=fill.trade_id, orig_px=Px(50), orig_qty=Qty(40),
                                 px=Px(50), qty=Qty(0))  # fmt: skip
    assert h.engine.exposure(A1, SYM) == (0, 60, 0)
    assert h.engine.exposure(A2, SYM) == (0, 0, 0)
    # The quantity is not put back in the book: the buyer still shows 60.
    assert h.engine.depth(SYM, Side.BUY) == [(50, 60, 1)]


def test_a_correction_reprices_and_shrinks_the_fill() -> None:
    h = Harness()
    h.buy(100, 50)
    first = one(h.sell(30, 50, session=S2, account=A2), Filled)
    one(h.sell(20, 50, session=S2, account=A2), Filled)
    maker, taker, public = correct(h, first.trade_id, px=48, qty=25)
    assert isinstance(maker, ExecutionCorrected) and isinstance(public, TradeCorrected)
    # The buyer had 30 @ 50 and 20 @ 50; now 25 @ 48 and 20 @ 50.
    assert (maker.cum_qty, maker.cum_notional, maker.leaves_qty) == (45, 25 * 48 + 20 * 50, 50)
    assert (taker.cum_qty, taker.cum_notional) == (25, 25 * 48)
    assert (public.orig_px, public.orig_qty, public.px, public.qty) == (50, 30, 48, 25)
    assert h.engine.exposure(A1, SYM)[0] == 45
    assert h.engine.exposure(A2, SYM)[0] == -45
    # A corrected trade can be busted: what goes back is the corrected fill.
    maker, _, _ = bust(h, first.trade_id)
    assert isinstance(maker, ExecutionBusted)
    assert (maker.orig_px, maker.orig_qty, maker.cum_qty) == (48, 25, 20)


def test_unknown_busted_twice_and_bad_corrections_are_refused_by_name() -> None:
    h = Harness()
    h.buy(10, 50)
    fill = one(h.sell(10, 50, session=S2, account=A2), Trade)
    refused = one(bust(h, 99), OperatorRejected)
    assert (refused.command, refused.reason) == ("bust", RejectReason.UNKNOWN_TRADE)
    assert "no trade 99 to bust" in refused.text
    refused = one(correct(h, fill.trade_id, px=50, qty=11), OperatorRejected)
    assert refused.reason is RejectReason.INVALID_QTY
    assert refused.text == "a corrected quantity must be 1 to the trade's 10, not 11"
    refused = one(correct(h, fill.trade_id, px=0, qty=5), OperatorRejected)
    assert refused.reason is RejectReason.INVALID_PRICE
    assert len(bust(h, fill.trade_id)) == 3
    assert one(bust(h, fill.trade_id), OperatorRejected).reason is RejectReason.UNKNOWN_TRADE
    assert one(correct(h, fill.trade_id, 50, 5), OperatorRejected).command == "correct"


def test_only_the_latest_trades_of_the_day_can_be_busted() -> None:
    h = Harness()
    h.engine._ctx.trades.window = 2  # the window is a constant; two trades show its edge
    h.buy(3, 50)
    ids = [one(h.sell(1, 50, session=S2, account=A2), Trade).trade_id for _ in range(3)]
    assert one(bust(h, ids[0]), OperatorRejected).reason is RejectReason.UNKNOWN_TRADE
    assert len(bust(h, ids[1])) == 3
    for _ in range(5):  # more trades between other orders, each of them done at once
        h.buy(1, 60)
        h.sell(1, 60, session=S2, account=A2)
    assert one(bust(h, ids[2]), OperatorRejected).reason is RejectReason.UNKNOWN_TRADE
    # What is kept stays within the window: orders of forgotten trades are forgotten too.
    log = h.engine._ctx.trades
    assert len(log.qtys) == 2 and len(log.latest) <= 4 and len(log.done.sessions) <= 4
    h.buy(1, 50)
    last = one(h.sell(1, 50, session=S2, account=A2), Trade).trade_id
    seq, ts = h.stamp()
    h.send(EndOfDay(seq=seq, ts=ts))
    assert one(bust(h, last), OperatorRejected).reason is RejectReason.UNKNOWN_TRADE


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 30), st.integers(45, 55)), min_size=1, max_size=8),
    st.data(),
)
def test_busting_every_trade_leaves_every_position_flat(
    sells: list[tuple[int, int]], data: st.DataObject
) -> None:
    """Conservation: after busting every trade in any order, positions and the fill totals
    reported last for each order are back to zero."""
    h = Harness()
    h.buy(sum(q for q, _ in sells), 55)
    trades = []
    for qty, px in sells:
        events = h.sell(qty, px, session=S2, account=A2)
        trades.extend(e.trade_id for e in events if isinstance(e, Trade))
    last_cum: dict[int, int] = {}
    for trade_id in data.draw(st.permutations(trades)):
        for event in bust(h, trade_id):
            if isinstance(event, ExecutionBusted):
                last_cum[event.order_id] = event.cum_qty
    assert set(last_cum.values()) == {0}
    assert h.engine.exposure(A1, SYM)[0] == h.engine.exposure(A2, SYM)[0] == 0


def test_a_restored_engine_can_still_bust_trades_made_before_its_snapshot() -> None:
    h = Harness()
    h.buy(10, 50)
    fill = one(h.sell(4, 50, session=S2, account=A2), Filled)
    # Through pickle, as a snapshot: the exported state shares the engine's objects.
    restored = Engine.restored(pickle.loads(pickle.dumps(h.engine.export_state())))
    assert restored.state_hash() == h.engine.state_hash()
    seq, ts = h.stamp()
    command = BustTrade(seq=seq, ts=ts, trade_id=fill.trade_id)
    assert restored.process(command) == h.engine.process(command)
    assert restored.state_hash() == h.engine.state_hash()
