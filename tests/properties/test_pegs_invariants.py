"""Pegged orders of every type mixed with limit orders, cancels, replaces and halts.

There is no reference model for pegs: this machine checks invariants only. Besides the
model-free checks of `EngineObserver` (never crossed, quantity conserved, level events
consistent with depth, price-time priority) and the replay determinism check, it holds
every resting peg of a symbol that is not halted to its reference, computed here from the
rule: the best *non-pegged* bid/ask in `book_orders()` and `last_trade_px()`, plus the
order's offset; the midpoint rounds buys down and sells up. A new peg must be priced from
the references of the book it arrives in, or rejected with NO_PEG_REFERENCE exactly when
that reference is missing.
"""

from decimal import Decimal

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from nyquestro.domain.commands import (
    Cancel,
    CancelReplace,
    EndOfDay,
    Halt,
    MassCancel,
    NewOrder,
    Resume,
)
from nyquestro.domain.enums import OrdType, PegType, Side, SmpPolicy, TimeInForce
from nyquestro.domain.events import Accepted, Rejected
from nyquestro.domain.ids import Account, ClOrdId, Px, Qty, SessionKey, Symbol
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.reasons import RejectReason
from nyquestro.engine.engine import Engine
from tests.properties.engine_observer import SIDES, Harness

PEG = Symbol("PEG")
INSTRUMENTS = (Instrument(symbol=PEG, tick_size=Decimal("0.01"), max_qty=Qty(50)),)
SESSIONS = (SessionKey("S1"), SessionKey("S2"))
ACCOUNTS = (Account("A1"), Account("A2"), Account("A3"))

sessions = st.sampled_from(SESSIONS)
accounts = st.sampled_from(ACCOUNTS)
sides = st.sampled_from(SIDES)
peg_types = st.sampled_from(list(PegType))
offsets = st.integers(-2, 2)
smp_policies = st.sampled_from([None, *SmpPolicy])

# GTD needs an expire time (the engine-vs-reference test draws those), and OPG and ATC
# an auction: pegs do not care.
TIMED = (TimeInForce.GTD, TimeInForce.OPG, TimeInForce.ATC)
UNTIMED_TIFS = [tif for tif in TimeInForce if tif not in TIMED]


def peg_reference(
    engine: Engine, symbol: Symbol, peg: PegType, side: Side, offset: int
) -> int | None:
    """Where a peg should be priced now, from the book as the engine shows it."""
    best: dict[Side, int | None] = {}
    for book_side in SIDES:
        plain = [o.px for o in engine.book_orders(symbol, book_side) if o.peg is None]
        prices = [px for px in plain if px is not None]
        best[book_side] = (max if book_side is Side.BUY else min)(prices, default=None)
    base: int | None
    if peg is PegType.PRIMARY:
        base = best[side]
    elif peg is PegType.MARKET:
        base = best[side.opposite]
    elif peg is PegType.LAST_SALE:
        base = engine.last_trade_px(symbol)
    else:
        bid, ask = best[Side.BUY], best[Side.SELL]
        if bid is None or ask is None:
            base = None
        elif side is Side.BUY:
            base = (bid + ask) // 2
        else:
            base = (bid + ask + 1) // 2
    if base is None or base + offset <= 0:
        return None
    return base + offset


def _px(side: Side, depth: int) -> int:
    """`depth` ticks away from a 100/101 quote on the order's own side: both sides are
    usually quoted (pegs need references) while a depth of -1 still crosses."""
    return 100 - depth if side is Side.BUY else 101 + depth


class PegInvariants(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.harness = Harness(INSTRUMENTS, SESSIONS)
        self.engine = self.harness.engine
        self.pegs: dict[int, tuple[PegType, int]] = {}
        """Accepted pegs: (peg type, offset) by order id; the engine's views omit the offset."""

    @initialize(data=st.data(), levels=st.lists(st.integers(0, 3), min_size=2, max_size=6))
    def seed_quotes(self, data: st.DataObject, levels: list[int]) -> None:
        """Start from a two-sided book (GTC, so a day end keeps it): pegs need references."""
        for n, depth in enumerate(levels):
            side = SIDES[n % 2]
            self._new(data, SESSIONS[n % 2], side, 5, TimeInForce.GTC, False, px=_px(side, depth))

    def _new(
        self,
        data: st.DataObject,
        session: SessionKey,
        side: Side,
        qty: int,
        tif: TimeInForce,
        iceberg: bool,
        px: int | None = None,
        peg: PegType | None = None,
        offset: int = 0,
    ) -> None:
        cmd = NewOrder(
            **self.harness.stamp(),
            session=session,
            account=data.draw(accounts, label="account"),
            cl_ord_id=self.harness.cl_ord_id(session, data),
            symbol=PEG,
            side=side,
            qty=Qty(qty),
            ord_type=OrdType.LIMIT if peg is None else OrdType.PEGGED,
            px=None if px is None else Px(px),
            tif=tif,
            display_qty=Qty(min(2, qty)) if iceberg and tif.rests else None,
            peg=peg,
            peg_offset=Px(offset),
            smp_policy=data.draw(smp_policies, label="smp_policy"),
        )
        # The price a new peg gets comes from the book it arrives in.
        expected = None if peg is None else peg_reference(self.engine, PEG, peg, side, offset)
        first = self.harness.send(cmd)[0]
        if peg is None:
            return
        if isinstance(first, Accepted):
            assert expected is not None, f"{cmd} accepted without a reference: {first}"
            assert first.px == expected, f"{cmd} priced {first.px}, reference gives {expected}"
            self.pegs[first.order_id] = (peg, offset)
            event(f"peg accepted: {peg}")
        else:
            assert isinstance(first, Rejected), first
            if first.reason is RejectReason.NO_PEG_REFERENCE:
                assert expected is None, f"{cmd} rejected but the reference gives {expected}"
            else:
                expected_reasons = (RejectReason.DUPLICATE_CL_ORD_ID, RejectReason.SYMBOL_HALTED)
                assert first.reason in expected_reasons, f"{cmd}: {first}"

    @rule(
        data=st.data(),
        session=sessions,
        side=sides,
        tif=st.sampled_from([*[TimeInForce.DAY] * 3, TimeInForce.GTC, *UNTIMED_TIFS]),
        qty=st.integers(1, 10),
        depth=st.integers(-1, 4),
        iceberg=st.booleans(),
    )
    def new_limit(
        self,
        data: st.DataObject,
        session: SessionKey,
        side: Side,
        tif: TimeInForce,
        qty: int,
        depth: int,
        iceberg: bool,
    ) -> None:
        self._new(data, session, side, qty, tif, iceberg, px=_px(side, depth))

    @rule(
        data=st.data(),
        session=sessions,
        side=sides,
        peg=peg_types,
        offset=offsets,
        tif=st.sampled_from([*[TimeInForce.DAY] * 3, *[TimeInForce.GTC] * 2, *UNTIMED_TIFS]),
        qty=st.integers(1, 10),
        iceberg=st.booleans(),
    )
    def new_peg(
        self,
        data: st.DataObject,
        session: SessionKey,
        side: Side,
        peg: PegType,
        offset: int,
        tif: TimeInForce,
        qty: int,
        iceberg: bool,
    ) -> None:
        self._new(data, session, side, qty, tif, iceberg, peg=peg, offset=offset)

    @rule(
        data=st.data(),
        session=sessions,
        side=sides,
        peg=peg_types,
        away=st.integers(0, 2),
        qty=st.integers(1, 10),
        iceberg=st.booleans(),
    )
    def new_resting_peg(
        self,
        data: st.DataObject,
        session: SessionKey,
        side: Side,
        peg: PegType,
        away: int,
        qty: int,
        iceberg: bool,
    ) -> None:
        """A GTC peg offset away from the opposite side, so that it usually rests.

        Several resting pegs are what makes one reprice (and the trade it may cause) move
        the references of the others.
        """
        if peg is PegType.MARKET:
            away += 1
        offset = -away if side is Side.BUY else away
        self._new(data, session, side, qty, TimeInForce.GTC, iceberg, peg=peg, offset=offset)

    @rule(data=st.data(), session=sessions)
    def cancel(self, data: st.DataObject, session: SessionKey) -> None:
        orig = self._target(data, session)
        self.harness.send(
            Cancel(
                **self.harness.stamp(),
                session=session,
                cl_ord_id=self.harness.cl_ord_id(session, data),
                orig_cl_ord_id=orig,
            )
        )

    @rule(data=st.data(), session=sessions, qty=st.integers(1, 12), px=st.integers(97, 103))
    def replace(self, data: st.DataObject, session: SessionKey, qty: int, px: int) -> None:
        orig = self._target(data, session)
        live = {o.cl_ord_id: o for o in self.engine.live_orders() if o.session == session}
        target = live.get(orig) if orig is not None else None
        # Pegs take no price on a replace; limit orders must restate theirs.
        new_px = None if target is not None and target.peg is not None else Px(px)
        self.harness.send(
            CancelReplace(
                **self.harness.stamp(),
                session=session,
                cl_ord_id=self.harness.cl_ord_id(session, data),
                qty=Qty(qty),
                orig_cl_ord_id=orig,
                px=new_px,
            )
        )

    @rule(
        data=st.data(),
        op=st.sampled_from(["resume", "resume", "resume", "halt", "eod", "mass"]),
    )
    def operator(self, data: st.DataObject, op: str) -> None:
        if op == "halt":
            self.harness.send(Halt(**self.harness.stamp(), symbol=PEG, reason="news"))
        elif op == "resume":
            self.harness.send(Resume(**self.harness.stamp(), symbol=PEG))
        elif op == "eod":
            self.harness.send(EndOfDay(**self.harness.stamp()))
        else:
            self.harness.send(
                MassCancel(
                    **self.harness.stamp(),
                    session=data.draw(sessions, label="session"),
                    cl_ord_id=ClOrdId(f"mass-{self.harness.seq}"),
                    account=data.draw(st.sampled_from([None, *ACCOUNTS]), label="account"),
                )
            )

    def _target(self, data: st.DataObject, session: SessionKey) -> ClOrdId | None:
        """A live order of this session (its current ClOrdID), else any ClOrdID it used."""
        live = sorted(o.cl_ord_id for o in self.engine.live_orders() if o.session == session)
        if live and data.draw(st.integers(0, 3), label="live_target") > 0:
            return data.draw(st.sampled_from(live), label="orig")
        used = self.harness.sent[session]
        return data.draw(st.sampled_from(used), label="orig") if used else ClOrdId("none")

    # --- checks ----------------------------------------------------------------------------

    @invariant()
    def engine_invariants(self) -> None:
        self.harness.observer.check()

    @invariant()
    def resting_pegs_sit_at_their_reference(self) -> None:
        if self.engine.is_halted(PEG):
            return  # repricing is suspended while halted
        for side in SIDES:
            for o in self.engine.book_orders(PEG, side):
                if o.peg is None:
                    continue
                peg, offset = self.pegs[o.order_id]
                assert o.peg is peg
                expected = peg_reference(self.engine, PEG, peg, side, offset)
                if expected is not None:
                    assert o.px == expected, (
                        f"{side.name} {peg} peg {o.order_id} (offset {offset}) rests at "
                        f"{o.px}, reference gives {expected}"
                    )

    def teardown(self) -> None:
        self.harness.assert_replay_identical()


TestPegInvariants = PegInvariants.TestCase
TestPegInvariants.settings = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
