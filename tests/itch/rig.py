"""An engine feeding an in-process ITCH gateway over real loopback sockets, a client
listening, and the engine's own book to hold the client's against."""

import random
import socket
from collections.abc import Callable, Sequence
from decimal import Decimal

from nyquestro.config.itch import ItchConfig
from nyquestro.config.venue import default_venue
from nyquestro.domain.commands import Command
from nyquestro.domain.enums import Side
from nyquestro.domain.instrument import Instrument
from nyquestro.engine import Engine
from nyquestro.gateways.itch.feed import FEED, Batch
from nyquestro.gateways.itch.framing import parse_packet
from nyquestro.gateways.itch.gateway import Deliver, ItchGateway, Send
from nyquestro.gateways.itch.messages import Message, Unknown, decode
from nyquestro.marketdata.builder import BookBuilder
from nyquestro.marketdata.client import FeedClient
from nyquestro.marketdata.recovery import RequestClient

INSTRUMENTS = [
    Instrument(symbol=i.symbol, tick_size=i.tick_size) for i in default_venue().instruments
]
SIDES = ((Side.BUY, "B"), (Side.SELL, "S"))


def scale(inst: Instrument) -> int:
    return int(inst.tick_size * Decimal(10_000))


def engine_book(engine: Engine, symbol: str, side: Side) -> list[tuple[int, int]]:
    """(Price(4), visible qty) of every resting order, in priority order."""
    inst = engine.instruments[symbol]  # type: ignore[index]
    return [
        (o.px * scale(inst), o.visible_qty)
        for o in engine.book_orders(inst.symbol, side)
        if o.px is not None
    ]


def engine_levels(engine: Engine, symbol: str, side: Side) -> list[tuple[int, int, int]]:
    inst = engine.instruments[symbol]  # type: ignore[index]
    return [(px * scale(inst), qty, n) for px, qty, n in engine.depth(inst.symbol, side)]


def client_book(builder: BookBuilder, symbol: str, side: str) -> list[tuple[int, int]]:
    return [(price, shares) for _ref, price, shares in builder.orders(symbol, side)]


def assert_books_match(engine: Engine, builder: BookBuilder) -> None:
    for inst in INSTRUMENTS:
        for side, letter in SIDES:
            assert client_book(builder, inst.symbol, letter) == engine_book(
                engine, inst.symbol, side
            ), (inst.symbol, letter)
            assert builder.levels(inst.symbol, letter) == engine_levels(engine, inst.symbol, side)


class Lossy:
    """Between the feed and its publisher: drops and reorders what commands send (seeded),
    so whole packets' worth of messages go missing or arrive late."""

    def __init__(self, seed: int, drop: float, reorder: float) -> None:
        self.rng = random.Random(seed)
        self.drop = drop
        self.reorder = reorder
        self.held: list[Batch] = []
        self.dropped = 0

    def wrap(self, deliver: Deliver) -> Deliver:
        def lossy(key: str, message: object) -> None:
            if key != FEED or not isinstance(message, Batch):
                deliver(key, message)
                return
            if self.rng.random() < self.drop:
                self.dropped += 1
                return
            if self.rng.random() < self.reorder:
                self.held.append(message)  # goes out after the next one
                return
            deliver(key, message)
            while self.held:
                deliver(key, self.held.pop(0))

        return lossy


class Rig:
    def __init__(
        self,
        *,
        retain: int = 100_000,
        lossy: Lossy | None = None,
        depth: bool = False,
        gap_grace: float = 0.02,
    ) -> None:
        self.engine = Engine(INSTRUMENTS)
        self.client = FeedClient(depth_port=0 if depth else None, gap_grace=gap_grace)
        config = ItchConfig(
            destinations=(("127.0.0.1", self.client.port),),
            snapshot_destinations=((("127.0.0.1", self.client.depth_port or 0),) if depth else ()),
            request_port=0,
            retain=retain,
            heartbeat_seconds=0.05,
            snapshot_seconds=0.05,
        )

        def side_sender(_name: str, deliver: Deliver, flush: Callable[[], None]) -> Send:
            target = deliver if lossy is None else lossy.wrap(deliver)

            def send(key: str, message: object) -> None:  # as if durable at once
                target(key, message)
                flush()

            return send

        self.gateway = ItchGateway(config, INSTRUMENTS, side_sender)
        self.gateway.start()
        assert self.gateway.server is not None
        self.client.requests = None
        self.client.start()

    def connect_requests(self) -> None:
        assert self.gateway.server is not None
        self.client.requests = RequestClient(("127.0.0.1", self.gateway.server.port))

    def run(self, commands: list[Command]) -> None:
        for command in commands:
            self.gateway.on_events(command, self.engine.process(command))

    def caught_up(self, timeout: float = 10.0) -> bool:
        target = self.gateway.feed.next_seq - 1
        return self.client.wait_for(lambda: self.client.applied >= target, timeout)

    def close(self) -> None:
        self.client.stop()
        self.gateway.stop(_call)


def _call(fn: Callable[[], None]) -> None:
    fn()


def published(commands: Sequence[Command]) -> list[Message | Unknown]:
    """What a subscriber on a real UDP socket receives while an ITCH gateway publishes
    what an engine decides for `commands` (each as if durable at once), decoded; read
    until the socket has been quiet for half a second."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    config = ItchConfig(destinations=(("127.0.0.1", listener.getsockname()[1]),),
                        request_port=0, heartbeat_seconds=60.0)  # fmt: skip

    def side_sender(_name: str, deliver: Deliver, flush: Callable[[], None]) -> Send:
        def send(key: str, message: object) -> None:
            deliver(key, message)
            flush()

        return send

    gateway = ItchGateway(config, INSTRUMENTS, side_sender)
    gateway.start()
    engine = Engine(INSTRUMENTS)
    found: list[Message | Unknown] = []
    try:
        for command in commands:
            gateway.on_events(command, engine.process(command))
        listener.settimeout(0.5)
        while True:
            found += [decode(data) for data in parse_packet(listener.recv(65_536)).messages]
    except TimeoutError:
        return found
    finally:
        gateway.stop(_call)
        listener.close()
