"""Positions and open quantity per account and symbol, for pre-trade position limits.

Folded from the engine's own events after every command (fills move positions; every
change of an order's leaves quantity moves its side's open quantity), so whatever path
changed an order — match, cancel, expiry, replace, self-match decrement — the books
here follow without each path having to remember them.

The limit check is worst case: a buy is refused if the position plus every open buy plus
the new quantity could exceed `max_long`, and a sell likewise against `max_short`.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from nyquestro.domain.enums import Side
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    EventBase,
    Expired,
    Filled,
    PartiallyFilled,
    Replaced,
    Restated,
)
from nyquestro.domain.ids import Account, Qty, Symbol
from nyquestro.domain.reasons import RejectReason
from nyquestro.engine.validation import Problem

Key = tuple[Account, Symbol]


@dataclass(frozen=True, slots=True)
class AccountLimits:
    max_long: Qty | None = None
    max_short: Qty | None = None


@dataclass(slots=True)
class Exposure:
    position: int = 0
    """Net filled quantity: positive long, negative short."""
    open_buy: int = 0
    open_sell: int = 0


class Positions:
    def __init__(self) -> None:
        self.exposures: dict[Key, Exposure] = {}
        self.orders: dict[int, tuple[Exposure, Side, int]] = {}
        """Live orders: their exposure, side and leaves quantity."""

    def exposure(self, account: Account, symbol: Symbol) -> Exposure:
        found = self.exposures.get((account, symbol))
        if found is None:
            found = self.exposures[(account, symbol)] = Exposure()
        return found

    def apply(self, events: Sequence[EventBase]) -> None:
        for event in events:
            kind = type(event)
            if kind is Accepted:
                accepted: Accepted = event  # type: ignore[assignment]
                exposure = self.exposure(accepted.account, accepted.symbol)
                self.orders[accepted.order_id] = (exposure, accepted.side, 0)
                self._leaves(accepted.order_id, accepted.qty)
            elif kind is PartiallyFilled or kind is Filled:
                fill: PartiallyFilled = event  # type: ignore[assignment]
                entry = self.orders.get(fill.order_id)
                if entry is not None:
                    entry[0].position += fill.qty if fill.side is Side.BUY else -fill.qty
                self._leaves(fill.order_id, fill.leaves_qty)
            elif kind is Cancelled or kind is Expired:
                self._leaves(event.order_id, 0)  # type: ignore[attr-defined]
            elif kind is Replaced or kind is Restated:
                self._leaves(event.order_id, event.leaves_qty)  # type: ignore[attr-defined]

    def _leaves(self, order_id: int, leaves: int) -> None:
        entry = self.orders.get(order_id)
        if entry is None:
            return
        exposure, side, before = entry
        if side is Side.BUY:
            exposure.open_buy += leaves - before
        else:
            exposure.open_sell += leaves - before
        if leaves:
            self.orders[order_id] = (exposure, side, leaves)
        else:
            del self.orders[order_id]

    def check(
        self, account: Account, symbol: Symbol, side: Side, extra: int, limits: AccountLimits
    ) -> Problem | None:
        """Could `extra` more open quantity on `side` breach a limit if all of it filled?"""
        e = self.exposure(account, symbol)
        if side is Side.BUY and limits.max_long is not None:
            worst = e.position + e.open_buy + extra
            if worst > limits.max_long:
                return RejectReason.POSITION_LIMIT, (
                    f"buy {extra} {symbol} could take account {account} long {worst} "
                    f"(position {e.position}, open buys {e.open_buy}): above its max_long "
                    f"{limits.max_long}"
                )
        if side is Side.SELL and limits.max_short is not None:
            worst = -e.position + e.open_sell + extra
            if worst > limits.max_short:
                return RejectReason.POSITION_LIMIT, (
                    f"sell {extra} {symbol} could take account {account} short {worst} "
                    f"(position {e.position}, open sells {e.open_sell}): above its max_short "
                    f"{limits.max_short}"
                )
        return None
