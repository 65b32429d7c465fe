"""Journal throughput by durability mode, and recovery time, on SQLite and PostgreSQL.

Run from the repository root:

    .venv/bin/python -m benchmarks.journal_bench [--commands N] [--db sqlite|postgresql|both]
                                                 [--recovery-commands N] [--sync-commands N]

Two measurements per database:

1. throughput: the commands of `benchmarks/flow.py` (generated beforehand against a plain
   engine, so building them is not timed) go through a `Sequencer` whose journal is a
   `JournalWriter(db, mode, background=True)`, submitted from one thread as fast as it
   goes, while a committer thread loops `Sequencer.commit_pending()` as the runtime's
   `Exchange._commit_loop` does. The clock stops when the last command is durable. Every
   `commit(records)` call is timed (HDR histogram) and its batch size kept;
2. recovery: N commands journaled on a fast path (`none` mode, untimed, with a snapshot
   after nine tenths of them), then `Sequencer.recover(read_journal(db))` timed on a
   fresh engine with the FIX gateway core subscribed; a second, instrumented pass splitting
   the time into reading + decoding, the engine and the event-stream hash; and start-up
   as the venue does it: the snapshot, then the journal after it.

SQLite is a file in a temporary directory (WAL; synchronous=NORMAL, FULL for `sync` as the
runtime sets it); PostgreSQL gets a schema of its own in database `test`, dropped at the end.
"""

import argparse
import gc
import os
import platform
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from hdrh.histogram import HdrHistogram
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine as DbEngine
from sqlalchemy import create_engine, text

from benchmarks.flow import Flow, FlowConfig
from nyquestro.domain.commands import Command
from nyquestro.domain.events import EventBase
from nyquestro.domain.ids import Seq, Ts
from nyquestro.domain.instrument import Instrument
from nyquestro.engine import Engine
from nyquestro.gateways.fix.venue import FixVenue
from nyquestro.runtime import snapshotting
from nyquestro.runtime.replay import EventStreamHash
from nyquestro.runtime.sequencer import Sequencer
from nyquestro.store.database import create_db_engine, upgrade
from nyquestro.store.journal import Durability, JournalWriter, read_journal
from nyquestro.store.snapshots import write_snapshot

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DATABASES = ("sqlite", "postgresql")
TARGET_GROUP_SQLITE_PER_S = 50_000
TARGET_RECOVERY_S_PER_MILLION = 20.0
TARGET_SNAPSHOT_RECOVERY_S_PER_MILLION = 5.0
"""From the newest snapshot and the journal after it (the process-pipeline issue)."""
COMMITTER_IDLE_SECONDS = 0.05
"""How long the committer waits for work before looking again (as the runtime does)."""


# --- databases --------------------------------------------------------------------------


def postgres_reason(url: str = PG_URL) -> str | None:
    """Why PostgreSQL cannot be used, or None when a server answers."""
    try:
        engine = create_db_engine(url)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means: nothing to measure against
        return f"no PostgreSQL at {url}: {type(exc).__name__}: {exc}"
    return None


@contextmanager
def open_store(kind: str, *, synchronous: str = "NORMAL") -> Iterator[DbEngine]:
    """A fresh, migrated, empty journal: an SQLite temp file or a PostgreSQL schema."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="nyquestro-journal-bench-") as tmp:
            engine = create_db_engine(str(Path(tmp) / "journal.db"), synchronous=synchronous)
            try:
                upgrade(engine)
                yield engine
            finally:
                engine.dispose()
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database {kind!r}")
    schema = f"journal_bench_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f"create schema {schema}"))
    # Every connection of this engine resolves unqualified names in the benchmark's schema.
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()


# --- commands ---------------------------------------------------------------------------


def flow_config(commands: int, seed: int) -> FlowConfig:
    """A fifth of the commands (at most the engine benchmark's 120,000) build the book."""
    warmup = min(commands // 5, FlowConfig().warmup_orders)
    return FlowConfig(seed=seed, warmup_orders=warmup, ops=commands - warmup)


def generate(cfg: FlowConfig) -> tuple[list[Instrument], list[Command], list[list[EventBase]]]:
    """Every command of the flow and its events, built against a plain engine
    (deterministic: the sequencer's engine later produces the same events)."""
    flow = Flow(cfg)
    engine = Engine(flow.instruments())
    process = engine.process
    observe = flow.observe
    commands: list[Command] = []
    events: list[list[EventBase]] = []
    for order in flow.warmup():
        events.append(process(order))
        observe(events[-1])
        commands.append(order)
    for _ in range(cfg.ops):
        _, cmd = flow.next_op()
        events.append(process(cmd))
        observe(events[-1])
        commands.append(cmd)
    return flow.instruments(), commands, events


class RecordedEngine:
    """Stands in for the engine with the events it produced before: what is left to time
    is the journal's own work (sequencing, command encoding, stream hash, CRC, commits)."""

    def __init__(self, events: list[list[EventBase]]) -> None:
        self._events = events
        self.last_seq = 0

    def process(self, command: Command) -> list[EventBase]:
        self.last_seq = command.seq
        return self._events[command.seq - 1]


class Feed:
    """Hands the sequencer prepared commands: its clock reads the next command's timestamp
    and the factory returns the command itself, whose sequence number is the one the
    sequencer stamps (the flow numbers from 1, like a fresh engine)."""

    __slots__ = ("next",)

    def __init__(self) -> None:
        self.next: Command | None = None

    def clock(self) -> int:
        assert self.next is not None
        return self.next.ts

    def build(self, seq: Seq, ts: Ts) -> Command:
        cmd = self.next
        assert cmd is not None
        if cmd.seq != seq or cmd.ts != ts:
            raise AssertionError(f"sequencer stamped {seq}/{ts}, command has {cmd.seq}/{cmd.ts}")
        return cmd


# --- throughput -------------------------------------------------------------------------


class TimedJournalWriter(JournalWriter):
    """A JournalWriter that times every `commit(records)` and keeps its batch size."""

    def __init__(self, engine: DbEngine, durability: Durability) -> None:
        super().__init__(engine, durability, background=True)
        self.commit_ns: list[int] = []
        self.batch_sizes: list[int] = []
        self.last_commit_end_ns = 0

    def commit(self, records: list[tuple[int, int, str, str, int]]) -> None:
        if not records:
            return
        start = time.perf_counter_ns()
        super().commit(records)
        end = time.perf_counter_ns()
        self.commit_ns.append(end - start)
        self.batch_sizes.append(len(records))
        self.last_commit_end_ns = end


@dataclass(slots=True, kw_only=True)
class ThroughputResult:
    db: str
    mode: Durability
    matching: bool
    """False: the engine's events were replayed from a recording (journal alone)."""
    commands: int
    submit_ns: int
    """From the first submit to the return of the last one."""
    durable_ns: int
    """From the first submit until the last command was durable."""
    commit_ns: list[int] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)

    @property
    def durable_rate(self) -> float:
        return self.commands / (self.durable_ns / 1e9) if self.durable_ns else 0.0

    @property
    def submit_rate(self) -> float:
        return self.commands / (self.submit_ns / 1e9) if self.submit_ns else 0.0


def run_throughput(
    db: DbEngine,
    db_name: str,
    mode: Durability,
    engine: Engine | RecordedEngine,
    cmds: list[Command],
) -> ThroughputResult:
    """Submit `cmds` through a journaled sequencer with the runtime's committer thread."""
    feed = Feed()
    writer = TimedJournalWriter(db, mode)
    sequencer = Sequencer(cast(Engine, engine), feed.clock, writer)
    stopping = threading.Event()

    def commit_loop() -> None:  # Exchange._commit_loop, draining once more when told to stop
        work = sequencer.work
        while not stopping.is_set():
            work.wait(COMMITTER_IDLE_SECONDS)
            work.clear()
            while sequencer.commit_pending():
                pass
        while sequencer.commit_pending():
            pass

    committer = threading.Thread(target=commit_loop, name="journal-bench-committer", daemon=True)
    committer.start()
    submit = sequencer.submit
    build = feed.build
    gc.collect()
    start = time.perf_counter_ns()
    for cmd in cmds:
        feed.next = cmd
        submit(build)
    submitted = time.perf_counter_ns()
    stopping.set()
    sequencer.work.set()
    committer.join()
    last = cmds[-1].seq if cmds else 0
    if writer.durable_seq != last:
        raise AssertionError(f"{mode}: durable up to {writer.durable_seq}, expected {last}")
    end = writer.last_commit_end_ns if cmds else submitted
    return ThroughputResult(
        db=db_name,
        mode=mode,
        matching=isinstance(engine, Engine),
        commands=len(cmds),
        submit_ns=submitted - start,
        durable_ns=max(end, submitted) - start,
        commit_ns=writer.commit_ns,
        batch_sizes=writer.batch_sizes,
    )


# --- recovery ---------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class RecoveryResult:
    db: str
    commands: int
    journal_s: float
    """Untimed set-up: how long journaling took on the fast path, for information."""
    recover_s: float
    """`Sequencer.recover(read_journal(db))` on a fresh engine, the FIX gateway core
    subscribed (what today's single-process venue does)."""
    core_s: float
    """The same without the gateway: what the core process of the pipeline pays."""
    read_s: float
    engine_s: float
    hash_s: float
    instrumented_s: float
    """The instrumented pass, whole (includes the timer calls)."""
    events: int
    snapshot: "SnapshotRecovery"

    def per_million(self, seconds: float) -> float:
        return seconds * 1_000_000 / max(self.commands, 1)


def with_gateway(sequencer: Sequencer, instruments: list[Instrument]) -> FixVenue:
    """The FIX gateway core subscribed as in the runtime (no sessions: nothing is sent)."""
    venue = FixVenue(
        instruments,
        submit=sequencer.submit,
        read=sequencer.read,
        send=lambda _key, _message: None,
        clock=time.time_ns,
    )
    sequencer.subscribe(venue.on_events)
    return venue


@dataclass(slots=True)
class SnapshotTaken:
    seq: int
    capture_s: float
    """Time the sequencer's lock was held for it (pickling; the journal was flushed)."""
    write_s: float
    size: int


@dataclass(slots=True)
class SnapshotRecovery:
    taken: SnapshotTaken
    load_s: float
    """Reading, checking and unpickling the snapshot, and the engine's state hash."""
    tail_s: float
    tail: int
    """Commands replayed after the snapshot."""
    core_load_s: float
    """The same snapshot as the core loads it with its FIX gateway in a process of its
    own: the engine's part only (`Restored.venue()` never called)."""
    core_tail_s: float
    """The tail replayed by that core: no FIX gateway core subscribed."""


def journal_fast(
    db: DbEngine, cfg: FlowConfig, snapshot_at: int
) -> tuple[list[Instrument], SnapshotTaken]:
    """Journal the flow's commands in `none` mode (big batches, no committer thread),
    through the FIX gateway core as the runtime does, with a snapshot after `snapshot_at`."""
    feed = Feed()
    instruments = Flow(cfg).instruments()
    writer = JournalWriter(db, Durability.NONE)
    engine = Engine(instruments)
    sequencer = Sequencer(engine, feed.clock, writer)
    venue = with_gateway(sequencer, instruments)
    submit = sequencer.submit
    build = feed.build
    flow = Flow(cfg)
    observe = flow.observe
    taken = SnapshotTaken(0, 0.0, 0.0, 0)

    def step(cmd: Command) -> None:
        nonlocal taken
        feed.next = cmd
        observe(submit(build))
        if cmd.seq == snapshot_at:
            sequencer.flush()  # the runtime's journal never holds this many uncommitted
            t0 = time.perf_counter()
            snap = snapshotting.take(sequencer, engine, venue, instruments)
            t1 = time.perf_counter()
            write_snapshot(db, snap)
            taken = SnapshotTaken(snap.seq, t1 - t0, time.perf_counter() - t1, len(snap.payload))

    for order in flow.warmup():
        step(order)
    for _ in range(cfg.ops):
        step(flow.next_op()[1])
    writer.close()
    return instruments, taken


def run_recovery(db: DbEngine, db_name: str, commands: int, seed: int) -> RecoveryResult:
    cfg = flow_config(commands, seed)
    started = time.perf_counter()
    # The runtime snapshots every 100,000 commands by default; recovering from the last
    # snapshot of this journal replays a tenth of it, the worst case at that interval.
    instruments, taken = journal_fast(db, cfg, snapshot_at=commands - commands // 10)
    journal_s = time.perf_counter() - started

    gc.collect()
    sequencer = Sequencer(Engine(instruments), time.time_ns)
    with_gateway(sequencer, instruments)
    t0 = time.perf_counter()
    count = sequencer.recover(read_journal(db))
    recover_s = time.perf_counter() - t0
    if count != commands:
        raise AssertionError(f"recovered {count} commands, journaled {commands}")
    del sequencer
    gc.collect()

    sequencer = Sequencer(Engine(instruments), time.time_ns)
    t0 = time.perf_counter()
    sequencer.recover(read_journal(db))
    core_s = time.perf_counter() - t0
    del sequencer
    gc.collect()

    # As Exchange starts in one process: the newest snapshot with the FIX gateway's part,
    # then the journal after it through engine and gateway.
    t0 = time.perf_counter()
    restored = snapshotting.restore_newest(db, instruments)
    if restored is None or restored.seq != taken.seq:
        raise AssertionError(f"snapshot after {taken.seq} did not load")
    venue_state = restored.venue()
    t1 = time.perf_counter()
    sequencer = Sequencer(restored.engine, time.time_ns)
    with_gateway(sequencer, instruments).restore_state(venue_state)
    sequencer.resume(restored.stream_hash, restored.last_ts)
    tail = sequencer.recover(read_journal(db, restored.seq))
    t2 = time.perf_counter()
    del sequencer, restored, venue_state
    gc.collect()
    # As the core starts with its FIX gateway in a process of its own: the engine alone.
    t3 = time.perf_counter()
    restored = snapshotting.restore_newest(db, instruments)
    assert restored is not None
    t4 = time.perf_counter()
    sequencer = Sequencer(restored.engine, time.time_ns)
    sequencer.resume(restored.stream_hash, restored.last_ts)
    sequencer.recover(read_journal(db, restored.seq))
    snapshot_recovery = SnapshotRecovery(
        taken, t1 - t0, t2 - t1, tail, t4 - t3, time.perf_counter() - t4
    )
    del sequencer, restored
    gc.collect()

    # The same work as `Sequencer.recover`, with a timer around each of its three parts.
    engine = Engine(instruments)
    stream = EventStreamHash()
    clock = time.perf_counter_ns
    entries = read_journal(db)
    read_ns = engine_ns = hash_ns = 0
    events = 0
    whole = clock()
    while True:
        a = clock()
        entry = next(entries, None)
        b = clock()
        read_ns += b - a
        if entry is None:
            break
        produced = engine.process(entry.command)
        c = clock()
        digest = stream.add_entry(produced, entry)
        d = clock()
        engine_ns += c - b
        hash_ns += d - c
        events += len(produced)
        if digest != entry.event_hash:
            raise AssertionError(f"replay of {entry.command.seq} diverged")
    instrumented_ns = clock() - whole
    return RecoveryResult(
        db=db_name,
        commands=count,
        journal_s=journal_s,
        recover_s=recover_s,
        core_s=core_s,
        read_s=read_ns / 1e9,
        engine_s=engine_ns / 1e9,
        hash_s=hash_ns / 1e9,
        instrumented_s=instrumented_ns / 1e9,
        events=events,
        snapshot=snapshot_recovery,
    )


# --- report -----------------------------------------------------------------------------


def histogram(values: Sequence[int]) -> HdrHistogram:
    # 1 to 100 s in ns (batch sizes fit too) at 3 significant digits.
    hist = HdrHistogram(1, 100_000_000_000, 3)
    for value in values:
        hist.record_value(max(value, 1))
    return hist


def load_average() -> str:
    try:
        return " / ".join(f"{load:.2f}" for load in os.getloadavg())
    except (OSError, AttributeError):
        return "n/a"


def verdict(ok: bool) -> str:
    return "[green]meets[/green]" if ok else "[red]misses[/red]"


def throughput_table(results: Sequence[ThroughputResult]) -> Table:
    table = Table(title="Journal throughput (Sequencer + committer thread, as the runtime runs)")
    for name, justify in (
        ("db", "left"),
        ("mode", "left"),
        ("engine", "left"),
        ("commands", "right"),
        ("durable cmd/s", "right"),
        ("submit cmd/s", "right"),
        ("commits", "right"),
        ("commit p50", "right"),
        ("commit p99", "right"),
        ("batch mean", "right"),
        ("batch p99", "right"),
        ("note", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in results:
        commits = histogram(r.commit_ns)
        batches = histogram(r.batch_sizes)
        note = ""
        if r.db == "sqlite" and r.mode is Durability.GROUP:
            ok = r.durable_rate >= TARGET_GROUP_SQLITE_PER_S
            note = f"target >= {TARGET_GROUP_SQLITE_PER_S:,}/s: {verdict(ok)}"
        table.add_row(
            r.db,
            r.mode.value,
            "matching" if r.matching else "recorded",
            f"{r.commands:,}",
            f"{r.durable_rate:,.0f}",
            f"{r.submit_rate:,.0f}",
            f"{len(r.commit_ns):,}",
            f"{commits.get_value_at_percentile(50.0) / 1e6:,.3f} ms",
            f"{commits.get_value_at_percentile(99.0) / 1e6:,.3f} ms",
            f"{sum(r.batch_sizes) / max(len(r.batch_sizes), 1):,.1f}",
            f"{batches.get_value_at_percentile(99.0):,}",
            note,
        )
    return table


def recovery_table(results: Sequence[RecoveryResult]) -> Table:
    table = Table(title="Recovery: full replay of the journal, and from a snapshot + its tail")
    table.add_column("db")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("per million", justify="right")
    table.add_column("note")
    for r in results:
        ok = r.per_million(r.recover_s) <= TARGET_RECOVERY_S_PER_MILLION
        snap = r.snapshot
        ok_snapshot = (
            r.per_million(snap.load_s + snap.tail_s) <= TARGET_SNAPSHOT_RECOVERY_S_PER_MILLION
        )
        core_snapshot_s = snap.core_load_s + snap.core_tail_s
        ok_core_snapshot = r.per_million(core_snapshot_s) <= TARGET_SNAPSHOT_RECOVERY_S_PER_MILLION
        share = r.instrumented_s or 1.0
        rows = (
            (
                "commands",
                f"{r.commands:,}",
                "",
                f"{r.events / max(r.commands, 1):.2f} events/command; "
                f"journaled in {r.journal_s:.1f} s (none mode, untimed)",
            ),
            (
                "recover",
                f"{r.recover_s:.2f} s",
                f"{r.per_million(r.recover_s):.2f} s",
                f"with the FIX gateway core folding the events, as today's venue: target <= "
                f"{TARGET_RECOVERY_S_PER_MILLION:g} s per million: {verdict(ok)}",
            ),
            (
                "recover, core alone",
                f"{r.core_s:.2f} s",
                f"{r.per_million(r.core_s):.2f} s",
                "sequencer + engine + hash check, no gateway: the pipeline's core process; "
                f"{verdict(r.per_million(r.core_s) <= TARGET_RECOVERY_S_PER_MILLION)}",
            ),
            (
                "  read + decode",
                f"{r.read_s:.2f} s",
                f"{r.per_million(r.read_s):.2f} s",
                f"{r.read_s / share:.0%} of the instrumented pass: SELECT, CRC, MessagePack, "
                "decode_command",
            ),
            (
                "  engine",
                f"{r.engine_s:.2f} s",
                f"{r.per_million(r.engine_s):.2f} s",
                f"{r.engine_s / share:.0%}: Engine.process",
            ),
            (
                "  hash",
                f"{r.hash_s:.2f} s",
                f"{r.per_million(r.hash_s):.2f} s",
                f"{r.hash_s / share:.0%}: EventStreamHash.add (events frame, sha256)",
            ),
            (
                "  instrumented pass",
                f"{r.instrumented_s:.2f} s",
                f"{r.per_million(r.instrumented_s):.2f} s",
                "the same work with a timer around each part",
            ),
            (
                "from snapshot",
                f"{snap.load_s + snap.tail_s:.2f} s",
                f"{r.per_million(snap.load_s + snap.tail_s):.2f} s",
                f"as the venue starts: newest snapshot (after command {snap.taken.seq:,}), "
                f"then {snap.tail:,} journaled commands; target <= "
                f"{TARGET_SNAPSHOT_RECOVERY_S_PER_MILLION:g} s per million: {verdict(ok_snapshot)}",
            ),
            (
                "  load snapshot",
                f"{snap.load_s:.2f} s",
                "",
                f"{snap.taken.size / 1e6:,.1f} MB: read, SHA-256, unpickle, engine state hash",
            ),
            ("  replay tail", f"{snap.tail_s:.2f} s", "", "journal after the snapshot"),
            (
                "from snapshot, core alone",
                f"{core_snapshot_s:.2f} s",
                f"{r.per_million(core_snapshot_s):.2f} s",
                "the core whose FIX gateway runs in a process of its own: the snapshot's "
                f"engine part ({snap.core_load_s:.2f} s), the tail without the gateway "
                f"({snap.core_tail_s:.2f} s); {verdict(ok_core_snapshot)}",
            ),
            (
                "  taking it",
                f"{snap.taken.capture_s * 1e3:,.0f} ms",
                "",
                f"the sequencer's lock held (pickling engine + gateway); writing it took "
                f"{snap.taken.write_s * 1e3:,.0f} ms more, outside the lock",
            ),
        )
        for figure, value, per_million, note in rows:
            table.add_row(r.db, figure, value, per_million, note)
        table.add_section()
    return table


# --- main -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.journal_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--commands", type=int, default=200_000, help="commands per group/none throughput run"
    )
    parser.add_argument(
        "--sync-commands",
        type=int,
        default=None,
        help="commands for the sync run (default: a tenth of --commands, at most 20,000)",
    )
    parser.add_argument("--db", choices=(*DATABASES, "both"), default="both")
    parser.add_argument(
        "--recovery-commands",
        type=int,
        default=1_000_000,
        help="commands journaled, then recovered (0 skips recovery)",
    )
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


@dataclass(slots=True)
class BenchResult:
    throughput: list[ThroughputResult] = field(default_factory=list)
    recovery: list[RecoveryResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def run(
    databases: Sequence[str],
    commands: int,
    sync_commands: int,
    recovery_commands: int,
    seed: int = 1,
    console: Console | None = None,
) -> BenchResult:
    result = BenchResult()
    say = console.print if console is not None else (lambda *_a, **_k: None)
    usable = []
    for db in databases:
        reason = postgres_reason() if db == "postgresql" else None
        if reason is None:
            usable.append(db)
        else:
            result.skipped[db] = reason
            say(f"[yellow]skipping {db}: {reason}[/yellow]")
    if not usable:
        return result
    say(f"generating {commands:,} flow commands (seed {seed}) ...")
    instruments, cmds, events = generate(flow_config(commands, seed))
    plan = (
        (Durability.GROUP, cmds, False),
        (Durability.GROUP, cmds, True),
        (Durability.SYNC, cmds[:sync_commands], True),
        (Durability.NONE, cmds, True),
    )
    for db in usable:
        for mode, batch, matching in plan:
            what = "" if matching else " (journal alone)"
            say(f"{db} {mode.value}{what}: {len(batch):,} commands ...")
            synchronous = "FULL" if mode is Durability.SYNC else "NORMAL"
            engine = Engine(instruments) if matching else RecordedEngine(events)
            with open_store(db, synchronous=synchronous) as store:
                result.throughput.append(run_throughput(store, db, mode, engine, batch))
    del cmds, events
    gc.collect()
    if recovery_commands > 0:
        for db in usable:
            say(f"{db} recovery: journaling {recovery_commands:,} commands ...")
            with open_store(db) as store:
                result.recovery.append(run_recovery(store, db, recovery_commands, seed))
    return result


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    args = parse_args(argv)
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    databases = DATABASES if args.db == "both" else (args.db,)
    sync_commands = args.sync_commands
    if sync_commands is None:
        sync_commands = min(args.commands // 10, 20_000)
    console.print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load_average()} (1/5/15 min)"
    )
    result = run(
        databases, args.commands, sync_commands, args.recovery_commands, args.seed, console
    )
    if result.throughput:
        console.print(throughput_table(result.throughput))
    if result.recovery:
        console.print(recovery_table(result.recovery))
    console.print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
