"""ITCH feed throughput on one core: engine events -> ITCH messages -> MoldUDP64 packets
-> UDP sendto a loopback socket; and of the feed in its own process, fed over the bus.

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

Then the same day through the feed's own process (`nyquestro.runtime.itch_process`,
started by the runtime's supervisor, as `nyquestro serve` starts it): this process plays
the core, appending each command's entry (pre-encoded, untimed) to the committed stream
on a Unix socket as fast as it is taken, then ending the stream. Timed from the first
entry to the MoldUDP64 end-of-session packet, which the feed sends after the last
message: the bus, decoding, the feed and UDP, all in the other process.
"""

import argparse
import gc
import os
import socket
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.fix_bench import process_cpu_seconds
from benchmarks.flow import Flow, FlowConfig
from nyquestro.bus.stream import StreamServer, encode_entry
from nyquestro.codec.frames import encode_command, encode_events
from nyquestro.config.itch import ItchConfig
from nyquestro.config.venue import default_venue
from nyquestro.domain.commands import Command
from nyquestro.domain.events import EventBase
from nyquestro.engine import Engine
from nyquestro.gateways.itch.feed import ItchFeed
from nyquestro.gateways.itch.framing import END_OF_SESSION, HEADER, session_field
from nyquestro.gateways.itch.publisher import Publisher
from nyquestro.runtime.gateway_process import GatewayProcess
from nyquestro.store.database import create_db_engine, upgrade

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

    console.print("the same day through the feed's own process, fed over the bus ...")
    messages, packets, elapsed, cpu = own_process(flow, day)
    rate = messages / elapsed
    own = Table(title="ITCH feed in its own process (bus -> decode -> feed -> UDP)")
    for column in ("messages", "packets", "seconds", "messages/s", "µs per message",
                   "feed process CPU", f"target >= {TARGET_MSGS_PER_S:,} msgs/s"):  # fmt: skip
        own.add_column(column, justify="right")
    own.add_row(
        f"{messages:,}", f"{packets:,}", f"{elapsed:.2f}", f"{rate:,.0f}",
        f"{elapsed / messages * 1e6:.2f}", f"{cpu / elapsed:.0%} of the time",
        "met" if rate >= TARGET_MSGS_PER_S else "MISSED",
    )  # fmt: skip
    console.print(own)


def own_process(flow: Flow, day: list[tuple[Command, list[EventBase]]]) -> (
    tuple[int, int, float, float]
):  # fmt: skip
    """The day through `nyquestro.runtime.itch_process`: (messages, packets, seconds, the
    feed process's CPU seconds over them: near the seconds, the feed is what limits)."""
    entries = [
        encode_entry(command.seq, (command.ts, encode_command(command), encode_events(events)))
        for command, events in day
    ]
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    sink.bind(("127.0.0.1", 0))
    counted: dict[str, float] = {"messages": 0, "packets": 0}
    ended = threading.Event()

    def count() -> None:
        while True:
            data = sink.recv(65536)
            _session, sequence, messages = HEADER.unpack_from(data)
            if messages == END_OF_SESSION:
                counted["end"], counted["last_seq"] = time.perf_counter(), sequence - 1
                ended.set()
                return
            counted["messages"] += messages
            counted["packets"] += 1

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'venue.db'}"
        upgrade(create_db_engine(url))
        config = replace(
            default_venue(), db=url, store_dir=Path(tmp), instruments=tuple(flow.instruments()),
            itch=ItchConfig(destinations=(sink.getsockname(),), heartbeat_seconds=60.0,
                            snapshot_seconds=3600.0),
        )  # fmt: skip
        address = f"@nyquestro-itch-bench-{os.getpid()}"
        # The whole day may wait in the feed's buffer: nothing here is cut off.
        bus = StreamServer(address, last_seq=0, max_backlog=1 << 31)
        bus.start()
        feed = GatewayProcess("itch", "nyquestro.runtime.itch_process", config, address, 0)
        feed.start()
        feed.wait_ready(bus, 120)
        counter = threading.Thread(target=count, daemon=True)
        counter.start()
        assert feed.pid is not None
        cpu_before = process_cpu_seconds(feed.pid)
        started = time.perf_counter()
        for (command, _events), entry in zip(day, entries, strict=True):
            bus.append(command.seq, entry)
            if command.seq % 64 == 0:
                bus.flush()
        bus.close(drain_seconds=600)
        if not ended.wait(600):
            raise RuntimeError("the feed process sent no end of session")
        cpu = process_cpu_seconds(feed.pid) - cpu_before
        feed.stop(10)
    sink.close()
    return int(counted["last_seq"]), int(counted["packets"]), counted["end"] - started, cpu


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
