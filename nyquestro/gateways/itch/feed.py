"""Engine events -> ITCH 5.0 messages with feed sequence numbers.

`ItchFeed.on_events` is a sequencer subscriber: it runs under the sequencer's lock
after each command, so it sees every command's events in the one total order, live and
during recovery's replay alike. What it sends is therefore a function of the events
alone: the same journal gives the same messages with the same sequence numbers.

How book events become order-level messages (docs/itch.md has the table):

- A level event carries the order that changed and its visible quantity after the
  change. An order not on the feed's book appears with Add Order ('A', or 'F' with
  attribution); less visible quantity at the same price is Order Cancel ('X'); zero is
  Order Delete ('D').
- An order that leaves its level and rejoins within the same command (replace that
  loses priority, peg reprice) is one Order Replace ('U') under a new reference.
- A trade executes the resting order: Order Executed ('E'), or 'C' when the trade price
  differs from the displayed one, reducing its displayed shares; the level event that
  follows then already matches. Quantity the feed never displayed (an order whose price
  does not fit Price(4)) is a Non-Displayed Trade ('P'). The engine never fills more
  than an iceberg's visible slice per trade; the replenished slice comes back as an Add
  Order under a new reference, at the back of its level, as Nasdaq shows reserve orders.
- A bust is a Broken Trade ('B'); a correction a Broken Trade then a Non-Cross Trade
  ('P') under the same match number.
- Reference numbers: an order's first appearance uses its engine OrderID (FIX tag 37);
  later appearances use numbers from 2**62 up, counted by the feed, so no reference is
  ever reused.
- Trading phases and halts are Stock Trading Action ('H'): the state a stock shows is
  its halt if halted, else its phase's (`_PHASE_STATE`), sent when it changes. Market
  hours are System Events 'Q' and 'M' (`_phase_changed` has the rule); an auction's
  indicative price is a Net Order Imbalance Indicator ('I').

Thread safety: the feed's own lock guards its book and retention buffer; `on_events`
holds it while changing them, the request server and the snapshot timer hold it while
copying them. `send` is only ever called after letting go of it, because the runtime's
send takes the sequencer's lock, which `on_events` already holds when it wants ours.
"""

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from nyquestro.config.instruments import ConfigError
from nyquestro.domain.commands import Stamped
from nyquestro.domain.enums import Side, TradingPhase
from nyquestro.domain.events import (
    Accepted,
    AuctionIndicative,
    Cancelled,
    EventBase,
    Expired,
    Filled,
    Halted,
    LevelEvent,
    PhaseChanged,
    Resumed,
    Trade,
    TradeAmended,
    TradeCorrected,
)
from nyquestro.domain.instrument import Instrument
from nyquestro.gateways.itch import messages as m
from nyquestro.gateways.itch.book import OrderBook, Resting
from nyquestro.gateways.itch.depth import BBO, TOP_N, encode_depth
from nyquestro.gateways.itch.framing import pack_packets

FEED, DEPTH = "feed", "depth"
"""Keys of what the feed sends: packets of the feed, packets of the snapshot channel."""
REJOIN_REFS = 1 << 62
"""Reference numbers of orders shown again start here, above any engine OrderID."""

_ENDED = (Filled, Cancelled, Expired)
_TRADING = (Halted, Resumed)
_SIDE = {Side.BUY: "B", Side.SELL: "S"}
_PHASE_STATE: dict[TradingPhase, tuple[bytes, bytes]] = {
    # A call takes orders without matching them: ITCH's quotation-only period.
    TradingPhase.PRE_OPEN: (m.QUOTATION_ONLY, m.NO_REASON),
    TradingPhase.OPENING_AUCTION: (m.QUOTATION_ONLY, m.NO_REASON),
    TradingPhase.CONTINUOUS: (m.TRADING, m.NO_REASON),
    TradingPhase.CLOSING_AUCTION: (m.QUOTATION_ONLY, m.NO_REASON),
    # ITCH has no closed state; halted is the one that says "no orders, no trades".
    TradingPhase.POST_CLOSE: (m.HALTED, m.CLOSED),
    TradingPhase.CLOSED: (m.HALTED, m.CLOSED),
}
"""(Trading State, Reason) a stock that is not halted shows in each phase."""
_OPEN = (m.TRADING, m.NO_REASON)
_IMBALANCE = {Side.BUY: m.BUY, Side.SELL: m.SELL}


class RestingOrder(Protocol):
    """An order resting in the engine's book (a snapshot start seeds the feed with them)."""

    @property
    def order_id(self) -> int: ...
    @property
    def session(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> Side: ...
    @property
    def px(self) -> int | None: ...
    @property
    def visible_qty(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Batch:
    """One command's messages, numbered from `first`; the publisher packs consecutive
    batches into MoldUDP64 packets when they leave."""

    first: int
    messages: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Stock:
    locate: int
    symbol: str
    field: bytes
    scale: int
    """Price(4) units per tick."""


class _Order:
    """The feed's view of one live order it has displayed (or attributed)."""

    __slots__ = ("appeared", "mpid", "pending", "ref")

    def __init__(self, mpid: bytes | None) -> None:
        self.ref: int | None = None
        """Its reference while displayed."""
        self.appeared = False
        self.pending = False
        """Left its level earlier in this command and rejoins later in it."""
        self.mpid = mpid


class ItchFeed:
    def __init__(
        self,
        instruments: Iterable[Instrument],
        send: Callable[[str, object], None],
        *,
        session: bytes,
        retain: int = 100_000,
        max_payload: int = 1400,
        attribution: bool = False,
        mpids: dict[str, str] | None = None,
    ) -> None:
        self.session = session
        self._send = send
        self._max_payload = max_payload
        self._attribution = attribution
        self._mpids = {
            client: mpid.encode("ascii").ljust(4) for client, mpid in (mpids or {}).items()
        }
        self.stocks = _stocks(instruments)
        self._by_symbol = {stock.symbol: stock for stock in self.stocks}
        self._lock = threading.Lock()
        self._book = OrderBook()
        self._halted: dict[int, bytes] = {}
        """Locate -> reason code of every halted stock."""
        self._phase = {stock.locate: TradingPhase.CONTINUOUS for stock in self.stocks}
        """Locate -> trading phase (the engine starts every book in continuous trading)."""
        self._continuous = len(self.stocks)
        """Stocks in continuous trading."""
        self._in_hours = len(self.stocks)
        """Stocks in continuous trading or the closing auction: market hours."""
        self._hours = b""
        """The last market-hours System Event sent ('Q' or 'M'), b"" before any."""
        self._closed = 0
        """Stocks in the closed phase: all of them is the end of system hours."""
        self._indicative: dict[int, bytes] = {}
        """Locate -> the last Net Order Imbalance Indicator of a stock in an auction."""
        self._live: dict[int, _Order] = {}
        self._next_rejoin = REJOIN_REFS
        self._ring: list[bytes] = [b""] * retain
        self._next = 1
        """The sequence number the next message gets."""
        self._last_ts = 0
        preamble = [m.pack_system_event(0, 0, 0, m.START_OF_MESSAGES)]
        preamble += [m.pack_stock_directory(s.locate, 0, 0, s.field, 1) for s in self.stocks]
        self._publish(preamble)

    # --- the subscriber -----------------------------------------------------------------

    def on_events(self, command: Stamped, events: Sequence[EventBase]) -> None:
        with self._lock:
            out = self._translate(command, events)
            first = self._number(out)
        self._emit(first, out)

    def seed(
        self,
        orders: Iterable[RestingOrder],
        halted: Iterable[str],
        phases: Mapping[str, TradingPhase] | None = None,
    ) -> None:
        """Start from a venue snapshot: show what rests in its books (each level's orders
        in priority order), its halts and the state of every stock not in continuous
        trading (`phases`: symbol -> phase; None: all continuous)."""
        out: list[bytes] = []
        with self._lock:
            for symbol in halted:
                self._halted[self._by_symbol[symbol].locate] = m.NO_REASON
            for symbol, phase in (phases or {}).items():
                self._phase[self._by_symbol[symbol].locate] = phase
            phase_of = self._phase.values()
            self._continuous = sum(1 for p in phase_of if p is TradingPhase.CONTINUOUS)
            self._in_hours = sum(1 for p in phase_of if _in_market_hours(p))
            self._closed = sum(1 for p in phase_of if p is TradingPhase.CLOSED)
            for stock in self.stocks:
                shown, reason = self._shown(stock.locate)
                if (shown, reason) != _OPEN:
                    out.append(
                        m.pack_trading_action(stock.locate, 0, 0, stock.field, shown, reason)
                    )
            for order in orders:
                stock = self._by_symbol[order.symbol]
                if order.px is None:
                    continue
                state = self._live[order.order_id] = _Order(self._mpid_of(order.session))
                self._show(
                    state,
                    order.order_id,
                    stock,
                    _SIDE[order.side],
                    order.px,
                    order.visible_qty,
                    0,
                    0,
                    out,
                )
            first = self._number(out)
        self._emit(first, out)

    def end_of_messages(self) -> None:
        """System Event 'C': nothing follows in this session (at a clean stop)."""
        self._publish([m.pack_system_event(0, 0, self._last_ts, m.END_OF_MESSAGES)])

    # --- what the request server and the timers read ------------------------------------

    @property
    def next_seq(self) -> int:
        return self._next

    def retained(self, first: int, count: int) -> tuple[int, list[bytes]]:
        """Messages `first`.. (at most `count`) still retained; the first one's number."""
        with self._lock:
            oldest = max(1, self._next - len(self._ring))
            start = max(first, oldest)
            stop = min(first + count, self._next)
            size = len(self._ring)
            return start, [self._ring[seq % size] for seq in range(start, stop)]

    def book_snapshot(self) -> tuple[int, list[bytes]]:
        """The displayed book as Stock Trading Action (every stock not plainly trading),
        Add Order and Net Order Imbalance Indicator (the last of each stock in an auction)
        messages, and the sequence number of the last message it reflects."""
        with self._lock:
            seq, ts = self._next - 1, self._last_ts
            states = [
                (stock.locate, self._shown(stock.locate))
                for stock in self.stocks
                if stock.locate in self._halted
                or self._phase[stock.locate] is not TradingPhase.CONTINUOUS
            ]
            orders = list(self._book.orders.items())
            imbalances = [self._indicative[locate] for locate in sorted(self._indicative)]
        # Encoded outside the lock: the copies are immutable, the engine need not wait.
        out = [
            m.pack_trading_action(locate, 0, ts, self.stocks[locate - 1].field, state, reason)
            for locate, (state, reason) in states
            if (state, reason) != _OPEN
        ]
        for ref, o in orders:
            mpid = None if o.attribution is None else o.attribution.encode("ascii")
            out.append(
                m.pack_add_order(
                    o.locate,
                    0,
                    ts,
                    ref,
                    o.side.encode("ascii"),
                    o.shares,
                    self.stocks[o.locate - 1].field,
                    o.price,
                    mpid,
                )
            )
        return seq, out + imbalances

    def depth_packets(self, levels: int) -> list[bytes]:
        """Best bid and offer and the best `levels` per side of every stock, in MoldUDP64
        packets stamped with the sequence number of the last message they reflect."""
        out = []
        with self._lock:
            seq, ts = self._next - 1, self._last_ts
            for stock in self.stocks:
                bids = tuple(self._book.levels(stock.locate, "B", levels))
                asks = tuple(self._book.levels(stock.locate, "S", levels))
                out.append(encode_depth(stock.locate, ts, BBO, bids[:1], asks[:1]))
                out.append(encode_depth(stock.locate, ts, TOP_N, bids, asks))
        return pack_packets(self.session, seq, out, self._max_payload)

    def send_depth(self, levels: int) -> None:
        self._send(DEPTH, tuple(self.depth_packets(levels)))

    # --- translation --------------------------------------------------------------------

    def _translate(self, command: Stamped, events: Sequence[EventBase]) -> list[bytes]:
        out: list[bytes] = []
        tracking = command.seq & 0xFFFF
        ts = command.ts % m.NANOS_PER_DAY
        self._last_ts = ts
        rejoining: set[int] | None = None  # worked out at the first removal, if any
        ended: list[int] = []
        for i, event in enumerate(events):
            if isinstance(event, LevelEvent):
                if event.order_qty == 0 and rejoining is None:
                    rejoining = _rejoining(events)
                self._level(event, rejoining is not None and i in rejoining, tracking, ts, out)
            elif isinstance(event, Trade):
                self._trade(event, tracking, ts, out)
            elif isinstance(event, TradeAmended):
                self._amended(event, tracking, ts, out)
            elif isinstance(event, _ENDED):
                ended.append(event.order_id)
            elif isinstance(event, Accepted):
                if self._attribution:
                    self._live[event.order_id] = _Order(self._mpid_of(event.session))
            elif isinstance(event, _TRADING):
                self._trading_action(event, tracking, ts, out)
            elif isinstance(event, PhaseChanged):
                self._phase_changed(event, tracking, ts, out)
            elif isinstance(event, AuctionIndicative):
                self._imbalance(event, tracking, ts, out)
        for order_id in ended:
            self._live.pop(order_id, None)
        return out

    def _level(
        self, event: LevelEvent, rejoins: bool, tracking: int, ts: int, out: list[bytes]
    ) -> None:
        state = self._live.get(event.order_id)
        ref = None if state is None else state.ref
        stock = self._by_symbol[event.symbol]
        if event.order_qty == 0:
            if state is None or ref is None:
                return  # executed down to nothing: ITCH clients already removed it
            if rejoins:
                state.pending = True
                return
            self._remove(state, ref, stock, tracking, ts, out)
            return
        if state is None:
            state = self._live[event.order_id] = _Order(None)
        if ref is None:
            self._show(
                state,
                event.order_id,
                stock,
                _SIDE[event.side],
                event.px,
                event.order_qty,
                tracking,
                ts,
                out,
            )
            return
        shown = self._book.orders[ref]
        price = _price(stock, event.px)
        if price is None or event.order_qty > m.MAX_U32:
            self._remove(state, ref, stock, tracking, ts, out)
        elif state.pending or price != shown.price or event.order_qty > shown.shares:
            new_ref = self._next_rejoin
            self._next_rejoin += 1
            state.ref, state.pending = new_ref, False
            self._book.replace(ref, new_ref, event.order_qty, price)
            out.append(
                m.pack_replace(stock.locate, tracking, ts, ref, new_ref, event.order_qty, price)
            )
        elif event.order_qty < shown.shares:
            self._book.reduce(ref, shown.shares - event.order_qty)
            out.append(
                m.pack_cancel(stock.locate, tracking, ts, ref, shown.shares - event.order_qty)
            )

    def _show(
        self,
        state: _Order,
        order_id: int,
        stock: Stock,
        side: str,
        px: int,
        qty: int,
        tracking: int,
        ts: int,
        out: list[bytes],
    ) -> None:
        price = _price(stock, px)
        if price is None or qty > m.MAX_U32:
            return  # cannot be written in ITCH: trades against it go out as 'P'
        if state.appeared:
            ref = self._next_rejoin
            self._next_rejoin += 1
        else:
            ref = order_id
        state.ref, state.appeared, state.pending = ref, True, False
        mpid = state.mpid
        self._book.add(
            ref,
            Resting(stock.locate, side, price, qty, None if mpid is None else mpid.decode("ascii")),
        )
        out.append(
            m.pack_add_order(
                stock.locate, tracking, ts, ref, side.encode("ascii"), qty, stock.field, price, mpid
            )
        )

    def _remove(
        self, state: _Order, ref: int, stock: Stock, tracking: int, ts: int, out: list[bytes]
    ) -> None:
        self._book.delete(ref)
        state.ref, state.pending = None, False
        out.append(m.pack_delete(stock.locate, tracking, ts, ref))

    def _trade(self, trade: Trade, tracking: int, ts: int, out: list[bytes]) -> None:
        buyer_rests = trade.aggressor_side is Side.SELL
        maker = trade.buy_order_id if buyer_rests else trade.sell_order_id
        state = self._live.get(maker)
        stock = self._by_symbol[trade.symbol]
        price = _price(stock, trade.px)
        hidden: int = trade.qty
        if state is not None and state.ref is not None:
            ref = state.ref
            shown = self._book.orders[ref]
            executed = min(trade.qty, shown.shares)
            hidden -= executed
            if price == shown.price:
                out.append(
                    m.pack_executed(stock.locate, tracking, ts, ref, executed, trade.trade_id)
                )
            else:
                out.append(
                    m.pack_executed_with_price(
                        stock.locate,
                        tracking,
                        ts,
                        ref,
                        executed,
                        trade.trade_id,
                        shown.price if price is None else price,
                    )
                )
            if self._book.reduce(ref, executed) is None:
                state.ref = None
        if hidden and price is not None and hidden <= m.MAX_U32:
            side = m.BUY if buyer_rests else m.SELL
            out.append(
                m.pack_trade(
                    stock.locate, tracking, ts, side, hidden, stock.field, price, trade.trade_id
                )
            )

    def _amended(self, event: TradeAmended, tracking: int, ts: int, out: list[bytes]) -> None:
        """A busted trade is a Broken Trade ('B') of its match number. TotalView has no
        correction: a corrected trade is broken, then printed again as a Non-Cross Trade
        ('P', side B as Nasdaq prints them) at its new price and size under the same
        match number, so a reader keyed by match number ends with the corrected trade."""
        stock = self._by_symbol[event.symbol]
        out.append(m.pack_broken_trade(stock.locate, tracking, ts, event.trade_id))
        price = _price(stock, event.px)
        if isinstance(event, TradeCorrected) and price is not None:
            out.append(m.pack_trade(stock.locate, tracking, ts, m.BUY, event.qty, stock.field,
                                    price, event.trade_id))  # fmt: skip

    def _trading_action(
        self, event: Halted | Resumed, tracking: int, ts: int, out: list[bytes]
    ) -> None:
        stock = self._by_symbol[event.symbol]
        if isinstance(event, Halted):
            # ITCH reasons are codes: the circuit breaker is a volatility pause ("LUDP");
            # an operator's free-text reason has no code, so it goes blank.
            reason = b"LUDP" if event.reason.startswith("circuit breaker") else b"    "
            self._halted[stock.locate] = reason
            out.append(
                m.pack_trading_action(stock.locate, tracking, ts, stock.field, m.HALTED, reason)
            )
        else:
            # Resumed into its phase: a stock halted during a call resumes quotation only.
            self._halted.pop(stock.locate, None)
            state, reason = _PHASE_STATE[self._phase[stock.locate]]
            out.append(
                m.pack_trading_action(stock.locate, tracking, ts, stock.field, state, reason)
            )

    def _phase_changed(self, event: PhaseChanged, tracking: int, ts: int, out: list[bytes]) -> None:
        """A stock's new phase: its Stock Trading Action if the state it shows changes
        (a halted stock keeps showing its halt), and the market-hours System Events.

        'Q' (start of market hours) when a stock enters continuous trading while none is
        in it. 'M' (end of market hours) when the last stock leaves continuous trading and
        the closing auction, if a 'Q' started the hours or a closing auction just ended
        (a venue starts in continuous trading without a 'Q'; its first move to pre-open
        ends nothing). Neither follows itself: one 'Q', then one 'M'."""
        stock = self._by_symbol[event.symbol]
        locate = stock.locate
        old, new = self._phase[locate], event.phase
        if new is old:
            return
        self._phase[locate] = new
        self._indicative.pop(locate, None)  # it was for the auction that ended
        # System hours: 'S' when a stock leaves the closed phase while all were closed,
        # 'E' when the last one enters it.
        if old is TradingPhase.CLOSED:
            if self._closed == len(self.stocks):
                out.append(m.pack_system_event(0, tracking, ts, m.START_OF_SYSTEM_HOURS))
            self._closed -= 1
        if new is TradingPhase.CONTINUOUS:
            if self._continuous == 0 and self._hours != m.START_OF_MARKET_HOURS:
                self._hours = m.START_OF_MARKET_HOURS
                out.append(m.pack_system_event(0, tracking, ts, m.START_OF_MARKET_HOURS))
            self._continuous += 1
        elif old is TradingPhase.CONTINUOUS:
            self._continuous -= 1
        left_hours = _in_market_hours(old) and not _in_market_hours(new)
        if left_hours:
            self._in_hours -= 1
        elif _in_market_hours(new) and not _in_market_hours(old):
            self._in_hours += 1
        state, reason = _PHASE_STATE[new]
        if locate not in self._halted and (state, reason) != _PHASE_STATE[old]:
            out.append(m.pack_trading_action(locate, tracking, ts, stock.field, state, reason))
        if (
            left_hours
            and self._in_hours == 0
            and self._hours != m.END_OF_MARKET_HOURS
            and (self._hours == m.START_OF_MARKET_HOURS or old is TradingPhase.CLOSING_AUCTION)
        ):
            self._hours = m.END_OF_MARKET_HOURS
            out.append(m.pack_system_event(0, tracking, ts, m.END_OF_MARKET_HOURS))
        if new is TradingPhase.CLOSED:
            self._closed += 1
            if self._closed == len(self.stocks):
                out.append(m.pack_system_event(0, tracking, ts, m.END_OF_SYSTEM_HOURS))

    def _imbalance(
        self, event: AuctionIndicative, tracking: int, ts: int, out: list[bytes]
    ) -> None:
        """Net Order Imbalance Indicator: paired shares, imbalance and the price the
        auction would uncross at now (far = near = reference: the engine has one)."""
        stock = self._by_symbol[event.symbol]
        price = None if event.px is None else _price(stock, event.px)
        if event.px is None:
            direction = m.INSUFFICIENT_ORDERS
        elif event.imbalance_side is None:
            direction = m.NO_IMBALANCE
        else:
            direction = _IMBALANCE[event.imbalance_side]
        cross = (
            m.CLOSING_CROSS
            if self._phase[stock.locate] is TradingPhase.CLOSING_AUCTION
            else m.OPENING_CROSS
        )
        # Near price = reference price, a deviation of 0%: "L", unless there is no price
        # (or it does not fit Price(4)), which the spec calls "cannot be calculated".
        variation = m.VARIATION_UNKNOWN if price is None else m.VARIATION_UNDER_1PCT
        message = m.pack_noii(
            stock.locate,
            tracking,
            ts,
            event.qty,
            event.imbalance_qty,
            direction,
            stock.field,
            0 if price is None else price,
            cross,
            variation,
        )
        self._indicative[stock.locate] = message
        out.append(message)

    def _shown(self, locate: int) -> tuple[bytes, bytes]:
        """(Trading State, Reason) a stock shows now: its halt, else its phase's."""
        reason = self._halted.get(locate)
        if reason is not None:
            return m.HALTED, reason
        return _PHASE_STATE[self._phase[locate]]

    def _mpid_of(self, session: str) -> bytes | None:
        if not self._attribution:
            return None
        client = session.rpartition("->")[2]
        mpid = self._mpids.get(client)
        return mpid if mpid is not None else client.encode("ascii", "replace")[:4].ljust(4)

    # --- numbering and retention --------------------------------------------------------

    def _publish(self, out: list[bytes]) -> None:
        with self._lock:
            first = self._number(out)
        self._emit(first, out)

    def _number(self, out: list[bytes]) -> int:
        """Give `out` the next sequence numbers and retain it (under the lock): a book
        snapshot taken after this reflects exactly the messages numbered so far."""
        first = self._next
        ring, size = self._ring, len(self._ring)
        for i, message in enumerate(out):
            ring[(first + i) % size] = message
        self._next = first + len(out)
        return first

    def _emit(self, first: int, out: list[bytes]) -> None:
        if out:
            self._send(FEED, Batch(first, tuple(out)))


def _rejoining(events: Sequence[EventBase]) -> set[int]:
    """Indices of level events taking an order off its level that shows it again later
    in the same command."""
    later: set[int] = set()
    found: set[int] = set()
    for i in range(len(events) - 1, -1, -1):
        event = events[i]
        if isinstance(event, LevelEvent):
            if event.order_qty:
                later.add(event.order_id)
            elif event.order_id in later:
                found.add(i)
    return found


def _in_market_hours(phase: TradingPhase) -> bool:
    return phase is TradingPhase.CONTINUOUS or phase is TradingPhase.CLOSING_AUCTION


def _price(stock: Stock, px: int) -> int | None:
    price = px * stock.scale
    return price if 0 <= price <= m.MAX_U32 else None


def _stocks(instruments: Iterable[Instrument]) -> tuple[Stock, ...]:
    """Stock locate codes: 1, 2, ... in symbol order (ITCH's are Nasdaq's daily index)."""
    stocks = []
    for locate, inst in enumerate(sorted(instruments, key=lambda i: i.symbol), start=1):
        scale = inst.tick_size * Decimal(10) ** m.PRICE_DECIMALS
        if scale != scale.to_integral_value():
            raise ConfigError(
                f"instruments.{inst.symbol}.tick_size",
                inst.tick_size,
                "at most 4 decimal places: the ITCH feed publishes Price(4)",
            )
        if not inst.symbol.isascii() or len(inst.symbol) > 8:
            raise ConfigError(
                f"instruments.{inst.symbol}",
                inst.symbol,
                "at most 8 ASCII characters: the ITCH Stock field",
            )
        stocks.append(Stock(locate, inst.symbol, m.stock_field(inst.symbol), int(scale)))
    return tuple(stocks)
