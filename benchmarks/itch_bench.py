"""ITCH feed throughput on one core: engine events -> ITCH messages -> MoldUDP64 packets
-> UDP sendto a loopback socket.

Run from the repository root:

    .venv/bin/python -m benchmarks.itch_bench [--ops N] [--warmup N] [--seed S]

The engine's work is not measured: the ITCH-day flow of the engine benchmark
(benchmarks/flow.py) runs through the engine first and its events are kept. The timed
loop then hands each command's events to `ItchFeed.on_events`, whose send goes straight
to the publisher's `deliver` (a `sendto` per packet and destination, one destination on
127.0.0.1), as the runtime's outbox does once a command is durable. Nobody reads the
receiving socket: the kernel drops what overflows its buffer, which costs the sender
nothing more.
"""

import argparse
import gc
import socket
import sys
import time

from rich.console import Console
from rich.table import Table

from benchmarks.flow import Flow, FlowConfig
from nyquestro.domain.commands import Command
from nyquestro.domain.events import EventBase
from nyquestro.engine import Engine
from nyquestro.gateways.itch.feed import ItchFeed
from nyquestro.gateways.itch.framing import session_field
from nyquestro.gateways.itch.publisher import Publisher

TARGET_MSGS_PER_S = 200_000


def recorded_day(config: FlowConfig) -> tuple[Flow, list[tuple[Command, list[EventBase]]]]:
    """The warm-up and measured phase as (command, events) pairs, engine time excluded."""
    flow = Flow(config)
    engine = Engine(flow.instruments())
    day = []
    for command in flow.warmup():
        events = engine.process(command)
        flow.observe(events)
        day.append((command, events))
    for _ in range(config.ops):
        _kind, command = flow.next_op()
        events = engine.process(command)
        flow.observe(events)
        day.append((command, events))
    return flow, day


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=300_000, help="measured-phase commands")
    parser.add_argument("--warmup", type=int, default=100_000, help="warm-up orders")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    config = FlowConfig(seed=args.seed, warmup_orders=args.warmup, ops=args.ops)
    console = Console()
    console.print(f"recording {args.warmup:,} + {args.ops:,} commands through the engine ...")
    flow, day = recorded_day(config)

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    publisher = Publisher((sink.getsockname(),), ())
    feed = ItchFeed(flow.instruments(), publisher.deliver, session=session_field("BENCH"),
                    retain=len(day) * 4)  # fmt: skip
    first, packets_before = feed.next_seq, publisher.packets
    gc.collect()
    gc.freeze()
    on_events = feed.on_events
    started = time.perf_counter()
    for command, events in day:
        on_events(command, events)
    elapsed = time.perf_counter() - started
    messages = feed.next_seq - first
    packets = publisher.packets - packets_before
    publisher.close()
    sink.close()

    table = Table(title=f"ITCH feed, one core (Python {sys.version.split()[0]})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("commands", f"{len(day):,}")
    table.add_row("ITCH messages", f"{messages:,}")
    table.add_row("MoldUDP64 packets sent", f"{packets:,} ({publisher.dropped:,} refused)")
    table.add_row("seconds", f"{elapsed:.2f}")
    table.add_row("messages/s", f"{messages / elapsed:,.0f}")
    table.add_row("packets/s", f"{packets / elapsed:,.0f}")
    table.add_row("commands/s", f"{len(day) / elapsed:,.0f}")
    table.add_row("µs per message", f"{elapsed / messages * 1e6:.2f}")
    verdict = "met" if messages / elapsed >= TARGET_MSGS_PER_S else "MISSED"
    table.add_row(f"target >= {TARGET_MSGS_PER_S:,} msgs/s", verdict)
    console.print(table)


if __name__ == "__main__":
    main()
