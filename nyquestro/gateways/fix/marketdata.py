"""FIX market data: depth folded from level events, snapshots (W) and incrementals (X).

A full-depth subscription (MarketDepth 0) forwards every level event as one X entry. A
top-N subscription keeps what it last sent and, after each command that touched its
symbol, sends the difference (new / change / delete per price), so a client's top-N book
stays exact without seeing levels outside it. Sizes are visible sizes only: iceberg
reserves never appear.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nyquestro.codec.prices import DecimalPrices
from nyquestro.domain.enums import Side
from nyquestro.domain.events import (
    EventBase,
    LevelAdded,
    LevelEvent,
    LevelRemoved,
    Trade,
)
from nyquestro.domain.ids import SessionKey
from nyquestro.gateways.fix.dialect import tag
from nyquestro.gateways.fix.message import Group, OutMessage

MD_REQ_ID = tag("MDReqID")
NO_MD_ENTRIES = tag("NoMDEntries")
MD_ENTRY_TYPE = tag("MDEntryType")
MD_ENTRY_PX = tag("MDEntryPx")
MD_ENTRY_SIZE = tag("MDEntrySize")
MD_UPDATE_ACTION = tag("MDUpdateAction")
SYMBOL = tag("Symbol")

BID, OFFER, TRADE = "0", "1", "2"
ENTRY_OF_SIDE = {Side.BUY: BID, Side.SELL: OFFER}
NEW, CHANGE, DELETE = "0", "1", "2"

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


class MarketData:
    def __init__(self, prices: DecimalPrices) -> None:
        self._prices = prices
        self._depth = Depth()
        self._last_trade: dict[str, tuple[int, int]] = {}
        self._subs: dict[tuple[SessionKey, str], Subscription] = {}

    def export_state(self) -> tuple[Depth, dict[str, tuple[int, int]]]:
        """Book depth and last trades for a snapshot (subscriptions die with connections)."""
        return self._depth, self._last_trade

    def restore_state(self, state: tuple[Depth, dict[str, tuple[int, int]]]) -> None:
        self._depth, self._last_trade = state

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
        for event in events:
            if isinstance(event, LevelEvent):
                self._depth.apply(event)
                level_events.append(event)
            elif isinstance(event, Trade):
                self._last_trade[event.symbol] = (event.px, event.qty)
                trades.append(event)
        if not level_events and not trades:
            return
        touched: set[str] = {e.symbol for e in level_events} | {t.symbol for t in trades}
        for sub in self._subs.values():
            if touched.isdisjoint(sub.symbols):
                continue
            entries = self._incremental(sub, level_events, trades, touched)
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
