"""Engine-level behaviour: routing, ordering, sequencing, operator commands, determinism."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nyquestro.domain.commands import NewOrder
from nyquestro.domain.enums import OrdType, PegType, Side, SmpPolicy, TimeInForce
from nyquestro.domain.errors import InvariantViolation, SequenceRegression
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    EventBase,
    Expired,
    Halted,
    LevelAdded,
    LevelEvent,
    LevelRemoved,
    MassCancelled,
    OperatorRejected,
    Rejected,
    Restated,
    Resumed,
    Trade,
)
from nyquestro.domain.ids import Account, ClOrdId, Px, Qty, Seq, SessionKey, Symbol
from nyquestro.domain.reasons import CancelReason, ExpireReason, RejectReason
from tests.engine.conftest import (
    A1,
    A2,
    A3,
    OTHER_SYM,
    S1,
    S2,
    SYM,
    Harness,
    kinds,
    of,
    one,
    ts_of,
)

# --- routing --------------------------------------------------------------------------------


def test_books_of_different_symbols_are_independent(h: Harness) -> None:
    h.buy(10, 100, cl="x-bid", account=A2)
    events = h.sell(10, 90, cl="abc-ask", symbol=OTHER_SYM, account=A3)
    assert of(events, Trade) == []
    assert h.bids() == [(100, 10, 1)] and h.asks() == []
    assert h.asks(OTHER_SYM) == [(90, 10, 1)] and h.bids(OTHER_SYM) == []
    trade = one(h.buy(4, 90, symbol=OTHER_SYM, account=A2), Trade)
    assert (trade.symbol, trade.px) == (OTHER_SYM, 90)
    assert h.engine.last_trade_px(Symbol(OTHER_SYM)) == 90
    assert h.engine.last_trade_px(Symbol(SYM)) is None


def test_ids_are_global_across_symbols(h: Harness) -> None:
    h.sell(1, 100, cl="a", account=A2)
    h.sell(1, 100, cl="b", account=A2, symbol=OTHER_SYM)
    h.buy(1, 100, cl="c", symbol=OTHER_SYM)
    h.buy(1, 100, cl="d")
    order_ids = [h.oid(c) for c in "abcd"]
    assert order_ids == sorted(order_ids) and len(set(order_ids)) == 4
    trades = of(h.history, Trade)
    assert [t.symbol for t in trades] == [OTHER_SYM, SYM]
    assert trades[0].trade_id < trades[1].trade_id


def test_halt_applies_to_one_symbol_only(h: Harness) -> None:
    events = h.halt(SYM, reason="volatility")
    assert kinds(events) == ["Halted"]
    halted = one(events, Halted)
    assert (halted.symbol, halted.reason) == (SYM, "volatility")
    assert h.engine.is_halted(Symbol(SYM)) and not h.engine.is_halted(Symbol(OTHER_SYM))
    assert one(h.buy(1, 100, symbol=OTHER_SYM), Accepted)
    assert kinds(h.resume(SYM)) == ["Resumed"]
    assert not h.engine.is_halted(Symbol(SYM))


@pytest.mark.parametrize("command", ["halt", "resume"])
def test_operator_command_for_an_unknown_symbol_is_rejected(h: Harness, command: str) -> None:
    events = h.halt("NOPE") if command == "halt" else h.resume("NOPE")
    assert kinds(events) == ["OperatorRejected"]
    rej = one(events, OperatorRejected)
    assert (rej.command, rej.reason) == (command, RejectReason.UNKNOWN_SYMBOL)
    assert "NOPE" in rej.text
    assert (rej.seq, rej.ts) == (h.seq, ts_of(h.seq))


# --- event order ----------------------------------------------------------------------------


def test_events_of_a_command_follow_the_documented_order(h: Harness) -> None:
    h.sell(3, 100, cl="s1", account=A2)
    h.sell(3, 100, cl="s2", account=A3)
    h.sell(3, 101, cl="s3", account=A2)
    h.buy(5, 90, cl="b0", account=A2)
    h.buy(5, None, cl="pb", peg=PegType.PRIMARY, account=A3)
    events = h.buy(10, 101, cl="b1")
    assert kinds(events) == [
        "Accepted",
        # per trade: resting side, aggressor, public trade, level change
        *("Filled", "PartiallyFilled", "Trade", "LevelChanged"),
        *("Filled", "PartiallyFilled", "Trade", "LevelRemoved"),
        *("Filled", "PartiallyFilled", "Trade", "LevelRemoved"),
        # then the remainder rests
        "LevelAdded",
        # and last, the primary peg follows the new best bid from 90 to 101: its own
        # event first, then the book changes it causes (as for Cancelled and Replaced)
        "Restated",
        "LevelChanged",
        "LevelChanged",
    ]
    assert {(ev.seq, ev.ts) for ev in events} == {(h.seq, ts_of(h.seq))}


def test_every_event_carries_the_seq_and_ts_of_its_command(h: Harness) -> None:
    script: list[Callable[[], object]] = [
        lambda: h.buy(10, 100, cl="b1"),
        lambda: h.sell(4, 100, account=A2),
        lambda: h.replace("b1", 8, 100, cl="b1r"),
        lambda: h.cancel("b1r"),
        h.halt,
        h.resume,
        lambda: h.sell(5, 110),
        h.end_of_day,
        h.mass_cancel,
    ]
    for step in script:
        before = len(h.history)
        step()
        new = h.history[before:]
        assert new, "every command here produces at least one event"
        assert {(ev.seq, ev.ts) for ev in new} == {(h.seq, ts_of(h.seq))}


# --- sequencing -----------------------------------------------------------------------------


def order_cmd(seq: int, cl: str) -> NewOrder:
    return NewOrder(
        seq=Seq(seq),
        ts=ts_of(seq),
        session=S1,
        account=A1,
        cl_ord_id=ClOrdId(cl),
        symbol=Symbol(SYM),
        side=Side.BUY,
        qty=Qty(10),
        px=Px(100),
    )


@pytest.mark.parametrize("bad_seq", [5, 4, 1, 0, -1])
def test_non_increasing_seq_is_a_sequence_regression(h: Harness, bad_seq: int) -> None:
    h.engine.process(order_cmd(5, "first"))
    state = h.engine.state_hash()
    with pytest.raises(SequenceRegression) as info:
        h.engine.process(order_cmd(bad_seq, "second"))
    assert isinstance(info.value, InvariantViolation)
    # Refused before anything happened.
    assert h.engine.state_hash() == state
    assert h.engine.last_seq == 5
    assert [o.cl_ord_id for o in h.engine.live_orders()] == ["first"]
    assert one(h.engine.process(order_cmd(6, "second")), Accepted).cl_ord_id == "second"


def test_seq_may_skip_numbers(h: Harness) -> None:
    h.engine.process(order_cmd(1, "a"))
    assert one(h.engine.process(order_cmd(1000, "b")), Accepted)
    assert h.engine.last_seq == 1000


# --- mass cancel ----------------------------------------------------------------------------


def populate(h: Harness) -> None:
    """Six resting orders across two sessions, three accounts and two symbols."""
    h.buy(1, 100, cl="s1-a1-x", session=S1, account=A1)
    h.sell(1, 110, cl="s1-a2-x", session=S1, account=A2)
    h.buy(1, 100, cl="s1-a1-abc", session=S1, account=A1, symbol=OTHER_SYM)
    h.buy(1, 99, cl="s2-a1-x", session=S2, account=A1)
    h.sell(1, 111, cl="s2-a3-x", session=S2, account=A3)
    h.sell(1, 111, cl="s2-a3-abc", session=S2, account=A3, symbol=OTHER_SYM)


ALL_SIX = {"s1-a1-x", "s1-a2-x", "s1-a1-abc", "s2-a1-x", "s2-a3-x", "s2-a3-abc"}


@pytest.mark.parametrize(
    ("scope", "account", "symbol", "victims"),
    [
        (S1, None, None, {"s1-a1-x", "s1-a2-x", "s1-a1-abc"}),
        (None, A1, None, {"s1-a1-x", "s1-a1-abc", "s2-a1-x"}),
        (None, None, OTHER_SYM, {"s1-a1-abc", "s2-a3-abc"}),
        (S2, None, SYM, {"s2-a1-x", "s2-a3-x"}),
        (S1, A3, None, set()),
        (None, None, None, ALL_SIX),
    ],
)
def test_mass_cancel_by_filters(
    h: Harness,
    scope: SessionKey | None,
    account: Account | None,
    symbol: str | None,
    victims: set[str],
) -> None:
    populate(h)
    events = h.mass_cancel(
        cl="mc1", session=S2, scope_session=scope, account=account, symbol=symbol
    )
    cancels = of(events, Cancelled)
    assert {c.cl_ord_id for c in cancels} == victims
    assert {c.reason for c in cancels} <= {CancelReason.MASS_CANCEL}
    done = one(events, MassCancelled)
    assert (done.session, done.cl_ord_id, done.cancelled_count) == (S2, "mc1", len(victims))
    live = {o.cl_ord_id for o in h.engine.live_orders()}
    assert live.isdisjoint(victims)
    assert len(live) == 6 - len(victims)


def test_mass_cancel_updates_the_book(h: Harness) -> None:
    populate(h)
    h.mass_cancel(account=A1)
    assert h.bids() == [] and h.bids(OTHER_SYM) == []
    assert h.asks() == [(110, 1, 1), (111, 1, 1)]


def test_an_operator_mass_cancel_of_one_order_cancels_it_alone_and_is_remembered(
    h: Harness,
) -> None:
    populate(h)
    target = next(o for o in h.engine.live_orders() if o.cl_ord_id == "s2-a1-x")
    events = h.mass_cancel(session=SessionKey("operator:ops"), cl="operator-7",
                           order_id=target.order_id, request_id=7)  # fmt: skip
    (cancel,) = of(events, Cancelled)
    assert (cancel.order_id, cancel.session, cancel.cl_ord_id) == (target.order_id, S2, "s2-a1-x")
    assert one(events, MassCancelled).cancelled_count == 1
    assert len(h.engine.live_orders()) == 5
    assert h.engine.last_request_id == 7
    again = h.mass_cancel(order_id=target.order_id, request_id=8)
    assert not of(again, Cancelled) and one(again, MassCancelled).cancelled_count == 0
    assert h.engine.last_request_id == 8


# --- state hash and determinism -------------------------------------------------------------


def scripted_session(h: Harness) -> None:
    """A day touching every command and order type."""
    h.sell(10, 105, cl="s1", account=A2)
    h.sell(5, 104, cl="s2", account=A3, display_qty=2, tif=TimeInForce.GTC)
    h.buy(10, 100, cl="b1", account=A1)
    h.buy(5, None, cl="peg", peg=PegType.MIDPOINT, account=A3)
    h.buy(3, 104, cl="ioc", tif=TimeInForce.IOC, account=A1)
    h.buy(50, 106, cl="fok", tif=TimeInForce.FOK, account=A1)
    h.market(Side.SELL, 4, cl="mkt", account=A2)
    h.replace("b1", 12, 101, cl="b1r")
    h.sell(3, 101, cl="self", account=A1, smp_policy=SmpPolicy.DECREMENT_AND_CANCEL)
    h.buy(5, 100, cl="abc", symbol=OTHER_SYM, account=A2)
    h.halt(OTHER_SYM)
    h.cancel("abc")
    h.resume(OTHER_SYM)
    h.mass_cancel(account=A3, cl="mc")
    h.end_of_day()
    h.buy(1, 100, cl="late", account=A2, tif=TimeInForce.GTC)


def test_same_commands_give_identical_events_and_state() -> None:
    first, second = Harness(), Harness()
    scripted_session(first)
    scripted_session(second)
    assert first.history == second.history
    assert len(first.history) > 40
    assert first.engine.state_hash() == second.engine.state_hash()


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h.buy(1, 50, account=A2),
        lambda h: h.cancel("late"),
        lambda h: h.halt(SYM),
        lambda h: h.buy(1, 50, account=A2, tif=TimeInForce.IOC),  # leaves only an id behind
        lambda h: h.buy(1, 50, cl="zzz", symbol=OTHER_SYM, account=A2),
    ],
)
def test_state_hash_changes_with_the_state(change: Callable[[Harness], object]) -> None:
    first, second = Harness(), Harness()
    scripted_session(first)
    scripted_session(second)
    change(second)
    assert first.engine.state_hash() != second.engine.state_hash()


def test_state_hash_does_not_depend_on_query_calls() -> None:
    h = Harness()
    scripted_session(h)
    before = h.engine.state_hash()
    h.engine.live_orders()
    h.engine.depth(Symbol(SYM), Side.BUY)
    h.engine.book_orders(Symbol(SYM), Side.SELL)
    assert h.engine.state_hash() == before


@dataclass(frozen=True)
class Step:
    """One random command; fields a kind does not use keep their defaults."""

    kind: str
    side: Side = Side.BUY
    qty: int = 1
    px: int = 100
    account: Account = A1
    tif: TimeInForce = TimeInForce.DAY
    ord_type: OrdType = OrdType.LIMIT
    peg: PegType = PegType.MIDPOINT
    display: int | None = None
    policy: SmpPolicy | None = None
    target: int = 0
    symbol: str = SYM


# Mostly new orders, so books fill up and trade; cancels and replaces aim at orders that
# were sent (the index wraps around the list of ClOrdIDs used so far).
KINDS = ["new"] * 10 + ["cancel"] * 2 + ["replace"] * 3 + ["halt", "resume", "resume", "eod"]

steps_strategy = st.lists(
    st.builds(
        Step,
        kind=st.sampled_from(KINDS),
        side=st.sampled_from(list(Side)),
        qty=st.integers(1, 12),
        px=st.integers(98, 102),
        account=st.sampled_from([A1, A2, A3]),
        tif=st.sampled_from([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]),
        ord_type=st.sampled_from([OrdType.LIMIT] * 4 + [OrdType.MARKET, OrdType.PEGGED]),
        peg=st.sampled_from(list(PegType)),
        display=st.sampled_from([None, None, 2, 5]),
        policy=st.sampled_from([None, *SmpPolicy]),
        target=st.integers(0, 1000),
        symbol=st.sampled_from([SYM, SYM, SYM, OTHER_SYM]),
    ),
    min_size=10,
    max_size=80,
)


def send_step(h: Harness, i: int, step: Step, placed: list[str]) -> list[EventBase]:
    if step.kind == "new":
        limit = step.ord_type is OrdType.LIMIT
        pegged = step.ord_type is OrdType.PEGGED
        # Icebergs only where they are valid, so most random orders get through validation.
        iceberg = step.ord_type is not OrdType.MARKET and step.tif.rests
        display = step.display if iceberg and step.display is not None else None
        placed.append(f"o{i}")
        return h.new(
            step.side,
            step.qty,
            step.px if limit else None,
            cl=f"o{i}",
            account=step.account,
            symbol=step.symbol,
            tif=step.tif,
            ord_type=step.ord_type,
            peg=step.peg if pegged else None,
            display_qty=None if display is None else min(display, step.qty),
            smp_policy=step.policy,
        )
    target = placed[step.target % len(placed)] if placed else "none"
    if step.kind == "cancel":
        return h.cancel(target)
    if step.kind == "replace":
        return h.replace(target, step.qty, step.px)
    if step.kind == "halt":
        return h.halt(step.symbol)
    if step.kind == "resume":
        return h.resume(step.symbol)
    return h.end_of_day()


def check_after_command(
    h: Harness, events: list[EventBase], shown: dict[tuple[str, Side, int], tuple[int, int]]
) -> None:
    for ev in of(events, LevelEvent):
        key = (str(ev.symbol), ev.side, int(ev.px))
        if isinstance(ev, LevelRemoved):
            assert key in shown, f"removed a level never shown: {ev}"
            del shown[key]
        else:
            assert (key in shown) is not isinstance(ev, LevelAdded), f"bad level event {ev}"
            shown[key] = (ev.qty, ev.orders)
    for sym in (SYM, OTHER_SYM):
        bids, asks = h.bids(sym), h.asks(sym)
        if bids and asks:
            assert bids[0][0] < asks[0][0], f"{sym} crossed: {bids[0]} / {asks[0]}"
        for side, depth in ((Side.BUY, bids), (Side.SELL, asks)):
            # What a market-data consumer rebuilt from level events is the real book ...
            replayed = {px: v for (s, sd, px), v in shown.items() if s == sym and sd is side}
            assert replayed == {px: (q, n) for px, q, n in depth}
            # ... and the book's levels are the sum of their orders' visible slices.
            per_px: dict[int, tuple[int, int]] = {}
            for view in h.engine.book_orders(Symbol(sym), side):
                assert view.px is not None
                assert 0 < view.visible_qty <= view.leaves_qty
                if view.display_qty is not None:
                    assert view.visible_qty <= view.display_qty
                q, n = per_px.get(view.px, (0, 0))
                per_px[view.px] = (q + view.visible_qty, n + 1)
            assert per_px == {px: (q, n) for px, q, n in depth}
    # A remainder may only expire when nothing it could trade with is left (SMP aside).
    if of(events, Restated) or any(
        c.reason is CancelReason.SELF_MATCH for c in of(events, Cancelled)
    ):
        return
    accepted = {ev.order_id: ev for ev in of(events, Accepted)}
    for exp in of(events, Expired):
        if exp.reason not in (ExpireReason.IOC_REMAINDER, ExpireReason.MARKET_REMAINDER):
            continue
        acc = accepted[exp.order_id]
        opposite = h.depth(acc.side.opposite, acc.symbol)
        if opposite and acc.px is not None:
            best = opposite[0][0]
            assert (best > acc.px) if acc.side is Side.BUY else (best < acc.px)
        elif acc.px is None:
            assert opposite == [], "a market remainder expired with liquidity left"


def run_steps(steps: list[Step], check: bool = False) -> Harness:
    h = Harness()
    shown: dict[tuple[str, Side, int], tuple[int, int]] = {}
    placed: list[str] = []
    for i, step in enumerate(steps):
        events = send_step(h, i, step, placed)
        if check:
            check_after_command(h, events, shown)
    return h


@settings(max_examples=150, deadline=None)
@given(steps=steps_strategy)
def test_random_command_streams_keep_the_book_consistent(steps: list[Step]) -> None:
    h = run_steps(steps, check=True)
    assert all(ev.text for ev in of(h.history, Rejected))


@settings(max_examples=40, deadline=None)
@given(steps=steps_strategy)
def test_replaying_any_command_stream_is_deterministic(steps: list[Step]) -> None:
    first = run_steps(steps)
    second = run_steps(steps)
    assert first.history == second.history
    assert first.engine.state_hash() == second.engine.state_hash()


def test_halted_and_resumed_events_round_trip(h: Harness) -> None:
    assert isinstance(h.halt(SYM, reason="x")[0], Halted)
    assert isinstance(h.resume(SYM)[0], Resumed)


def test_multi_order_commands_go_in_arrival_order_then_reprice_by_symbol(h: Harness) -> None:
    # XYZ orders arrive first, so arrival order and sorted-symbol order (ABC < XYZ) differ.
    for sym in (SYM, OTHER_SYM):
        h.buy(5, 100, cl=f"{sym}-100", account=A2, symbol=sym)
        h.buy(5, 99, cl=f"{sym}-99", account=A3, symbol=sym)
    for sym in (SYM, OTHER_SYM):
        h.new(Side.BUY, 5, None, cl=f"{sym}-peg", peg=PegType.PRIMARY, account=A1, symbol=sym)
    events = h.mass_cancel(account=A2)
    cancels = of(events, Cancelled)
    assert [c.cl_ord_id for c in cancels] == [f"{SYM}-100", f"{OTHER_SYM}-100"]
    reprices = of(events, Restated)
    assert [r.symbol for r in reprices] == [OTHER_SYM, SYM]
    assert {r.px for r in reprices} == {99}
    assert max(events.index(c) for c in cancels) < min(events.index(r) for r in reprices)

    expired = of(h.end_of_day(), Expired)
    assert [e.cl_ord_id for e in expired] == [
        f"{SYM}-99",
        f"{OTHER_SYM}-99",
        f"{SYM}-peg",
        f"{OTHER_SYM}-peg",
    ]
