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
2. recovery: N commands journaled on a fast path (`none` mode, untimed), then
   `Sequencer.recover(read_journal(db))` timed on a fresh engine with no subscribers, and
   a second, instrumented pass splitting the time into reading + decoding, the engine and
   the event-stream hash.

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

from hdrh.histogram import HdrHistogram
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine as DbEngine
from sqlalchemy import create_engine, text

from benchmarks.flow import Flow, FlowConfig
from nyquestro.domain.commands import Command
from nyquestro.domain.ids import Seq, Ts
from nyquestro.domain.instrument import Instrument
from nyquestro.engine import Engine
from nyquestro.runtime.replay import EventStreamHash
from nyquestro.runtime.sequencer import Sequencer
from nyquestro.store.database import create_db_engine, upgrade
from nyquestro.store.journal import Durability, JournalWriter, read_journal

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DATABASES = ("sqlite", "postgresql")
TARGET_GROUP_SQLITE_PER_S = 50_000
TARGET_RECOVERY_S_PER_MILLION = 20.0
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


def generate(cfg: FlowConfig) -> tuple[list[Instrument], list[Command]]:
    """Every command of the flow, built against a plain engine (deterministic: the
    sequencer's engine later produces the same events)."""
    flow = Flow(cfg)
    engine = Engine(flow.instruments())
    process = engine.process
    observe = flow.observe
    commands: list[Command] = []
    for order in flow.warmup():
        observe(process(order))
        commands.append(order)
    for _ in range(cfg.ops):
        _, cmd = flow.next_op()
        observe(process(cmd))
        commands.append(cmd)
    return flow.instruments(), commands


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
    db: DbEngine, db_name: str, mode: Durability, instruments: list[Instrument], cmds: list[Command]
) -> ThroughputResult:
    """Submit `cmds` through a journaled sequencer with the runtime's committer thread."""
    feed = Feed()
    writer = TimedJournalWriter(db, mode)
    sequencer = Sequencer(Engine(instruments), feed.clock, writer)
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
    """`Sequencer.recover(read_journal(db))` on a fresh engine."""
    read_s: float
    engine_s: float
    hash_s: float
    instrumented_s: float
    """The instrumented pass, whole (includes the timer calls)."""
    events: int

    def per_million(self, seconds: float) -> float:
        return seconds * 1_000_000 / max(self.commands, 1)


def journal_fast(db: DbEngine, cfg: FlowConfig) -> list[Instrument]:
    """Journal the flow's commands in `none` mode (big batches, no committer thread)."""
    feed = Feed()
    instruments = Flow(cfg).instruments()
    writer = JournalWriter(db, Durability.NONE)
    sequencer = Sequencer(Engine(instruments), feed.clock, writer)
    submit = sequencer.submit
    build = feed.build
    flow = Flow(cfg)
    observe = flow.observe
    for order in flow.warmup():
        feed.next = order
        observe(submit(build))
    for _ in range(cfg.ops):
        _, cmd = flow.next_op()
        feed.next = cmd
        observe(submit(build))
    writer.close()
    return instruments


def run_recovery(db: DbEngine, db_name: str, commands: int, seed: int) -> RecoveryResult:
    cfg = flow_config(commands, seed)
    started = time.perf_counter()
    instruments = journal_fast(db, cfg)
    journal_s = time.perf_counter() - started

    gc.collect()
    sequencer = Sequencer(Engine(instruments), time.time_ns)
    t0 = time.perf_counter()
    count = sequencer.recover(read_journal(db))
    recover_s = time.perf_counter() - t0
    if count != commands:
        raise AssertionError(f"recovered {count} commands, journaled {commands}")
    del sequencer
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
        digest = stream.add(produced)
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
        read_s=read_ns / 1e9,
        engine_s=engine_ns / 1e9,
        hash_s=hash_ns / 1e9,
        instrumented_s=instrumented_ns / 1e9,
        events=events,
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
    table = Table(title="Recovery: Sequencer.recover(read_journal(db)) on a fresh engine")
    table.add_column("db")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("per million", justify="right")
    table.add_column("note")
    for r in results:
        ok = r.per_million(r.recover_s) <= TARGET_RECOVERY_S_PER_MILLION
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
                f"target <= {TARGET_RECOVERY_S_PER_MILLION:g} s per million: {verdict(ok)}",
            ),
            (
                "  read + decode",
                f"{r.read_s:.2f} s",
                f"{r.per_million(r.read_s):.2f} s",
                f"{r.read_s / share:.0%} of the instrumented pass: SELECT, CRC, json, "
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
                f"{r.hash_s / share:.0%}: EventStreamHash.add (encode_event, json, sha256)",
            ),
            (
                "  instrumented pass",
                f"{r.instrumented_s:.2f} s",
                f"{r.per_million(r.instrumented_s):.2f} s",
                "the same work with a timer around each part",
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
    instruments, cmds = generate(flow_config(commands, seed))
    plan = (
        (Durability.GROUP, cmds),
        (Durability.SYNC, cmds[:sync_commands]),
        (Durability.NONE, cmds),
    )
    for db in usable:
        for mode, batch in plan:
            say(f"{db} {mode.value}: {len(batch):,} commands ...")
            synchronous = "FULL" if mode is Durability.SYNC else "NORMAL"
            with open_store(db, synchronous=synchronous) as store:
                result.throughput.append(run_throughput(store, db, mode, instruments, batch))
    del cmds
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
