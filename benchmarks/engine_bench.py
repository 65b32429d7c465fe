"""Single-thread throughput and latency of `Engine.process` over an ITCH-shaped day.

Run from the repository root:

    .venv/bin/python -m benchmarks.engine_bench [--ops N] [--seed S] [--warmup N] [--profile]

Three separate steps, so that no measuring tool slows down another one's figures:

1. replay: warm-up (untimed) then the measured phase, timing each `process` call alone
   with `time.perf_counter_ns`; command building and event bookkeeping are outside it;
2. memory: a fresh engine fed the same warm-up under `tracemalloc`;
3. with `--profile`, instead of 1 and 2: the measured phase under `cProfile`, switched
   on only around `process` calls.
"""

import argparse
import cProfile
import dataclasses
import gc
import io
import itertools
import os
import platform
import pstats
import sys
import time
import tracemalloc
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FunctionType

from hdrh.histogram import HdrHistogram
from rich.console import Console
from rich.table import Table

from benchmarks.flow import RISK_LEVELS, Flow, FlowConfig, FlowCounts, OpKind
from nyquestro import BUILD_KIND
from nyquestro.domain.commands import Command
from nyquestro.domain.enums import Side
from nyquestro.domain.events import EventBase
from nyquestro.engine import Engine

TARGET_OPS_PER_S = 250_000
TARGET_P99_US = 20.0

OpHook = Callable[[OpKind, Command, list[EventBase]], None]
"""Called after each measured op, outside the timed region (tests use it to check the mix)."""

GC_MODES = ("default", "freeze", "off")

RISK_NOTES = {
    "none": "no limits configured (each check runs until it finds none); positions and PnL kept",
    "limits": "every pre-trade limit on every account and symbol, circuit breakers",
    "full": "limits, and a VaR monitor on every account (PnL sampled per holder per trade)",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayResult:
    config: FlowConfig
    engine: Engine
    flow: Flow
    kinds: dict[OpKind, int]
    latencies_ns: "array[int]"
    """Duration of each measured `process` call, in order."""
    op_kinds: bytes
    """The `OpKind` of each measured op, in the same order."""
    engine_ns: int
    """Sum of `latencies_ns`: time spent inside `process`."""
    wall_ns: int
    """The whole measured loop, including command building and bookkeeping."""
    events: int
    counts: FlowCounts
    """What the measured phase did (trades, level changes, SMP): the flow's shape."""
    warmup_s: float

    @property
    def ops(self) -> int:
        return len(self.latencies_ns)


@dataclass(frozen=True, slots=True, kw_only=True)
class BookSize:
    orders: int
    bid_levels: int
    ask_levels: int


def warm_up(cfg: FlowConfig) -> tuple[Flow, Engine]:
    flow = Flow(cfg)
    engine = Engine(flow.instruments())
    process = engine.process
    observe = flow.observe
    for cmd in flow.setup():
        observe(process(cmd))
    for cmd in flow.warmup():
        observe(process(cmd))
    return flow, engine


def replay(
    cfg: FlowConfig, *, on_op: OpHook | None = None, gc_mode: str = "default"
) -> ReplayResult:
    """Warm up, then run `cfg.ops` measured commands, timing each `process` call."""
    if gc_mode not in GC_MODES:
        raise ValueError(f"gc_mode must be one of {GC_MODES}, got {gc_mode!r}")
    started = time.perf_counter()
    flow, engine = warm_up(cfg)
    warmup_s = time.perf_counter() - started
    n = cfg.ops
    latencies = array("q", bytes(8 * n))
    kinds = bytearray(n)
    counts = [0] * len(OpKind)
    events = 0
    # Local names: attribute lookups in the loop would count in the wall time.
    clock = time.perf_counter_ns
    process = engine.process
    next_op = flow.next_op
    observe = flow.observe
    before = dataclasses.replace(flow.counts)  # a copy: the flow keeps counting
    gc.collect()
    if gc_mode == "freeze":
        gc.freeze()
    elif gc_mode == "off":
        gc.disable()
    try:
        wall_start = clock()
        for i in range(n):
            kind, cmd = next_op()
            t0 = clock()
            out = process(cmd)
            t1 = clock()
            latencies[i] = t1 - t0
            kinds[i] = kind
            counts[kind] += 1
            events += len(out)
            observe(out)
            if on_op is not None:
                on_op(kind, cmd, out)
        wall_ns = clock() - wall_start
    finally:
        # Undo only what this function did to the collector.
        if gc_mode == "freeze":
            gc.unfreeze()
        elif gc_mode == "off":
            gc.enable()
    return ReplayResult(
        config=cfg,
        engine=engine,
        flow=flow,
        kinds={kind: counts[kind] for kind in OpKind},
        latencies_ns=latencies,
        op_kinds=bytes(kinds),
        engine_ns=sum(latencies),
        wall_ns=wall_ns,
        events=events,
        counts=flow.counts.since(before),
        warmup_s=warmup_s,
    )


Label = tuple[str, int, str]
CallerStats = tuple[int, int, float, float]


class Profiler(cProfile.Profile):
    """cProfile with generated functions told apart.

    Every dataclass-generated method has the same file, line and name (an `__init__` is
    "<string>:2(__init__)"), and the stock table keys on those three: the constructors of all
    events collapse into one row holding only the figures of whichever class came last, and
    the cost of building events vanishes from the table. Here each generated method is
    named after its class, and rows that still share a key are added up, not overwritten.
    """

    def __init__(self) -> None:
        super().__init__()
        self._generated = generated_methods()

    def label(self, code: CodeType | str) -> Label:
        if isinstance(code, str):
            return ("~", 0, code)  # a built-in; "~" is what pstats sorts last
        name = self._generated.get(id(code))
        if name is not None:
            return ("<dataclass>", 0, name)
        return (code.co_filename, code.co_firstlineno, code.co_name)

    def snapshot_stats(self) -> None:
        stats: dict[Label, tuple[int, int, float, float, dict[Label, CallerStats]]] = {}
        entries = self.getstats()
        for entry in entries:
            key = self.label(entry.code)
            prim, calls, own, cum, callers = stats.get(key, (0, 0, 0.0, 0.0, {}))
            stats[key] = (
                prim + entry.callcount - entry.reccallcount,
                calls + entry.callcount,
                own + entry.inlinetime,
                cum + entry.totaltime,
                callers,
            )
        for entry in entries:
            caller = self.label(entry.code)
            for sub in entry.calls or ():
                callee = stats.get(self.label(sub.code))
                if callee is None:
                    continue
                calls, prim, own, cum = callee[4].get(caller, (0, 0, 0.0, 0.0))
                callee[4][caller] = (
                    calls + sub.callcount,
                    prim + sub.callcount - sub.reccallcount,
                    own + sub.inlinetime,
                    cum + sub.totaltime,
                )
        # typeshed declares the times as int; pstats reads floats.
        self.stats = stats  # type: ignore[assignment]


def generated_methods() -> dict[int, str]:
    """Names of the dataclass-generated methods of every loaded nyquestro class.

    Keyed by the identity of their code: sibling classes without fields of their own (the
    three level events, say) have equal code objects, which a dict would merge.
    """
    names: dict[int, str] = {}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("nyquestro.") or module is None:
            continue
        for obj in vars(module).values():
            if not (isinstance(obj, type) and dataclasses.is_dataclass(obj)):
                continue
            for attr, value in vars(obj).items():
                if isinstance(value, FunctionType) and value.__code__.co_filename == "<string>":
                    names[id(value.__code__)] = f"{obj.__qualname__}.{attr}"
    return names


def profile(cfg: FlowConfig, top: int = 25) -> str:
    """cProfile over the measured `process` calls only; the report sorted by tottime."""
    flow, engine = warm_up(cfg)
    profiler = Profiler()
    process = engine.process
    next_op = flow.next_op
    observe = flow.observe
    enable = profiler.enable
    disable = profiler.disable
    for _ in range(cfg.ops):
        _, cmd = next_op()
        enable()
        out = process(cmd)
        disable()
        observe(out)
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in raw.values())
    generated = sum(row[2] for key, row in raw.items() if key[0] == "<dataclass>")
    calls = sum(row[1] for key, row in raw.items() if key[0] == "<dataclass>")
    buffer.write(
        f"dataclass-generated methods (event construction): {generated:.3f} s of {total:.3f} s "
        f"own time ({100 * generated / max(total, 1e-9):.0f}%), {calls:,} calls, "
        f"{calls / max(cfg.ops, 1):.2f} per op\n"
    )
    stats.sort_stats(pstats.SortKey.TIME).print_stats(top)
    return buffer.getvalue()


def book_size(engine: Engine) -> BookSize:
    orders = bid_levels = ask_levels = 0
    for sym in engine.instruments:
        bids = engine.depth(sym, Side.BUY)
        asks = engine.depth(sym, Side.SELL)
        bid_levels += len(bids)
        ask_levels += len(asks)
        orders += sum(count for _, _, count in bids) + sum(count for _, _, count in asks)
    return BookSize(orders=orders, bid_levels=bid_levels, ask_levels=ask_levels)


def bytes_per_resting_order(cfg: FlowConfig) -> tuple[float, int]:
    """Memory an engine holds per resting order after the warm-up, and the order count.

    The warm-up adds are passive by construction, so they are fed without the flow's
    bookkeeping: what grows while tracing is the engine (and the ClOrdID strings it keeps).
    """
    flow = Flow(cfg)
    instruments = flow.instruments()
    commands = itertools.chain(flow.setup(), flow.warmup())
    gc.collect()
    tracemalloc.start()
    try:
        engine = Engine(instruments)
        gc.collect()
        empty = tracemalloc.get_traced_memory()[0]
        _feed(engine, commands)
        gc.collect()
        loaded = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    orders = book_size(engine).orders
    return (loaded - empty) / max(orders, 1), orders


def _feed(engine: Engine, commands: Iterable[Command]) -> None:
    # A function of its own so that no loop variable keeps the last command alive.
    for cmd in commands:
        engine.process(cmd)


def latency_histogram(latencies_ns: Sequence[int]) -> HdrHistogram:
    # 1 ns to 100 s at 3 significant digits: 0.1% resolution over the whole range.
    hist = HdrHistogram(1, 100_000_000_000, 3)
    record = hist.record_value
    for ns in latencies_ns:
        record(max(ns, 1))
    return hist


def timer_overhead_ns(samples: int = 100_000) -> int:
    """Median cost of one back-to-back `perf_counter_ns` pair: included in every sample."""
    clock = time.perf_counter_ns
    deltas = sorted(-(clock() - clock()) for _ in range(samples))
    return deltas[samples // 2]


def load_average() -> tuple[float, ...]:
    try:
        return os.getloadavg()
    except (OSError, AttributeError):  # not every platform has one
        return ()


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def report(result: ReplayResult, memory: tuple[float, int], console: Console, gc_mode: str) -> None:
    cfg = result.config
    ops = result.ops
    hist = latency_histogram(result.latencies_ns)
    size = book_size(result.engine)
    engine_rate = ops / (result.engine_ns / 1e9) if result.engine_ns else 0.0
    wall_rate = ops / (result.wall_ns / 1e9) if result.wall_ns else 0.0
    p99_us = hist.get_value_at_percentile(99.0) / 1_000

    def us(percentile: float) -> str:
        return f"{hist.get_value_at_percentile(percentile) / 1_000:,.2f} µs"

    def verdict(ok: bool) -> str:
        return "[green]meets[/green]" if ok else "[red]misses[/red]"

    table = Table(title="Nyquestro engine benchmark", show_lines=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("note")
    table.add_row(
        "python",
        f"{platform.python_implementation()} {platform.python_version()}",
        sys.version.replace("\n", " "),
    )
    table.add_row("machine", platform.machine(), cpu_name())
    table.add_row(
        "load average",
        " / ".join(f"{load:.2f}" for load in load_average()),
        f"1/5/15 min over {os.cpu_count()} CPUs: other work on the machine inflates latency",
    )
    table.add_row("seed / symbols / sessions", f"{cfg.seed} / {cfg.symbols} / {cfg.sessions}", "")
    table.add_row("gc", gc_mode, "Python's cyclic GC during the measured phase")
    table.add_row("risk", cfg.risk, RISK_NOTES[cfg.risk])
    table.add_row(
        "warm-up orders",
        f"{cfg.warmup_orders:,}",
        f"untimed, {result.warmup_s:.1f} s with bookkeeping",
    )
    table.add_row("measured ops", f"{ops:,}", "")
    mix = ", ".join(
        f"{kind.name.lower()} {100 * count / max(ops, 1):.1f}%"
        for kind, count in result.kinds.items()
    )
    table.add_row("op mix", "", mix)
    shape = result.counts
    table.add_row(
        "flow shape",
        "",
        f"{shape.trades / max(ops, 1):.3f} trades/op, "
        f"{(shape.levels_added + shape.levels_removed) / max(ops, 1):.4f} level adds+removes/op, "
        f"{shape.self_match_cancels:,} SMP cancels",
    )
    table.add_section()
    table.add_row(
        "ops/s (engine time)",
        f"{engine_rate:,.0f}",
        f"sum of per-op process() time {result.engine_ns / 1e9:.2f} s; "
        f"target >= {TARGET_OPS_PER_S:,}: {verdict(engine_rate >= TARGET_OPS_PER_S)}",
    )
    table.add_row(
        "ops/s (wall)",
        f"{wall_rate:,.0f}",
        f"measured loop {result.wall_ns / 1e9:.2f} s, incl. building commands and bookkeeping",
    )
    table.add_row("latency mean", f"{hist.get_mean_value() / 1_000:,.2f} µs", "")
    table.add_row("latency p50", us(50.0), "")
    table.add_row("latency p90", us(90.0), "")
    table.add_row(
        "latency p99",
        us(99.0),
        f"target <= {TARGET_P99_US:g} µs: {verdict(p99_us <= TARGET_P99_US)}",
    )
    table.add_row("latency p99.9", us(99.9), "")
    table.add_row("latency max", f"{hist.get_max_value() / 1_000:,.2f} µs", "")
    for kind in OpKind:
        of_kind = [
            ns for ns, k in zip(result.latencies_ns, result.op_kinds, strict=True) if k == kind
        ]
        if of_kind:
            part = latency_histogram(of_kind)
            table.add_row(
                f"  {kind.name.lower()}",
                f"{part.get_value_at_percentile(50.0) / 1_000:,.2f} µs",
                f"p50; p99 {part.get_value_at_percentile(99.0) / 1_000:,.2f} µs, "
                f"{sum(of_kind) / max(result.engine_ns, 1):.0%} of engine time",
            )
    table.add_row(
        "timer overhead", f"{timer_overhead_ns()} ns", "one perf_counter_ns pair, in every sample"
    )
    table.add_row(
        "events per op", f"{result.events / max(ops, 1):.2f}", f"{result.events:,} events"
    )
    table.add_section()
    table.add_row("resting orders at end", f"{size.orders:,}", "")
    table.add_row("price levels at end", f"{size.bid_levels:,} bid / {size.ask_levels:,} ask", "")
    per_order, held = memory
    table.add_row(
        "bytes per resting order",
        f"{per_order:,.0f}",
        f"tracemalloc: engine with {held:,} orders minus empty engine, / orders",
    )
    console.print(table)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    defaults = FlowConfig()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.engine_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--ops", type=int, default=defaults.ops, help="measured commands")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--warmup", type=int, default=defaults.warmup_orders, help="resting orders built first"
    )
    parser.add_argument("--symbols", type=int, default=defaults.symbols)
    parser.add_argument(
        "--gc",
        choices=GC_MODES,
        default="default",
        help="cyclic GC during the measured phase: as is, frozen after warm-up, or off",
    )
    parser.add_argument(
        "--risk",
        choices=RISK_LEVELS,
        default="limits",
        help="limits configured before the warm-up (never reached): none, every pre-trade "
        "limit and circuit breaker, or also a VaR monitor per account",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the measured phase under cProfile and print the top 25 functions by tottime",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    args = parse_args(argv)
    cfg = FlowConfig(
        seed=args.seed,
        warmup_orders=args.warmup,
        ops=args.ops,
        symbols=args.symbols,
        risk=args.risk,
    )
    # Wide enough for the notes when the output goes to a file or a pipe.
    console = console or Console(width=None if sys.stdout.isatty() else 130)
    if args.profile:
        console.print(
            f"cProfile over {cfg.ops:,} measured process() calls "
            f"(seed {cfg.seed}, warm-up {cfg.warmup_orders:,}); "
            "profiler overhead inflates every figure, read it for proportions only"
        )
        if BUILD_KIND == "compiled":
            # cProfile sees a compiled function only where interpreted code calls it.
            console.print(
                "the engine core is compiled: its functions do not appear below; "
                "run with NYQUESTRO_PURE=1 in the environment to profile the sources"
            )
        console.print(profile(cfg), markup=False, highlight=False)
        return 0
    result = replay(cfg, gc_mode=args.gc)
    memory = bytes_per_resting_order(cfg)
    report(result, memory, console, args.gc)
    unexpected = result.flow.counts.unexpected_rejects
    if unexpected:
        console.print(f"[red]{unexpected} unexpected rejects: a flow or engine bug[/red]")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
