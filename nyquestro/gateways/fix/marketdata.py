"""FIX market data: depth folded from level events, snapshots (W) and incrementals (X).

A full-depth subscription (MarketDepth 0) forwards every level event as one X entry. A
top-N subscription keeps what it last sent and, after each command that touched its
symbol, sends the difference (new / change / delete per price), so a client's top-N book
stays exact without seeing levels outside it. Sizes are visible sizes only: iceberg
reserves never appear.

During the opening and closing auctions the indicative price and imbalance are entries
too (docs/phases.md, "FIX market data: the indicative price"): no FIX 4.2/4.4 entry type
means "indicative auction price", so the call's own price type carries it, marked as
not final, and 4.4's Imbalance entry the surplus.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from nyquestro.codec.prices import DecimalPrices
from nyquestro.domain.enums import Side, TradingPhase
from nyquestro.domain.events import (
    AuctionIndicative,
    EventBase,
    LevelAdded,
    LevelEvent,
    LevelRemoved,
    PhaseChanged,
    Trade,
)
from nyquestro.domain.ids import SessionKey
from nyquestro.gateways.fix.dialect import FIX42, FIX44, tag
from nyquestro.gateways.fix.message import Group, OutMessage
from nyquestro.gateways.fix.spec import ENUMS

MD_REQ_ID = tag("MDReqID")
NO_MD_ENTRIES = tag("NoMDEntries")
MD_ENTRY_TYPE = tag("MDEntryType")
MD_ENTRY_PX = tag("MDEntryPx")
MD_ENTRY_SIZE = tag("MDEntrySize")
MD_UPDATE_ACTION = tag("MDUpdateAction")
SYMBOL = tag("Symbol")
TRADE_CONDITION = tag("TradeCondition")
OPEN_CLOSE_SETTL_FLAG = tag("OpenCloseSettlFlag")
"""286: OpenCloseSettleFlag in 4.2, OpenCloseSettlFlag in 4.4 (only 4.4's is sent)."""
TEXT = tag("Text")

BID, OFFER, TRADE = "0", "1", "2"
ENTRY_OF_SIDE = {Side.BUY: BID, Side.SELL: OFFER}
NEW, CHANGE, DELETE = "0", "1", "2"

# Looked up by name in the generated tables, so a value the dictionaries lack fails here,
# at import, not in a client's validation.
OPENING_PRICE = ENUMS[FIX42]["MDEntryType"]["OPENING_PRICE"]
CLOSING_PRICE = ENUMS[FIX42]["MDEntryType"]["CLOSING_PRICE"]
IMBALANCE = ENUMS[FIX44]["MDEntryType"]["IMBALANCE"]
"""4.4 only: 4.2's MDEntryType ends at 9."""
THEORETICAL = ENUMS[FIX44]["OpenCloseSettlFlag"]["THEORETICAL_PRICE_VALUE"]
"""4.4's mark that a price entry is not (yet) a real one; 4.2's 286 has no such value."""
MORE_BUYERS = ENUMS[FIX44]["TradeCondition"]["IMBALANCE_MORE_BUYERS"]
MORE_SELLERS = ENUMS[FIX44]["TradeCondition"]["IMBALANCE_MORE_SELLERS"]
IMBALANCE_CONDITION = {Side.BUY: MORE_BUYERS, Side.SELL: MORE_SELLERS}
PRICE_OF_CALL = {
    TradingPhase.OPENING_AUCTION: OPENING_PRICE,
    TradingPhase.CLOSING_AUCTION: CLOSING_PRICE,
}
ENTRY_TYPES = {
    FIX42: frozenset({BID, OFFER, TRADE, OPENING_PRICE, CLOSING_PRICE}),
    FIX44: frozenset({BID, OFFER, TRADE, OPENING_PRICE, CLOSING_PRICE, IMBALANCE}),
}
"""The MDEntryTypes a MarketDataRequest may ask for, per version."""

Key = tuple[str, int]
"""(entry type, price in ticks)"""


@dataclass(slots=True)
class Subscription:
    session: SessionKey
    md_req_id: str
    symbols: tuple[str, ...]
    depth: int
    """0: full book; N: the best N levels per side."""
    entry_types: frozenset[str]
    begin_string: str
    """The session's FIX version: the indicative entries differ (see `_indicative`)."""
    sent: dict[str, dict[Key, int]] = field(default_factory=dict)
    """Per symbol, what the client's top-N book holds now (top-N subscriptions only)."""


class Depth:
    """Visible quantity per price, per side, per symbol."""

    def __init__(self) -> None:
        self._levels: dict[tuple[str, Side], dict[int, int]] = {}

    def apply(self, event: LevelEvent) -> None:
        levels = self._levels.setdefault((event.symbol, event.side), {})
        if isinstance(event, LevelRemoved):
            levels.pop(event.px, None)
        else:
            levels[event.px] = event.qty

    def top(self, symbol: str, side: Side, depth: int) -> list[tuple[int, int]]:
        levels = self._levels.get((symbol, side), {})
        ordered = sorted(levels.items(), reverse=side is Side.BUY)
        return ordered if depth == 0 else ordered[:depth]


@dataclass(frozen=True, slots=True)
class Indicative:
    """Where a symbol in an auction call would uncross now (`AuctionIndicative` with a
    price), and which auction it is."""

    price_type: str
    """OPENING_PRICE or CLOSING_PRICE: the MDEntryType that carries the price."""
    px: int
    qty: int
    imbalance_qty: int
    imbalance_side: Side | None


MarketDataState = tuple[Depth, dict[str, tuple[int, int]], dict[str, Indicative]]
"""Book depth, last trade and indicative per symbol (snapshots)."""


class MarketData:
    def __init__(self, prices: DecimalPrices, phase_of: Callable[[str], TradingPhase]) -> None:
        """`phase_of`: a symbol's phase as the gateway folded it (trading_status.py), read
        after a command's events are folded, to tell the opening call from the closing."""
        self._prices = prices
        self._phase_of = phase_of
        self._depth = Depth()
        self._last_trade: dict[str, tuple[int, int]] = {}
        self._indicative: dict[str, Indicative] = {}
        self._subs: dict[tuple[SessionKey, str], Subscription] = {}

    def export_state(self) -> MarketDataState:
        """What a snapshot keeps (subscriptions die with connections)."""
        return self._depth, self._last_trade, self._indicative

    def restore_state(
        self, state: MarketDataState | tuple[Depth, dict[str, tuple[int, int]]]
    ) -> None:
        # A snapshot taken before indicatives were kept has two parts: none is published
        # until the engine's next change, as after a call's start.
        if len(state) == 3:
            self._depth, self._last_trade, self._indicative = state
        else:
            (self._depth, self._last_trade), self._indicative = state, {}

    def has(self, session: SessionKey, md_req_id: str) -> bool:
        return (session, md_req_id) in self._subs

    def snapshot(self, sub: Subscription, symbol: str) -> OutMessage:
        entries = []
        current: dict[Key, int] = {}
        for side in (Side.BUY, Side.SELL):
            entry_type = ENTRY_OF_SIDE[side]
            if entry_type not in sub.entry_types:
                continue
            for px, qty in self._depth.top(symbol, side, sub.depth):
                entries.append(self._entry(entry_type, symbol, px, qty))
                current[(entry_type, px)] = qty
        last = self._last_trade.get(symbol)
        if TRADE in sub.entry_types and last is not None:
            entries.append(self._entry(TRADE, symbol, *last))
        for entry_type, fields in self._indicative_entries(
            sub, symbol, self._indicative.get(symbol)
        ):
            entries.append([(MD_ENTRY_TYPE, entry_type), *fields])
        sub.sent[symbol] = current
        return OutMessage(
            "W",
            [(MD_REQ_ID, sub.md_req_id), (SYMBOL, symbol)],
            [Group(NO_MD_ENTRIES, MD_ENTRY_TYPE, entries)],
        )

    def subscribe(self, sub: Subscription) -> None:
        self._subs[(sub.session, sub.md_req_id)] = sub

    def unsubscribe(self, session: SessionKey, md_req_id: str) -> bool:
        return self._subs.pop((session, md_req_id), None) is not None

    def drop_session(self, session: SessionKey) -> None:
        for key in [key for key in self._subs if key[0] == session]:
            del self._subs[key]

    def on_events(self, events: Sequence[EventBase]) -> Iterable[tuple[SessionKey, OutMessage]]:
        """Fold a command's events; yield the incrementals each subscriber must get."""
        level_events: list[LevelEvent] = []
        trades: list[Trade] = []
        was: dict[str, Indicative | None] = {}
        """Per symbol whose indicative the command may have moved, the one before it."""
        for event in events:
            if isinstance(event, LevelEvent):
                self._depth.apply(event)
                level_events.append(event)
            elif isinstance(event, Trade):
                self._last_trade[event.symbol] = (event.px, event.qty)
                trades.append(event)
            elif isinstance(event, AuctionIndicative | PhaseChanged):
                was.setdefault(event.symbol, self._indicative.get(event.symbol))
                # Any phase change ends what was indicated (the engine starts a call's
                # indicative afresh, after the PhaseChanged); so does a call with nothing
                # that would trade.
                self._indicative.pop(event.symbol, None)
                if isinstance(event, AuctionIndicative) and event.px is not None:
                    self._indicative[event.symbol] = self._indicated(event)
        moved = {s: old for s, old in was.items() if self._indicative.get(s) != old}
        if not level_events and not trades and not moved:
            return
        touched: set[str] = {e.symbol for e in level_events} | {t.symbol for t in trades}
        for sub in self._subs.values():
            if touched.isdisjoint(sub.symbols) and moved.keys().isdisjoint(sub.symbols):
                continue
            entries = self._incremental(sub, level_events, trades, touched)
            for symbol in sorted(moved.keys() & set(sub.symbols)):
                entries += self._indicative_diff(sub, symbol, moved[symbol])
            if entries:
                yield (
                    sub.session,
                    OutMessage(
                        "X",
                        [(MD_REQ_ID, sub.md_req_id)],
                        [Group(NO_MD_ENTRIES, MD_UPDATE_ACTION, entries)],
                    ),
                )

    def _incremental(
        self,
        sub: Subscription,
        level_events: list[LevelEvent],
        trades: list[Trade],
        touched: set[str],
    ) -> list[list[tuple[int, str]]]:
        entries: list[list[tuple[int, str]]] = []
        if sub.depth == 0:
            for event in level_events:
                entry_type = ENTRY_OF_SIDE[event.side]
                if event.symbol not in sub.symbols or entry_type not in sub.entry_types:
                    continue
                action = (
                    NEW if isinstance(event, LevelAdded)
                    else DELETE if isinstance(event, LevelRemoved)
                    else CHANGE
                )  # fmt: skip
                entries.append(self._update(action, entry_type, event.symbol, event.px, event.qty))
        else:
            for symbol in sorted(touched.intersection(sub.symbols)):
                entries += self._top_n_diff(sub, symbol)
        if TRADE in sub.entry_types:
            for trade in trades:
                if trade.symbol in sub.symbols:
                    entries.append(self._update(NEW, TRADE, trade.symbol, trade.px, trade.qty))
        return entries

    def _indicated(self, event: AuctionIndicative) -> Indicative:
        assert event.px is not None
        # The engine publishes only in the two auctions; should a phase be missing from
        # the gateway's fold (a snapshot older than it), the opening is the likelier.
        price_type = PRICE_OF_CALL.get(self._phase_of(event.symbol), OPENING_PRICE)
        return Indicative(
            price_type, event.px, event.qty, event.imbalance_qty, event.imbalance_side
        )

    def _indicative_entries(
        self, sub: Subscription, symbol: str, indicative: Indicative | None
    ) -> list[tuple[str, list[tuple[int, str]]]]:
        """(MDEntryType, the entry's fields after it) that show `indicative` to `sub`.

        The price entry is the call's Opening (4) or Closing (5) Price with MDEntryPx the
        indicative price and MDEntrySize the paired quantity (what would trade there). In
        4.4 OpenCloseSettlFlag (286) 5, Theoretical Price, says it is not the auction's
        result yet, and an Imbalance (A) entry gives the surplus in MDEntrySize at that
        price, its side in TradeCondition (277): P more buyers, Q more sellers, none when
        balanced. 4.4 has no Side on an MD entry; TradeCondition is where its
        dictionary puts the imbalance's side. 4.2 has neither A, nor 286 5, nor P/Q: its
        price entry says both in Text (58), the one free field its MD entries allow.
        """
        if indicative is None:
            return []
        out: list[tuple[str, list[tuple[int, str]]]] = []
        wire_px = self._prices.to_wire(symbol, indicative.px)
        if indicative.price_type in sub.entry_types:
            fields = [(MD_ENTRY_PX, wire_px), (MD_ENTRY_SIZE, str(indicative.qty))]
            if sub.begin_string == FIX42:
                side = indicative.imbalance_side
                surplus = "no imbalance" if side is None else (
                    f"imbalance {indicative.imbalance_qty} {side.name.lower()}"
                )  # fmt: skip
                fields.append((TEXT, f"indicative; {surplus}"))
            else:
                fields.append((OPEN_CLOSE_SETTL_FLAG, THEORETICAL))
            out.append((indicative.price_type, fields))
        if IMBALANCE in sub.entry_types:
            fields = [(MD_ENTRY_PX, wire_px), (MD_ENTRY_SIZE, str(indicative.imbalance_qty))]
            if indicative.imbalance_side is not None:
                fields.append((TRADE_CONDITION, IMBALANCE_CONDITION[indicative.imbalance_side]))
            out.append((IMBALANCE, fields))
        return out

    def _indicative_diff(
        self, sub: Subscription, symbol: str, before: Indicative | None
    ) -> list[list[tuple[int, str]]]:
        """X entries from what `sub` was shown of `before` to what it is shown now: a
        DELETE for an entry type that went (the call ended, nothing would trade, or the
        opening call became the closing one), NEW for one that came, CHANGE for one whose
        fields moved."""
        old = dict(self._indicative_entries(sub, symbol, before))
        new = dict(self._indicative_entries(sub, symbol, self._indicative.get(symbol)))
        entries = []
        for entry_type, fields in old.items():
            if entry_type not in new:
                # What is deleted is named by its price and size, as a level's delete is.
                entries.append([(MD_UPDATE_ACTION, DELETE), (SYMBOL, symbol),
                                (MD_ENTRY_TYPE, entry_type), *fields[:2]])  # fmt: skip
        for entry_type, fields in new.items():
            if old.get(entry_type) != fields:
                action = CHANGE if entry_type in old else NEW
                entries.append([(MD_UPDATE_ACTION, action), (SYMBOL, symbol),
                                (MD_ENTRY_TYPE, entry_type), *fields])  # fmt: skip
        return entries

    def _top_n_diff(self, sub: Subscription, symbol: str) -> list[list[tuple[int, str]]]:
        before = sub.sent.get(symbol, {})
        now: dict[Key, int] = {}
        for side in (Side.BUY, Side.SELL):
            entry_type = ENTRY_OF_SIDE[side]
            if entry_type in sub.entry_types:
                for px, qty in self._depth.top(symbol, side, sub.depth):
                    now[(entry_type, px)] = qty
        sub.sent[symbol] = now
        entries = [
            self._update(DELETE, entry_type, symbol, px, qty)
            for (entry_type, px), qty in before.items()
            if (entry_type, px) not in now
        ]
        for (entry_type, px), qty in now.items():
            if (entry_type, px) not in before:
                entries.append(self._update(NEW, entry_type, symbol, px, qty))
            elif before[(entry_type, px)] != qty:
                entries.append(self._update(CHANGE, entry_type, symbol, px, qty))
        return entries

    def _entry(self, entry_type: str, symbol: str, px: int, qty: int) -> list[tuple[int, str]]:
        return [
            (MD_ENTRY_TYPE, entry_type),
            (MD_ENTRY_PX, self._prices.to_wire(symbol, px)),
            (MD_ENTRY_SIZE, str(qty)),
        ]

    def _update(
        self, action: str, entry_type: str, symbol: str, px: int, qty: int
    ) -> list[tuple[int, str]]:
        return [
            (MD_UPDATE_ACTION, action),
            (SYMBOL, symbol),
            *self._entry(entry_type, symbol, px, qty),
        ]
