"""Engine-side bookkeeping shared by the property tests: invariants that need no model.

`EngineObserver` reads every event the engine emits and keeps its own ledger per order
(ordered, filled, decremented, cancelled, expired quantity) and its own copy of the
visible book rebuilt from level events alone. `check()` then holds the engine's query
API (`order`, `live_orders`, `book_orders`, `depth`, `last_trade_px`) against both.
`Harness` feeds an engine, keeps the command history and replays it (determinism).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from hypothesis import event
from hypothesis import strategies as st

from nyquestro.domain.commands import Command, SetPhase
from nyquestro.domain.enums import Side, TradingPhase
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    CancelRejected,
    EventBase,
    Execution,
    Expired,
    Filled,
    LevelAdded,
    LevelEvent,
    LevelRemoved,
    Rejected,
    Replaced,
    Restated,
    Trade,
    Triggered,
)
from nyquestro.domain.ids import ClOrdId, OrderId, Seq, SessionKey, Symbol, Ts
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.reasons import RestateReason
from nyquestro.engine.engine import Engine, OrderView

SIDES = (Side.BUY, Side.SELL)


@dataclass
class Ledger:
    symbol: str
    side: Side
    ordered: int
    """Accepted quantity, or the total of the latest Replaced."""
    decremented: int = 0
    """SMP decrements since `ordered` was set."""
    filled: int = 0
    cancelled: int = 0
    expired: int = 0
    state: str = "live"
    reason: str | None = None

    @property
    def open_qty(self) -> int:
        return self.ordered - self.decremented - self.filled


class EngineObserver:
    def __init__(self, engine: Engine, symbols: Iterable[Symbol]) -> None:
        self.engine = engine
        self.symbols = tuple(symbols)
        self.ledgers: dict[int, Ledger] = {}
        self.levels: dict[tuple[str, Side], dict[int, tuple[int, int]]] = {
            (sym, side): {} for sym in self.symbols for side in SIDES
        }
        """px -> (qty, orders), as the level events last said."""
        self.shown: dict[tuple[str, Side], dict[int, tuple[int, int]]] = {
            (sym, side): {} for sym in self.symbols for side in SIDES
        }
        """order id -> (px, visible qty), as the order-level fields of level events said."""
        self.stamps: dict[int, int] = {}
        """When each shown order last joined the back of its level (time priority)."""
        self.next_stamp = 0
        self.last_trade_id = 0
        self.last_px: dict[str, int] = {}
        self.trades: list[Trade] = []
        """Trades of the last observed command."""
        self.ever_shown: set[int] = set()
        self.notes: set[str] = set()
        """What the last observed command exercised, for hypothesis statistics."""
        self.uncrossing = False
        """The command being observed may end an auction: its trades are at one price
        between two orders that both rested (or waited off the book), each followed by
        the level events of whichever of them was in a level."""

    # --- per event ----------------------------------------------------------------------

    def observe(self, events: Sequence[EventBase]) -> None:
        self.trades = []
        self.notes = set()
        for i, ev in enumerate(events):
            if isinstance(ev, Accepted):
                assert ev.order_id not in self.ledgers, f"order id {ev.order_id} reused"
                assert all(ev.order_id > oid for oid in self.ledgers), "order ids must increase"
                self.ledgers[ev.order_id] = Ledger(ev.symbol, ev.side, ev.qty)
            elif isinstance(ev, Execution):
                self._execution(ev)
            elif isinstance(ev, Trade):
                self._trade(events, i, ev)
            elif isinstance(ev, Cancelled):
                led = self._live_ledger(ev.order_id)
                assert ev.cum_qty == led.filled
                assert ev.cancelled_qty == led.open_qty, f"{ev} leaves quantity behind"
                led.cancelled += ev.cancelled_qty
                led.state, led.reason = "cancelled", str(ev.reason)
            elif isinstance(ev, Expired):
                led = self._live_ledger(ev.order_id)
                assert ev.cum_qty == led.filled
                assert ev.expired_qty == led.open_qty, f"{ev} leaves quantity behind"
                led.expired += ev.expired_qty
                led.state, led.reason = "expired", str(ev.reason)
            elif isinstance(ev, Restated):
                led = self._live_ledger(ev.order_id)
                if ev.reason is RestateReason.SELF_MATCH_DECREMENT:
                    assert ev.reduced_qty > 0
                    led.decremented += ev.reduced_qty
                else:
                    assert ev.reduced_qty == 0
                assert ev.qty == led.ordered - led.decremented, ev
                assert ev.leaves_qty == led.open_qty > 0, ev
                assert ev.cum_qty == led.filled, ev
            elif isinstance(ev, Replaced):
                led = self._live_ledger(ev.order_id)
                led.ordered = ev.qty
                led.decremented = 0
                assert ev.cum_qty == led.filled, ev
                assert ev.leaves_qty == led.open_qty > 0, ev
            elif isinstance(ev, LevelEvent):
                self._level(ev)

    def _live_ledger(self, order_id: int) -> Ledger:
        led = self.ledgers.get(order_id)
        assert led is not None, f"event for order {order_id} that was never accepted"
        assert led.state == "live", f"event for order {order_id} after it ended ({led.state})"
        return led

    def _execution(self, ev: Execution) -> None:
        led = self._live_ledger(ev.order_id)
        assert ev.qty > 0, ev
        led.filled += ev.qty
        assert ev.cum_qty == led.filled, f"cum_qty {ev.cum_qty} but fills add to {led.filled}"
        assert ev.leaves_qty == led.open_qty >= 0, ev
        assert isinstance(ev, Filled) == (ev.leaves_qty == 0), ev
        if isinstance(ev, Filled):
            led.state, led.reason = "filled", None

    def _trade(self, events: Sequence[EventBase], i: int, trade: Trade) -> None:
        """Each trade is: resting side's execution, aggressor's execution, Trade, level event."""
        assert trade.trade_id > self.last_trade_id, "trade ids must increase"
        self.last_trade_id = trade.trade_id
        self.last_px[trade.symbol] = trade.px
        self.trades.append(trade)
        if self.uncrossing:
            maker, taker = events[i - 2], events[i - 1]
            assert isinstance(maker, Execution) and isinstance(taker, Execution)
            assert maker.px == taker.px == trade.px and maker.side is not taker.side
            return
        assert i >= 2 and i + 1 < len(events), "a trade must be framed by its executions/level"
        maker, taker, level = events[i - 2], events[i - 1], events[i + 1]
        assert isinstance(maker, Execution) and isinstance(taker, Execution), events[i - 2 : i]
        assert taker.side is trade.aggressor_side is not maker.side
        for ex, contra in ((maker, taker), (taker, maker)):
            assert (ex.trade_id, ex.px, ex.qty) == (trade.trade_id, trade.px, trade.qty)
            assert ex.contra_order_id == contra.order_id
        buy, sell = (taker, maker) if trade.aggressor_side is Side.BUY else (maker, taker)
        assert (trade.buy_order_id, trade.sell_order_id) == (buy.order_id, sell.order_id)
        assert isinstance(level, LevelEvent), f"trade {trade} not followed by a level event"
        assert (level.side, level.px, level.order_id) == (maker.side, trade.px, maker.order_id)

    def _level(self, ev: LevelEvent) -> None:
        levels = self.levels[(ev.symbol, ev.side)]
        shown = self.shown[(ev.symbol, ev.side)]
        if ev.order_qty == 0:
            assert shown.get(ev.order_id, (None,))[0] == ev.px, f"{ev}: order not shown there"
            del shown[ev.order_id]
            del self.stamps[ev.order_id]
        elif ev.order_id in shown:
            px, before = shown[ev.order_id]
            assert px == ev.px, f"{ev}: order moved price without leaving its level"
            # Growing in place would jump the queue; only a reduction may keep the spot.
            assert ev.order_qty < before, f"{ev}: visible qty grew in place from {before}"
            shown[ev.order_id] = (ev.px, ev.order_qty)
        else:
            if ev.order_id in self.ever_shown:
                self.notes.add("order rejoined a level (replenish/replace/reprice)")
            self.ever_shown.add(ev.order_id)
            shown[ev.order_id] = (ev.px, ev.order_qty)
            self.stamps[ev.order_id] = self.next_stamp
            self.next_stamp += 1
        at_px = [qty for px, qty in shown.values() if px == ev.px]
        assert (ev.qty, ev.orders) == (sum(at_px), len(at_px)), f"{ev} disagrees with its orders"
        if isinstance(ev, LevelAdded):
            assert ev.px not in levels, f"{ev} for a level that already exists"
        elif ev.px not in levels:
            raise AssertionError(f"{ev} for a level that does not exist")
        if isinstance(ev, LevelRemoved):
            assert (ev.qty, ev.orders) == (0, 0), ev
            del levels[ev.px]
        else:
            assert ev.orders > 0 and ev.qty > 0, ev
            levels[ev.px] = (ev.qty, ev.orders)

    # --- after each command ------------------------------------------------------------

    def statuses(self) -> dict[int, tuple[str, int, int, int, str | None]]:
        """Per order: (state, qty, cum, leaves, reason), the reference model's shape."""
        out: dict[int, tuple[str, int, int, int, str | None]] = {}
        for oid, led in self.ledgers.items():
            leaves = led.open_qty if led.state == "live" else 0
            qty = led.ordered - led.decremented
            out[oid] = (led.state, qty, led.filled, leaves, led.reason)
        return out

    def check(self) -> None:
        engine = self.engine
        for oid, led in self.ledgers.items():
            view = engine.order(OrderId(oid))
            assert (view is not None) == (led.state == "live"), f"order {oid}: {led} vs {view}"
            open_qty = 0
            if view is not None:
                assert view.cum_qty == led.filled, (view, led)
                assert view.qty == led.ordered - led.decremented, (view, led)
                assert view.leaves_qty == led.open_qty > 0, (view, led)
                open_qty = view.leaves_qty
            total = led.filled + open_qty + led.decremented + led.cancelled + led.expired
            assert total == led.ordered, f"order {oid}: quantity not conserved: {led}"

        in_books: set[int] = set()
        for sym in self.symbols:
            bids = engine.book_orders(sym, Side.BUY)
            asks = engine.book_orders(sym, Side.SELL)
            in_books |= {o.order_id for o in engine.auction_market_orders(sym)}
            in_books |= {o.order_id for o in engine.at_close_orders(sym)}
            if bids and asks and not engine.phase(sym).is_call:
                assert bids[0].px is not None and asks[0].px is not None
                assert bids[0].px < asks[0].px, f"{sym} crossed: {bids[0]} / {asks[0]}"
            for side, orders in ((Side.BUY, bids), (Side.SELL, asks)):
                self._check_side(sym, side, orders)
                in_books |= {o.order_id for o in orders}
            if sym in self.last_px:
                assert engine.last_trade_px(sym) == self.last_px[sym]
            else:
                assert engine.last_trade_px(sym) is None
            # A waiting stop is one the last trade price has not reached (or a halt or a
            # phase other than continuous trading holds).
            last = engine.last_trade_px(sym)
            for stop in engine.stop_orders(sym):
                assert stop.stop_px is not None and stop.symbol == sym, stop
                in_books.add(stop.order_id)
                trading = engine.phase(sym) is TradingPhase.CONTINUOUS
                if last is not None and trading and not engine.is_halted(sym):
                    reached = (
                        stop.stop_px <= last if stop.side is Side.BUY else stop.stop_px >= last
                    )
                    assert not reached, f"{sym}: stop {stop} reached by the last price {last}"
        # Between commands nothing is live outside the book but waiting stops: market, IOC
        # and FOK remainders end within their command.
        assert {o.order_id for o in engine.live_orders()} == in_books

    def _check_side(self, sym: Symbol, side: Side, orders: list[OrderView]) -> None:
        prices: list[int] = []
        for o in orders:
            assert o.px is not None and o.symbol == sym and o.side is side, o
            assert 0 < o.visible_qty <= o.leaves_qty, o
            if o.display_qty is None:
                assert o.visible_qty == o.leaves_qty, o
            else:
                assert o.visible_qty <= o.display_qty, o
            prices.append(o.px)
        best_first = sorted(prices, reverse=side is Side.BUY)
        assert prices == best_first, f"{sym} {side.name} not in price order: {prices}"
        for a, b in pairwise(orders):
            if a.px == b.px:
                assert self.stamps[a.order_id] < self.stamps[b.order_id], (
                    f"{sym} {side.name} @ {a.px}: {b.order_id} joined before {a.order_id}"
                )
        shown = self.shown[(sym, side)]
        assert {o.order_id: (o.px, o.visible_qty) for o in orders} == shown
        depth = self.engine.depth(sym, side)
        replayed = sorted(self.levels[(sym, side)].items(), reverse=side is Side.BUY)
        assert depth == [(px, qty, n) for px, (qty, n) in replayed], (depth, replayed)
        aggregated: dict[int, tuple[int, int]] = {}
        for o in orders:
            assert o.px is not None
            qty, n = aggregated.get(o.px, (0, 0))
            aggregated[o.px] = (qty + o.visible_qty, n + 1)
        assert self.levels[(sym, side)] == aggregated


class Harness:
    """One engine under test, its observer, and everything needed to feed and replay it."""

    def __init__(self, instruments: Sequence[Instrument], sessions: Iterable[SessionKey]) -> None:
        self.instruments = tuple(instruments)
        self.engine = Engine(self.instruments)
        self.observer = EngineObserver(self.engine, [i.symbol for i in self.instruments])
        self.history: list[tuple[Command, list[EventBase]]] = []
        self.seq = 0
        self.sent: dict[SessionKey, list[ClOrdId]] = {s: [] for s in sessions}
        """Every ClOrdID each session has used, accepted or not."""

    TS_STEP = 1000
    """ns between two commands' timestamps."""

    def stamp(self) -> dict[str, int]:
        """seq and ts for the next command."""
        ts = self.next_ts()
        self.seq += 1
        # Gaps and an offset so nothing can confuse seq, ts and order ids.
        return {"seq": Seq(self.seq * 3), "ts": Ts(ts)}

    def next_ts(self) -> int:
        """The ts `stamp` gives the next command."""
        return 1_700_000_000_000_000_000 + (self.seq + 1) * self.TS_STEP

    def cl_ord_id(self, session: SessionKey, data: st.DataObject) -> ClOrdId:
        """A fresh ClOrdID, or (one time in twenty) one this session already used."""
        used = self.sent[session]
        if used and data.draw(st.integers(0, 19), label="reuse_cl") == 0:
            return data.draw(st.sampled_from(used), label="reused_cl")
        cl = ClOrdId(f"{session}-{len(used) + 1}")
        used.append(cl)
        return cl

    def send(self, cmd: Command) -> list[EventBase]:
        events = self.engine.process(cmd)
        self.history.append((cmd, events))
        self.observer.uncrossing = isinstance(cmd, SetPhase)
        self.observer.observe(events)
        _note_coverage(events, self.observer.notes)
        return events

    def assert_replay_identical(self) -> None:
        """A fresh engine fed the same commands must emit the same events and reach the
        same state."""
        fresh = Engine(self.instruments)
        for n, (cmd, events) in enumerate(self.history):
            again = fresh.process(cmd)
            assert again == events, f"replay diverged at command #{n}: {cmd}"
        assert fresh.state_hash() == self.engine.state_hash()


def _note_coverage(events: Sequence[EventBase], notes: set[str]) -> None:
    """Label what a step exercised (`pytest --hypothesis-show-statistics` shows the mix)."""
    labels = set(notes)
    for ev in events:
        if isinstance(ev, Trade):
            labels.add("trade")
        elif isinstance(ev, Cancelled | Expired | Restated):
            labels.add(f"{type(ev).__name__}:{ev.reason}")
        elif isinstance(ev, Rejected | CancelRejected):
            labels.add(f"{type(ev).__name__}:{ev.reason.name}")
        elif isinstance(ev, Replaced):
            labels.add(f"Replaced:priority_kept={ev.priority_kept}")
        elif isinstance(ev, Triggered):
            labels.add(f"Triggered:{ev.ord_type}")
    for label in sorted(labels):
        event(label)
