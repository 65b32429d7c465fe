"""FIX round trip and throughput of `nyquestro serve` against a bare quickfix acceptor.

Run from the repository root:

    .venv/bin/python -m benchmarks.fix_bench [--seconds S] [--sessions 1,4] [--rate R]

For each session count the harness starts a fresh server per target (the bare acceptor
and Nyquestro), each on a free loopback port with its own temporary store directory, then
one load-generator process per session (benchmarks/fix_load.py, CLIENT1..CLIENTn on
FIX.4.4) logged on to both. In the ping-pong phase the targets take turns in quarter-second
slices, so slow changes in the machine's load land on both alike; the sustained phase then
runs against each target in turn. The harness meets the clients at a barrier at each window's
edges to read the servers' CPU time from /proc. `--profile` samples the server with
py-spy during its sustained window and prints where its time goes.
"""

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from threading import BrokenBarrierError
from typing import Any

from hdrh.histogram import HdrHistogram
from rich.console import Console
from rich.table import Table

from benchmarks.bare_acceptor import READY_TEXT as BARE_READY
from benchmarks.fix_load import ClientResult, LoadConfig, PhaseResult, client_main
from benchmarks.venue_process import free_port

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
COMP_ID = "NYQUESTRO"
NYQUESTRO_READY = "Nyquestro FIX acceptor on port"
NYQUESTRO_TARGETS = ("nyquestro", "nyquestro-process", "nyquestro-metrics", "nyquestro-traced")
PHASES = ("pingpong", "sustained")
TARGET_THROUGHPUT_RATIO = 0.8
TARGET_P99_RATIO = 1.5
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

VENUE_TOML = """\
# Written by benchmarks/fix_bench.py for one run.
[store]
dir = "{store}"
audit = {audit}

[fix]
port = {port}
comp_id = "{comp_id}"
reset_on_logon = true
sessions = [
{sessions}
]

[instruments.AAPL]
tick_size = "0.01"
band_reference = "190.00"
smp_policy = "cancel_incoming"

[instruments.MSFT]
tick_size = "0.01"
band_reference = "420.00"

[instruments.IBM]
tick_size = "0.01"
band_reference = "180.00"
"""


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    """"bare", "nyquestro" or "nyquestro-process"."""
    store: str
    """quickfix message store the server uses: "file" or "memory"."""
    reports: str = "fields"
    """The bare acceptor's use of the binding (see benchmarks/bare_acceptor.py)."""
    audit: bool = True
    """Nyquestro's `[store] audit` (audit trail and projections)."""
    own_process: bool = False
    """Nyquestro's `[fix] own_process`: the FIX gateway in a process of its own (as
    shipped), or in the core's (the "nyquestro" target)."""
    trace: float | None = None
    """Nyquestro's `[metrics] trace` (None: no [metrics] table, so no metrics at all)."""

    @property
    def label(self) -> str:
        if self.name.startswith("nyquestro"):
            label = "Nyquestro" if self.audit else "Nyquestro (no audit)"
            label = f"{label}, FIX process" if self.own_process else label
            if self.trace is not None:
                label += ", metrics" + (f", {self.trace:.0%} traced" if self.trace else "")
            return label
        return "bare" if self.reports == "fields" else "bare (strings)"


@dataclass(slots=True)
class RunResult:
    target: Target
    sessions: int
    clients: list[ClientResult]
    server_cpu_s: dict[str, float] = field(default_factory=dict)
    """Server CPU time (user + system) inside each phase's measured window."""
    wall_s: float = 0.0
    profile: str = ""
    """The py-spy summary (or, after errors, the server's log tail)."""
    stacks: str = ""
    """py-spy's raw collapsed stacks."""

    def phase(self, name: str) -> list[PhaseResult]:
        return [c.phases[name] for c in self.clients if name in c.phases]

    @property
    def errors(self) -> list[str]:
        return [f"{c.sender}: {e}" for c in self.clients for e in c.errors]

    def replies(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for c in self.clients:
            total.update(c.replies)
        return total

    def rate(self, name: str) -> float:
        """Answers per second over the measured window, summed over the sessions."""
        return sum(p.answers / p.elapsed_s for p in self.phase(name) if p.elapsed_s > 0)

    def worst_second(self, name: str) -> int:
        phases = self.phase(name)
        seconds = min((len(p.per_second) for p in phases), default=0)
        if not seconds:
            return 0
        return min(sum(p.per_second[i] for p in phases) for i in range(seconds))

    def answers(self, name: str) -> int:
        return sum(p.answers for p in self.phase(name))

    def server_us_per_answer(self, name: str) -> float:
        answers = self.answers(name)
        return 1e6 * self.server_cpu_s.get(name, 0.0) / answers if answers else 0.0

    def client_us_per_answer(self, name: str) -> float:
        answers = self.answers(name)
        cpu = sum(p.cpu_s for p in self.phase(name))
        return 1e6 * cpu / answers if answers else 0.0

    def rtt(self) -> HdrHistogram:
        # 1 µs .. 100 s in ns, 3 significant digits.
        hist = HdrHistogram(1_000, 100_000_000_000, 3)
        for p in self.phase("pingpong"):
            for ns in p.rtt_ns:
                hist.record_value(max(ns, 1_000))
        return hist


# --- servers ------------------------------------------------------------------------------


class Server:
    """A server subprocess whose stderr goes to a file; ready once a line says so."""

    def __init__(self, command: list[str], log_path: Path, ready_text: str) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log
        )
        self._ready_text = ready_text

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready_text in self.log_path.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"server did not start (exit status {self.proc.returncode}); "
            f"its log:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """User + system CPU time so far of the server's processes (every thread): the
        process and its children (Nyquestro's replica and gateway processes)."""
        return sum(process_cpu_seconds(pid) for pid in process_tree(self.pid))

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self._log.close()
        return self.proc.returncode


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, as they are now."""
    pids, at = [pid], 0
    while at < len(pids):
        with contextlib.suppress(OSError):
            task = Path(f"/proc/{pids[at]}/task/{pids[at]}/children")
            pids += [int(child) for child in task.read_text().split()]
        at += 1
    return pids


def process_cpu_seconds(pid: int) -> float:
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        # Fields after the ")" closing the command name: utime and stime are 14 and 15.
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return 0.0


def venue_toml(
    store_dir: Path,
    port: int,
    sessions: int,
    audit: bool = True,
    own_process: bool = False,
    trace: float | None = None,
) -> str:
    rows = ",\n".join(
        f'    {{ begin_string = "FIX.4.4", target_comp_id = "CLIENT{n}" }}'
        for n in range(1, sessions + 1)
    )
    text = VENUE_TOML.format(
        store=store_dir, port=port, comp_id=COMP_ID, sessions=rows, audit=str(audit).lower()
    )
    text = text.replace("[fix]\n", f"[fix]\nown_process = {str(own_process).lower()}\n")
    if trace is not None:
        text += f"\n[metrics]\nport = {free_port()}\ntrace = {trace}\n"
    return text


def start_server(target: Target, workdir: Path, port: int, sessions: int) -> Server:
    store_dir = workdir / "store"
    log = workdir / "server.log"
    if target.name.startswith("nyquestro"):
        config = workdir / "venue.toml"
        config.write_text(venue_toml(store_dir, port, sessions, target.audit, target.own_process,
                                     target.trace))  # fmt: skip
        command = [sys.executable, "-m", "nyquestro", "serve", "--config", str(config)]
        server = Server(command, log, NYQUESTRO_READY)
    else:
        command = [
            sys.executable, "-m", "benchmarks.bare_acceptor", "--port", str(port),
            "--store-dir", str(store_dir), "--sessions", str(sessions), "--store", target.store,
            "--reports", target.reports,
        ]  # fmt: skip
        server = Server(command, log, BARE_READY)
    server.wait_ready()
    return server


@contextlib.contextmanager
def running_server(target: Target, sessions: int) -> Iterator[tuple[Server, int]]:
    with tempfile.TemporaryDirectory(prefix=f"fix-bench-{target.name}-") as tmp:
        port = free_port()
        server = start_server(target, Path(tmp), port, sessions)
        try:
            yield server, port
        finally:
            server.stop()


# --- profiling ----------------------------------------------------------------------------


class Sampler:
    """py-spy attached to the server and its child processes (the FIX gateway's and the
    replica's), recording collapsed stacks between start and stop.

    Python-only sampling runs with --nonblocking (the server is not paused, so its figures
    barely move); --native must pause the process for each sample, which slows the server
    several times over: read it for proportions only.
    """

    def __init__(self, pid: int, out: Path, native: bool, rate: int = 1000) -> None:
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(spy).exists():
            raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
        self.out = out
        self._command = [
            spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(out),
            "--rate", str(rate), "--subprocesses", "--native" if native else "--nonblocking",
        ]  # fmt: skip
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen(
            self._command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip

    def stop(self) -> str:
        """Stop sampling (py-spy writes its file on SIGINT); returns py-spy's messages."""
        if self._proc is None:
            return ""
        self._proc.send_signal(signal.SIGINT)
        try:
            _, err = self._proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            _, err = self._proc.communicate()
        self._proc = None
        return err.decode(errors="replace")


def summarise_stacks(raw: str, top: int = 25) -> str:
    """Four views of py-spy's collapsed stacks ("frame;frame;... count" per line).

    - own: the innermost frame of each sample (with --native, a C/C++ function);
    - inclusive, Python frames only: time in a function and everything it called;
    - innermost Nyquestro frame: each sample charged to the deepest nyquestro/ function on
      its stack, so the quickfix calls and library code a function makes count as its own
      (samples with no nyquestro frame are quickfix's own work: reading, parsing, validating);
    - by process: the venue is sampled with its child processes (FIX gateway, replica), each
      named by its pid and what it runs (a forked replica runs what its parent ran).
    """
    processes: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        samples = int(count_text)
        total += samples
        frames = [_frame_name(f) for f in stack.split(";")]
        innermost_process = next((f for f in reversed(frames) if f.startswith("process ")), "")
        processes[_process_name(innermost_process)] += samples
        own[frames[-1]] += samples
        for name in set(frames):
            if ".py)" in name or "(<string>)" in name:
                inclusive[name] += samples
        innermost = next((f for f in reversed(frames) if "(nyquestro/" in f), None)
        ours[innermost or "(no nyquestro frame: quickfix itself)"] += samples
    if not total:
        return "py-spy recorded no samples"

    def table(title: str, counts: Counter[str]) -> list[str]:
        rows = [f"{title} (% of {total:,} samples)"]
        rows += [f"  {100 * n / total:5.1f}%  {name}" for name, n in counts.most_common(top)]
        return rows

    return "\n".join(
        [
            *table("own time, innermost frame", own),
            "",
            *table("inclusive time, Python frames", inclusive),
            "",
            *table("charged to the innermost nyquestro/ frame", ours),
            "",
            *table("by process", processes),
        ]
    )


def _process_name(frame: str) -> str:
    """`process 123:"python -m nyquestro serve --config ..."` → `123 nyquestro serve`."""
    pid, _, command = frame.removeprefix("process ").partition(":")
    words = command.strip('"').split()
    start = words.index("-m") + 1 if "-m" in words else 0
    runs = [word for word in words[start : start + 2] if not word.isdigit()]
    return f"{pid} {' '.join(runs)}".strip() or "(unknown process)"


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like "function (path/file.py:123)"; drop the line number so
    # every line of one function counts together.
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rpartition(":")[0] or where
    return f"{name} ({path})" if path else name


# --- one run: a target and a session count -------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunOptions:
    seconds: float = 5.0
    warmup: float = 1.0
    rate: float = 0.0
    window: int = 1000
    cancel_every: int = 10
    seed: int = 1
    timeout: float = 10.0
    phases: tuple[str, ...] = PHASES
    configured_sessions: int = 4
    """Sessions the server is configured with (at least the clients run)."""


def run_targets(
    targets: Sequence[Target],
    sessions: int,
    options: RunOptions,
    profile: str | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> list[RunResult]:
    """Start a fresh server per target, run `sessions` client processes against all of
    them, stop the servers. One result per target, in the order given.

    Each client process logs on to every target with the same CompID and the same seed
    (so every target sees the same orders); ping-pong takes turns between the targets in
    short slices, the sustained phase runs target after target.
    """
    started = time.monotonic()
    ctx = multiprocessing.get_context("spawn")
    configured = max(sessions, options.configured_sessions)
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(running_server(t, configured)) for t in targets]
        barrier = ctx.Barrier(sessions + 1)
        results = ctx.Queue()
        procs = []
        for n in range(1, sessions + 1):
            configs = [
                LoadConfig(
                    host=HOST,
                    port=port,
                    sender=f"CLIENT{n}",
                    target=COMP_ID,
                    seconds=options.seconds,
                    warmup=options.warmup,
                    rate=options.rate,
                    window=options.window,
                    cancel_every=options.cancel_every,
                    seed=options.seed * 1000 + n,
                    timeout=options.timeout,
                    phases=options.phases,
                )
                for _, port in servers
            ]
            procs.append(
                ctx.Process(target=client_main, args=(configs, barrier, results), daemon=True)
            )
        for proc in procs:
            proc.start()
        runs = [RunResult(target=t, sessions=sessions, clients=[]) for t in targets]
        limit = options.timeout + (options.warmup + options.seconds) * len(targets) + 60.0
        label = f"{sessions} session(s)"
        sampler = None

        def say(text: str) -> None:
            if on_progress is not None:
                on_progress(text)

        try:
            barrier.wait(limit)  # every client logged on to every target
            if "pingpong" in options.phases:
                say(f"{label}: ping-pong, {' and '.join(t.label for t in targets)} taking turns")
                barrier.wait(limit)  # warm-up done, window opens
                cpu = [server.cpu_seconds() for server, _ in servers]
                barrier.wait(limit)  # window closed
                for run, (server, _), before in zip(runs, servers, cpu, strict=True):
                    run.server_cpu_s["pingpong"] = server.cpu_seconds() - before
            if "sustained" in options.phases:
                for run, (server, _) in zip(runs, servers, strict=True):
                    say(f"{label}: sustained, {run.target.label}")
                    barrier.wait(limit)
                    before = server.cpu_seconds()
                    if profile is not None:
                        sampler = Sampler(
                            server.pid,
                            server.log_path.with_suffix(".stacks"),
                            native=profile == "native",
                        )
                        sampler.start()
                    barrier.wait(limit)
                    run.server_cpu_s["sustained"] = server.cpu_seconds() - before
                    if sampler is not None:
                        spy_log = sampler.stop()
                        stacks = sampler.out.read_text() if sampler.out.exists() else ""
                        run.profile = summarise_stacks(stacks) if stacks else spy_log
                        run.stacks = stacks
                        sampler = None
        except BrokenBarrierError:
            pass  # a client failed; its result says why
        finally:
            if sampler is not None:
                sampler.stop()
            collected = 0
            deadline = time.monotonic() + limit
            while collected < len(procs) and time.monotonic() < deadline:
                try:
                    per_target = results.get(timeout=1.0)
                except Exception:  # queue.Empty: is anyone still alive to answer?
                    if not any(p.is_alive() for p in procs):
                        break
                    continue
                collected += 1
                for run, client in zip(runs, per_target, strict=True):
                    run.clients.append(client)
            for proc in procs:
                proc.join(5.0)
                if proc.is_alive():
                    proc.terminate()
                    proc.join(5.0)
            if collected < len(procs):
                missing = f"{len(procs) - collected} client process(es) returned no result"
                for run in runs:
                    run.clients.append(ClientResult(sender="?", errors=[missing]))
        for run, (server, _) in zip(runs, servers, strict=True):
            if run.errors:
                run.profile = f"{run.profile}\n\nserver log tail:\n{server.log_tail()}".strip()
    for run in runs:
        run.clients.sort(key=lambda c: c.sender)
        run.wall_s = time.monotonic() - started
    return runs


# --- report -------------------------------------------------------------------------------


def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def cpu_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def us(ns: float) -> str:
    return f"{ns / 1_000:,.0f}"


@dataclass(slots=True)
class Row:
    """Every repetition of one (target, session count): one row of the report."""

    target: Target
    sessions: int
    runs: list[RunResult]

    def rates(self) -> list[float]:
        return [run.rate("sustained") for run in self.runs]

    def rate(self) -> float:
        return statistics.median(self.rates())

    def worst_second(self) -> int:
        return min(run.worst_second("sustained") for run in self.runs)

    def _cpu_and_answers(self) -> tuple[float, int]:
        cpu = sum(run.server_cpu_s.get("sustained", 0.0) for run in self.runs)
        return cpu, sum(run.answers("sustained") for run in self.runs)

    def server_us(self) -> float:
        cpu, answers = self._cpu_and_answers()
        return 1e6 * cpu / answers if answers else 0.0

    def server_busy(self) -> float:
        """Server CPU time / window length: below ~1, the server waited (for the CPU or I/O)."""
        cpu, _ = self._cpu_and_answers()
        window = sum(
            max((p.elapsed_s for p in run.phase("sustained")), default=0.0) for run in self.runs
        )
        return cpu / window if window else 0.0

    def client_us(self) -> float:
        cpu = sum(p.cpu_s for run in self.runs for p in run.phase("sustained"))
        answers = sum(run.answers("sustained") for run in self.runs)
        return 1e6 * cpu / answers if answers else 0.0

    def rtt(self) -> HdrHistogram:
        merged = self.runs[0].rtt()
        for run in self.runs[1:]:
            merged.add(run.rtt())
        return merged

    def replies(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for run in self.runs:
            total.update(run.replies())
        return total

    def errors(self) -> list[str]:
        return [e for run in self.runs for e in run.errors]


def rows_of(runs: list[RunResult]) -> list[Row]:
    rows: dict[tuple[int, str], Row] = {}
    for run in runs:
        key = (run.sessions, run.target.name)
        if key not in rows:
            rows[key] = Row(run.target, run.sessions, [])
        rows[key].runs.append(run)
    return list(rows.values())


def report(
    runs: list[RunResult],
    options: RunOptions,
    console: Console,
    load_before: str,
    total_s: float,
) -> None:
    rows = rows_of(runs)
    repeats = max(len(row.runs) for row in rows)
    title = "FIX benchmark: Nyquestro vs a bare quickfix acceptor"
    if repeats > 1:
        title += f" ({repeats} runs each: median sustained rate, merged latencies)"
    table = Table(title=title, show_lines=False)
    columns = ["target", "store", "sessions", "sustained req/s"]
    if repeats > 1:
        columns.append("runs range")
    columns += ["worst 1 s", "server CPU µs/req", "server busy", "ping-pong p50 µs", "p99 µs",
                "p99.9 µs", "max µs", "round trips"]  # fmt: skip
    for name in columns:
        table.add_column(name, justify="left" if name in ("target", "store") else "right")
    for row in rows:
        hist = row.rtt()
        samples = hist.get_total_count()
        cells = [row.target.label, row.target.store, str(row.sessions), f"{row.rate():,.0f}"]
        if repeats > 1:
            cells.append(f"{min(row.rates()):,.0f}-{max(row.rates()):,.0f}")
        cells += [
            f"{row.worst_second():,}",
            f"{row.server_us():,.0f}",
            f"{row.server_busy():.0%}",
            *(us(hist.get_value_at_percentile(p)) if samples else "-" for p in (50.0, 99.0, 99.9)),
            us(hist.get_max_value()) if samples else "-",
            f"{samples:,}",
        ]
        table.add_row(*cells)
    console.print(table)

    ratios = Table(title="Nyquestro as a ratio of the bare acceptor", show_lines=False)
    ratios.add_column("sessions", justify="right")
    ratios.add_column(f"sustained (target >= {TARGET_THROUGHPUT_RATIO:g}x)", justify="right")
    ratios.add_column("ping-pong p50", justify="right")
    ratios.add_column(f"ping-pong p99 (target <= {TARGET_P99_RATIO:g}x)", justify="right")
    ratios.add_column("p99.9", justify="right")
    ratios.add_column("server CPU per req", justify="right")
    by_key = {(row.target.name, row.sessions): row for row in rows}

    def ratio(a: float, b: float) -> float:
        return a / b if b else float("nan")

    def mark(value: float, ok: bool) -> str:
        colour = "green" if ok else "red"
        return f"[{colour}]{value:.2f}x {'meets' if ok else 'misses'}[/{colour}]"

    for sessions, name in sorted(
        (row.sessions, row.target.name) for row in rows if row.target.name != "bare"
    ):
        nyq = by_key.get((name, sessions))
        bare = by_key.get(("bare", sessions))
        if nyq is None or bare is None:
            continue
        nh, bh = nyq.rtt(), bare.rtt()
        thr = ratio(nyq.rate(), bare.rate())
        p99 = ratio(nh.get_value_at_percentile(99), bh.get_value_at_percentile(99))
        ratios.add_row(
            f"{sessions} ({nyq.target.label})",
            mark(thr, thr >= TARGET_THROUGHPUT_RATIO),
            f"{ratio(nh.get_value_at_percentile(50), bh.get_value_at_percentile(50)):.2f}x",
            mark(p99, p99 <= TARGET_P99_RATIO),
            f"{ratio(nh.get_value_at_percentile(99.9), bh.get_value_at_percentile(99.9)):.2f}x",
            f"{ratio(nyq.server_us(), bare.server_us()):.2f}x",
        )
    if ratios.row_count:
        console.print(ratios)

    notes = Table(show_header=False, box=None, padding=(0, 1))
    notes.add_column(style="bold")
    notes.add_column()
    notes.add_row(
        "machine",
        f"{cpu_name()}, {os.cpu_count()} CPUs; python {platform.python_version()}",
    )
    notes.add_row(
        "load average",
        f"{load_before} before, {load_average()} after (1/5/15 min): near or above the CPU "
        "count, other work competed with the server and the clients",
    )
    rate = f"{options.rate:g}/s per session" if options.rate else "as fast as answered"
    cancels = (
        f"every {options.cancel_every}th request a cancel" if options.cancel_every else "no cancels"
    )
    notes.add_row(
        "flow",
        "FIX.4.4, non-marketable DAY limit orders over AAPL/MSFT/IBM, 500 ticks per side; "
        f"sustained: {rate}, <= {options.window} in flight per session, {cancels}",
    )
    notes.add_row(
        "windows",
        f"{options.warmup:g} s warm-up + {options.seconds:g} s measured per phase; "
        f"total run {total_s:.0f} s",
    )
    for row in rows:
        replies = ", ".join(f"{k} {v:,}" for k, v in sorted(row.replies().items()))
        notes.add_row(
            f"{row.target.label} x{row.sessions}",
            f"replies {replies}; client CPU {row.client_us():.0f} µs/req",
        )
        for error in row.errors()[:6]:
            notes.add_row("", f"[red]{error}[/red]")
    console.print(notes)
    console.print(
        "req = a NewOrderSingle or OrderCancelRequest; each is answered by one ExecutionReport "
        "(New or Canceled) on both targets, since no order crosses. Nyquestro uses quickfix's "
        "FileStore; the bare acceptor's store is in the store column. server busy = server "
        "CPU time / window: under 100%, it waited for a CPU or for input.",
        highlight=False,
    )


def to_json(runs: list[RunResult]) -> list[dict[str, Any]]:
    out = []
    for row in rows_of(runs):
        hist = row.rtt()
        out.append(
            {
                "target": row.target.name,
                "store": row.target.store,
                "sessions": row.sessions,
                "sustained_req_per_s": row.rate(),
                "sustained_req_per_s_runs": row.rates(),
                "sustained_worst_second": row.worst_second(),
                "server_cpu_us_per_req": row.server_us(),
                "server_busy": row.server_busy(),
                "client_cpu_us_per_req": row.client_us(),
                "pingpong_round_trips": hist.get_total_count(),
                "pingpong_us": {
                    str(p): hist.get_value_at_percentile(p) / 1_000 for p in (50, 90, 99, 99.9)
                },
                "replies": dict(row.replies()),
                "errors": row.errors(),
            }
        )
    return out


# --- command line ------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.fix_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="measured window per phase")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up before each window")
    parser.add_argument(
        "--sessions", default="1,4", help="comma-separated session counts (client processes)"
    )
    parser.add_argument(
        "--rate", type=float, default=0.0,
        help="sustained phase: requests/s per session (0: as fast as the server answers)",
    )  # fmt: skip
    parser.add_argument(
        "--window", type=int, default=1000, help="sustained phase: most requests in flight"
    )
    parser.add_argument(
        "--cancel-every", type=int, default=10,
        help="sustained phase: every n-th request cancels a resting order (0: never)",
    )  # fmt: skip
    parser.add_argument(
        "--targets",
        help="comma-separated: bare, nyquestro-process (the venue as shipped: the FIX "
        "gateway in a process of its own, no [metrics]), nyquestro ([fix] own_process = "
        "false: one process), nyquestro-metrics (as shipped, with [metrics]: the order "
        "path's latency measured), nyquestro-traced (with every request traced too) "
        "(default bare,nyquestro-process; with --profile, nyquestro-process)",
    )
    parser.add_argument(
        "--baseline-store", choices=("file", "memory"), default="file",
        help="the bare acceptor's quickfix store (Nyquestro always uses FileStore)",
    )  # fmt: skip
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="run the whole matrix this many times, interleaved (median rate per row)",
    )  # fmt: skip
    parser.add_argument(
        "--baseline-reports", choices=("fields", "string"), default="fields",
        help="the bare acceptor's use of quickfix: a call per field, as Nyquestro's gateway "
        "(default), or whole messages as strings (toString/setString), a lower floor",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-audit", action="store_true",
        help="run Nyquestro with [store] audit = false (no audit trail or projections)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--profile", nargs="?", const="python", choices=("python", "native"),
        help="sample the server with py-spy during the sustained window: python (default; "
        "not paused, figures stay meaningful) or native (C/C++ frames too; pauses the "
        "server for every sample, so only the proportions mean anything)",
    )  # fmt: skip
    parser.add_argument(
        "--profile-out", type=Path, help="with --profile: keep py-spy's raw stacks here"
    )
    args = parser.parse_args(argv)
    try:
        args.session_counts = sorted({int(s) for s in args.sessions.split(",") if s})
    except ValueError:
        parser.error(f"--sessions: comma-separated integers, got {args.sessions!r}")
    if not args.session_counts or min(args.session_counts) < 1:
        parser.error("--sessions: at least one session")
    targets = args.targets or ("nyquestro-process" if args.profile else "bare,nyquestro-process")
    args.target_names = [t.strip() for t in targets.split(",") if t.strip()]
    if not set(args.target_names) <= {"bare", *NYQUESTRO_TARGETS} or not args.target_names:
        parser.error(f"--targets: bare and/or {', '.join(NYQUESTRO_TARGETS)}")
    return args


def progress(console: Console, suffix: str, text: str) -> None:
    console.print(f"[dim]{text}{suffix}[/dim]")


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    args = parse_args(argv)
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    options = RunOptions(
        seconds=args.seconds,
        warmup=args.warmup,
        rate=args.rate,
        window=args.window,
        cancel_every=args.cancel_every,
        seed=args.seed,
        configured_sessions=max(args.session_counts),
    )
    targets = {
        "bare": Target("bare", args.baseline_store, args.baseline_reports),
        "nyquestro": Target("nyquestro", "file", audit=not args.no_audit),
        "nyquestro-process": Target(
            "nyquestro-process", "file", audit=not args.no_audit, own_process=True
        ),
        "nyquestro-metrics": Target(
            "nyquestro-metrics", "file", audit=not args.no_audit, own_process=True, trace=0.0
        ),
        "nyquestro-traced": Target(
            "nyquestro-traced", "file", audit=not args.no_audit, own_process=True, trace=1.0
        ),
    }
    load_before = load_average()
    started = time.monotonic()
    runs: list[RunResult] = []
    for rep in range(1, max(args.repeat, 1) + 1):
        for sessions in args.session_counts:
            batch = run_targets(
                [targets[name] for name in args.target_names],
                sessions,
                options,
                profile=args.profile,
                on_progress=partial(progress, console, f" (run {rep})" if args.repeat > 1 else ""),
            )
            runs += batch
            for run in batch:
                if not args.profile:
                    continue
                console.print(
                    f"py-spy ({args.profile}), {run.target.label}, {sessions} session(s), "
                    "sustained window:"
                )
                console.print(run.profile, markup=False, highlight=False)
                if args.profile_out is not None and run.stacks:
                    name = run.target.name
                    out = args.profile_out.with_name(
                        f"{args.profile_out.stem}-{name}-{sessions}-{rep}{args.profile_out.suffix}"
                    )
                    out.write_text(run.stacks)
                    console.print(f"raw stacks: {out}")
    report(runs, options, console, load_before, time.monotonic() - started)
    if args.json is not None:
        args.json.write_text(json.dumps(to_json(runs), indent=2))
    return 1 if any(run.errors for run in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
