"""The multi-symbol engine: one entry point, `process`, for live traffic and replay.

Commands are routed to per-symbol books; events come back in the order they were
decided. Within one command that order is: the acknowledgement (Accepted, Replaced,
...), then for each trade the resting side's execution, the aggressor's execution, the
public Trade and the resulting level change, then what happens to the remainder (rest
or expire), then peg repricing caused by the command.
"""

import hashlib
import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, fields, is_dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

import msgspec

from nyquestro.domain.commands import (
    BustTrade,
    Cancel,
    CancelReplace,
    Command,
    Configure,
    ControlSession,
    CorrectTrade,
    EndOfDay,
    ExpireDue,
    Halt,
    KillSwitch,
    MassCancel,
    NewOrder,
    Resume,
    SetPhase,
)
from nyquestro.domain.enums import OrdType, PegType, Side, TimeInForce, TradingPhase
from nyquestro.domain.errors import CrossedBook, SequenceRegression
from nyquestro.domain.events import (
    Accepted,
    CancelRejected,
    Configured,
    EventBase,
    Halted,
    KillSwitchSet,
    MassCancelled,
    OperatorRejected,
    PhaseChanged,
    Rejected,
    Replaced,
    Resumed,
    SessionControlled,
    Trade,
    Triggered,
)
from nyquestro.domain.ids import (
    Account,
    ClOrdId,
    OrderId,
    Px,
    Qty,
    SessionKey,
    Symbol,
    TradeId,
    Ts,
)
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.pickling import FrozenRecord
from nyquestro.domain.reasons import (
    CancelReason,
    CancelRequestKind,
    ExpireReason,
    RejectReason,
)
from nyquestro.domain.risk import (
    DEFAULT_VAR_WINDOW,
    UNLIMITED_QTY,
    AccountRisk,
    RiskCheck,
    SessionRisk,
)
from nyquestro.engine.auction import equilibrium, indicative, uncross
from nyquestro.engine.book import OrderBook
from nyquestro.engine.context import Context
from nyquestro.engine.holdings import AccountHoldings
from nyquestro.engine.matching import cancel, execute, expire, expire_resting
from nyquestro.engine.monitor import AccountMonitor, RollingVariance, Threshold
from nyquestro.engine.order import LiveOrder
from nyquestro.engine.pegs import peg_price, references, reprice
from nyquestro.engine.positions import Positions, check_position, unrealised
from nyquestro.engine.risk import Rules, check_band, check_notional
from nyquestro.engine.trades import TradeLog, amend
from nyquestro.engine.validation import (
    Problem,
    check_display,
    check_new_order,
    check_px_for,
    check_qty,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderView:
    """A read-only copy of a live order, for queries (order status, tests, tooling)."""

    order_id: OrderId
    session: SessionKey
    account: Account
    cl_ord_id: ClOrdId
    symbol: Symbol
    side: Side
    ord_type: OrdType
    tif: TimeInForce
    px: Px | None
    qty: Qty
    cum_qty: Qty
    leaves_qty: Qty
    visible_qty: Qty
    display_qty: Qty | None
    peg: PegType | None
    stop_px: Px | None
    expire_ts: Ts | None

    @classmethod
    def of(cls, order: LiveOrder) -> "OrderView":
        return cls(
            order_id=order.order_id,
            session=order.session,
            account=order.account,
            cl_ord_id=order.cl_ord_id,
            symbol=order.symbol,
            side=order.side,
            ord_type=order.ord_type,
            tif=order.tif,
            px=order.px,
            qty=Qty(order.qty),
            cum_qty=Qty(order.cum_qty),
            leaves_qty=Qty(order.leaves_qty),
            visible_qty=Qty(order.visible_qty),
            display_qty=order.display_qty,
            peg=order.peg,
            stop_px=order.stop_px,
            expire_ts=None if order.expire_ts is None else Ts(order.expire_ts),
        )


STATE_SCHEMA = 5
"""Version of what `EngineState` holds, and of how `state_hash` reads it; snapshots of
another schema are not loaded. 2: the monitors' windows hold integer samples (PnL in units
of the finest tick). 3: the state hash takes orders and ClOrdIDs as MessagePack. 5: orders
have a stop price and an expire time, and books hold the stop orders not yet triggered."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineState(FrozenRecord):
    """Everything that decides the engine's future events, for a snapshot.

    It shares the engine's own objects (books with their FIFO queues, live orders, the
    ClOrdID maps) rather than copying them: serialise it before the next command.
    """

    books: dict[Symbol, OrderBook]
    live: dict[int, LiveOrder]
    next_order_id: int
    next_trade_id: int
    cl_ord_ids: dict[SessionKey, dict[ClOrdId, int]]
    last_seq: int
    settings: "Settings"
    positions: Positions
    kills: dict[tuple[str, str], str]
    last_request_id: int
    price_windows: dict[Symbol, RollingVariance]
    pnl_windows: dict[Account, RollingVariance]
    trades: TradeLog


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings(FrozenRecord):
    """What the latest Configure set (the engine's instruments before the first)."""

    instruments: dict[Symbol, Instrument]
    accounts: dict[Account, AccountRisk]
    sessions: dict[SessionKey, SessionRisk]
    var_window: int = DEFAULT_VAR_WINDOW


class Engine:
    """All book state of the venue. Single writer: see the package docstring."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self._settings = Settings(
            instruments={inst.symbol: inst for inst in instruments}, accounts={}, sessions={}
        )
        self._instruments = self._settings.instruments
        self._books = {sym: OrderBook(sym) for sym in sorted(self._instruments)}
        self._ctx = Context()
        self._cl_ord_ids: dict[SessionKey, dict[ClOrdId, int]] = {}
        """Every ClOrdID a session has had accepted, mapped to its order (dedupe + lookup)."""
        self._last_seq = 0
        self._kills: dict[tuple[str, str], str] = {}
        """Engaged kill switches: ("account"|"session"|"venue", name) -> reason."""
        self._last_request_id = 0
        self._positions = Positions()
        self._rules: dict[SessionKey, dict[Account, dict[Symbol, Rules]]] = {}
        """Effective limits by session, account and symbol, with overrides: a cache."""
        self._base_rules: dict[Symbol, Rules] = {}
        """Each instrument's own limits, for orders no override applies to."""
        self._price_windows: dict[Symbol, RollingVariance] = {}
        self._pnl_windows: dict[Account, RollingVariance] = {}
        # Tick sizes never change while running (Configure refuses it), so neither do these.
        self._pnl_unit = _pnl_unit(self._instruments.values())
        """PnL samples count units of 1/_pnl_unit of a price unit: every tick size is a
        whole number of them (the lcm of the tick sizes' denominators)."""
        self._ticks_in_units = {
            sym: int(Fraction(inst.tick_size) * self._pnl_unit)
            for sym, inst in self._instruments.items()
        }
        self._breaker_limits: dict[Symbol, Threshold] = {}
        """max_price_variance per symbol, in ticks² (what the price windows hold)."""
        self._var_monitors: list[AccountMonitor] = []
        """One per PnL window, in the windows' order (the order accounts trip in), with
        max_pnl_variance in PnL units²."""
        self._holdings: dict[Account, AccountHoldings] = {}
        """Per account with limits or a monitor: its positions, held directly."""
        self._expiries: list[tuple[int, int]] = []
        """(expire time, order id) of live GTD orders, a heap: derived from the live
        orders (a restore rebuilds it); entries of orders gone since are skipped."""
        self._derive_limits()

    # --- the one entry point ------------------------------------------------------------

    def process(self, cmd: Command) -> list[EventBase]:
        """Apply one command; return the events it caused, in decision order."""
        if cmd.seq <= self._last_seq:
            raise SequenceRegression(f"command seq {cmd.seq} after {self._last_seq}")
        self._last_seq = cmd.seq
        ctx = self._ctx
        ctx.seq = cmd.seq
        ctx.ts = cmd.ts
        out: list[EventBase] = []
        ctx.out = out
        trades_before = ctx.next_trade_id
        expiries = self._expiries
        if expiries and expiries[0][0] <= cmd.ts:
            self._expire_due(cmd.ts)
        # isinstance in order of frequency, not a table of bound methods: mypyc calls a
        # method natively only when it is named.
        if isinstance(cmd, NewOrder):
            self._new_order(cmd)
        elif isinstance(cmd, Cancel):
            self._cancel(cmd)
        elif isinstance(cmd, CancelReplace):
            self._replace(cmd)
        elif isinstance(cmd, MassCancel):
            self._mass_cancel(cmd)
        elif isinstance(cmd, Halt):
            self._halt(cmd)
        elif isinstance(cmd, Resume):
            self._resume(cmd)
        elif isinstance(cmd, EndOfDay):
            self._end_of_day(cmd)
        elif isinstance(cmd, Configure):
            self._configure(cmd)
        elif isinstance(cmd, KillSwitch):
            self._kill_switch(cmd)
        elif isinstance(cmd, BustTrade):
            self._amend_trade(cmd, cmd.trade_id, None, 0, cmd.reason, cmd.request_id)
        elif isinstance(cmd, CorrectTrade):
            self._amend_trade(cmd, cmd.trade_id, cmd.px, cmd.qty, cmd.reason, cmd.request_id)
        elif isinstance(cmd, ExpireDue):
            pass  # what was due at its ts has expired above
        elif isinstance(cmd, SetPhase):
            self._set_phase(cmd)
        elif isinstance(cmd, ControlSession):
            self._last_request_id = max(self._last_request_id, cmd.request_id)
            out.append(SessionControlled(seq=cmd.seq, ts=cmd.ts, session=cmd.session,
                                         action=cmd.action, reason=cmd.reason))  # fmt: skip
        else:
            raise TypeError(f"not a command the engine knows: {type(cmd).__name__}")
        self._positions.apply(out)
        # The monitors sample trades only: a command that traded nothing leaves them be.
        if ctx.next_trade_id != trades_before and (self._price_windows or self._pnl_windows):
            self._monitor(out)
        return out

    # --- queries (read-only) -------------------------------------------------------------

    @property
    def instruments(self) -> dict[Symbol, Instrument]:
        return dict(self._instruments)

    @property
    def last_seq(self) -> int:
        return self._last_seq

    def order(self, order_id: OrderId) -> OrderView | None:
        order = self._ctx.live.get(order_id)
        return None if order is None else OrderView.of(order)

    def live_orders(self) -> list[OrderView]:
        return [OrderView.of(order) for order in self._ctx.live.values()]

    def book_orders(self, symbol: Symbol, side: Side) -> list[OrderView]:
        """Resting orders of one side in priority order (best price, then oldest)."""
        book_side = self._books[symbol].side(side)
        return [OrderView.of(o) for level in book_side.best_first() for o in level.orders.values()]

    def depth(self, symbol: Symbol, side: Side) -> list[tuple[Px, Qty, int]]:
        """Visible (price, quantity, order count) per level, best first."""
        book_side = self._books[symbol].side(side)
        return [(Px(lv.px), Qty(lv.qty), len(lv.orders)) for lv in book_side.best_first()]

    def next_expiry(self) -> Ts | None:
        """When the earliest live GTD order expires (the runtime sends ExpireDue then).

        It drops the entries of orders gone since from the expiry heap, so like every
        engine call it belongs to the single writer (the runtime's `read`)."""
        expiries = self._expiries
        live = self._ctx.live
        while expiries:
            expire_ts, order_id = expiries[0]
            order = live.get(order_id)
            if order is not None and order.expire_ts == expire_ts:
                return Ts(expire_ts)
            heapq.heappop(expiries)  # the order is gone: only reads change, never events
        return None

    def stop_orders(self, symbol: Symbol) -> list[OrderView]:
        """Stop orders of `symbol` not yet triggered, in arrival order."""
        return [OrderView.of(o) for o in self._books[symbol].stops.values()]

    def latest_trade_of(self, order_id: OrderId) -> TradeId | None:
        """The order's latest trade that can still be busted or corrected."""
        found = self._ctx.trades.latest_of(order_id)
        return None if found is None else TradeId(found)

    def trade(self, trade_id: TradeId) -> tuple[Symbol, Px, Qty] | None:
        """(symbol, price, quantity) of a trade that can still be busted or corrected."""
        ctx = self._ctx
        kept = ctx.trades.get(trade_id)
        if kept is None:
            return None
        return Symbol(ctx.trades.symbol(kept, ctx.live)), Px(kept[2]), Qty(kept[3])

    def is_halted(self, symbol: Symbol) -> bool:
        return self._books[symbol].halted

    def phase(self, symbol: Symbol) -> TradingPhase:
        return self._books[symbol].phase

    def at_close_orders(self, symbol: Symbol) -> list[OrderView]:
        """ATC orders entered during continuous trading, held for the closing auction."""
        return [OrderView.of(o) for o in self._books[symbol].at_close.values()]

    def auction_market_orders(self, symbol: Symbol) -> list[OrderView]:
        """Market orders entered during the current call, waiting for its uncross."""
        return [OrderView.of(o) for o in self._books[symbol].auction_market.values()]

    def last_trade_px(self, symbol: Symbol) -> Px | None:
        px = self._books[symbol].last_px
        return None if px is None else Px(px)

    def state_hash(self) -> str:
        """SHA-256 over everything that decides future events; equal hashes, equal futures."""
        digest = hashlib.sha256()
        ctx = self._ctx
        digest.update(repr((self._last_seq, ctx.next_order_id, ctx.next_trade_id)).encode())
        for sym, book in self._books.items():
            digest.update(
                repr((sym, book.halted, book.last_px, book.peg_refs, str(book.phase),
                      book.indicative, list(book.auction_market), list(book.at_close))).encode()
            )  # fmt: skip
            for book_side in (book.bids, book.asks):
                for level in book_side.best_first():
                    for o in level.orders.values():
                        digest.update(_PACK(_order_state(o)))
            digest.update(b"stops")
            for o in book.stops.values():
                digest.update(_PACK(_order_state(o)))
        for session in sorted(self._cl_ord_ids):
            digest.update(_PACK((session, sorted(self._cl_ord_ids[session].items()))))
        settings = self._settings
        for table in (settings.instruments, settings.accounts, settings.sessions):
            digest.update(repr(sorted(table.items())).encode())
        digest.update(repr((sorted(self._kills.items()), self._last_request_id)).encode())
        for key in sorted(self._positions.exposures):
            digest.update(repr((key, self._positions.exposures[key])).encode())
        for windows in (self._price_windows, self._pnl_windows):
            digest.update(repr((settings.var_window, sorted(windows.items()))).encode())
        digest.update(_PACK(ctx.trades.state()))
        return digest.hexdigest()

    # --- snapshots -------------------------------------------------------------------------

    def export_state(self) -> EngineState:
        ctx = self._ctx
        return EngineState(
            books=self._books,
            live=ctx.live,
            next_order_id=ctx.next_order_id,
            next_trade_id=ctx.next_trade_id,
            cl_ord_ids=self._cl_ord_ids,
            last_seq=self._last_seq,
            settings=self._settings,
            positions=self._positions,
            kills=self._kills,
            last_request_id=self._last_request_id,
            price_windows=self._price_windows,
            pnl_windows=self._pnl_windows,
            trades=ctx.trades,
        )

    @classmethod
    def restored(cls, state: EngineState) -> "Engine":
        """An engine that continues exactly where the one that exported `state` stopped,
        with the settings it had (the venue journals a Configure if its config differs)."""
        engine = cls(state.settings.instruments.values())
        engine._books = {sym: state.books[sym] for sym in sorted(state.books)}
        ctx = engine._ctx
        ctx.live = state.live
        ctx.next_order_id = state.next_order_id
        ctx.next_trade_id = state.next_trade_id
        ctx.trades = state.trades
        engine._cl_ord_ids = state.cl_ord_ids
        engine._last_seq = state.last_seq
        engine._settings = state.settings
        engine._instruments = state.settings.instruments
        engine._positions = state.positions
        engine._kills = state.kills
        engine._last_request_id = state.last_request_id
        engine._price_windows = state.price_windows
        engine._pnl_windows = state.pnl_windows
        engine._expiries = [
            (o.expire_ts, o.order_id) for o in state.live.values() if o.expire_ts is not None
        ]
        heapq.heapify(engine._expiries)
        engine._derive_limits()
        return engine

    # --- command handlers ----------------------------------------------------------------

    def _new_order(self, cmd: NewOrder) -> None:
        ctx = self._ctx
        inst = self._instruments.get(cmd.symbol)
        if inst is None:
            self._reject(cmd, RejectReason.UNKNOWN_SYMBOL, f"unknown symbol {cmd.symbol!r}")
            return
        ids = self._cl_ord_ids.get(cmd.session)
        if ids is None:
            ids = self._cl_ord_ids[cmd.session] = {}
        if cmd.cl_ord_id in ids:
            text = f"cl_ord_id {cmd.cl_ord_id!r} was already used in this session"
            self._reject(cmd, RejectReason.DUPLICATE_CL_ORD_ID, text)
            return
        killed = self._killed(cmd.account, cmd.session)
        if killed is not None:
            self._reject(cmd, RejectReason.KILL_SWITCH, killed)
            return
        book = self._books[cmd.symbol]
        if book.halted:
            self._reject(cmd, RejectReason.SYMBOL_HALTED, f"{cmd.symbol} is halted")
            return
        phase = book.phase
        if (
            phase is not TradingPhase.CONTINUOUS
            or cmd.tif is TimeInForce.OPG
            or (cmd.tif is TimeInForce.ATC)
        ):
            problem = _phase_problem(phase, cmd)
            if problem is not None:
                self._reject(cmd, *problem)
                return
        rules = self._rules_for(inst, cmd.account, cmd.session)
        problem = check_new_order(rules.inst, cmd)
        if problem is not None:
            self._reject(cmd, *problem)
            return
        px = cmd.px
        if cmd.peg is not None:
            px = peg_price(references(book), cmd.peg, cmd.side, cmd.peg_offset)
            if px is None:
                text = f"no {cmd.peg} peg reference price in {cmd.symbol}"
                self._reject(cmd, RejectReason.NO_PEG_REFERENCE, text)
                return
        elif (
            cmd.ord_type is OrdType.MARKET
            and phase is TradingPhase.CONTINUOUS
            and not book.side(cmd.side.opposite).levels
        ):
            text = f"market order with no {cmd.side.opposite.name.lower()} orders in {cmd.symbol}"
            self._reject(cmd, RejectReason.NO_LIQUIDITY, text)
            return
        # Pegged orders follow the market, so only limit prices meet the band; orders
        # without a price of their own are valued at the reference for the notional.
        reference, reference_name = _risk_reference(rules.inst, book)
        problem = None
        if cmd.px is not None and rules.band_on:
            problem = check_band(rules, cmd.px, reference, reference_name)
        # A stop (market) order is valued at its stop price: it trades near it, if ever.
        value_px = px if px is not None else cmd.stop_px if cmd.stop_px is not None else reference
        if problem is None and rules.notional_on:
            problem = check_notional(rules, value_px, cmd.qty)
        if value_px is None:  # a market order before any trade: value it at the touch
            value_px = book.side(cmd.side.opposite).best_px()
        problem = problem or self._exposure_problem(
            rules, cmd.account, cmd.symbol, cmd.side, cmd.qty, cmd.qty * (value_px or 0)
        )
        if problem is not None:
            self._reject(cmd, *problem)
            return
        order_id = ctx.next_order_id
        ctx.next_order_id = order_id + 1
        order = LiveOrder(
            order_id=OrderId(order_id),
            session=cmd.session,
            account=cmd.account,
            cl_ord_id=cmd.cl_ord_id,
            symbol=cmd.symbol,
            side=cmd.side,
            ord_type=cmd.ord_type,
            tif=cmd.tif,
            px=px,
            qty=cmd.qty,
            display_qty=cmd.display_qty,
            peg=cmd.peg,
            peg_offset=cmd.peg_offset,
            smp_key=f"id:{cmd.smp_id}" if cmd.smp_id is not None else f"acct:{cmd.account}",
            smp_policy=cmd.smp_policy or inst.smp_policy,
            stop_px=cmd.stop_px,
            expire_ts=cmd.expire_ts,
        )
        ids[cmd.cl_ord_id] = order_id
        ctx.live[order_id] = order
        if cmd.peg is not None:
            book.pegs[order_id] = order
        ctx.out.append(
            Accepted(
                seq=cmd.seq,
                ts=cmd.ts,
                order_id=order.order_id,
                session=cmd.session,
                account=cmd.account,
                cl_ord_id=cmd.cl_ord_id,
                symbol=cmd.symbol,
                side=cmd.side,
                qty=cmd.qty,
                ord_type=cmd.ord_type,
                px=px,
                tif=cmd.tif,
                display_qty=cmd.display_qty,
                peg=cmd.peg,
                stop_px=cmd.stop_px,
                expire_ts=cmd.expire_ts,
            )
        )
        if cmd.expire_ts is not None:
            heapq.heappush(self._expiries, (cmd.expire_ts, order_id))
        if cmd.stop_px is not None:
            # It waits for the last trade price; `_settle` triggers it at once if the
            # last trade has reached its stop price already.
            book.stops[order_id] = order
        elif cmd.tif is TimeInForce.ATC and phase is TradingPhase.CONTINUOUS:
            book.at_close[order_id] = order  # until the closing auction's call
        else:
            self._enter(book, order)
        self._settle(book)

    def _cancel(self, cmd: Cancel) -> None:
        order = self._target(cmd, CancelRequestKind.CANCEL)
        if order is None:
            return
        book = self._books[order.symbol]
        self._cl_ord_ids[cmd.session][cmd.cl_ord_id] = order.order_id
        cancel(self._ctx, book, order, CancelReason.REQUESTED, cmd.cl_ord_id, order.cl_ord_id)
        self._settle(book)

    def _replace(self, cmd: CancelReplace) -> None:
        order = self._target(cmd, CancelRequestKind.REPLACE)
        if order is None:
            return
        inst = self._instruments[order.symbol]
        book = self._books[order.symbol]
        problem = self._replace_problem(cmd, order, inst, book)
        if problem is not None:
            self._cancel_reject(cmd, CancelRequestKind.REPLACE, *problem, order_id=order.order_id)
            return
        ctx = self._ctx
        orig = order.cl_ord_id
        self._cl_ord_ids[cmd.session][cmd.cl_ord_id] = order.order_id
        order.cl_ord_id = cmd.cl_ord_id
        if order.order_id in book.stops or order.order_id in book.at_close:
            self._replace_held(cmd, order, book, orig)
            return
        if cmd.qty <= order.cum_qty:
            reason = CancelReason.REPLACED_AT_OR_BELOW_FILLED
            cancel(ctx, book, order, reason, cmd.cl_ord_id, orig)
            self._settle(book)
            return
        px = order.px if cmd.px is None else cmd.px
        display = order.display_qty if cmd.display_qty is None else cmd.display_qty
        keep = px == order.px and cmd.qty <= order.qty and display == order.display_qty
        leaves = cmd.qty - order.cum_qty
        if keep:
            order.qty = cmd.qty
            order.leaves_qty = leaves
            ctx.out.append(self._replaced(order, orig, True))
            if order.visible_qty > leaves:
                ctx.out.append(book.reduce(order, order.visible_qty - leaves, ctx.seq, ctx.ts))
        else:
            removed = book.remove(order, ctx.seq, ctx.ts)
            order.qty = cmd.qty
            order.leaves_qty = leaves
            order.px = px
            order.display_qty = display
            ctx.out.append(self._replaced(order, orig, False))
            ctx.out.append(removed)
            self._enter(book, order)
        self._settle(book)

    def _replace_held(
        self, cmd: CancelReplace, order: LiveOrder, book: OrderBook, orig: ClOrdId
    ) -> None:
        """Replace an order held off the book (a stop not triggered yet, an ATC order
        before the close): it stays held, its arrival order kept; a stop triggers at once
        if its new stop price has been reached already."""
        order.qty = cmd.qty
        order.leaves_qty = cmd.qty - order.cum_qty
        if cmd.px is not None:
            order.px = cmd.px
        if cmd.display_qty is not None:
            order.display_qty = cmd.display_qty
        if cmd.stop_px is not None:
            order.stop_px = cmd.stop_px
        order.visible_qty = order.next_slice()
        self._ctx.out.append(self._replaced(order, orig, True))
        self._settle(book)

    def _replace_problem(
        self, cmd: CancelReplace, order: LiveOrder, inst: Instrument, book: OrderBook
    ) -> Problem | None:
        killed = self._killed(order.account, order.session)
        if killed is not None:
            return RejectReason.KILL_SWITCH, killed
        if book.halted:
            return (
                RejectReason.SYMBOL_HALTED,
                f"{order.symbol} is halted; only cancels are accepted",
            )
        phase = book.phase
        # Enum properties are Python calls even compiled: the common phase by identity.
        if phase is not TradingPhase.CONTINUOUS and not phase.takes_orders:
            return _closed(book)
        if order.order_id in book.auction_market:
            text = "a market order of the call cannot be replaced: cancel it and enter another"
            return RejectReason.NOT_IN_THIS_PHASE, text
        if cmd.side is not None and cmd.side is not order.side:
            return RejectReason.REPLACE_CHANGES_SIDE, "a replace cannot change the side"
        rules = self._rules_for(inst, order.account, order.session)
        problem = check_qty(rules.inst, cmd.qty) or check_px_for(order.ord_type, cmd.px)
        if problem is None and cmd.stop_px is not None:
            problem = _stop_px_problem(order, cmd.stop_px, book)
        if problem is not None:
            return problem
        # Risk looks at what the request changes: a new price must be inside the band
        # (one left standing by a moving market may stay), and more money at risk must
        # stay within the notional and exposure limits.
        reference, reference_name = _risk_reference(rules.inst, book)
        if cmd.px is not None and cmd.px != order.px and rules.band_on:
            problem = check_band(rules, cmd.px, reference, reference_name)
            if problem is not None:
                return problem
        px = order.px if cmd.px is None else cmd.px
        grows = cmd.qty > order.qty or px != order.px
        if grows and rules.notional_on:
            problem = check_notional(rules, reference if px is None else px, cmd.qty)
            if problem is not None:
                return problem
        if grows:
            added = (cmd.qty - order.cum_qty) * (px or 0) - order.leaves_qty * (order.px or 0)
            problem = self._exposure_problem(
                rules, order.account, order.symbol, order.side, max(0, cmd.qty - order.qty),
                added,
            )  # fmt: skip
            if problem is not None:
                return problem
        # A kept display size may exceed a reduced quantity (the order then shows all it
        # has); only a display size the request itself names is checked.
        return check_display(inst, cmd.display_qty, cmd.qty)

    def _replaced(self, order: LiveOrder, orig: ClOrdId, priority_kept: bool) -> Replaced:
        return Replaced(
            seq=self._ctx.seq,
            ts=self._ctx.ts,
            order_id=order.order_id,
            session=order.session,
            cl_ord_id=order.cl_ord_id,
            orig_cl_ord_id=orig,
            symbol=order.symbol,
            side=order.side,
            px=order.px,
            qty=Qty(order.qty),
            leaves_qty=Qty(order.leaves_qty),
            cum_qty=Qty(order.cum_qty),
            display_qty=order.display_qty,
            priority_kept=priority_kept,
            stop_px=order.stop_px,
        )

    def _mass_cancel(self, cmd: MassCancel) -> None:
        self._last_request_id = max(self._last_request_id, cmd.request_id)
        ctx = self._ctx
        victims = [
            o
            for o in ctx.live.values()
            if (cmd.order_id is None or o.order_id == cmd.order_id)
            and (cmd.scope_session is None or o.session == cmd.scope_session)
            and (cmd.account is None or o.account == cmd.account)
            and (cmd.symbol is None or o.symbol == cmd.symbol)
        ]
        for order in victims:
            book = self._books[order.symbol]
            cancel(ctx, book, order, CancelReason.MASS_CANCEL, order.cl_ord_id, None)
        ctx.out.append(
            MassCancelled(
                seq=cmd.seq,
                ts=cmd.ts,
                session=cmd.session,
                cl_ord_id=cmd.cl_ord_id,
                cancelled_count=len(victims),
            )
        )
        for symbol in sorted({o.symbol for o in victims}):
            self._settle(self._books[symbol])

    def _halt(self, cmd: Halt) -> None:
        self._last_request_id = max(self._last_request_id, cmd.request_id)
        book = self._operator_book(cmd.symbol, "halt")
        if book is not None:
            self._halt_book(book, cmd.reason)

    def _halt_book(self, book: OrderBook, reason: str) -> None:
        book.halted = True
        self._ctx.out.append(
            Halted(seq=self._ctx.seq, ts=self._ctx.ts, symbol=book.symbol, reason=reason)
        )

    def _resume(self, cmd: Resume) -> None:
        self._last_request_id = max(self._last_request_id, cmd.request_id)
        book = self._operator_book(cmd.symbol, "resume")
        if book is not None:
            book.halted = False
            self._ctx.out.append(Resumed(seq=cmd.seq, ts=cmd.ts, symbol=cmd.symbol))
            book.peg_refs = ()  # references may have moved while repricing was suspended
            window = self._price_windows.get(cmd.symbol)
            if window is not None:  # the prices that tripped the breaker must not again
                window.clear()
            self._settle(book)

    # --- settings -------------------------------------------------------------------------

    def _configure(self, cmd: Configure) -> None:
        self._last_request_id = max(self._last_request_id, cmd.request_id)
        old = self._settings
        new = Settings(
            instruments={inst.symbol: inst for inst in cmd.instruments},
            accounts={risk.account: risk for risk in cmd.accounts},
            sessions={risk.session: risk for risk in cmd.sessions},
            var_window=cmd.var_window,
        )
        refusal = _not_live(old.instruments, new.instruments)
        if refusal is None and cmd.var_window < 2:
            refusal = f"var_window must be at least 2, got {cmd.var_window}"
        if refusal is not None:
            self._ctx.out.append(
                OperatorRejected(seq=cmd.seq, ts=cmd.ts, command="configure",
                                 reason=RejectReason.NOT_LIVE_SETTING, text=refusal)
            )  # fmt: skip
            return
        tables: list[tuple[str, dict[Any, Any], dict[Any, Any], Any]] = [
            ("instrument", old.instruments, new.instruments, None),
            ("account", old.accounts, new.accounts, AccountRisk),
            ("session", old.sessions, new.sessions, SessionRisk),
        ]
        changes = [
            f"{kind} {name}: {change}"
            for kind, before, after, default in tables
            for name in sorted(before.keys() | after.keys())
            if (change := _change(before.get(name), after.get(name), name, default))
        ]
        if old.var_window != new.var_window:
            changes.append(f"var_window: {old.var_window} -> {new.var_window}")
        self._settings = new
        self._instruments = new.instruments
        self._rules.clear()
        self._price_windows = _windows(
            self._price_windows, new.var_window,
            [s for s, inst in new.instruments.items() if inst.max_price_variance is not None],
        )  # fmt: skip
        self._pnl_windows = _windows(
            self._pnl_windows, new.var_window,
            [a for a, risk in new.accounts.items() if risk.max_pnl_variance is not None],
        )  # fmt: skip
        self._derive_limits()
        self._ctx.out.append(Configured(seq=cmd.seq, ts=cmd.ts, changes=tuple(changes)))

    def _derive_limits(self) -> None:
        """The limits as the integers the checks compare (see `Rules`), and the monitors'
        thresholds in the units their windows hold."""
        settings = self._settings
        self._base_rules = {
            sym: Rules(inst, _NOTHING_OFF, self._ticks_in_units[sym])
            for sym, inst in settings.instruments.items()
        }
        self._breaker_limits = {
            sym: Threshold(Fraction(inst.max_price_variance) / Fraction(inst.tick_size) ** 2)
            for sym, inst in settings.instruments.items()
            if inst.max_price_variance is not None
        }
        self._var_monitors = []
        for account, window in self._pnl_windows.items():
            limit = settings.accounts[account].max_pnl_variance
            assert limit is not None  # windows exist only for accounts with one
            threshold = Threshold(Fraction(limit) * self._pnl_unit * self._pnl_unit)
            monitor = AccountMonitor(self._account_holdings(account), window, threshold)
            self._var_monitors.append(monitor)

    def _account_holdings(self, account: Account) -> AccountHoldings:
        holdings = self._holdings.get(account)
        if holdings is None:
            holdings = self._holdings[account] = AccountHoldings(account)
        return holdings

    def _rules_for(self, inst: Instrument, account: Account, session: SessionKey) -> Rules:
        settings = self._settings
        if not settings.accounts and not settings.sessions:
            return self._base_rules[inst.symbol]
        # Nested by name rather than keyed by a tuple: see Positions.exposure. Orders
        # without overrides are cached too: one miss costs less than asking every time.
        by_account = self._rules.get(session)
        if by_account is None:
            by_account = self._rules[session] = {}
        cached = by_account.get(account)
        if cached is None:
            cached = by_account[account] = {}
        rules = cached.get(inst.symbol)
        if rules is None:
            rules = cached[inst.symbol] = self._make_rules(inst, account, session)
        return rules

    def _make_rules(self, inst: Instrument, account: Account, session: SessionKey) -> Rules:
        """The instrument's own rules when no override applies, else new ones."""
        settings = self._settings
        account_risk = settings.accounts.get(account)
        session_risk = settings.sessions.get(session)
        if account_risk is None and session_risk is None:
            return self._base_rules[inst.symbol]
        limits = inst
        off: frozenset[RiskCheck] = _NOTHING_OFF
        if account_risk is not None:
            limits = account_risk.limits.over(limits)
        if session_risk is not None:
            limits, off = session_risk.limits.over(limits), session_risk.off
        if RiskCheck.MAX_QTY in off:
            limits = replace(limits, max_qty=UNLIMITED_QTY)
        return Rules(
            limits,
            off,
            self._ticks_in_units[inst.symbol],
            account_risk,
            None if account_risk is None else self._account_holdings(account),
            self._pnl_unit,
        )

    def _exposure_problem(
        self, rules: Rules, account: Account, symbol: Symbol, side: Side, extra_qty: int,
        added: int,
    ) -> Problem | None:  # fmt: skip
        """Account limits against an order that adds `extra_qty` open quantity and
        `added` ticks x quantity of open notional in `symbol`."""
        risk = rules.account
        if risk is None:
            return None
        if extra_qty and rules.position_on:
            exposure = rules.exposure
            if exposure is None:  # made here as before: an exposure is state (see Positions)
                exposure = rules.exposure = self._positions.exposure(account, symbol)
            problem = check_position(exposure, account, symbol, side, extra_qty, risk)
            if problem is not None:
                return problem
        gross = rules.gross
        if gross is None or added <= 0 or not rules.gross_on:
            return None
        holdings = rules.holdings
        assert holdings is not None  # Rules has them whenever it has account limits
        units = rules.units * added
        if holdings.follow(self._positions.by_account, self._books, self._ticks_in_units):
            units += holdings.gross_units()
        if gross.admits(units):
            return None
        adding = self._instruments[symbol].tick_size * added
        text = (
            f"order adds {adding} of notional in {symbol}: account {account}'s gross notional "
            f"could reach {self._gross_notional(account, symbol, added)} (positions at last "
            f"trade, open orders at their prices), above its max_gross_notional "
            f"{risk.max_gross_notional}"
        )
        return RejectReason.GROSS_NOTIONAL_LIMIT, text

    def _gross_notional(self, account: Account, symbol: Symbol, added: int) -> Decimal:
        """For the text of a reject: the figure AccountHoldings.gross_units sums, as a
        decimal in price units."""
        exposures = dict(self._positions.by_account.get(account, {}))
        total = self._instruments[symbol].tick_size * added
        for sym, e in exposures.items():
            last = self._books[sym].last_px or 0
            total += self._instruments[sym].tick_size * (abs(e.position) * last + e.open_notional)
        return total

    # --- kill switches and monitors -----------------------------------------------------------

    def _kill_switch(self, cmd: KillSwitch) -> None:
        self._last_request_id = max(self._last_request_id, cmd.request_id)
        self._set_kill(cmd.engage, cmd.account, cmd.session, cmd.reason)

    def _set_kill(
        self, engage: bool, account: Account | None, session: SessionKey | None, reason: str
    ) -> None:
        if account is not None:
            scope = ("account", str(account))
        elif session is not None:
            scope = ("session", str(session))
        else:
            scope = ("venue", "")
        ctx = self._ctx
        victims = []
        if engage:
            self._kills[scope] = reason
            victims = [
                o for o in ctx.live.values()
                if (account is None or o.account == account)
                and (session is None or o.session == session)
            ]  # fmt: skip
            for order in victims:
                cancel(ctx, self._books[order.symbol], order, CancelReason.KILL_SWITCH,
                       order.cl_ord_id, None)  # fmt: skip
        else:
            self._kills.pop(scope, None)
        ctx.out.append(
            KillSwitchSet(seq=ctx.seq, ts=ctx.ts, engaged=engage, account=account,
                          session=session, reason=reason, cancelled=len(victims))
        )  # fmt: skip
        for symbol in sorted({o.symbol for o in victims}):
            self._settle(self._books[symbol])

    def _monitor(self, out: list[EventBase]) -> None:
        """After a command: feed its trades to the circuit breakers and the VaR monitor,
        and trip those whose variance crossed their threshold."""
        traded: dict[Symbol, None] = {}
        for event in out:
            if type(event) is Trade:
                trade: Trade = event
                traded[trade.symbol] = None
                window = self._price_windows.get(trade.symbol)
                if window is not None:
                    window.add(trade.px)
        if not traded:
            return
        start = len(out)
        for symbol in traded:
            self._check_breaker(symbol)
        by_account = self._positions.by_account
        books = self._books
        units = self._ticks_in_units
        symbols = list(traded)
        for monitor in self._var_monitors:
            holdings = monitor.holdings
            if not holdings.follow(by_account, books, units) or not holdings.holds_any(symbols):
                continue
            window = monitor.window
            window.add(holdings.marked_pnl())
            if window.full and window.above(monitor.threshold):
                self._trip_var(holdings.account, window)
        self._positions.apply(out[start:])

    def _check_breaker(self, symbol: Symbol) -> None:
        window = self._price_windows.get(symbol)
        book = self._books[symbol]
        if window is None or not window.full or book.halted:
            return
        if window.above(self._breaker_limits[symbol]):
            inst = self._instruments[symbol]
            tick = Fraction(inst.tick_size)
            variance = window.variance() * tick * tick
            window.clear()
            self._halt_book(book, (
                f"circuit breaker: variance {_decimal(variance)} of the last {window.size} "
                f"trade prices is above the max_price_variance {inst.max_price_variance} "
                f"of {symbol}"
            ))  # fmt: skip

    def _trip_var(self, account: Account, window: RollingVariance) -> None:
        """Engage the account's kill switch (unless it is engaged already): the variance
        of its full window crossed its threshold."""
        if ("account", account) in self._kills:
            return
        limit = self._settings.accounts[account].max_pnl_variance
        variance = window.variance() / (self._pnl_unit * self._pnl_unit)
        window.clear()
        self._set_kill(True, account, None, (
            f"VaR monitor: variance {_decimal(variance)} of account {account}'s "
            f"marked-to-market PnL over the last {window.size} samples is above its "
            f"max_pnl_variance {limit}"
        ))  # fmt: skip

    def _killed(self, account: Account, session: SessionKey) -> str | None:
        """Why orders of this account and session are refused, or None."""
        kills = self._kills
        if not kills:
            return None
        for scope, name in (("venue", ""), ("account", account), ("session", session)):
            reason = kills.get((scope, name))
            if reason is not None:
                where = "the venue" if scope == "venue" else f"{scope} {name}"
                return f"kill switch engaged for {where}" + (f": {reason}" if reason else "")
        return None

    @property
    def last_request_id(self) -> int:
        """The last operator request carried out (see KillSwitch.request_id)."""
        return self._last_request_id

    def kill_switches(self) -> dict[tuple[str, str], str]:
        return dict(self._kills)

    def accounts(self) -> list[Account]:
        """Every account with a position, an open order or risk settings, by name."""
        return sorted(self._positions.by_account.keys() | self._settings.accounts.keys())

    @property
    def settings(self) -> Settings:
        return self._settings

    def exposure(self, account: Account, symbol: Symbol) -> tuple[int, int, int]:
        """(position, open buy quantity, open sell quantity) of an account in a symbol."""
        e = self._positions.exposures.get((account, symbol))
        return (0, 0, 0) if e is None else (e.position, e.open_buy, e.open_sell)

    def pnl(self, account: Account, symbol: Symbol) -> tuple[Decimal, Decimal]:
        """(realised, unrealised at the last trade) PnL of an account in a symbol, in
        price units (FIFO lots; see positions.py)."""
        e = self._positions.exposures.get((account, symbol))
        if e is None:
            return Decimal(0), Decimal(0)
        tick = self._instruments[symbol].tick_size
        return tick * e.realised, tick * unrealised(e, self._books[symbol].last_px)

    def _end_of_day(self, cmd: EndOfDay) -> None:
        ctx = self._ctx
        # OPG and ATC orders are day orders too: an auction of another day is not theirs.
        day_orders = [o for o in ctx.live.values() if o.tif is TimeInForce.DAY
                      or o.tif is TimeInForce.OPG or o.tif is TimeInForce.ATC]  # fmt: skip
        for order in day_orders:
            expire_resting(ctx, self._books[order.symbol], order, ExpireReason.END_OF_DAY)
        # ClOrdIDs are unique per trading day: a new day forgets those of finished orders
        # (and so bounds the dedupe maps), while live GTC orders keep theirs.
        for session, ids in self._cl_ord_ids.items():
            self._cl_ord_ids[session] = {c: o for c, o in ids.items() if o in ctx.live}
        # Busts and corrections are same-day business.
        ctx.trades = TradeLog(ctx.trades.window)
        for symbol in sorted({o.symbol for o in day_orders}):
            self._settle(self._books[symbol])

    def _expire_due(self, now: int) -> None:
        """Expire every live GTD order whose expire time is at or before `now`, earliest
        first (then by order id), and settle the books they leave."""
        ctx = self._ctx
        expiries = self._expiries
        touched: set[Symbol] = set()
        while expiries and expiries[0][0] <= now:
            expire_ts, order_id = heapq.heappop(expiries)
            order = ctx.live.get(order_id)
            if order is None or order.expire_ts != expire_ts:
                continue
            expire_resting(ctx, self._books[order.symbol], order, ExpireReason.EXPIRE_TIME)
            touched.add(order.symbol)
        for symbol in sorted(touched):
            self._settle(self._books[symbol])

    # --- busts and corrections ---------------------------------------------------------------

    def _amend_trade(
        self, cmd: Command, trade_id: TradeId, px: Px | None, qty: int, reason: str,
        request_id: int,
    ) -> None:  # fmt: skip
        """Bust (qty 0) or correct a trade the engine still keeps; see engine/trades.py."""
        self._last_request_id = max(self._last_request_id, request_id)
        ctx = self._ctx
        record = ctx.trades.get(trade_id)
        what = "bust" if px is None else "correct"
        problem: tuple[RejectReason, str] | None = None
        if record is None:
            problem = (
                RejectReason.UNKNOWN_TRADE,
                (
                    f"no trade {trade_id} to {what}: never made, already busted, or not among "
                    f"the last {ctx.trades.window} trades of the day"
                ),
            )
        elif px is not None and px <= 0:
            problem = RejectReason.INVALID_PRICE, f"a corrected price must be above 0, not {px}"
        elif px is not None and not 0 < qty <= record[3]:
            problem = (
                RejectReason.INVALID_QTY,
                (f"a corrected quantity must be 1 to the trade's {record[3]}, not {qty}"),
            )
        if problem is not None or record is None:
            reason_, text = problem or (RejectReason.UNKNOWN_TRADE, "")
            ctx.out.append(OperatorRejected(seq=cmd.seq, ts=cmd.ts, command=what,
                                            reason=reason_, text=text))  # fmt: skip
            return
        amend(cmd.seq, cmd.ts, trade_id, ctx.trades, record, record[2] if px is None else px,
              qty, reason, ctx.live, ctx.out)  # fmt: skip

    # --- helpers --------------------------------------------------------------------------

    def _enter(self, book: OrderBook, order: LiveOrder) -> None:
        """An accepted (or re-entered) order: matched in continuous trading; during a
        call it only rests (a market order waits off the levels for the uncross)."""
        phase = book.phase
        if phase is TradingPhase.CONTINUOUS or not phase.is_call:
            execute(self._ctx, book, order)
        elif order.px is None:
            book.auction_market[order.order_id] = order
        else:
            ctx = self._ctx
            order.visible_qty = order.next_slice()
            ctx.out.append(book.add(order, ctx.seq, ctx.ts))

    def _set_phase(self, cmd: SetPhase) -> None:
        self._last_request_id = max(self._last_request_id, cmd.request_id)
        if cmd.symbol is None:
            books = list(self._books.values())
        else:
            found = self._operator_book(cmd.symbol, "set_phase")
            books = [] if found is None else [found]
        for book in books:
            self._enter_phase(book, cmd.phase)

    def _enter_phase(self, book: OrderBook, phase: TradingPhase) -> None:
        """Leaving a call for a phase that is not one uncrosses the book, then ends what
        only that auction was for (market orders of the call, OPG or ATC orders)."""
        ctx = self._ctx
        previous = book.phase
        if previous.is_call and not phase.is_call:
            if book.halted:
                ctx.out.append(
                    OperatorRejected(
                        seq=ctx.seq, ts=ctx.ts, command="set_phase",
                        reason=RejectReason.SYMBOL_HALTED,
                        text=f"{book.symbol} is halted: resume it before its auction ends",
                    )
                )  # fmt: skip
                return
            found = equilibrium(book)
            if found is not None:
                uncross(ctx, book, found)
            self._end_auction_orders(book, previous)
        book.phase = phase
        book.indicative = (None, 0, 0)
        ctx.out.append(
            PhaseChanged(seq=ctx.seq, ts=ctx.ts, symbol=book.symbol, phase=phase, previous=previous)
        )
        if book.at_close and phase is not TradingPhase.CONTINUOUS:
            self._release_at_close(book, phase)
        self._settle(book)

    def _release_at_close(self, book: OrderBook, phase: TradingPhase) -> None:
        """ATC orders held through continuous trading join the closing call, in arrival
        order; any other phase after continuous trading ends them unfilled."""
        held = list(book.at_close.values())
        book.at_close.clear()
        for order in held:
            if phase is TradingPhase.CLOSING_AUCTION:
                self._enter(book, order)
            else:
                expire(self._ctx, book, order, ExpireReason.AUCTION_REMAINDER)

    def _end_auction_orders(self, book: OrderBook, call: TradingPhase) -> None:
        ctx = self._ctx
        for order in list(book.auction_market.values()):
            expire(ctx, book, order, ExpireReason.AUCTION_REMAINDER)
        book.auction_market.clear()
        only = TimeInForce.ATC if call is TradingPhase.CLOSING_AUCTION else TimeInForce.OPG
        symbol = book.symbol
        for order in [o for o in ctx.live.values() if o.symbol == symbol and o.tif is only]:
            expire_resting(ctx, book, order, ExpireReason.AUCTION_REMAINDER)

    def _settle(self, book: OrderBook) -> None:
        """After a command touched `book`: trigger the stops its trades reached, reprice
        pegs, then check the book is not crossed. Outside continuous trading nothing
        trades: a call may leave the book crossed, and publishes its indicative price."""
        ctx = self._ctx
        phase = book.phase
        if phase is not TradingPhase.CONTINUOUS:
            if phase is TradingPhase.OPENING_AUCTION or phase is TradingPhase.CLOSING_AUCTION:
                indicative(ctx, book)
            return
        if book.stops:
            self._trigger_stops(book)
            # A repriced peg may trade and so reach more stops: until nothing trades.
            trades_before = ctx.next_trade_id
            reprice(ctx, book)
            while book.stops and ctx.next_trade_id != trades_before:
                self._trigger_stops(book)
                trades_before = ctx.next_trade_id
                reprice(ctx, book)
        else:
            reprice(ctx, book)
        if book.is_crossed():
            raise CrossedBook(f"{book.symbol} crossed after command seq {self._ctx.seq}")

    def _trigger_stops(self, book: OrderBook) -> None:
        """Trigger, one at a time, each stop the last trade price has reached (a buy stop
        at or below it, a sell stop at or above it). Each trades at once, and its trades
        may move the last price on to trigger more. When several are due, buys go before
        sells, and within a side in the order a move reaches their stop prices (a buy's
        lowest first, a sell's highest first), then by arrival."""
        ctx = self._ctx
        while not book.halted:
            last = book.last_px
            if last is None:
                return
            due = [o for o in book.stops.values() if _stop_reached(o, last)]
            if not due:
                return
            order = min(due, key=_trigger_rank)
            del book.stops[order.order_id]
            stop_px = order.stop_px
            assert stop_px is not None
            ctx.out.append(
                Triggered(
                    seq=ctx.seq,
                    ts=ctx.ts,
                    order_id=order.order_id,
                    session=order.session,
                    account=order.account,
                    cl_ord_id=order.cl_ord_id,
                    symbol=order.symbol,
                    side=order.side,
                    ord_type=order.ord_type,
                    px=order.px,
                    stop_px=Px(stop_px),
                    last_px=Px(last),
                    qty=Qty(order.qty),
                    leaves_qty=Qty(order.leaves_qty),
                    cum_qty=Qty(order.cum_qty),
                )
            )
            execute(ctx, book, order)

    def _target(self, cmd: Cancel | CancelReplace, kind: CancelRequestKind) -> LiveOrder | None:
        """The live order a cancel/replace names, or None after emitting CancelRejected."""
        ids = self._cl_ord_ids.get(cmd.session, {})
        if cmd.cl_ord_id in ids:
            text = f"cl_ord_id {cmd.cl_ord_id!r} was already used in this session"
            self._cancel_reject(cmd, kind, RejectReason.DUPLICATE_CL_ORD_ID, text)
            return None
        if cmd.orig_cl_ord_id is not None:
            order_id = ids.get(cmd.orig_cl_ord_id)
            if order_id is None:
                text = f"no order with orig_cl_ord_id {cmd.orig_cl_ord_id!r} in this session"
                self._cancel_reject(cmd, kind, RejectReason.UNKNOWN_ORDER, text)
                return None
            if cmd.order_id is not None and cmd.order_id != order_id:
                text = (
                    f"order_id {cmd.order_id} does not match orig_cl_ord_id {cmd.orig_cl_ord_id!r}"
                )
                self._cancel_reject(cmd, kind, RejectReason.UNKNOWN_ORDER, text)
                return None
        elif cmd.order_id is not None:
            order_id = cmd.order_id
        else:
            text = "name the order with orig_cl_ord_id or order_id"
            self._cancel_reject(cmd, kind, RejectReason.UNKNOWN_ORDER, text)
            return None
        order = self._ctx.live.get(order_id)
        if order is None:
            if 0 < order_id < self._ctx.next_order_id:
                text = f"order {order_id} is already done (filled, cancelled or expired)"
                self._cancel_reject(cmd, kind, RejectReason.TOO_LATE, text, order_id=order_id)
            else:
                text = f"no order with order_id {order_id}"
                self._cancel_reject(cmd, kind, RejectReason.UNKNOWN_ORDER, text)
            return None
        if order.session != cmd.session:
            text = f"order {order_id} belongs to another session"
            self._cancel_reject(cmd, kind, RejectReason.NOT_ORDER_OWNER, text)
            return None
        return order

    def _reject(self, cmd: NewOrder, reason: RejectReason, text: str) -> None:
        self._ctx.out.append(
            Rejected(
                seq=cmd.seq,
                ts=cmd.ts,
                session=cmd.session,
                cl_ord_id=cmd.cl_ord_id,
                symbol=cmd.symbol,
                reason=reason,
                text=text,
            )
        )

    def _cancel_reject(
        self,
        cmd: Cancel | CancelReplace,
        kind: CancelRequestKind,
        reason: RejectReason,
        text: str,
        order_id: int | None = None,
    ) -> None:
        self._ctx.out.append(
            CancelRejected(
                seq=cmd.seq,
                ts=cmd.ts,
                session=cmd.session,
                cl_ord_id=cmd.cl_ord_id,
                orig_cl_ord_id=cmd.orig_cl_ord_id,
                order_id=None if order_id is None else OrderId(order_id),
                response_to=kind,
                reason=reason,
                text=text,
            )
        )

    def _operator_book(self, symbol: Symbol, command: str) -> OrderBook | None:
        book = self._books.get(symbol)
        if book is None:
            self._ctx.out.append(
                OperatorRejected(
                    seq=self._ctx.seq,
                    ts=self._ctx.ts,
                    command=command,
                    reason=RejectReason.UNKNOWN_SYMBOL,
                    text=f"unknown symbol {symbol!r}",
                )
            )
        return book


def _risk_reference(inst: Instrument, book: OrderBook) -> tuple[int | None, str]:
    """The price fat-finger checks measure against: the last trade, else the configured
    reference (None: no reference yet, no band)."""
    if book.last_px is not None:
        return book.last_px, "last trade"
    return inst.band_reference, "band_reference"


_PACK: Final = msgspec.msgpack.Encoder().encode
"""The state hash's encoding of the bulk (orders, ClOrdIDs): injective like `repr` and a
tenth of its cost here (a string's repr escapes and quotes it in Python-level steps)."""


def _order_state(o: LiveOrder) -> tuple[object, ...]:
    return (
        o.order_id, o.session, o.account, o.cl_ord_id, o.symbol, int(o.side), str(o.ord_type),
        str(o.tif), o.px, o.qty, o.cum_qty, o.cum_notional, o.leaves_qty, o.visible_qty,
        o.display_qty, o.peg, o.peg_offset, o.smp_key, str(o.smp_policy), o.stop_px,
        o.expire_ts,
    )  # fmt: skip


def _closed(book: OrderBook) -> Problem:
    return (
        RejectReason.MARKET_CLOSED,
        f"{book.symbol} is in phase {book.phase}: only cancels are accepted",
    )


def _phase_problem(phase: TradingPhase, cmd: NewOrder) -> Problem | None:
    """Why `phase` does not take the order `cmd`, or None."""
    if not phase.takes_orders:
        return (
            RejectReason.MARKET_CLOSED,
            f"{cmd.symbol} is in phase {phase}: only cancels are accepted",
        )
    tif = cmd.tif
    if tif is TimeInForce.OPG and not (
        phase is TradingPhase.PRE_OPEN or phase is TradingPhase.OPENING_AUCTION
    ):
        return (
            RejectReason.NOT_IN_THIS_PHASE,
            f"an OPG order is only for the opening auction; {cmd.symbol} is in phase {phase}",
        )
    if tif is TimeInForce.ATC and not (
        phase is TradingPhase.CONTINUOUS or phase is TradingPhase.CLOSING_AUCTION
    ):
        return (
            RejectReason.NOT_IN_THIS_PHASE,
            f"an ATC order is for the closing auction (entered during continuous trading "
            f"or its call); {cmd.symbol} is in phase {phase}",
        )
    if phase.is_call:
        if tif is TimeInForce.IOC or tif is TimeInForce.FOK:
            return (
                RejectReason.NOT_IN_THIS_PHASE,
                f"{tif.value.upper()} orders cannot trade while {cmd.symbol} is in phase "
                f"{phase}: nothing matches until the auction uncrosses",
            )
        if cmd.ord_type is OrdType.PEGGED:
            return (
                RejectReason.NOT_IN_THIS_PHASE,
                f"pegged orders are not accepted while {cmd.symbol} is in phase {phase}",
            )
    return None


def _stop_reached(order: LiveOrder, last_px: int) -> bool:
    stop_px = order.stop_px
    assert stop_px is not None
    return stop_px <= last_px if order.side is Side.BUY else stop_px >= last_px


def _trigger_rank(order: LiveOrder) -> tuple[int, int, int]:
    stop_px = order.stop_px
    assert stop_px is not None
    if order.side is Side.BUY:
        return 0, stop_px, order.order_id
    return 1, -stop_px, order.order_id


def _stop_px_problem(order: LiveOrder, stop_px: int, book: OrderBook) -> Problem | None:
    """Why a replace may not set `stop_px` on `order`, or None."""
    if order.order_id not in book.stops:
        what = "was triggered already" if order.stop_px is not None else "is not a stop order"
        text = f"order {order.order_id} {what}: stop_px cannot change"
        return RejectReason.STOP_PX_NOT_ALLOWED, text
    if stop_px <= 0:
        return RejectReason.INVALID_PRICE, f"stop_px {stop_px} must be positive"
    return None


_NOTHING_OFF: frozenset[RiskCheck] = frozenset()


def _not_live(old: dict[Symbol, Instrument], new: dict[Symbol, Instrument]) -> str | None:
    """Why `new` instruments cannot replace `old` while running, or None."""
    if set(old) != set(new):
        return (
            f"the symbols cannot change while running (have {', '.join(sorted(old))}; "
            f"asked for {', '.join(sorted(new))}): restart the venue to change them"
        )
    for symbol in sorted(old):
        if old[symbol].tick_size != new[symbol].tick_size:
            return (
                f"the tick size of {symbol} cannot change while running "
                f"({old[symbol].tick_size} -> {new[symbol].tick_size}): prices are in ticks"
            )
    return None


def _change(before: Any, after: Any, name: str, default: Any) -> str:
    """What changed between two settings records, field by field ("" if nothing)."""
    if default is not None:  # an absent account or session has the default settings
        before = default(**{fields(default)[0].name: name}) if before is None else before
        after = default(**{fields(default)[0].name: name}) if after is None else after
    parts = []
    for f in fields(before):
        old, new = getattr(before, f.name), getattr(after, f.name)
        if old == new:
            continue
        if is_dataclass(old):
            parts.append(f"{f.name}.({_change(old, new, name, None)})")
        elif isinstance(old, frozenset):
            parts.append(f"{f.name} {sorted(old)} -> {sorted(new)}")
        else:
            parts.append(f"{f.name} {old} -> {new}")
    return ", ".join(parts)


def _windows(
    old: dict[Any, RollingVariance], size: int, keys: list[Any]
) -> dict[Any, RollingVariance]:
    """Windows for `keys`, keeping the samples of those that exist with the same size."""
    kept = {}
    for key in keys:
        window = old.get(key)
        kept[key] = window if window is not None and window.size == size else RollingVariance(size)
    return kept


def _pnl_unit(instruments: Iterable[Instrument]) -> int:
    unit = 1
    for inst in instruments:
        unit = math.lcm(unit, Fraction(inst.tick_size).denominator)
    return unit


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)
