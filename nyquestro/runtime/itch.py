"""Wiring the ITCH feed: built before recovery so the journal's replay rebuilds its book
and numbering; a venue restored from a snapshot first shows the snapshot's books."""

from nyquestro.config.itch import ItchConfig
from nyquestro.domain.enums import Side
from nyquestro.engine import Engine
from nyquestro.gateways.itch.gateway import ItchGateway, SideSender


def itch_gateway(
    config: ItchConfig, engine: Engine, snapshot_seq: int, side_sender: SideSender
) -> ItchGateway:
    instruments = engine.instruments.values()
    gateway = ItchGateway(config, instruments, side_sender, start=snapshot_seq)
    if snapshot_seq:
        symbols = sorted(engine.instruments)
        gateway.feed.seed(
            [
                o
                for s in symbols
                for side in (Side.BUY, Side.SELL)
                for o in engine.book_orders(s, side)
            ],
            [s for s in symbols if engine.is_halted(s)],
            {s: engine.phase(s) for s in symbols},
        )
    return gateway
