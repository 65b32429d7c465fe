"""Builders for engine tests.

`Harness` owns an `Engine`, stamps every command with the next seq (and a ts derived
from it, so tests never depend on a clock), names orders automatically when a test does
not care, and remembers which order id each accepted ClOrdID got. Every helper returns
the events of the one command it sent.
"""

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TypedDict, TypeVar, Unpack

import pytest

from nyquestro.domain.commands import (
    Cancel,
    CancelReplace,
    Command,
    Configure,
    EndOfDay,
    Halt,
    MassCancel,
    NewOrder,
    Resume,
)
from nyquestro.domain.enums import OrdType, PegType, Side, SmpPolicy, TimeInForce
from nyquestro.domain.events import (
    Accepted,
    EventBase,
    Execution,
    Replaced,
)
from nyquestro.domain.ids import (
    Account,
    ClOrdId,
    OrderId,
    Px,
    Qty,
    Seq,
    SessionKey,
    SmpId,
    Symbol,
    Ts,
)
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.risk import DEFAULT_VAR_WINDOW, AccountRisk, SessionRisk
from nyquestro.engine import Engine

SYM = Symbol("XYZ")
OTHER_SYM = Symbol("ABC")
S1 = SessionKey("FIX.4.4:CLIENT1->NYQ")
S2 = SessionKey("FIX.4.4:CLIENT2->NYQ")
A1 = Account("ACC1")
A2 = Account("ACC2")
A3 = Account("ACC3")

E = TypeVar("E", bound=EventBase)


class OrderOpts(TypedDict, total=False):
    """Optional fields of `Harness.new`, so `buy`/`sell`/`market` stay fully typed."""

    cl: str | None
    session: SessionKey
    account: Account
    symbol: str
    ord_type: OrdType | None
    tif: TimeInForce
    display_qty: int | None
    peg: PegType | None
    peg_offset: int
    smp_id: str | None
    smp_policy: SmpPolicy | None
    stop_px: int | None
    expire_ts: int | None


def make_instrument(
    symbol: str = SYM,
    *,
    tick_size: str = "0.01",
    lot_size: int = 1,
    min_qty: int = 1,
    max_qty: int = 1_000_000,
    smp_policy: SmpPolicy = SmpPolicy.CANCEL_INCOMING,
) -> Instrument:
    return Instrument(
        symbol=Symbol(symbol),
        tick_size=Decimal(tick_size),
        lot_size=Qty(lot_size),
        min_qty=Qty(min_qty),
        max_qty=Qty(max_qty),
        smp_policy=smp_policy,
    )


def ts_of(seq: int) -> Ts:
    """Timestamps are a pure function of seq so two harnesses stamp identically."""
    return Ts(1_700_000_000_000_000_000 + seq * 1_000)


class Harness:
    def __init__(self, instruments: Iterable[Instrument] | None = None) -> None:
        if instruments is None:
            instruments = (make_instrument(SYM), make_instrument(OTHER_SYM))
        self.engine = Engine(instruments)
        self.seq = 0
        self._auto_cl = 0
        self._ids: dict[tuple[SessionKey, ClOrdId], OrderId] = {}
        self.history: list[EventBase] = []
        """Every event of every command, for whole-run invariants."""

    # --- plumbing -------------------------------------------------------------------------

    def next_seq(self) -> Seq:
        self.seq += 1
        return Seq(self.seq)

    def next_cl(self) -> ClOrdId:
        self._auto_cl += 1
        return ClOrdId(f"auto{self._auto_cl}")

    def send(self, cmd: Command) -> list[EventBase]:
        events = self.engine.process(cmd)
        for ev in events:
            if isinstance(ev, Accepted | Replaced):
                self._ids[(ev.session, ev.cl_ord_id)] = ev.order_id
        self.history.extend(events)
        return events

    def stamp(self) -> tuple[Seq, Ts]:
        seq = self.next_seq()
        return seq, ts_of(seq)

    # --- commands -------------------------------------------------------------------------

    def configure(
        self,
        accounts: Iterable[AccountRisk] = (),
        sessions: Iterable[SessionRisk] = (),
        instruments: Iterable[Instrument] | None = None,
        var_window: int = DEFAULT_VAR_WINDOW,
    ) -> list[EventBase]:
        """Configure: the engine's instruments unless given, and exactly these limits."""
        seq, ts = self.stamp()
        if instruments is None:
            instruments = self.engine.instruments.values()
        return self.send(Configure(
            seq=seq, ts=ts, instruments=tuple(instruments), accounts=tuple(accounts),
            sessions=tuple(sessions), var_window=var_window,
        ))  # fmt: skip

    def new(
        self,
        side: Side,
        qty: int,
        px: int | None = None,
        *,
        cl: str | None = None,
        session: SessionKey = S1,
        account: Account = A1,
        symbol: str = SYM,
        ord_type: OrdType | None = None,
        tif: TimeInForce = TimeInForce.DAY,
        display_qty: int | None = None,
        peg: PegType | None = None,
        peg_offset: int = 0,
        smp_id: str | None = None,
        smp_policy: SmpPolicy | None = None,
        stop_px: int | None = None,
        expire_ts: int | None = None,
    ) -> list[EventBase]:
        if ord_type is None:
            ord_type = OrdType.PEGGED if peg is not None else OrdType.LIMIT
        seq, ts = self.stamp()
        return self.send(
            NewOrder(
                seq=seq,
                ts=ts,
                session=session,
                account=account,
                cl_ord_id=ClOrdId(cl) if cl is not None else self.next_cl(),
                symbol=Symbol(symbol),
                side=side,
                qty=Qty(qty),
                ord_type=ord_type,
                px=None if px is None else Px(px),
                tif=tif,
                display_qty=None if display_qty is None else Qty(display_qty),
                peg=peg,
                peg_offset=Px(peg_offset),
                smp_id=None if smp_id is None else SmpId(smp_id),
                smp_policy=smp_policy,
                stop_px=None if stop_px is None else Px(stop_px),
                expire_ts=None if expire_ts is None else Ts(expire_ts),
            )
        )

    def buy(self, qty: int, px: int | None = None, **kw: Unpack[OrderOpts]) -> list[EventBase]:
        return self.new(Side.BUY, qty, px, **kw)

    def sell(self, qty: int, px: int | None = None, **kw: Unpack[OrderOpts]) -> list[EventBase]:
        return self.new(Side.SELL, qty, px, **kw)

    def market(self, side: Side, qty: int, **kw: Unpack[OrderOpts]) -> list[EventBase]:
        kw["ord_type"] = OrdType.MARKET
        return self.new(side, qty, None, **kw)

    def cancel(
        self,
        orig: str | None = None,
        *,
        order_id: int | None = None,
        cl: str | None = None,
        session: SessionKey = S1,
    ) -> list[EventBase]:
        seq, ts = self.stamp()
        return self.send(
            Cancel(
                seq=seq,
                ts=ts,
                session=session,
                cl_ord_id=ClOrdId(cl) if cl is not None else self.next_cl(),
                orig_cl_ord_id=None if orig is None else ClOrdId(orig),
                order_id=None if order_id is None else OrderId(order_id),
            )
        )

    def replace(
        self,
        orig: str | None,
        qty: int,
        px: int | None = None,
        *,
        order_id: int | None = None,
        cl: str | None = None,
        side: Side | None = None,
        display_qty: int | None = None,
        session: SessionKey = S1,
        stop_px: int | None = None,
    ) -> list[EventBase]:
        seq, ts = self.stamp()
        return self.send(
            CancelReplace(
                seq=seq,
                ts=ts,
                session=session,
                cl_ord_id=ClOrdId(cl) if cl is not None else self.next_cl(),
                qty=Qty(qty),
                orig_cl_ord_id=None if orig is None else ClOrdId(orig),
                order_id=None if order_id is None else OrderId(order_id),
                px=None if px is None else Px(px),
                side=side,
                display_qty=None if display_qty is None else Qty(display_qty),
                stop_px=None if stop_px is None else Px(stop_px),
            )
        )

    def mass_cancel(
        self,
        *,
        scope_session: SessionKey | None = None,
        account: Account | None = None,
        symbol: str | None = None,
        session: SessionKey = S1,
        cl: str | None = None,
        order_id: OrderId | None = None,
        request_id: int = 0,
    ) -> list[EventBase]:
        seq, ts = self.stamp()
        return self.send(
            MassCancel(
                seq=seq,
                ts=ts,
                session=session,
                cl_ord_id=ClOrdId(cl) if cl is not None else self.next_cl(),
                scope_session=scope_session,
                account=account,
                symbol=None if symbol is None else Symbol(symbol),
                order_id=order_id,
                request_id=request_id,
            )
        )

    def halt(self, symbol: str = SYM, reason: str = "") -> list[EventBase]:
        seq, ts = self.stamp()
        return self.send(Halt(seq=seq, ts=ts, symbol=Symbol(symbol), reason=reason))

    def resume(self, symbol: str = SYM) -> list[EventBase]:
        seq, ts = self.stamp()
        return self.send(Resume(seq=seq, ts=ts, symbol=Symbol(symbol)))

    def end_of_day(self) -> list[EventBase]:
        seq, ts = self.stamp()
        return self.send(EndOfDay(seq=seq, ts=ts))

    # --- queries --------------------------------------------------------------------------

    def oid(self, cl: str, session: SessionKey = S1) -> OrderId:
        """The order id the engine gave the order accepted (or replaced) under `cl`."""
        return self._ids[(session, ClOrdId(cl))]

    def depth(self, side: Side, symbol: str = SYM) -> list[tuple[int, int, int]]:
        return [(int(px), int(q), n) for px, q, n in self.engine.depth(Symbol(symbol), side)]

    def bids(self, symbol: str = SYM) -> list[tuple[int, int, int]]:
        return self.depth(Side.BUY, symbol)

    def asks(self, symbol: str = SYM) -> list[tuple[int, int, int]]:
        return self.depth(Side.SELL, symbol)

    def queue(self, side: Side, symbol: str = SYM) -> list[str]:
        """ClOrdIDs of the resting orders of one side, in priority order."""
        return [str(o.cl_ord_id) for o in self.engine.book_orders(Symbol(symbol), side)]

    def is_live(self, cl: str, session: SessionKey = S1) -> bool:
        return self.engine.order(self.oid(cl, session)) is not None


# --- event helpers --------------------------------------------------------------------------


def of(events: Sequence[EventBase], cls: type[E]) -> list[E]:
    return [ev for ev in events if isinstance(ev, cls)]


def one(events: Sequence[EventBase], cls: type[E]) -> E:
    found = of(events, cls)
    assert len(found) == 1, f"expected one {cls.__name__}, got {kinds(events)}"
    return found[0]


def kinds(events: Sequence[EventBase]) -> list[str]:
    return [type(ev).__name__ for ev in events]


def fills_of(events: Sequence[EventBase], order_id: int) -> list[tuple[int, int]]:
    """(px, qty) of every execution of one order, in event order."""
    return [(int(ev.px), int(ev.qty)) for ev in of(events, Execution) if ev.order_id == order_id]


def assert_not_crossed(h: Harness, symbol: str = SYM) -> None:
    bids, asks = h.bids(symbol), h.asks(symbol)
    if bids and asks:
        assert bids[0][0] < asks[0][0], f"crossed book: bid {bids[0]} ask {asks[0]}"


@pytest.fixture
def h() -> Harness:
    return Harness()
