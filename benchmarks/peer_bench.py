"""Nyquestro's engine against PyLOB, a plain pure-Python book, on the same flow in one process.

Run from the repository root, with a checkout of https://github.com/DrAshBooth/PyLOB that
you point at (it is never vendored):

    .venv/bin/python -m benchmarks.peer_bench --pylob PATH [--flow simple|itch] [--ops N]

Two flows, both seeded:

- `simple`: 55% adds (a tenth of them marketable limit orders at the opposite touch, the
  rest passive within 50 ticks of 100.00), 45% cancels of a uniformly random live order,
  one symbol, 64 accounts, starting from an empty book;
- `itch`: `benchmarks.flow`'s ITCH-shaped day, as `benchmarks.engine_bench` runs it.

Each flow is generated once against a Nyquestro engine (untimed; the flow follows the book
through the engine's events), then every command is translated up front into a PyLOB call:
NewOrder -> `processOrder` (replay form, so the order's PyLOB `idNum` is Nyquestro's order
id), Cancel -> `cancelOrder`, CancelReplace -> `modifyOrder`, an IOC limit whose remainder
expired -> `processOrder` then `cancelOrder` of the remainder (PyLOB has no IOC limit).
A fresh engine and a fresh PyLOB book then take the warm-up untimed and the measured
commands in alternating slices, so machine noise hits both. Only the book call sits
between the two `time.perf_counter_ns()` reads of each op.

Self-match prevention is off in both, so that both books make exactly the same trades and
the counts can be checked against each other: in Nyquestro each order is its own SMP group,
in PyLOB every trader has `allow_self_matching`.
"""

import argparse
import dataclasses
import gc
import importlib.util
import sys
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, cast

from rich.console import Console
from rich.table import Table

from benchmarks.engine_bench import cpu_name, latency_histogram, load_average, timer_overhead_ns
from benchmarks.flow import RISK_LEVELS, Flow, FlowConfig, OpKind
from nyquestro.domain.commands import Cancel, CancelReplace, Command, NewOrder
from nyquestro.domain.enums import OrdType, Side, TimeInForce
from nyquestro.domain.events import Accepted, Cancelled, EventBase, Expired, Replaced, Trade
from nyquestro.domain.ids import SmpId
from nyquestro.domain.reasons import CancelReason, ExpireReason
from nyquestro.engine import Engine

FLOWS = ("simple", "itch")

SIMPLE_ADD_SHARE = 0.55
SIMPLE_MARKETABLE_OF_ADDS = 0.10
SIMPLE_BAND_TICKS = 50
"""Passive prices are drawn within this many ticks of 100.00 (10,000 ticks of 0.01)."""

CURRENCY = "USD"

# A call's tag says what it stands for, so results are counted by meaning, not by shape.
SUBMIT, CANCEL, REMAINDER = 0, 1, 2


class PeerBook(Protocol):
    """The part of PyLOB's `OrderBook` the benchmark drives, called positionally.

    Its method names are PyLOB's own (camelCase from 2013), hence the noqa.
    """

    def configure_instrument(self, symbol: str, currency: str, /) -> object: ...

    def configure_trader(self, tid: int, /, *, allow_self_matching: bool) -> object: ...

    def processOrder(self, quote: dict[str, Any], from_data: bool, /) -> object: ...  # noqa: N802

    def cancelOrder(self, side: str | None, id_num: int, time: int, /) -> object: ...  # noqa: N802

    def modifyOrder(  # noqa: N802
        self, id_num: int, update: dict[str, Any], time: int, /
    ) -> object: ...

    def depth(self, instrument: str, side: str, /) -> list[tuple[float, int]]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Peer:
    """A book library to race against: how to build a book and what it raises."""

    name: str
    make_book: Callable[[], PeerBook]
    error: type[Exception]
    """The library's base exception: a refused call is a translation bug, reported as such."""
    origin: str
    """Where the library was loaded from, and its version, for the report."""


class PeerNotFound(Exception):
    """--pylob does not name a PyLOB checkout."""


def load_pylob(path: Path) -> Peer:
    """Import PyLOB from the checkout at `path` (src layout or flat), nothing else.

    The package is loaded from that very directory, even if another PyLOB is installed,
    so the figures belong to the checkout the user named. PyLOB 1.x runs on Python 3.11 as
    it is: no compatibility shims are applied.
    """
    candidates = [path / "src" / "PyLOB", path / "PyLOB"]
    package = next((c for c in candidates if (c / "__init__.py").is_file()), None)
    if package is None:
        looked = " and ".join(str(c / "__init__.py") for c in candidates)
        raise PeerNotFound(
            f"--pylob {path}: no PyLOB package there (looked for {looked}); "
            "point it at a checkout of https://github.com/DrAshBooth/PyLOB"
        )
    if "PyLOB" in sys.modules:
        raise PeerNotFound("a module named PyLOB is already imported in this process")
    spec = importlib.util.spec_from_file_location(
        "PyLOB", package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None, "a file location always has a spec"
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: its own relative imports look the package up by name.
    sys.modules["PyLOB"] = module
    try:
        spec.loader.exec_module(module)
        return _peer_from(module, package)
    except Exception as exc:
        # Nothing half-imported stays behind to shadow a later, correct checkout.
        for name in [m for m in sys.modules if m == "PyLOB" or m.startswith("PyLOB.")]:
            del sys.modules[name]
        if isinstance(exc, PeerNotFound):
            raise
        raise PeerNotFound(f"--pylob {path}: importing {package} failed: {exc!r}") from exc


def _peer_from(module: ModuleType, package: Path) -> Peer:
    book_class = getattr(module, "OrderBook", None)
    error = getattr(module, "PyLOBError", None)
    needed = ("processOrder", "cancelOrder", "modifyOrder", "configure_trader", "depth")
    missing = [name for name in needed if not hasattr(book_class, name)]
    if (
        book_class is None
        or missing
        or not (isinstance(error, type) and issubclass(error, Exception))
    ):
        raise PeerNotFound(
            f"{package} is not a PyLOB this benchmark knows: it needs OrderBook with "
            f"{', '.join(needed)} and PyLOBError (missing: {', '.join(missing) or 'PyLOBError'})"
        )
    version = getattr(module, "__version__", "unknown version")
    return Peer(
        name="PyLOB",
        make_book=lambda: cast(PeerBook, book_class(tick_size=0.01)),
        error=error,
        origin=f"PyLOB {version} from {package}, run unmodified (no shims)",
    )


# --- the flows ---------------------------------------------------------------------------


class SimpleFlow(Flow):
    """The issue's flow: adds and cancels of random live orders in a fixed band of prices."""

    def next_op(self) -> tuple[OpKind, Command]:
        # No order here is a short-lived quote: cancels pick uniformly (`_pick_any`).
        self._next_is_quote = False
        rng = self._rng
        if rng.random() >= SIMPLE_ADD_SHARE and self._ids:
            return OpKind.CANCEL, self._cancel(self._pick_any())
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        if rng.random() < SIMPLE_MARKETABLE_OF_ADDS:
            touch = self.best_ask(0) if side is Side.BUY else self.best_bid(0)
            if touch is not None:
                # A DAY limit a little through the touch: it trades, and any remainder rests.
                px = touch + rng.randint(0, 2) * (1 if side is Side.BUY else -1)
                return OpKind.MARKETABLE, self._new_order(0, side, max(px, 1), self._rest_qty())
        mid = self.config.start_mid
        distance = rng.randint(1, SIMPLE_BAND_TICKS)
        if side is Side.BUY:
            ask = self.best_ask(0)
            px = mid - distance if ask is None else min(mid - distance, ask - 1)
        else:
            bid = self.best_bid(0)
            px = mid + distance if bid is None else max(mid + distance, bid + 1)
        return OpKind.ADD, self._new_order(0, side, max(px, 1), self._rest_qty())


def flow_config(
    kind: str, *, seed: int, ops: int, warmup: int | None = None, risk: str = "limits"
) -> FlowConfig:
    if kind == "simple":
        # No warm-up: the simple flow builds its book from nothing, as PyLOB's users do.
        return FlowConfig(
            seed=seed,
            ops=ops,
            warmup_orders=0 if warmup is None else warmup,
            depth_ticks=SIMPLE_BAND_TICKS,
            risk=risk,
        )
    if kind == "itch":
        defaults = FlowConfig()
        return FlowConfig(
            seed=seed,
            ops=ops,
            warmup_orders=defaults.warmup_orders if warmup is None else warmup,
            risk=risk,
        )
    raise ValueError(f"flow must be one of {FLOWS}, got {kind!r}")


@dataclass(frozen=True, slots=True)
class Step:
    """One command of a recorded flow and what the engine did with it."""

    cmd: Command
    order_id: int
    """The order the command created (NewOrder) or acted on (Cancel, CancelReplace)."""
    ioc_remainder: bool
    """An IOC limit whose unfilled remainder expired."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Recording:
    kind: str
    config: FlowConfig
    setup: list[Command]
    """The engine's risk settings (`Flow.setup`), before the warm-up; PyLOB has none."""
    warmup: list[Step]
    measured: list[Step]
    kinds: dict[OpKind, int]
    trades: int


def record(kind: str, cfg: FlowConfig) -> Recording:
    """Generate the flow against an engine (untimed) and keep each command's outcome."""
    flow: Flow = SimpleFlow(cfg) if kind == "simple" else Flow(cfg)
    engine = Engine(flow.instruments())
    trades = 0

    def step(cmd: Command) -> Step:
        nonlocal trades
        if isinstance(cmd, NewOrder):
            # Self-match prevention off: each order is its own SMP group (see the docstring).
            cmd = dataclasses.replace(cmd, smp_id=SmpId(cmd.cl_ord_id))
        out = engine.process(cmd)
        flow.observe(out)
        trades += sum(1 for ev in out if isinstance(ev, Trade))
        return _outcome(cmd, out)

    setup = flow.setup()
    for cmd in setup:
        flow.observe(engine.process(cmd))
    warmup = [step(cmd) for cmd in flow.warmup()]
    counts = dict.fromkeys(OpKind, 0)
    measured = []
    for _ in range(cfg.ops):
        op_kind, cmd = flow.next_op()
        counts[op_kind] += 1
        measured.append(step(cmd))
    return Recording(
        kind=kind,
        config=cfg,
        setup=setup,
        warmup=warmup,
        measured=measured,
        kinds=counts,
        trades=trades,
    )


def _outcome(cmd: Command, out: list[EventBase]) -> Step:
    if isinstance(cmd, NewOrder):
        accepted = next((ev for ev in out if isinstance(ev, Accepted)), None)
        if accepted is None:
            raise ValueError(f"the engine did not accept {cmd}: {out}")
        remainder = any(
            isinstance(ev, Expired) and ev.reason is ExpireReason.IOC_REMAINDER for ev in out
        )
        return Step(cmd, accepted.order_id, remainder)
    if isinstance(cmd, Cancel):
        done = next((ev for ev in out if isinstance(ev, Cancelled)), None)
        if done is None:
            raise ValueError(f"the engine did not cancel for {cmd}: {out}")
        return Step(cmd, done.order_id, False)
    if isinstance(cmd, CancelReplace):
        replaced = next((ev for ev in out if isinstance(ev, Replaced)), None)
        if replaced is None:
            raise ValueError(f"the engine did not replace for {cmd}: {out}")
        return Step(cmd, replaced.order_id, False)
    raise ValueError(f"the flows send no {type(cmd).__name__}")


# --- translation to PyLOB calls ----------------------------------------------------------

Call = tuple[Callable[..., object], tuple[object, ...], int]
"""A bound PyLOB method, its arguments, and its tag (SUBMIT, CANCEL or REMAINDER)."""

_SIDES = {Side.BUY: "bid", Side.SELL: "ask"}


def price(ticks: int) -> float:
    """Ticks of 0.01 as PyLOB's float price: the double nearest the decimal price."""
    return ticks / 100


def translate(book: PeerBook, steps: Sequence[Step], tids: dict[str, int]) -> list[list[Call]]:
    """Each step as the PyLOB calls that do the same, bound to `book`; built before timing."""
    process, cancel, modify = book.processOrder, book.cancelOrder, book.modifyOrder
    sides: dict[int, str] = {}
    ops: list[list[Call]] = []
    for step in steps:
        cmd = step.cmd
        if isinstance(cmd, NewOrder):
            if cmd.tif not in (TimeInForce.DAY, TimeInForce.IOC) or cmd.ord_type not in (
                OrdType.LIMIT,
                OrdType.MARKET,
            ):
                raise ValueError(f"no PyLOB equivalent for {cmd}")
            quote: dict[str, Any] = {
                "tid": tids[cmd.account],
                "instrument": str(cmd.symbol),
                "side": _SIDES[cmd.side],
                "type": "market" if cmd.ord_type is OrdType.MARKET else "limit",
                "qty": int(cmd.qty),
                # The replay form: the quote's own idNum and timestamp are used as given.
                "idNum": step.order_id,
                "timestamp": cmd.ts,
            }
            if cmd.px is not None:
                quote["price"] = price(cmd.px)
            sides[step.order_id] = _SIDES[cmd.side]
            calls: list[Call] = [(process, (quote, True), SUBMIT)]
            if step.ioc_remainder:
                calls.append((cancel, (None, step.order_id, cmd.ts), REMAINDER))
            ops.append(calls)
        elif isinstance(cmd, Cancel):
            ops.append([(cancel, (None, step.order_id, cmd.ts), CANCEL)])
        elif isinstance(cmd, CancelReplace):
            assert cmd.px is not None, "the flows only move limit orders"
            update = {"side": sides[step.order_id], "qty": int(cmd.qty), "price": price(cmd.px)}
            ops.append([(modify, (step.order_id, update, cmd.ts), SUBMIT)])
        else:
            raise ValueError(f"no PyLOB equivalent for {type(cmd).__name__}")
    return ops


# --- the race ----------------------------------------------------------------------------


@dataclass(slots=True)
class BookRun:
    """One book's side of the race: what it took and what it did."""

    name: str
    latencies_ns: "array[int]"
    trades: int = 0
    traded_qty: int = 0
    cancels: int = 0
    """Requested cancels done."""
    ioc_remainders: int = 0
    """IOC-limit remainders taken out (Nyquestro: expired; PyLOB: the extra cancel call)."""
    depth: tuple[list[tuple[float, int]], ...] = ()
    """The book at the end, bids and asks, as (price, quantity) per level, best first."""

    @property
    def busy_ns(self) -> int:
        return sum(self.latencies_ns)

    @property
    def rate(self) -> float:
        busy = self.busy_ns
        return len(self.latencies_ns) / (busy / 1e9) if busy else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Race:
    recording: Recording
    nyquestro: BookRun
    peer: BookRun
    slices: int
    slice_ratios: list[float]
    """Nyquestro's rate over the peer's in each slice, sorted."""

    @property
    def ratio(self) -> float:
        return self.nyquestro.rate / self.peer.rate if self.peer.rate else 0.0

    @property
    def median_slice_ratio(self) -> float:
        ratios = self.slice_ratios
        return ratios[len(ratios) // 2] if ratios else 0.0


def race(recording: Recording, peer: Peer, slice_ops: int = 5_000) -> Race:
    """Replay the recording through a fresh engine and a fresh peer book, slice by slice."""
    if slice_ops < 1:
        raise ValueError(f"slice_ops must be positive, got {slice_ops}")
    cfg = recording.config
    # Both flows trade one symbol (the FlowConfig default); Flow names its instrument.
    [inst] = Flow(cfg).instruments()
    sym = inst.symbol
    engine = Engine([inst])
    book = peer.make_book()
    book.configure_instrument(str(sym), CURRENCY)
    tids: dict[str, int] = {}
    for step in (*recording.warmup, *recording.measured):
        if isinstance(step.cmd, NewOrder) and step.cmd.account not in tids:
            tids[step.cmd.account] = len(tids) + 1
    for tid in tids.values():
        book.configure_trader(tid, allow_self_matching=True)
    # One pass over both phases: a measured replace may move an order of the warm-up.
    translated = translate(book, [*recording.warmup, *recording.measured], tids)
    warm_ops, peer_ops = translated[: len(recording.warmup)], translated[len(recording.warmup) :]
    commands = [step.cmd for step in recording.measured]

    # The warm-up is untimed and not counted: both books just hold its orders afterwards.
    process = engine.process
    for cmd in recording.setup:
        process(cmd)
    for step in recording.warmup:
        process(step.cmd)
    for calls in warm_ops:
        for fn, args, _ in calls:
            fn(*args)

    n = len(commands)
    ours = BookRun("Nyquestro", array("q", bytes(8 * n)))
    theirs = BookRun(peer.name, array("q", bytes(8 * n)))
    gc.collect()
    slices = 0
    slice_ratios: list[float] = []
    for lo in range(0, n, slice_ops):
        hi = min(lo + slice_ops, n)
        # Who goes first alternates, so neither always runs on a cache the other warmed.
        if slices % 2 == 0:
            _run_engine(process, commands, lo, hi, ours)
            _run_peer(peer_ops, lo, hi, theirs, peer.error)
        else:
            _run_peer(peer_ops, lo, hi, theirs, peer.error)
            _run_engine(process, commands, lo, hi, ours)
        slices += 1
        # Each slice pair ran back to back, so its ratio shares that moment's machine state.
        peer_ns = sum(theirs.latencies_ns[lo:hi])
        if peer_ns:
            slice_ratios.append(peer_ns / max(sum(ours.latencies_ns[lo:hi]), 1))
    ours.depth = (
        [(price(px), int(qty)) for px, qty, _ in engine.depth(sym, Side.BUY)],
        [(price(px), int(qty)) for px, qty, _ in engine.depth(sym, Side.SELL)],
    )
    theirs.depth = (
        [(float(px), int(qty)) for px, qty in book.depth(str(sym), "bid")],
        [(float(px), int(qty)) for px, qty in book.depth(str(sym), "ask")],
    )
    return Race(
        recording=recording,
        nyquestro=ours,
        peer=theirs,
        slices=slices,
        slice_ratios=sorted(slice_ratios),
    )


def _run_engine(
    process: Callable[[Command], list[EventBase]],
    commands: Sequence[Command],
    lo: int,
    hi: int,
    side: BookRun,
) -> None:
    # Local names: attribute lookups in the loop would land in the gaps between samples.
    clock = time.perf_counter_ns
    latencies = side.latencies_ns
    for i in range(lo, hi):
        cmd = commands[i]
        t0 = clock()
        out = process(cmd)
        t1 = clock()
        latencies[i] = t1 - t0
        for ev in out:
            if isinstance(ev, Trade):
                side.trades += 1
                side.traded_qty += ev.qty
            elif isinstance(ev, Cancelled) and ev.reason is CancelReason.REQUESTED:
                side.cancels += 1
            elif isinstance(ev, Expired) and ev.reason is ExpireReason.IOC_REMAINDER:
                side.ioc_remainders += 1


def _run_peer(
    ops: Sequence[Sequence[Call]], lo: int, hi: int, side: BookRun, error: type[Exception]
) -> None:
    clock = time.perf_counter_ns
    latencies = side.latencies_ns
    for i in range(lo, hi):
        spent = 0
        for fn, args, tag in ops[i]:
            try:
                t0 = clock()
                res = fn(*args)
                t1 = clock()
            except error as exc:
                raise RuntimeError(
                    f"{side.name} refused measured op {i} ({fn.__name__}{args}): {exc}; "
                    "the translation and the engine disagree about the book"
                ) from exc
            spent += t1 - t0
            if tag == SUBMIT:
                trades = cast(tuple[list[Any], object], res)[0]
                side.trades += len(trades)
                side.traded_qty += sum(trade.qty for trade in trades)
            elif tag == CANCEL:
                side.cancels += 1
            else:
                side.ioc_remainders += 1
        latencies[i] = spent


# --- the report --------------------------------------------------------------------------


def check(result: Race) -> list[str]:
    """Where the two books disagree (they make the same trades by construction)."""
    ours, theirs = result.nyquestro, result.peer
    problems = []
    for label, a, b in (
        ("trades", ours.trades, theirs.trades),
        ("traded quantity", ours.traded_qty, theirs.traded_qty),
        ("requested cancels", ours.cancels, theirs.cancels),
        ("IOC remainders", ours.ioc_remainders, theirs.ioc_remainders),
    ):
        if a != b:
            problems.append(f"{label}: Nyquestro {a:,}, {theirs.name} {b:,}")
    if ours.depth != theirs.depth:
        problems.append("the books at the end differ (price levels or quantities)")
    return problems


def report(result: Race, console: Console) -> None:
    rec = result.recording
    ours, theirs = result.nyquestro, result.peer
    ops = len(ours.latencies_ns)
    table = Table(title=f"Nyquestro vs {theirs.name}: {rec.kind} flow, seed {rec.config.seed}")
    table.add_column("figure")
    table.add_column("Nyquestro", justify="right")
    table.add_column(theirs.name, justify="right")
    table.add_column("note")
    mix = ", ".join(
        f"{kind.name.lower()} {100 * count / max(ops, 1):.1f}%"
        for kind, count in rec.kinds.items()
        if count
    )
    table.add_row("measured ops", f"{ops:,}", f"{ops:,}", mix)
    table.add_row(
        "warm-up orders", f"{len(rec.warmup):,}", f"{len(rec.warmup):,}", "untimed, both books"
    )
    table.add_row(
        "ops/s (book time)",
        f"{ours.rate:,.0f}",
        f"{theirs.rate:,.0f}",
        f"ops / sum of per-op book-call times; {result.slices} alternating slices",
    )
    hists = [latency_histogram(side.latencies_ns) for side in (ours, theirs)]
    for pct in (50.0, 99.0, 99.9):
        table.add_row(
            f"latency p{pct:g}",
            *(f"{h.get_value_at_percentile(pct) / 1_000:,.2f} µs" for h in hists),
            "per op" if pct == 50.0 else "",
        )
    table.add_row("trades", f"{ours.trades:,}", f"{theirs.trades:,}", "must agree")
    table.add_row("traded quantity", f"{ours.traded_qty:,}", f"{theirs.traded_qty:,}", "")
    table.add_row("requested cancels", f"{ours.cancels:,}", f"{theirs.cancels:,}", "")
    table.add_row(
        "IOC-limit remainders",
        f"{ours.ioc_remainders:,}",
        f"{theirs.ioc_remainders:,}",
        f"{theirs.name}: a cancelOrder after the submit, timed with it",
    )
    for label, idx in (("bid", 0), ("ask", 1)):
        table.add_row(
            f"{label} levels / quantity at end",
            *(
                f"{len(side.depth[idx]):,} / {sum(q for _, q in side.depth[idx]):,}"
                for side in (ours, theirs)
            ),
            "",
        )
    table.add_section()
    table.add_row(
        "ratio Nyquestro / " + theirs.name, f"{result.ratio:.2f}x", "", "ops/s over ops/s"
    )
    ratios = result.slice_ratios
    table.add_row(
        "  median of slice ratios",
        f"{result.median_slice_ratio:.2f}x",
        "",
        f"range {ratios[0]:.2f}x-{ratios[-1]:.2f}x over {len(ratios)} slice pairs: "
        "less moved by a preemption landing in one book's slice"
        if ratios
        else "",
    )
    console.print(table)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.peer_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--pylob", type=Path, required=True, help="a checkout of DrAshBooth/PyLOB")
    parser.add_argument("--ops", type=int, default=200_000, help="measured commands per flow")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--flow", choices=FLOWS, action="append", help="flow to run (repeatable; default both)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="untimed orders first (default: none for simple, engine_bench's for itch)",
    )
    parser.add_argument("--slice", type=int, default=5_000, help="ops per alternating slice")
    parser.add_argument(
        "--risk",
        choices=RISK_LEVELS,
        default="limits",
        help="risk limits the engine carries (never reached; see engine_bench --risk)",
    )
    args = parser.parse_args(argv)
    if args.ops < 1 or args.slice < 1 or (args.warmup is not None and args.warmup < 0):
        parser.error("--ops and --slice must be positive and --warmup not negative")
    return args


def main(
    argv: Sequence[str] | None = None, console: Console | None = None, peer: Peer | None = None
) -> int:
    """`peer` replaces the PyLOB named by --pylob (the smoke test's stand-in book)."""
    args = parse_args(argv)
    console = console or Console(width=None if sys.stdout.isatty() else 130)
    if peer is None:
        try:
            peer = load_pylob(args.pylob)
        except PeerNotFound as exc:
            console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
            return 2
    load = " / ".join(f"{x:.2f}" for x in load_average())
    console.print(
        f"{peer.origin}\n{sys.version.split()[0]} on {cpu_name()}, load {load}; "
        f"timer pair {timer_overhead_ns()} ns (inside every sample)",
        markup=False,
        highlight=False,
    )
    failed = False
    for kind in args.flow or FLOWS:
        cfg = flow_config(kind, seed=args.seed, ops=args.ops, warmup=args.warmup, risk=args.risk)
        result = race(record(kind, cfg), peer, args.slice)
        report(result, console)
        for problem in check(result):
            failed = True
            console.print(f"[red]disagreement:[/red] {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
