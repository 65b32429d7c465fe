"""The engine against the naive reference model, command by command, on random streams.

Two symbols with different default SMP policies, two sessions, three accounts (plus an
explicit SMP group shared across accounts), five price ticks and small quantities, so
orders cross, self-match, partially fill and replenish icebergs all the time. After every
command the engine and the model must agree on the answer, the trades, both books and
every order's status, and the engine must pass the model-free checks of
`EngineObserver`. At the end of each run a fresh engine replays the commands and must
reproduce every event and the state hash.
"""

from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from nyquestro.domain.commands import (
    Cancel,
    CancelReplace,
    Command,
    EndOfDay,
    Halt,
    MassCancel,
    NewOrder,
    Resume,
    SetPhase,
)
from nyquestro.domain.enums import OrdType, Side, SmpPolicy, TimeInForce, TradingPhase
from nyquestro.domain.events import (
    Accepted,
    AuctionIndicative,
    CancelRejected,
    EventBase,
    Expired,
    Halted,
    LevelEvent,
    MassCancelled,
    Rejected,
    Resumed,
    Trade,
)
from nyquestro.domain.ids import (
    Account,
    ClOrdId,
    OrderId,
    Px,
    Qty,
    SessionKey,
    SmpId,
    Symbol,
    Ts,
)
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.reasons import ExpireReason
from tests.properties.engine_observer import SIDES, Harness
from tests.properties.reference_model import Outcome, ReferenceBook, RefOrder, RefTrade

AAA = Symbol("AAA")
BBB = Symbol("BBB")
SYMBOLS = (AAA, BBB)
INSTRUMENTS = (
    Instrument(symbol=AAA, tick_size=Decimal("0.01"), max_qty=Qty(50)),
    Instrument(
        symbol=BBB,
        tick_size=Decimal("0.25"),
        max_qty=Qty(50),
        smp_policy=SmpPolicy.CANCEL_RESTING,
    ),
)
SESSIONS = (SessionKey("S1"), SessionKey("S2"))
ACCOUNTS = (Account("A1"), Account("A2"), Account("A3"))

sessions = st.sampled_from(SESSIONS)
accounts = st.sampled_from(ACCOUNTS)
symbols = st.sampled_from(SYMBOLS)
sides = st.sampled_from(SIDES)
prices = st.integers(98, 102)
quantities = st.integers(1, 12)
limit_tifs = st.sampled_from([*[TimeInForce.DAY] * 2, *[TimeInForce.GTC] * 2, *TimeInForce])
smp_policies = st.sampled_from([None, *SmpPolicy])
# Mostly grouped by account; sometimes an explicit group that spans accounts.
smp_ids = st.sampled_from([None, None, None, SmpId("G1")])


class EngineVsReference(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.harness = Harness(INSTRUMENTS, SESSIONS)
        self.engine = self.harness.engine
        self.ref = ReferenceBook({i.symbol: i for i in INSTRUMENTS})

    @initialize(
        data=st.data(),
        quotes=st.lists(st.tuples(symbols, accounts, st.integers(0, 2)), min_size=0, max_size=6),
    )
    def seed_book(self, data: st.DataObject, quotes: list[tuple[Symbol, Account, int]]) -> None:
        """Often start from a two-sided GTC book, so the first commands have something to hit."""
        for n, (symbol, account, depth) in enumerate(quotes):
            side = SIDES[n % 2]
            px = 100 - depth if side is Side.BUY else 101 + depth
            session = SESSIONS[n % 2]
            self._new_order(
                data, session, account, symbol, side, OrdType.LIMIT, TimeInForce.GTC, 5, px, None
            )

    # --- plumbing ------------------------------------------------------------------------

    def _target(
        self, session: SessionKey, data: st.DataObject
    ) -> tuple[ClOrdId | None, OrderId | None]:
        """How a cancel/replace names its order: by one of this session's ClOrdIDs, or by id."""
        used = self.harness.sent[session]
        live = [o.cl_ord_id for o in self.ref.resting if o.session == session]
        how = data.draw(st.sampled_from(["live", "live", "live", "any", "order_id"]), label="how")
        if how == "live" and live:
            return ClOrdId(data.draw(st.sampled_from(sorted(live)), label="orig")), None
        if how == "any" and used:
            return data.draw(st.sampled_from(used), label="orig"), None
        # By order id: live, done, another session's, or one never assigned.
        oid = data.draw(st.integers(1, self.ref.next_oid), label="order_id")
        return None, OrderId(oid)

    def _price(self, data: st.DataObject, symbol: Symbol, side: Side, px: int) -> int:
        """Often join the same side's best price or hit the opposite one exactly.

        Queues several orders deep at the touch are where FIFO, iceberg replenishment
        behind other orders and SMP in the middle of a queue matter.
        """
        where = data.draw(st.sampled_from(["drawn", "join", "join", "hit"]), label="where")
        queue = self.ref.queue(symbol, side if where == "join" else side.opposite)
        if where == "drawn" or not queue or queue[0].px is None:
            return px
        return queue[0].px

    def _send(self, cmd: Command) -> None:
        events = self.harness.send(cmd)
        outcome, trades = self.ref.process(cmd)
        _assert_same_answer(cmd, _after_expiries(events), outcome)
        engine_trades = [_as_ref_trade(t) for t in self.harness.observer.trades]
        assert engine_trades == trades, f"{cmd}\nengine: {engine_trades}\nmodel:  {trades}"

    # --- new orders ------------------------------------------------------------------------

    def _new_order(
        self,
        data: st.DataObject,
        session: SessionKey,
        account: Account,
        symbol: Symbol,
        side: Side,
        ord_type: OrdType,
        tif: TimeInForce,
        qty: int,
        px: int | None,
        display: int | None,
        owner: RefOrder | None = None,
        stop_px: int | None = None,
    ) -> None:
        """Send a new order; with `owner`, as the same SMP key as that resting order."""
        smp_policy = data.draw(smp_policies, label="smp_policy")
        smp_id = data.draw(smp_ids, label="smp_id")
        if owner is not None:
            account = Account(owner.account)
            smp_id = None if owner.smp_key[0] == "account" else SmpId(owner.smp_key[1])
        expire_ts = None
        if tif is TimeInForce.GTD:
            # A few commands from now (0: now, which is refused as passed already).
            ahead = data.draw(st.integers(0, 12), label="expire_in")
            expire_ts = self.harness.next_ts() + ahead * self.harness.TS_STEP
        # One order in twenty is malformed in one way, to keep rejections honest.
        flaw = data.draw(st.sampled_from(["none"] * 19 + ["flaw"]), label="flaw")
        if flaw == "flaw":
            kinds = ["qty", "px", "display", "too_big", "stop_px", "expire_ts"]
            kind = data.draw(st.sampled_from(kinds), label="kind")
            if kind == "qty":
                qty = 0
            elif kind == "px":
                px = None if ord_type.has_limit else 100
            elif kind == "stop_px":
                stop_px = None if ord_type.is_stop else 100
            elif kind == "expire_ts":
                expire_ts = None if tif is TimeInForce.GTD else self.harness.next_ts() + 1
            elif kind == "display":
                display = qty + 1
            else:
                qty = 51
        self._send(
            NewOrder(
                **self.harness.stamp(),
                session=session,
                account=account,
                cl_ord_id=self.harness.cl_ord_id(session, data),
                symbol=symbol,
                side=side,
                qty=Qty(qty),
                ord_type=ord_type,
                px=None if px is None else Px(px),
                tif=tif,
                display_qty=None if display is None else Qty(display),
                smp_id=smp_id,
                smp_policy=smp_policy,
                stop_px=None if stop_px is None else Px(stop_px),
                expire_ts=None if expire_ts is None else Ts(expire_ts),
            )
        )

    @rule(
        data=st.data(),
        session=sessions,
        account=accounts,
        symbol=symbols,
        side=sides,
        tif=limit_tifs,
        qty=quantities,
        px=prices,
    )
    def new_limit(
        self,
        data: st.DataObject,
        session: SessionKey,
        account: Account,
        symbol: Symbol,
        side: Side,
        tif: TimeInForce,
        qty: int,
        px: int,
    ) -> None:
        px = self._price(data, symbol, side, px)
        self._new_order(data, session, account, symbol, side, OrdType.LIMIT, tif, qty, px, None)

    @rule(
        data=st.data(),
        session=sessions,
        account=accounts,
        symbol=symbols,
        side=sides,
        tif=st.sampled_from([TimeInForce.DAY, TimeInForce.GTC]),
        qty=st.integers(4, 20),
        px=prices,
        display=st.integers(1, 4),
    )
    def new_iceberg(
        self,
        data: st.DataObject,
        session: SessionKey,
        account: Account,
        symbol: Symbol,
        side: Side,
        tif: TimeInForce,
        qty: int,
        px: int,
        display: int,
    ) -> None:
        display = min(display, qty)
        px = self._price(data, symbol, side, px)
        self._new_order(data, session, account, symbol, side, OrdType.LIMIT, tif, qty, px, display)

    @rule(
        data=st.data(),
        session=sessions,
        account=accounts,
        symbol=symbols,
        side=sides,
        tif=st.sampled_from(list(TimeInForce)),
        qty=quantities,
    )
    def new_market(
        self,
        data: st.DataObject,
        session: SessionKey,
        account: Account,
        symbol: Symbol,
        side: Side,
        tif: TimeInForce,
        qty: int,
    ) -> None:
        self._new_order(data, session, account, symbol, side, OrdType.MARKET, tif, qty, None, None)

    @rule(
        data=st.data(),
        session=sessions,
        account=accounts,
        symbol=symbols,
        side=sides,
        ord_type=st.sampled_from([OrdType.STOP, OrdType.STOP_LIMIT]),
        tif=st.sampled_from(list(TimeInForce)),
        qty=quantities,
        stop_px=prices,
        px=prices,
    )
    def new_stop(
        self,
        data: st.DataObject,
        session: SessionKey,
        account: Account,
        symbol: Symbol,
        side: Side,
        ord_type: OrdType,
        tif: TimeInForce,
        qty: int,
        stop_px: int,
        px: int,
    ) -> None:
        """Stops around the last price: some trigger at once, some wait for later trades."""
        limit = px if ord_type is OrdType.STOP_LIMIT else None
        self._new_order(
            data, session, account, symbol, side, ord_type, tif, qty, limit, None,
            stop_px=stop_px,
        )  # fmt: skip

    @rule(
        data=st.data(),
        session=sessions,
        symbol=symbols,
        side=sides,
        kind=st.sampled_from(["fok", "fok", "ioc", "market", "market_fok"]),
    )
    def sweep_into_own_order(
        self, data: st.DataObject, session: SessionKey, symbol: Symbol, side: Side, kind: str
    ) -> None:
        """Aggress as the owner of an order that sits behind others in the opposite book.

        The quantity is drawn around what rests ahead of that order, so the sweep stops at
        the self-match just short of, at, or past a complete fill: the case where a FOK dry
        run has to agree with the real sweep (icebergs ahead replenish behind the self-match).
        """
        queue = self.ref.queue(symbol, side.opposite)
        if not queue:
            return
        behind_iceberg = [
            o
            for n, o in enumerate(queue)
            if any(a.px == o.px and a.display is not None for a in queue[:n])
        ]
        candidates = queue[:8]
        if behind_iceberg and data.draw(st.booleans(), label="behind_iceberg"):
            candidates = behind_iceberg
        owner = data.draw(st.sampled_from(candidates), label="owner")
        ahead = queue[: queue.index(owner)]
        qty = data.draw(st.integers(1, sum(o.leaves for o in ahead) + 3), label="qty")
        tif = TimeInForce.IOC if kind == "ioc" else TimeInForce.FOK
        if kind.startswith("market"):
            ord_type, px = OrdType.MARKET, None
            tif = TimeInForce.FOK if kind == "market_fok" else TimeInForce.DAY
        else:
            ord_type, px = OrdType.LIMIT, owner.px
        self._new_order(
            data, session, ACCOUNTS[0], symbol, side, ord_type, tif, qty, px, None, owner=owner
        )

    # --- cancel, replace --------------------------------------------------------------------

    @rule(data=st.data(), session=sessions)
    def cancel(self, data: st.DataObject, session: SessionKey) -> None:
        orig, order_id = self._target(session, data)
        cl = self.harness.cl_ord_id(session, data)
        self._send(
            Cancel(
                **self.harness.stamp(),
                session=session,
                cl_ord_id=cl,
                orig_cl_ord_id=orig,
                order_id=order_id,
            )
        )

    @rule(data=st.data(), session=sessions)
    def replace(self, data: st.DataObject, session: SessionKey) -> None:
        orig, order_id = self._target(session, data)
        cl = self.harness.cl_ord_id(session, data)
        target: RefOrder | None = self.ref.orders.get(
            order_id if orig is None else self.ref.chains.get(session, {}).get(orig, 0)
        )
        mode = data.draw(st.sampled_from(["keep", "keep", "random", "display"]), label="mode")
        px: int | None
        if mode == "keep" and target is not None and target.px is not None:
            # Same price, quantity not increased: aim at the priority-keeping path, and
            # sometimes at or below the filled quantity.
            px = target.px
            qty = data.draw(st.integers(max(1, target.cum - 1), target.qty), label="qty")
            display = None
        else:
            px = data.draw(prices, label="px")
            qty = data.draw(st.integers(1, 16), label="qty")
            display = data.draw(st.integers(1, 5), label="display") if mode == "display" else None
        side = data.draw(st.sampled_from([None, None, None, *SIDES]), label="side")
        stop_px = None
        if target is not None and target.ord_type.is_stop:
            if target.ord_type is OrdType.STOP:
                px = None  # a stop (market) order restates no price
            stop_px = data.draw(st.none() | prices, label="stop_px")
        self._send(
            CancelReplace(
                **self.harness.stamp(),
                session=session,
                cl_ord_id=cl,
                qty=Qty(qty),
                orig_cl_ord_id=orig,
                order_id=order_id,
                px=None if px is None else Px(px),
                side=side,
                display_qty=None if display is None else Qty(display),
                stop_px=None if stop_px is None else Px(stop_px),
            )
        )

    # --- phases ------------------------------------------------------------------------------

    @rule(
        phase=st.sampled_from(
            [
                *[TradingPhase.CONTINUOUS] * 3,
                TradingPhase.PRE_OPEN,
                TradingPhase.OPENING_AUCTION,
                TradingPhase.CLOSING_AUCTION,
                TradingPhase.POST_CLOSE,
                TradingPhase.CLOSED,
            ]
        ),
        symbol=st.none() | symbols,
    )
    def set_phase(self, phase: TradingPhase, symbol: Symbol | None) -> None:
        """Calls collect crossing orders; their end uncrosses; a close refuses orders."""
        self._send(SetPhase(**self.harness.stamp(), phase=phase, symbol=symbol))

    # --- mass cancel and operator commands ---------------------------------------------------

    @rule(
        data=st.data(),
        op=st.sampled_from(["resume", "resume", "resume", "halt", "eod", "mass"]),
        symbol=symbols,
    )
    def operator(self, data: st.DataObject, op: str, symbol: Symbol) -> None:
        if op == "halt":
            self._send(Halt(**self.harness.stamp(), symbol=symbol, reason="volatility"))
        elif op == "resume":
            self._send(Resume(**self.harness.stamp(), symbol=symbol))
        elif op == "eod":
            self._send(EndOfDay(**self.harness.stamp()))
        else:
            session = data.draw(sessions, label="session")
            self._send(
                MassCancel(
                    **self.harness.stamp(),
                    session=session,
                    cl_ord_id=ClOrdId(f"mass-{self.harness.seq}"),
                    scope_session=data.draw(st.sampled_from([None, *SESSIONS]), label="scope"),
                    account=data.draw(
                        st.sampled_from([None, *ACCOUNTS, *ACCOUNTS]), label="account"
                    ),
                    symbol=data.draw(st.sampled_from([None, *SYMBOLS]), label="symbol"),
                    # An operator's cancel of one order, whoever's (or one long gone).
                    order_id=data.draw(
                        st.none() | st.integers(1, self.ref.next_oid).map(OrderId),
                        label="order_id",
                    ),
                )
            )

    # --- checks ----------------------------------------------------------------------------

    @invariant()
    def engine_matches_reference(self) -> None:
        for sym in SYMBOLS:
            assert self.engine.is_halted(sym) == (sym in self.ref.halted)
            for side in SIDES:
                engine_book = [
                    (o.order_id, o.px, o.visible_qty, o.leaves_qty)
                    for o in self.engine.book_orders(sym, side)
                ]
                model_book = self.ref.book(sym, side)
                assert engine_book == model_book, (
                    f"{sym} {side.name}\nengine: {engine_book}\nmodel:  {model_book}"
                )
            engine_stops = [o.order_id for o in self.engine.stop_orders(sym)]
            assert engine_stops == self.ref.waiting_stops(sym), (sym, engine_stops)
        engine_status = self.harness.observer.statuses()
        model_status = self.ref.statuses()
        diff = {
            oid: (engine_status.get(oid), model_status.get(oid))
            for oid in engine_status.keys() | model_status.keys()
            if engine_status.get(oid) != model_status.get(oid)
        }
        assert not diff, f"order status (engine, model): {diff}"

    @invariant()
    def engine_invariants(self) -> None:
        self.harness.observer.check()

    def teardown(self) -> None:
        self.harness.assert_replay_identical()


def _as_ref_trade(trade: Trade) -> RefTrade:
    if trade.aggressor_side is Side.BUY:
        maker, taker = trade.sell_order_id, trade.buy_order_id
    else:
        maker, taker = trade.buy_order_id, trade.sell_order_id
    return RefTrade(maker, taker, trade.px, trade.qty)


def _after_expiries(events: list[EventBase]) -> list[EventBase]:
    """The command's own answer: without the GTD expiries that come first, with their
    level events and the indicative price they move (the order statuses compared after
    each command check those against the model)."""
    n = 0
    while n < len(events):
        event = events[n]
        expiry = isinstance(event, Expired) and event.reason is ExpireReason.EXPIRE_TIME
        if not (expiry or isinstance(event, LevelEvent | AuctionIndicative)):
            break
        n += 1
    return events[n:]


def _assert_same_answer(cmd: Command, events: list[EventBase], outcome: Outcome) -> None:
    """The engine's reply to `cmd` must be the one the model gave."""
    if isinstance(cmd, NewOrder):
        first = events[0]
        if outcome.kind == "accepted":
            assert isinstance(first, Accepted), f"{cmd}: model accepts, engine says {first}"
            assert first.order_id == outcome.order_id
        else:
            assert events == [first] and isinstance(first, Rejected), (
                f"{cmd}: model rejects {set(outcome.reasons)}, engine says {events}"
            )
            assert first.reason in outcome.reasons, (first.reason, outcome.reasons)
    elif isinstance(cmd, Cancel | CancelReplace):
        refused = [e for e in events if isinstance(e, CancelRejected)]
        if outcome.kind == "done":
            assert not refused, f"{cmd}: model carries it out, engine says {refused}"
        else:
            assert events == refused and len(refused) == 1, (
                f"{cmd}: model rejects {set(outcome.reasons)}, engine says {events}"
            )
            assert refused[0].reason in outcome.reasons, (refused[0].reason, outcome.reasons)
    elif isinstance(cmd, MassCancel):
        done = [e for e in events if isinstance(e, MassCancelled)]
        assert len(done) == 1 and done[0].cancelled_count == outcome.count, (events, outcome)
    elif isinstance(cmd, Halt | Resume):
        # A resume lets stops the last price reached meanwhile trigger; the trades are
        # compared with the model's separately.
        said = [type(e) for e in events if isinstance(e, Halted | Resumed)]
        assert said == [Halted if isinstance(cmd, Halt) else Resumed], events


TestEngineVsReference = EngineVsReference.TestCase
TestEngineVsReference.settings = settings(
    max_examples=200,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
