"""ITCH feed throughput on one core: engine events -> ITCH messages -> MoldUDP64 packets
-> UDP sendto a loopback socket.

Run from the repository root:

    .venv/bin/python -m benchmarks.itch_bench [--ops N] [--warmup N] [--seed S]

The engine's work is not measured: the ITCH-day flow of the engine benchmark
(benchmarks/flow.py) runs through the engine first and its events are kept. The timed
loop then hands each command's events to `ItchFeed.on_events`, whose send goes straight
to the publisher's `deliver`, and calls the publisher's `flush` every `--release`
commands, as the runtime's outbox does at the end of each release: once per command in
sync durability, once per commit batch in group commit. Packets go to one destination on
127.0.0.1. Nobody reads the
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
    parser.add_argument(
        "--release", type=int, default=64,
        help="commands the outbox releases at once in the group-commit row (default 64)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    config = FlowConfig(seed=args.seed, warmup_orders=args.warmup, ops=args.ops)
    console = Console()
    console.print(f"recording {args.warmup:,} + {args.ops:,} commands through the engine ...")
    flow, day = recorded_day(config)

    runs = {release: timed(flow, day, release) for release in sorted({1, args.release})}
    table = Table(title=f"ITCH feed, one core (Python {sys.version.split()[0]})")
    table.add_column("figure")
    for release in runs:
        table.add_column(f"{release} command{'s' if release > 1 else ''} per release",
                         justify="right")  # fmt: skip
    rows: dict[str, list[str]] = {name: [] for name in (
        "messages", "MoldUDP64 packets", "seconds", "messages/s", "packets/s", "µs per message",
        f"target >= {TARGET_MSGS_PER_S:,} msgs/s",
    )}  # fmt: skip
    for messages, packets, elapsed in runs.values():
        rate = messages / elapsed
        for name, value in zip(rows, (
            f"{messages:,}", f"{packets:,}", f"{elapsed:.2f}", f"{rate:,.0f}",
            f"{packets / elapsed:,.0f}", f"{elapsed / messages * 1e6:.2f}",
            "met" if rate >= TARGET_MSGS_PER_S else "MISSED",
        ), strict=True):  # fmt: skip
            rows[name].append(value)
    for name, values in rows.items():
        table.add_row(name, *values)
    console.print(f"{len(day):,} commands; 1 per release is sync durability, more a group commit")
    console.print(table)


def timed(flow: Flow, day: list[tuple[Command, list[EventBase]]], release: int) -> (
    tuple[int, int, float]
):  # fmt: skip
    """One pass over the day on a fresh feed; the outbox releases every `release`
    commands (1: each command alone, as in sync durability; more: a group commit)."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    session = session_field("BENCH")
    publisher = Publisher((sink.getsockname(),), (), session)
    feed = ItchFeed(flow.instruments(), publisher.deliver, session=session,
                    retain=len(day) * 4)  # fmt: skip
    first, packets_before = feed.next_seq, publisher.packets
    gc.collect()
    gc.freeze()
    on_events, flush = feed.on_events, publisher.flush
    started = time.perf_counter()
    for i, (command, events) in enumerate(day, start=1):
        on_events(command, events)
        if i % release == 0:
            flush()
    flush()
    elapsed = time.perf_counter() - started
    gc.unfreeze()
    messages, packets = feed.next_seq - first, publisher.packets - packets_before
    publisher.close()
    sink.close()
    return messages, packets, elapsed


if __name__ == "__main__":
    main()
