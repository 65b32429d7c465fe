"""Positions, open orders and PnL per account and symbol, for pre-trade limits.

Folded from the engine's own events after every command (fills move positions and PnL;
every change of an order's leaves quantity or price moves its side's open quantity and
the account's open notional), so whatever path changed an order — match, cancel,
expiry, replace, peg reprice, self-match decrement — the books here follow without
each path having to remember them.

Limit checks are worst case: a buy is refused if the position plus every open buy plus
the new quantity could exceed `max_long` (a sell likewise against `max_short`), and an
order is refused if the account's gross notional with it, every open order counted at
its price, could exceed `max_gross_notional`.

PnL is FIFO, in integer ticks x quantity: the open position is a queue of lots (price,
signed quantity), a fill against it closes the oldest first and realises (fill price -
lot price) per unit; `basis` is what the open lots cost, so unrealised PnL at a mark is
position x mark - basis. Average cost would need fractions of a tick, and Python's
Fraction made every fill five times dearer.
"""

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from mypy_extensions import mypyc_attr

from nyquestro.domain.enums import Side
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    EventBase,
    Execution,
    ExecutionAmended,
    Expired,
    LevelEvent,
    Replaced,
    Restated,
    Trade,
)
from nyquestro.domain.ids import Account, Symbol
from nyquestro.domain.reasons import RejectReason
from nyquestro.domain.risk import AccountRisk
from nyquestro.engine.arith import product
from nyquestro.engine.validation import Problem

Key = tuple[Account, Symbol]


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class Exposure:
    position: int = 0
    """Net filled quantity: positive long, negative short."""
    open_buy: int = 0
    open_sell: int = 0
    open_notional: int = 0
    """Sum of leaves x price (ticks) over the open orders, both sides."""
    lots: deque[list[int]] = field(default_factory=deque)
    """The open position's fills not yet closed, oldest first: [price, signed qty]."""
    basis: int = 0
    """Cost of the open lots (ticks x quantity), signed like the position."""
    realised: int = 0


@mypyc_attr(serializable=True)
@dataclass(slots=True, init=False)
class _Open:
    exposure: Exposure
    side: Side
    leaves: int
    px: int

    # Written out: one is built per accepted order, and the generated `__init__` stays
    # interpreted in the compiled core (see nyquestro.domain.events).
    def __init__(self, exposure: Exposure, side: Side, leaves: int, px: int) -> None:
        self.exposure = exposure
        self.side = side
        self.leaves = leaves
        self.px = px


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class Positions:
    exposures: dict[Key, Exposure] = field(default_factory=dict)
    by_account: dict[Account, dict[Symbol, Exposure]] = field(default_factory=dict)
    orders: dict[int, _Open] = field(default_factory=dict)
    """Live orders with their leaves quantity and price."""

    def exposure(self, account: Account, symbol: Symbol) -> Exposure:
        # Looked up by account, then symbol: two lookups of strings whose hashes are
        # cached cost less than building, hashing and comparing a tuple key.
        held = self.by_account.get(account)
        if held is None:
            held = self.by_account[account] = {}
        found = held.get(symbol)
        if found is None:
            found = held[symbol] = self.exposures[(account, symbol)] = Exposure()
        return found

    def apply(self, events: Sequence[EventBase]) -> None:
        # isinstance, not a cast: a compiled core checks every declared type at run time.
        # One class per isinstance: mypyc checks a single class natively but a tuple of
        # classes through the generic protocol. Book events, the commonest, go first.
        for event in events:
            if isinstance(event, LevelEvent) or isinstance(event, Trade):
                continue
            if isinstance(event, Accepted):
                exposure = self.exposure(event.account, event.symbol)
                # A market order has no price; it never rests, so it counts at none.
                px = 0 if event.px is None else event.px
                entry = self.orders[event.order_id] = _Open(exposure, event.side, 0, px)
                self._leaves(entry, event.order_id, event.qty, px)
            elif isinstance(event, Execution):
                found = self.orders.get(event.order_id)
                if found is not None:
                    signed = event.qty if event.side is Side.BUY else -event.qty
                    _fill(found.exposure, signed, event.px)
                    self._leaves(found, event.order_id, event.leaves_qty, found.px)
            elif isinstance(event, Cancelled) or isinstance(event, Expired):
                found = self.orders.get(event.order_id)
                if found is not None:
                    self._leaves(found, event.order_id, 0, 0)
            elif isinstance(event, ExecutionAmended):
                # Booked as the fill's opposite, then the corrected fill (if any): the
                # position and total PnL are as if the fill had been so from the start;
                # FIFO's split of that PnL into realised and unrealised is not restated.
                exposure = self.exposure(event.account, event.symbol)
                sign = 1 if event.side is Side.BUY else -1
                _fill(exposure, -sign * event.orig_qty, event.orig_px)
                if event.qty:
                    _fill(exposure, sign * event.qty, event.px)
            elif isinstance(event, Replaced) or isinstance(event, Restated):
                found = self.orders.get(event.order_id)
                if found is not None:
                    px = found.px if event.px is None else event.px
                    self._leaves(found, event.order_id, event.leaves_qty, px)

    def _leaves(self, entry: _Open, order_id: int, leaves: int, px: int) -> None:
        """Move the order's open quantity and price to `leaves` at `px` (0: it is done)."""
        exposure = entry.exposure
        if entry.side is Side.BUY:
            exposure.open_buy += leaves - entry.leaves
        else:
            exposure.open_sell += leaves - entry.leaves
        exposure.open_notional += leaves * px - entry.leaves * entry.px
        if leaves:
            entry.leaves, entry.px = leaves, px
        else:
            del self.orders[order_id]


def check_position(
    e: Exposure, account: Account, symbol: Symbol, side: Side, extra: int, risk: AccountRisk
) -> Problem | None:
    """Could `extra` more open quantity on `side` of `e` (the account's exposure in the
    symbol) breach a position limit if filled?"""
    if side is Side.BUY and risk.max_long is not None:
        worst = e.position + e.open_buy + extra
        if worst > risk.max_long:
            return RejectReason.POSITION_LIMIT, (
                f"buy {extra} {symbol} could take account {account} long {worst} "
                f"(position {e.position}, open buys {e.open_buy}): above its max_long "
                f"{risk.max_long}"
            )
    if side is Side.SELL and risk.max_short is not None:
        worst = -e.position + e.open_sell + extra
        if worst > risk.max_short:
            return RejectReason.POSITION_LIMIT, (
                f"sell {extra} {symbol} could take account {account} short {worst} "
                f"(position {e.position}, open sells {e.open_sell}): above its max_short "
                f"{risk.max_short}"
            )
    return None


def _fill(e: Exposure, signed: int, px: int) -> None:
    """Move the position by `signed` units at `px`; a fill against the position closes
    the oldest lots first, realising (px - lot price) on each unit."""
    pos = e.position
    e.position = pos + signed
    if pos and (pos > 0) != (signed > 0):
        direction = 1 if pos > 0 else -1
        remaining = abs(signed)
        lots = e.lots
        while remaining and lots:
            lot = lots[0]
            taken = min(remaining, abs(lot[1]))
            e.realised += (px - lot[0]) * taken * direction
            e.basis -= lot[0] * taken * direction
            remaining -= taken
            if taken == abs(lot[1]):
                lots.popleft()
            else:
                lot[1] -= taken * direction
        signed = remaining * -direction  # what is left turns the position round
    if signed:
        e.lots.append([px, signed])
        e.basis += px * signed


def unrealised(e: Exposure, mark: int | None) -> int:
    return 0 if mark is None or not e.position else product(e.position, mark) - e.basis
