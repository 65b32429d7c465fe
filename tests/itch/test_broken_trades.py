"""Busts and corrections on the ITCH feed, read from a real UDP socket: a bust is a Broken
Trade ('B') of the trade's match number; a correction a Broken Trade, then a Non-Cross
Trade at the corrected price and size under the same match number."""

import socket
from collections.abc import Callable

from nyquestro.config.itch import ItchConfig
from nyquestro.domain.commands import BustTrade, Command, CorrectTrade, NewOrder
from nyquestro.domain.enums import Side
from nyquestro.domain.ids import Account, ClOrdId, Px, Qty, Seq, SessionKey, Symbol, TradeId, Ts
from nyquestro.engine import Engine
from nyquestro.gateways.itch.framing import parse_packet
from nyquestro.gateways.itch.gateway import Deliver, ItchGateway, Send
from nyquestro.gateways.itch.messages import (
    BrokenTrade,
    Message,
    NonCrossTrade,
    OrderExecuted,
    Unknown,
    decode,
)
from tests.itch.rig import INSTRUMENTS, scale

AAPL = next(i for i in INSTRUMENTS if i.symbol == "AAPL")


def order(seq: int, side: Side, qty: int, px: int) -> NewOrder:
    session = SessionKey(f"S{side.value}")
    return NewOrder(seq=Seq(seq), ts=Ts(seq * 1_000), session=session, account=Account(session),
                    cl_ord_id=ClOrdId(f"c{seq}"), symbol=Symbol("AAPL"), side=side,
                    qty=Qty(qty), px=Px(px))  # fmt: skip


def received(sock: socket.socket) -> list[Message | Unknown]:
    found: list[Message | Unknown] = []
    sock.settimeout(0.5)
    try:
        while True:
            packet = parse_packet(sock.recv(65_536))
            found.extend(decode(m) for m in packet.messages)
    except TimeoutError:
        return found


def test_a_bust_and_a_correction_print_broken_trades_on_the_feed() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    config = ItchConfig(destinations=(("127.0.0.1", listener.getsockname()[1]),),
                        request_port=0, heartbeat_seconds=60.0)  # fmt: skip

    def side_sender(_name: str, deliver: Deliver, flush: Callable[[], None]) -> Send:
        def send(key: str, message: object) -> None:  # as if durable at once
            deliver(key, message)
            flush()

        return send

    gateway = ItchGateway(config, INSTRUMENTS, side_sender)
    gateway.start()
    engine = Engine(INSTRUMENTS)
    try:
        commands: list[Command] = [
            order(1, Side.BUY, 50, 19_000),
            order(2, Side.SELL, 20, 19_000),  # trade 1
            order(3, Side.SELL, 30, 19_000),  # trade 2
            BustTrade(seq=Seq(4), ts=Ts(4_000), trade_id=TradeId(1)),
            CorrectTrade(seq=Seq(5), ts=Ts(5_000), trade_id=TradeId(2), px=Px(18_990), qty=Qty(25)),
        ]
        for command in commands:
            gateway.on_events(command, engine.process(command))
        messages = received(listener)
    finally:
        gateway.stop(lambda fn: fn())
        listener.close()
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
