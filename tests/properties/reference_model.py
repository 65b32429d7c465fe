"""A deliberately naive order book, written from the matching rules, to check the engine.

Nothing here is fast and nothing here is clever: every resting order of every symbol
sits in one flat Python list, and whenever the model needs a queue it sorts that list by
(price priority, priority counter). Matching takes the head of the freshly sorted queue,
one fill at a time. A FOK order is tried on a deep copy of the whole model and kept only
if the copy filled it completely. The point is that each rule below can be checked by
reading a few lines, independently of how the engine implements it.

Rules modelled (pegged orders are out of scope):

- Trading phases: during a call (pre-open, opening auction, closing auction) orders rest
  without matching and the book may cross; IOC and FOK are refused, OPG only in the
  opening call; a market order waits off the book. ATC orders are taken in continuous
  trading (held off the book until the closing call, which they join in arrival order;
  any other phase after continuous trading ends them) and in the closing call; stops
  cannot be OPG or ATC; end of day ends OPG and ATC orders with the DAY ones. Post-close
  and closed take cancels only. Leaving a call for a phase that is not one uncrosses at
  the one price that executes most, then leaves the least surplus, then follows market
  pressure (buy surplus: highest; sell: lowest), then is nearest the last trade (the
  lower on a tie or with none); market orders of the call first, then limits in price-time
  priority, each trade's aggressor the later order; then market orders of the call and
  the auction's OPG or ATC orders expire. A halted symbol stays in its call. Stops
  trigger only in continuous trading.
- GTD orders rest until their expire time: every command first expires the GTD orders
  due at its timestamp (earliest expire time first, then by order id). An expire time is
  required on a GTD order, refused on any other, and must be after the command's time.
- Stop and stop-limit orders wait outside the book, unseen, until the last trade price of
  their symbol reaches the stop price (a buy stop at or below it, a sell stop at or above
  it); then each trades like a market order (stop) or a limit order (stop-limit). After
  every command, due stops trigger one at a time: buys before sells, a buy's lowest stop
  price first, a sell's highest first, then by order id; each one's trades may make more
  due. A replace of a waiting stop keeps it waiting, with a new stop price if it names
  one; only a waiting stop takes a new stop price.

- Limit, market, IOC, FOK, DAY and GTC orders; executions at the resting order's price.
- A market order meeting an empty opposite side is rejected (NO_LIQUIDITY); a market
  remainder expires (MARKET_REMAINDER), an IOC remainder expires (IOC_REMAINDER), a FOK
  that cannot fill its whole quantity expires with no fills at all (FOK_NOT_FILLABLE).
- Icebergs show `display_qty`; a used-up slice is replaced by the next one at the back of
  its price level (a new priority counter), and may trade again in the same sweep.
- Self-match prevention by SMP key (smp_id if given, else account) with the aggressor's
  policy, or the instrument's default when the order names none.
- Cancel, cancel/replace (priority kept only for a same-price, same-display, quantity
  not increased replace; a replace to at or below the filled quantity cancels), mass
  cancel, halt/resume (halts reject new orders and replaces, not cancels), end of day.
- ClOrdIDs are registered per session only when a request is accepted; a cancel or a
  replace may name the order by any ClOrdID of its chain (its own request id included) or
  by order id. End of day starts a new ClOrdID day: ids of finished orders are forgotten.

A rejected request yields the *set* of every reason that applies: the rules say when a
request is rejected, not which problem is reported first when several apply, so the test
only asks that the engine's reason is one of them.
"""

import copy
from dataclasses import dataclass, field

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
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.reasons import RejectReason

LIVE = "live"
FILLED = "filled"
CANCELLED = "cancelled"
EXPIRED = "expired"


@dataclass
class RefOrder:
    oid: int
    session: str
    account: str
    cl_ord_id: str
    symbol: str
    side: Side
    ord_type: OrdType
    tif: TimeInForce
    px: int | None
    qty: int
    """Total quantity including fills; lowered by an SMP decrement, reset by a replace."""
    display: int | None
    smp_key: tuple[str, str]
    smp_policy: SmpPolicy
    cum: int = 0
    leaves: int = 0
    visible: int = 0
    prio: int = 0
    state: str = LIVE
    reason: str | None = None
    stop_px: int | None = None
    expire_ts: int | None = None

    def slice_size(self) -> int:
        return self.leaves if self.display is None else min(self.display, self.leaves)


@dataclass(frozen=True)
class RefTrade:
    maker: int
    taker: int
    px: int
    qty: int


@dataclass(frozen=True)
class Outcome:
    """How the model answered one command.

    kind: "accepted" (new order, `order_id` set), "done" (cancel or replace carried out),
    "rejected" (`reasons` holds every reason that applies), "mass" (`count` orders
    cancelled) or "ok" (operator commands).
    """

    kind: str
    order_id: int | None = None
    reasons: frozenset[RejectReason] = frozenset()
    count: int = 0


@dataclass
class ReferenceBook:
    instruments: dict[str, Instrument]
    orders: dict[int, RefOrder] = field(default_factory=dict)
    resting: list[RefOrder] = field(default_factory=list)
    halted: set[str] = field(default_factory=set)
    chains: dict[str, dict[str, int]] = field(default_factory=dict)
    next_oid: int = 1
    next_prio: int = 1
    trades: list[RefTrade] = field(default_factory=list)
    """Trades of the command being processed."""
    waiting: list[RefOrder] = field(default_factory=list)
    """Stop orders not triggered yet, in arrival order."""
    last_px: dict[str, int] = field(default_factory=dict)
    phase: dict[str, TradingPhase] = field(default_factory=dict)
    """Symbols not in continuous trading."""
    auction_market: list[RefOrder] = field(default_factory=list)
    """Market orders entered during a call, in arrival order."""
    held_atc: list[RefOrder] = field(default_factory=list)
    """ATC orders entered during continuous trading, held for the closing call."""

    # --- queries -----------------------------------------------------------------------

    def queue(self, symbol: str, side: Side) -> list[RefOrder]:
        """Resting orders of one side, best price first, then lowest priority counter."""
        mine = [o for o in self.resting if o.symbol == symbol and o.side is side]
        if side is Side.BUY:
            return sorted(mine, key=lambda o: (-_px(o), o.prio))
        return sorted(mine, key=lambda o: (_px(o), o.prio))

    def book(self, symbol: str, side: Side) -> list[tuple[int, int, int, int]]:
        """(order id, px, visible qty, leaves qty) in priority order."""
        return [(o.oid, _px(o), o.visible, o.leaves) for o in self.queue(symbol, side)]

    def statuses(self) -> dict[int, tuple[str, int, int, int, str | None]]:
        """Per order ever accepted: (state, qty, cum, leaves, reason of its end)."""
        return {oid: (o.state, o.qty, o.cum, o.leaves, o.reason) for oid, o in self.orders.items()}

    # --- the one entry point -------------------------------------------------------------

    def process(self, cmd: Command) -> tuple[Outcome, list[RefTrade]]:
        self.trades = []
        due = [
            o
            for o in self.resting + self.waiting + self.auction_market
            if o.expire_ts is not None and o.expire_ts <= cmd.ts
        ]
        for order in sorted(due, key=lambda o: (o.expire_ts or 0, o.oid)):
            self._end(order, EXPIRED, "expire_time")
        if isinstance(cmd, NewOrder):
            outcome = self._new_order(cmd)
        elif isinstance(cmd, Cancel):
            outcome = self._cancel(cmd)
        elif isinstance(cmd, CancelReplace):
            outcome = self._replace(cmd)
        elif isinstance(cmd, MassCancel):
            outcome = self._mass_cancel(cmd)
        elif isinstance(cmd, Halt):
            self.halted.add(cmd.symbol)
            outcome = Outcome("ok")
        elif isinstance(cmd, Resume):
            self.halted.discard(cmd.symbol)
            outcome = Outcome("ok")
        elif isinstance(cmd, SetPhase):
            symbols = sorted(self.instruments) if cmd.symbol is None else [cmd.symbol]
            for symbol in symbols:
                self._enter_phase(symbol, cmd.phase)
            outcome = Outcome("ok")
        elif isinstance(cmd, EndOfDay):
            day = (TimeInForce.DAY, TimeInForce.OPG, TimeInForce.ATC)
            for order in self.resting + self.waiting + self.auction_market + self.held_atc:
                if order.tif in day:
                    self._end(order, EXPIRED, "end_of_day")
            # ClOrdIDs are unique per trading day: the new day forgets those of finished
            # orders, while live (GTC) orders keep theirs.
            for chain in self.chains.values():
                for cl_ord_id, oid in list(chain.items()):
                    if self.orders[oid].state != LIVE:
                        del chain[cl_ord_id]
            outcome = Outcome("ok")
        else:
            raise TypeError(f"unknown command {cmd!r}")
        for symbol in sorted(self.instruments):
            self._trigger(symbol)
        return outcome, self.trades

    def waiting_stops(self, symbol: str) -> list[int]:
        return [o.oid for o in self.waiting if o.symbol == symbol]

    # --- new orders ------------------------------------------------------------------------

    def _new_order(self, cmd: NewOrder) -> Outcome:
        if cmd.ord_type is OrdType.PEGGED:
            raise NotImplementedError("pegged orders are outside the reference model")
        inst = self.instruments[cmd.symbol]
        reasons: set[RejectReason] = set()
        if cmd.cl_ord_id in self.chains.get(cmd.session, {}):
            reasons.add(RejectReason.DUPLICATE_CL_ORD_ID)
        if cmd.symbol in self.halted:
            reasons.add(RejectReason.SYMBOL_HALTED)
        reasons |= _qty_problems(inst, cmd.qty)
        if cmd.ord_type in (OrdType.LIMIT, OrdType.STOP_LIMIT):
            reasons |= _limit_px_problems(cmd.px)
        elif cmd.px is not None:
            reasons.add(RejectReason.PRICE_NOT_ALLOWED)
        if cmd.ord_type in (OrdType.STOP, OrdType.STOP_LIMIT):
            if cmd.stop_px is None:
                reasons.add(RejectReason.STOP_PX_REQUIRED)
            elif cmd.stop_px <= 0:
                reasons.add(RejectReason.INVALID_PRICE)
        elif cmd.stop_px is not None:
            reasons.add(RejectReason.STOP_PX_NOT_ALLOWED)
        if cmd.stop_px is not None and cmd.tif in (TimeInForce.OPG, TimeInForce.ATC):
            reasons.add(RejectReason.INVALID_TIF_FOR_ORD_TYPE)
        if cmd.tif is TimeInForce.GTD:
            if cmd.expire_ts is None:
                reasons.add(RejectReason.EXPIRE_TIME_REQUIRED)
            elif cmd.expire_ts <= cmd.ts:
                reasons.add(RejectReason.EXPIRE_TIME_PASSED)
        elif cmd.expire_ts is not None:
            reasons.add(RejectReason.EXPIRE_TIME_NOT_ALLOWED)
        reasons |= _phase_problems(self.phase_of(cmd.symbol), cmd)
        if cmd.peg is not None:
            reasons.add(RejectReason.PEG_NOT_ALLOWED)
        if cmd.display_qty is not None:
            can_rest = cmd.ord_type not in (OrdType.MARKET, OrdType.STOP) and cmd.tif in (
                TimeInForce.DAY,
                TimeInForce.GTC,
                TimeInForce.GTD,
            )
            if not can_rest or not 0 < cmd.display_qty <= cmd.qty:
                reasons.add(RejectReason.INVALID_DISPLAY_QTY)
        continuous = self.phase_of(cmd.symbol) is TradingPhase.CONTINUOUS
        no_one = not self.queue(cmd.symbol, cmd.side.opposite)
        if cmd.ord_type is OrdType.MARKET and continuous and no_one:
            reasons.add(RejectReason.NO_LIQUIDITY)
        if reasons:
            return Outcome("rejected", reasons=frozenset(reasons))

        order = RefOrder(
            oid=self.next_oid,
            session=cmd.session,
            account=cmd.account,
            cl_ord_id=cmd.cl_ord_id,
            symbol=cmd.symbol,
            side=cmd.side,
            ord_type=cmd.ord_type,
            tif=cmd.tif,
            px=cmd.px,
            qty=cmd.qty,
            display=cmd.display_qty,
            smp_key=("id", cmd.smp_id) if cmd.smp_id is not None else ("account", cmd.account),
            smp_policy=cmd.smp_policy if cmd.smp_policy is not None else inst.smp_policy,
            leaves=cmd.qty,
            stop_px=cmd.stop_px,
            expire_ts=cmd.expire_ts,
        )
        self.next_oid += 1
        self.orders[order.oid] = order
        self.chains.setdefault(cmd.session, {})[cmd.cl_ord_id] = order.oid
        if order.stop_px is not None:
            order.visible = order.slice_size()
            self.waiting.append(order)
        elif cmd.tif is TimeInForce.ATC and self.phase_of(cmd.symbol) is TradingPhase.CONTINUOUS:
            order.visible = order.slice_size()
            self.held_atc.append(order)
        else:
            self._execute(order)
        return Outcome("accepted", order_id=order.oid)

    def phase_of(self, symbol: str) -> TradingPhase:
        return self.phase.get(symbol, TradingPhase.CONTINUOUS)

    def _execute(self, order: RefOrder) -> None:
        """Match an order that is not in the book, then rest or expire its remainder;
        during a call it only rests (a market order off the book)."""
        if self.phase_of(order.symbol).is_call:
            if order.px is None:
                self.auction_market.append(order)
            else:
                order.visible = order.slice_size()
                order.prio = self._take_prio()
                self.resting.append(order)
            return
        if order.tif is TimeInForce.FOK:
            trial = copy.deepcopy(self)
            trial_order = trial.orders[order.oid]
            trial._match(trial_order)
            if trial_order.cum != order.qty:
                self._end(order, EXPIRED, "fok_not_fillable")
                return
        self._match(order)
        if order.state != LIVE:
            return
        if order.px is None:  # market, or a triggered stop
            self._end(order, EXPIRED, "market_remainder")
        elif order.tif is TimeInForce.IOC:
            self._end(order, EXPIRED, "ioc_remainder")
        else:
            order.visible = order.slice_size()
            order.prio = self._take_prio()
            self.resting.append(order)

    def _match(self, taker: RefOrder) -> None:
        while taker.state == LIVE:
            queue = self.queue(taker.symbol, taker.side.opposite)
            if not queue or not _crosses(taker, _px(queue[0])):
                return
            maker = queue[0]
            if maker.smp_key == taker.smp_key:
                self._prevent_self_match(taker, maker)
                continue
            qty = min(taker.leaves, maker.visible)
            self.trades.append(RefTrade(maker.oid, taker.oid, _px(maker), qty))
            self.last_px[taker.symbol] = _px(maker)
            maker.visible -= qty
            for order in (maker, taker):
                order.cum += qty
                order.leaves -= qty
                if order.leaves == 0:
                    self._end(order, FILLED, None)
            if maker.state == LIVE and maker.visible == 0:
                maker.visible = maker.slice_size()
                maker.prio = self._take_prio()

    def _prevent_self_match(self, taker: RefOrder, maker: RefOrder) -> None:
        policy = taker.smp_policy
        if policy in (SmpPolicy.CANCEL_RESTING, SmpPolicy.CANCEL_BOTH):
            self._end(maker, CANCELLED, "self_match")
        if policy in (SmpPolicy.CANCEL_INCOMING, SmpPolicy.CANCEL_BOTH):
            self._end(taker, CANCELLED, "self_match")
        if policy is SmpPolicy.DECREMENT_AND_CANCEL:
            smaller = min(taker.leaves, maker.leaves)
            for order in (maker, taker):
                if order.leaves == smaller:
                    self._end(order, CANCELLED, "self_match")
                else:
                    order.leaves -= smaller
                    order.qty -= smaller
                    # Hidden quantity goes first: the shown slice only shrinks if the
                    # order no longer has that much open.
                    order.visible = min(order.visible, order.leaves)

    # --- cancel, replace, mass cancel -----------------------------------------------------

    def _resolve(
        self, session: str, cl_ord_id: str, orig: str | None, order_id: int | None
    ) -> tuple[RefOrder | None, set[RejectReason]]:
        """The live order a cancel/replace names, or the reasons it cannot act on one."""
        reasons: set[RejectReason] = set()
        chain = self.chains.get(session, {})
        if cl_ord_id in chain:
            reasons.add(RejectReason.DUPLICATE_CL_ORD_ID)
        target: int | None = None
        if orig is not None:
            target = chain.get(orig)
            if target is None or (order_id is not None and order_id != target):
                return None, reasons | {RejectReason.UNKNOWN_ORDER}
        elif order_id is not None:
            target = order_id
        if target is None or target not in self.orders:
            return None, reasons | {RejectReason.UNKNOWN_ORDER}
        order = self.orders[target]
        if order.state != LIVE:
            reasons.add(RejectReason.TOO_LATE)
        if order.session != session:
            reasons.add(RejectReason.NOT_ORDER_OWNER)
        return order, reasons

    def _cancel(self, cmd: Cancel) -> Outcome:
        order, reasons = self._resolve(cmd.session, cmd.cl_ord_id, cmd.orig_cl_ord_id, cmd.order_id)
        if order is None or reasons:
            return Outcome("rejected", reasons=frozenset(reasons))
        self.chains[cmd.session][cmd.cl_ord_id] = order.oid
        order.cl_ord_id = cmd.cl_ord_id
        self._end(order, CANCELLED, "requested")
        return Outcome("done")

    def _replace(self, cmd: CancelReplace) -> Outcome:
        order, reasons = self._resolve(cmd.session, cmd.cl_ord_id, cmd.orig_cl_ord_id, cmd.order_id)
        if order is not None and order.state == LIVE:
            inst = self.instruments[order.symbol]
            if order.symbol in self.halted:
                reasons.add(RejectReason.SYMBOL_HALTED)
            if not self.phase_of(order.symbol).takes_orders:
                reasons.add(RejectReason.MARKET_CLOSED)
            if order in self.auction_market:
                reasons.add(RejectReason.NOT_IN_THIS_PHASE)
            if cmd.side is not None and cmd.side is not order.side:
                reasons.add(RejectReason.REPLACE_CHANGES_SIDE)
            reasons |= _qty_problems(inst, cmd.qty)
            if order.ord_type in (OrdType.LIMIT, OrdType.STOP_LIMIT):
                reasons |= _limit_px_problems(cmd.px)
            elif cmd.px is not None:
                reasons.add(RejectReason.PRICE_NOT_ALLOWED)
            if cmd.stop_px is not None and order not in self.waiting:
                reasons.add(RejectReason.STOP_PX_NOT_ALLOWED)
            elif cmd.stop_px is not None and cmd.stop_px <= 0:
                reasons.add(RejectReason.INVALID_PRICE)
            # Only a display size the request names must fit the new quantity; a kept one
            # may exceed it, and the order then simply shows all it has.
            if cmd.display_qty is not None and not 0 < cmd.display_qty <= cmd.qty:
                reasons.add(RejectReason.INVALID_DISPLAY_QTY)
        if order is None or reasons:
            return Outcome("rejected", reasons=frozenset(reasons))

        self.chains[cmd.session][cmd.cl_ord_id] = order.oid
        order.cl_ord_id = cmd.cl_ord_id
        if order in self.waiting or order in self.held_atc:
            order.qty = order.leaves = cmd.qty
            order.px = cmd.px
            if cmd.display_qty is not None:
                order.display = cmd.display_qty
            if cmd.stop_px is not None:
                order.stop_px = cmd.stop_px
            order.visible = order.slice_size()
            return Outcome("done")
        if cmd.qty <= order.cum:
            self._end(order, CANCELLED, "replaced_at_or_below_filled")
            return Outcome("done")
        new_display = order.display if cmd.display_qty is None else cmd.display_qty
        keeps_priority = (
            cmd.px == order.px and cmd.qty <= order.qty and new_display == order.display
        )
        order.qty = cmd.qty
        order.leaves = cmd.qty - order.cum
        if keeps_priority:
            order.visible = min(order.visible, order.leaves)
        else:
            self.resting.remove(order)
            order.px = cmd.px
            order.display = new_display
            self._execute(order)
        return Outcome("done")

    def _mass_cancel(self, cmd: MassCancel) -> Outcome:
        victims = [
            o
            for o in self.resting + self.waiting + self.auction_market + self.held_atc
            if (cmd.order_id is None or o.oid == cmd.order_id)
            and (cmd.scope_session is None or o.session == cmd.scope_session)
            and (cmd.account is None or o.account == cmd.account)
            and (cmd.symbol is None or o.symbol == cmd.symbol)
        ]
        for order in victims:
            self._end(order, CANCELLED, "mass_cancel")
        return Outcome("mass", count=len(victims))

    # --- helpers ---------------------------------------------------------------------------

    def _end(self, order: RefOrder, state: str, reason: str | None) -> None:
        order.state = state
        order.reason = reason
        order.leaves = 0
        order.visible = 0
        if order in self.resting:
            self.resting.remove(order)
        if order in self.waiting:
            self.waiting.remove(order)
        if order in self.auction_market:
            self.auction_market.remove(order)
        if order in self.held_atc:
            self.held_atc.remove(order)

    def _enter_phase(self, symbol: str, phase: TradingPhase) -> None:
        previous = self.phase_of(symbol)
        if previous.is_call and not phase.is_call:
            if symbol in self.halted:
                return  # refused: the auction cannot end while halted
            self._uncross(symbol)
            for order in [o for o in self.auction_market if o.symbol == symbol]:
                self._end(order, EXPIRED, "auction_remainder")
            only = TimeInForce.ATC if previous is TradingPhase.CLOSING_AUCTION else TimeInForce.OPG
            mine = [o for o in self.resting + self.waiting if o.symbol == symbol]
            for order in [o for o in mine if o.tif is only]:
                self._end(order, EXPIRED, "auction_remainder")
        if phase is TradingPhase.CONTINUOUS:
            self.phase.pop(symbol, None)
        else:
            self.phase[symbol] = phase
            for order in [o for o in self.held_atc if o.symbol == symbol]:
                self.held_atc.remove(order)
                if phase is TradingPhase.CLOSING_AUCTION:
                    self._execute(order)  # joins the call
                else:
                    self._end(order, EXPIRED, "auction_remainder")
        self._trigger(symbol)  # each symbol's stops before the next symbol moves

    def _uncross(self, symbol: str) -> None:
        """Every candidate limit price tried in turn (see the module doc)."""
        market = [o for o in self.auction_market if o.symbol == symbol]
        limits = [o for o in self.resting if o.symbol == symbol]
        scored: list[tuple[int, int, int]] = []  # (px, volume, surplus)
        for px in sorted({_px(o) for o in limits}):
            bought = sum(o.leaves for o in market if o.side is Side.BUY) + sum(
                o.leaves for o in limits if o.side is Side.BUY and _px(o) >= px
            )
            sold = sum(o.leaves for o in market if o.side is Side.SELL) + sum(
                o.leaves for o in limits if o.side is Side.SELL and _px(o) <= px
            )
            if min(bought, sold) > 0:
                scored.append((px, min(bought, sold), bought - sold))
        if not scored:
            return
        most = max(volume for _, volume, _ in scored)
        scored = [s for s in scored if s[1] == most]
        least = min(abs(surplus) for _, _, surplus in scored)
        scored = [s for s in scored if abs(s[2]) == least]
        if all(surplus > 0 for _, _, surplus in scored):
            price = max(px for px, _, _ in scored)
        elif all(surplus < 0 for _, _, surplus in scored):
            price = min(px for px, _, _ in scored)
        else:
            reference = self.last_px.get(symbol)
            if reference is None:
                price = min(px for px, _, _ in scored)
            else:
                price = min((abs(px - reference), px) for px, _, _ in scored)[1]
        remaining = most
        buys = [o for o in market if o.side is Side.BUY] + [
            o for o in self.queue(symbol, Side.BUY) if _px(o) >= price
        ]
        sells = [o for o in market if o.side is Side.SELL] + [
            o for o in self.queue(symbol, Side.SELL) if _px(o) <= price
        ]
        for buy in buys:
            for sell in sells:
                while remaining > 0 and buy.leaves > 0 and sell.leaves > 0:
                    qty = min(buy.leaves, sell.leaves, remaining)
                    taker, maker = (buy, sell) if buy.oid > sell.oid else (sell, buy)
                    self.trades.append(RefTrade(maker.oid, taker.oid, price, qty))
                    self.last_px[symbol] = price
                    for order in (maker, taker):
                        order.cum += qty
                        order.leaves -= qty
                        if order in self.resting:
                            order.visible -= min(qty, order.visible)
                        if order.leaves == 0:
                            self._end(order, FILLED, None)
                        elif order in self.resting and order.visible == 0:
                            order.visible = order.slice_size()
                            order.prio = self._take_prio()
                    remaining -= qty

    def _trigger(self, symbol: str) -> None:
        """Trigger the due stops of `symbol` one by one (see the module doc)."""
        if self.phase_of(symbol) is not TradingPhase.CONTINUOUS:
            return
        while symbol not in self.halted and symbol in self.last_px:
            last = self.last_px[symbol]
            due = [o for o in self.waiting if o.symbol == symbol and _reached(o, last)]
            if not due:
                return
            order = min(due, key=_trigger_rank)
            self.waiting.remove(order)
            self._execute(order)

    def _take_prio(self) -> int:
        prio = self.next_prio
        self.next_prio += 1
        return prio


def _phase_problems(phase: TradingPhase, cmd: NewOrder) -> set[RejectReason]:
    if not phase.takes_orders:
        return {RejectReason.MARKET_CLOSED}
    problems: set[RejectReason] = set()
    opening = (TradingPhase.PRE_OPEN, TradingPhase.OPENING_AUCTION)
    if cmd.tif is TimeInForce.OPG and phase not in opening:
        problems.add(RejectReason.NOT_IN_THIS_PHASE)
    if cmd.tif is TimeInForce.ATC and phase not in (
        TradingPhase.CONTINUOUS,
        TradingPhase.CLOSING_AUCTION,
    ):
        problems.add(RejectReason.NOT_IN_THIS_PHASE)
    if phase.is_call and cmd.tif in (TimeInForce.IOC, TimeInForce.FOK):
        problems.add(RejectReason.NOT_IN_THIS_PHASE)
    return problems


def _reached(order: RefOrder, last_px: int) -> bool:
    assert order.stop_px is not None
    return order.stop_px <= last_px if order.side is Side.BUY else order.stop_px >= last_px


def _trigger_rank(order: RefOrder) -> tuple[int, int, int]:
    assert order.stop_px is not None
    if order.side is Side.BUY:
        return 0, order.stop_px, order.oid
    return 1, -order.stop_px, order.oid


def _px(order: RefOrder) -> int:
    assert order.px is not None, f"order {order.oid} has no price but is in the book"
    return order.px


def _crosses(taker: RefOrder, resting_px: int) -> bool:
    if taker.px is None:
        return True
    return taker.px >= resting_px if taker.side is Side.BUY else taker.px <= resting_px


def _qty_problems(inst: Instrument, qty: int) -> set[RejectReason]:
    problems: set[RejectReason] = set()
    if qty <= 0:
        problems.add(RejectReason.INVALID_QTY)
    elif qty % inst.lot_size:
        problems.add(RejectReason.QTY_NOT_LOT_MULTIPLE)
    if 0 < qty < inst.min_qty:
        problems.add(RejectReason.QTY_BELOW_MIN)
    if qty > inst.max_qty:
        problems.add(RejectReason.QTY_ABOVE_MAX)
    return problems


def _limit_px_problems(px: int | None) -> set[RejectReason]:
    if px is None:
        return {RejectReason.PRICE_REQUIRED}
    if px <= 0:
        return {RejectReason.INVALID_PRICE}
    return set()
