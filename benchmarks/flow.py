"""A seeded command flow shaped like one ITCH trading day, for the engine benchmark.

The day has two phases:

- warm-up: passive limit orders only, building each book to many resting orders spread
  over a few hundred price levels per side (thin at the touch, thickest a few dozen ticks
  away) around a mid that drifts slowly (a random walk of one tick at a time);
- measured: about 45% adds (passive limit orders, most a few ticks behind the touch, some
  improving the spread, a few deep in the book), 40% cancels of live orders (mostly of
  short-lived quotes near the touch: on a real feed most orders die young), 10% marketable
  orders (crossing DAY limits, IOC limits, market orders; now and then a sweep) and 5%
  replaces (quantity down, which keeps priority, quantity up, or a price move that stays
  passive). Prices are anchored to the live touch, so the mid moves as trades and cancels
  clear price levels and adds improve the spread.

Commands are built lazily, one per `next_op` call, because a cancel must name an order that
is still live and an add must know the touch to stay passive. The flow keeps its own model
of the books (live orders, occupied price levels), updated from the events the engine
returns through `observe`. A benchmark times only `Engine.process`: building a command and
reading its events stay outside the timed region, as they do in production, where a
gateway builds commands and feed handlers read events.

Everything random comes from one `random.Random(seed)` and the engine is deterministic, so a
seed names exactly one command sequence.
"""

import random
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import IntEnum

from sortedcontainers import SortedList

from nyquestro.domain.commands import Cancel, CancelReplace, Command, Configure, NewOrder
from nyquestro.domain.enums import OrdType, Side, TimeInForce
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    CancelRejected,
    EventBase,
    Expired,
    Filled,
    LevelAdded,
    LevelChanged,
    LevelRemoved,
    PartiallyFilled,
    Rejected,
    Replaced,
    Restated,
    Trade,
)
from nyquestro.domain.ids import Account, ClOrdId, Px, Qty, Seq, SessionKey, Symbol, Ts
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.reasons import CancelReason
from nyquestro.domain.risk import AccountRisk

LOT = 100
"""Every quantity is a whole number of round lots, so fills and leaves stay round too."""

_REST_LOTS = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 5, 10)
_TAKE_LOTS = (1, 1, 1, 1, 1, 2, 2, 3)

_DAY_START_NS = 1_767_000_000_000_000_000


RISK_LEVELS = ("none", "limits", "full")
"""none: no limits configured (positions and PnL are kept all the same); limits: every
pre-trade limit on every account and symbol, and a circuit breaker per symbol; full: also
a VaR monitor on every account."""


class OpKind(IntEnum):
    """What a measured-phase command is meant to do (the flow's intent, not the outcome)."""

    ADD = 0
    CANCEL = 1
    MARKETABLE = 2
    REPLACE = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowConfig:
    seed: int = 1
    warmup_orders: int = 120_000
    ops: int = 500_000
    symbols: int = 1
    sessions: int = 64
    """Each session trades for its own account; with many, self-match prevention is rare."""
    add_share: float = 0.45
    cancel_share: float = 0.40
    marketable_share: float = 0.10
    """Replaces take what the three shares leave (5% by default)."""
    start_mid: int = 10_000
    """Ticks; at the 0.01 tick of the instruments below, 100.00."""
    depth_ticks: int = 400
    """How far behind the touch (warm-up: behind the mid) a resting price may be."""
    warmup_distance_mode: float = 60.0
    """Commonest distance (ticks) of a warm-up order from the mid: thin at the touch, humped
    a few dozen ticks away, tapering to `depth_ticks`, as real books look."""
    add_distance_mean: float = 3.0
    """Mean distance (ticks) of a measured-phase add behind the touch: concentrated there."""
    deep_share: float = 0.10
    """Share of adds placed uniformly anywhere within `depth_ticks` instead."""
    improve_share: float = 0.15
    """Share of adds that improve the spread when it is wider than one tick."""
    live_quotes: int = 100
    """Short-lived quotes per symbol left live: a cancel takes the oldest quote beyond
    these, or any live order when there are no more (see `Flow`)."""
    quote_replace_share: float = 0.5
    """Share of replaces aimed at the newest short-lived quote, if it is still live."""
    drift_per_order: float = 0.0002
    """Probability that a warm-up order first moves the mid by one tick."""
    risk: str = "none"
    """Which risk limits a Configure sets before the warm-up: one of `RISK_LEVELS`."""

    def __post_init__(self) -> None:
        shares = (self.add_share, self.cancel_share, self.marketable_share)
        if min(shares) < 0 or sum(shares) > 1:
            raise ValueError(f"op shares must be >= 0 and sum to at most 1, got {shares}")
        if self.symbols < 1 or self.sessions < 1 or self.depth_ticks < 1:
            raise ValueError("symbols, sessions and depth_ticks must be positive")
        if self.warmup_orders < 0 or self.ops < 0:
            raise ValueError("warmup_orders and ops must not be negative")
        if self.risk not in RISK_LEVELS:
            raise ValueError(f"risk must be one of {RISK_LEVELS}, got {self.risk!r}")
        if self.start_mid <= self.depth_ticks + 1:
            raise ValueError("start_mid must leave room for depth_ticks of bids above 0")


@dataclass(slots=True)
class FlowCounts:
    trades: int = 0
    levels_added: int = 0
    levels_removed: int = 0
    self_match_cancels: int = 0
    unexpected_rejects: int = 0
    """Rejects the flow never means to cause: each one is a flow or engine bug."""

    def since(self, earlier: "FlowCounts") -> "FlowCounts":
        """What happened between `earlier` (a copy taken then) and now."""
        return FlowCounts(
            trades=self.trades - earlier.trades,
            levels_added=self.levels_added - earlier.levels_added,
            levels_removed=self.levels_removed - earlier.levels_removed,
            self_match_cancels=self.self_match_cancels - earlier.self_match_cancels,
            unexpected_rejects=self.unexpected_rejects - earlier.unexpected_rejects,
        )


class LiveOrder:
    """The flow's record of one of its orders that the engine still holds."""

    __slots__ = ("cl_ord_id", "cum_qty", "order_id", "px", "qty", "session", "side", "symbol")

    def __init__(self, ev: Accepted) -> None:
        self.order_id: int = ev.order_id
        self.session = ev.session
        self.cl_ord_id = ev.cl_ord_id
        self.symbol = ev.symbol
        self.side = ev.side
        self.px: int | None = ev.px
        self.qty: int = ev.qty
        self.cum_qty = 0


class Flow:
    """Builds the day's commands one at a time and follows the engine's answers."""

    def __init__(self, config: FlowConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self.symbols = tuple(Symbol(f"SYM{i}") for i in range(config.symbols))
        self._sym_index = {sym: i for i, sym in enumerate(self.symbols)}
        self._sessions = tuple(SessionKey(f"S{i:02d}") for i in range(config.sessions))
        self._accounts = tuple(Account(f"ACCT{i:02d}") for i in range(config.sessions))
        self._mid = [config.start_mid + 1_000 * i for i in range(config.symbols)]
        self._bid_levels = [SortedList() for _ in self.symbols]
        self._ask_levels = [SortedList() for _ in self.symbols]
        self.live: dict[int, LiveOrder] = {}
        # `_ids` and `_pos` give a uniform random pick of a live order in O(1) and removal
        # by swapping with the last entry: both stay deterministic.
        self._ids: list[int] = []
        self._pos: dict[int, int] = {}
        # Near-touch adds of the measured phase are short-lived quotes: cancels take the
        # oldest while more than `live_quotes` are queued, so the queues at the touch stay a
        # few orders to a few dozen long, while the deep book from the warm-up changes
        # slowly. A fixed share of quote cancels does not hold that balance: depending on
        # the fills, the touch then piles up to thousands of orders or drains to nothing.
        self._quotes: deque[int] = deque()
        self._next_is_quote = False
        self._seq = 0
        self._ts = _DAY_START_NS
        self._cl = 0
        self.counts = FlowCounts()
        """What the engine did with the flow so far, for the report."""
        cut = config.add_share
        self._add_cut = cut
        cut += config.cancel_share
        self._cancel_cut = cut
        self._marketable_cut = cut + config.marketable_share
        self._add_rate = 1.0 / config.add_distance_mean
        self._quote_floor = config.live_quotes * config.symbols

    def instruments(self) -> list[Instrument]:
        return [
            Instrument(symbol=sym, tick_size=Decimal("0.01"), max_qty=Qty(10_000_000))
            for sym in self.symbols
        ]

    def setup(self) -> list[Command]:
        """The commands before the warm-up: unless `risk` is "none", one Configure setting
        limits that the flow never reaches, so that no decision changes but every check
        is made.

        Each instrument gets a price band (percent and ticks), a notional limit and a
        circuit breaker; each account position limits both ways and a gross notional
        limit, so every order meets every pre-trade check and every trade feeds the
        breaker. With "full", each account also gets a VaR monitor: every trade then
        samples the PnL of every account holding the symbol.
        """
        risk = self.config.risk
        if risk == "none":
            return []
        instruments = tuple(
            replace(
                inst,
                price_band_pct=Decimal(50),
                price_band_ticks=self.config.start_mid,
                max_notional=Decimal(10**9),
                max_price_variance=Decimal(10**4),
            )
            for inst in self.instruments()
        )
        accounts = tuple(
            AccountRisk(
                account=account,
                max_long=Qty(10**12),
                max_short=Qty(10**12),
                max_gross_notional=Decimal(10**15),
                max_pnl_variance=Decimal(10**7) if risk == "full" else None,
            )
            for account in self._accounts
        )
        return [
            Configure(
                seq=self._next_seq(), ts=Ts(self._ts), instruments=instruments, accounts=accounts
            )
        ]

    # --- the book as the flow sees it ---------------------------------------------------

    def best_bid(self, sym: int) -> int | None:
        levels = self._bid_levels[sym]
        return levels[-1] if levels else None

    def best_ask(self, sym: int) -> int | None:
        levels = self._ask_levels[sym]
        return levels[0] if levels else None

    # --- warm-up ------------------------------------------------------------------------

    def warmup(self) -> Iterator[NewOrder]:
        """The warm-up adds, passive by construction: they stay so even if nobody observes.

        Without cancels or trades, a side's best price is the best price placed on it so
        far; the benchmark's memory step relies on this to build the book with no flow-side
        bookkeeping.
        """
        cfg = self.config
        rng = self._rng
        n = len(self.symbols)
        hi_bid: list[int | None] = [None] * n
        lo_ask: list[int | None] = [None] * n
        depth = cfg.depth_ticks
        mode = min(cfg.warmup_distance_mode, depth)
        for _ in range(cfg.warmup_orders):
            sym = rng.randrange(n)
            if rng.random() < cfg.drift_per_order:
                self._mid[sym] += 1 if rng.random() < 0.5 else -1
            distance = int(rng.triangular(0, depth, mode))
            if rng.random() < 0.5:
                px = max(self._mid[sym] - 1 - distance, 1)
                ask = lo_ask[sym]
                if ask is not None and px >= ask:
                    px = ask - 1
                bid = hi_bid[sym]
                hi_bid[sym] = px if bid is None or px > bid else bid
                yield self._new_order(sym, Side.BUY, px, self._rest_qty())
            else:
                px = self._mid[sym] + 1 + distance
                bid = hi_bid[sym]
                if bid is not None and px <= bid:
                    px = bid + 1
                ask = lo_ask[sym]
                lo_ask[sym] = px if ask is None or px < ask else ask
                yield self._new_order(sym, Side.SELL, px, self._rest_qty())

    # --- measured phase -----------------------------------------------------------------

    def next_op(self) -> tuple[OpKind, Command]:
        """The next measured-phase command and what it is meant to do."""
        self._next_is_quote = False
        r = self._rng.random()
        if r >= self._add_cut and self._ids:
            if r < self._cancel_cut:
                return OpKind.CANCEL, self._cancel(self._pick_for_cancel())
            if r >= self._marketable_cut:
                return OpKind.REPLACE, self._replace(self._pick_for_replace())
            taker = self._marketable()
            if taker is not None:
                return OpKind.MARKETABLE, taker
        # Nothing to cancel or nothing to trade against: an add is what a real day does then.
        return OpKind.ADD, self._add()

    def observe(self, events: Iterable[EventBase]) -> None:
        """Follow one command's events: which orders live, at what price, which levels exist."""
        live = self.live
        counts = self.counts
        for ev in events:
            if isinstance(ev, LevelChanged):
                continue
            if isinstance(ev, Trade):
                counts.trades += 1
            elif isinstance(ev, LevelAdded):
                sym = self._sym_index[ev.symbol]
                levels = self._bid_levels if ev.side is Side.BUY else self._ask_levels
                levels[sym].add(ev.px)
                counts.levels_added += 1
            elif isinstance(ev, LevelRemoved):
                sym = self._sym_index[ev.symbol]
                levels = self._bid_levels if ev.side is Side.BUY else self._ask_levels
                levels[sym].remove(ev.px)
                counts.levels_removed += 1
            elif isinstance(ev, Accepted):
                self._track(LiveOrder(ev))
                if self._next_is_quote:
                    self._quotes.append(ev.order_id)
            elif isinstance(ev, Filled | Expired):
                self._drop(ev.order_id)
            elif isinstance(ev, Cancelled):
                self._drop(ev.order_id)
                if ev.reason is CancelReason.SELF_MATCH:
                    counts.self_match_cancels += 1
            elif isinstance(ev, PartiallyFilled):
                live[ev.order_id].cum_qty = ev.cum_qty
            elif isinstance(ev, Replaced):
                order = live[ev.order_id]
                order.cl_ord_id = ev.cl_ord_id
                order.px = ev.px
                order.qty = ev.qty
            elif isinstance(ev, Restated):
                order = live[ev.order_id]
                order.px = ev.px
                order.qty = ev.qty
            elif isinstance(ev, Rejected | CancelRejected):
                counts.unexpected_rejects += 1

    # --- command builders ---------------------------------------------------------------

    def _add(self) -> NewOrder:
        cfg = self.config
        rng = self._rng
        sym = rng.randrange(len(self.symbols))
        bid = self.best_bid(sym)
        ask = self.best_ask(sym)
        distance, self._next_is_quote = self._add_distance()
        improve = bid is not None and ask is not None and ask - bid > 1
        improve = improve and rng.random() < cfg.improve_share
        if rng.random() < 0.5:
            if bid is None:
                px = (self._mid[sym] if ask is None else ask) - 1 - distance
            elif improve:
                px = bid + 1
            else:
                px = bid - distance
            return self._new_order(sym, Side.BUY, max(px, 1), self._rest_qty())
        if ask is None:
            px = (self._mid[sym] if bid is None else bid) + 1 + distance
        elif improve:
            px = ask - 1
        else:
            px = ask + distance
        return self._new_order(sym, Side.SELL, px, self._rest_qty())

    def _marketable(self) -> NewOrder | None:
        rng = self._rng
        sym = rng.randrange(len(self.symbols))
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        touch = self.best_ask(sym) if side is Side.BUY else self.best_bid(sym)
        if touch is None:
            return None
        # Now and then a large order sweeps several levels.
        lots = rng.randint(10, 40) if rng.random() < 0.02 else rng.choice(_TAKE_LOTS)
        sign = 1 if side is Side.BUY else -1
        u = rng.random()
        if u < 0.5:
            px = touch + sign * rng.randint(0, 2)
            return self._new_order(sym, side, max(px, 1), lots * LOT)
        if u < 0.8:
            px = touch + sign * rng.randint(0, 1)
            return self._new_order(sym, side, max(px, 1), lots * LOT, tif=TimeInForce.IOC)
        return self._new_order(sym, side, None, lots * LOT, ord_type=OrdType.MARKET)

    def _cancel(self, order: LiveOrder) -> Cancel:
        return Cancel(
            seq=self._next_seq(),
            ts=self._next_ts(),
            session=order.session,
            cl_ord_id=self._next_cl_ord_id(),
            orig_cl_ord_id=order.cl_ord_id,
        )

    def _replace(self, order: LiveOrder) -> CancelReplace:
        rng = self._rng
        px = order.px
        assert px is not None, "the flow only rests limit orders"
        qty = order.qty
        leaves = qty - order.cum_qty
        u = rng.random()
        if u < 0.5 and leaves >= 2 * LOT:
            qty -= LOT * rng.randint(1, leaves // LOT - 1)
        elif u < 0.75:
            sym = self._sym_index[order.symbol]
            step = rng.randint(1, 3) * (1 if rng.random() < 0.5 else -1)
            if order.side is Side.BUY:
                ask = self.best_ask(sym)
                new_px = max(px + step, 1)
                if ask is not None and new_px >= ask:
                    new_px = ask - 1
            else:
                bid = self.best_bid(sym)
                new_px = px + step
                if bid is not None and new_px <= bid:
                    new_px = bid + 1
            if new_px == px:
                qty += LOT
            px = new_px
        else:
            qty += LOT * rng.randint(1, 3)
        return CancelReplace(
            seq=self._next_seq(),
            ts=self._next_ts(),
            session=order.session,
            cl_ord_id=self._next_cl_ord_id(),
            orig_cl_ord_id=order.cl_ord_id,
            qty=Qty(qty),
            px=Px(px),
            side=order.side,
        )

    def _new_order(
        self,
        sym: int,
        side: Side,
        px: int | None,
        qty: int,
        *,
        ord_type: OrdType = OrdType.LIMIT,
        tif: TimeInForce = TimeInForce.DAY,
    ) -> NewOrder:
        who = self._rng.randrange(len(self._sessions))
        return NewOrder(
            seq=self._next_seq(),
            ts=self._next_ts(),
            session=self._sessions[who],
            account=self._accounts[who],
            cl_ord_id=self._next_cl_ord_id(),
            symbol=self.symbols[sym],
            side=side,
            qty=Qty(qty),
            ord_type=ord_type,
            px=None if px is None else Px(px),
            tif=tif,
        )

    # --- helpers ------------------------------------------------------------------------

    def _add_distance(self) -> tuple[int, bool]:
        """Ticks behind the touch, and whether the order is a short-lived quote.

        Quotes sit near the touch (exponential distance) and are cancelled young; deep
        orders stay until a uniform cancel or a sweep finds them.
        """
        rng = self._rng
        depth = self.config.depth_ticks
        if rng.random() < self.config.deep_share:
            return rng.randrange(depth), False
        distance = int(rng.expovariate(self._add_rate))
        return (distance, True) if distance < depth else (rng.randrange(depth), False)

    def _rest_qty(self) -> int:
        return LOT * self._rng.choice(_REST_LOTS)

    def _pick_for_cancel(self) -> LiveOrder:
        quotes = self._quotes
        live = self.live
        # Entries of quotes that traded or were cancelled meanwhile are dropped on the way.
        while len(quotes) > self._quote_floor:
            order = live.get(quotes.popleft())
            if order is not None:
                return order
        return self._pick_any()

    def _pick_for_replace(self) -> LiveOrder:
        if self._quotes and self._rng.random() < self.config.quote_replace_share:
            order = self.live.get(self._quotes[-1])
            if order is not None:
                return order
        return self._pick_any()

    def _pick_any(self) -> LiveOrder:
        return self.live[self._ids[self._rng.randrange(len(self._ids))]]

    def _track(self, order: LiveOrder) -> None:
        oid = order.order_id
        self.live[oid] = order
        self._pos[oid] = len(self._ids)
        self._ids.append(oid)

    def _drop(self, oid: int) -> None:
        if self.live.pop(oid, None) is None:
            return
        at = self._pos.pop(oid)
        last = self._ids.pop()
        if last != oid:
            self._ids[at] = last
            self._pos[last] = at

    def _next_seq(self) -> Seq:
        self._seq += 1
        return Seq(self._seq)

    def _next_ts(self) -> Ts:
        # About 30k messages a second: a busy symbol's pace on a real feed.
        self._ts += 1 + self._rng.getrandbits(16)
        return Ts(self._ts)

    def _next_cl_ord_id(self) -> ClOrdId:
        self._cl += 1
        return ClOrdId(f"c{self._cl}")
