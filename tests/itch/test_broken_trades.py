"""Busts and corrections on the ITCH feed, read from a real UDP socket: a bust is a Broken
Trade ('B') of the trade's match number; a correction a Broken Trade, then a Non-Cross
Trade at the corrected price and size under the same match number."""

from nyquestro.domain.commands import BustTrade, Command, CorrectTrade, NewOrder
from nyquestro.domain.enums import Side
from nyquestro.domain.ids import Account, ClOrdId, Px, Qty, Seq, SessionKey, Symbol, TradeId, Ts
from nyquestro.gateways.itch.messages import (
    BrokenTrade,
    NonCrossTrade,
    OrderExecuted,
)
from tests.itch.rig import INSTRUMENTS, published, scale

AAPL = next(i for i in INSTRUMENTS if i.symbol == "AAPL")


def order(seq: int, side: Side, qty: int, px: int) -> NewOrder:
    session = SessionKey(f"S{side.value}")
    return NewOrder(seq=Seq(seq), ts=Ts(seq * 1_000), session=session, account=Account(session),
                    cl_ord_id=ClOrdId(f"c{seq}"), symbol=Symbol("AAPL"), side=side,
                    qty=Qty(qty), px=Px(px))  # fmt: skip


def test_a_bust_and_a_correction_print_broken_trades_on_the_feed() -> None:
    commands: list[Command] = [
        order(1, Side.BUY, 50, 19_000),
        order(2, Side.SELL, 20, 19_000),  # trade 1
        order(3, Side.SELL, 30, 19_000),  # trade 2
        BustTrade(seq=Seq(4), ts=Ts(4_000), trade_id=TradeId(1)),
        CorrectTrade(seq=Seq(5), ts=Ts(5_000), trade_id=TradeId(2), px=Px(18_990), qty=Qty(25)),
    ]
    messages = published(commands)
    executed = [m for m in messages if isinstance(m, OrderExecuted)]
    assert [(m.shares, m.match) for m in executed] == [(20, 1), (30, 2)]
    amended = [m for m in messages if isinstance(m, BrokenTrade | NonCrossTrade)]
    locate = executed[0].locate
    assert [type(m).__name__ for m in amended] == ["BrokenTrade", "BrokenTrade", "NonCrossTrade"]
    assert [m.match for m in amended] == [1, 2, 2]
    assert all(m.locate == locate for m in amended)
    assert [m.tracking for m in amended] == [4, 5, 5]
    corrected = amended[2]
    assert isinstance(corrected, NonCrossTrade)
    assert (corrected.shares, corrected.price, corrected.stock) == (
        25, 18_990 * scale(AAPL), "AAPL"
    )  # fmt: skip
