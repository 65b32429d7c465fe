"""Per-engine mutable state shared by the matching, peg and command modules."""

from nyquestro.domain.events import EventBase
from nyquestro.domain.ids import Seq, Ts
from nyquestro.engine.order import LiveOrder
from nyquestro.engine.trades import TradeLog


class Context:
    """The command being processed, where its events go, and the id counters.

    `seq`, `ts` and `out` are reset by `Engine.process` for every command; everything
    else lives as long as the engine.
    """

    __slots__ = ("live", "next_order_id", "next_trade_id", "out", "seq", "trades", "ts")

    def __init__(self) -> None:
        self.seq = Seq(0)
        self.ts = Ts(0)
        self.out: list[EventBase] = []
        self.live: dict[int, LiveOrder] = {}
        """Every order that can still trade, by order id (ascending = arrival order)."""
        self.next_order_id = 1
        self.next_trade_id = 1
        self.trades = TradeLog()
        """The latest trades, for busts and corrections."""
