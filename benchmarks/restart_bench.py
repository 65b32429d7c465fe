"""A restart, end to end: how long `nyquestro serve` takes, from its start on a store left
by a crash, to let FIX clients in, in the split layout (the default) and in one process.

Run from the repository root:

    .venv/bin/python -m benchmarks.restart_bench [--commands N] [--runs N] [--baseline DIR]

The store is built once, untimed: N commands of `benchmarks/flow.py` (default 1,000,000)
journaled through the engine and the FIX gateway core as the runtime does, with a
snapshot after nine tenths of them. The venue's replica snapshots every 100,000 commands,
so at 1,000,000 that tail is the worst case a crash leaves at the default interval. Each
run starts `nyquestro serve` on a copy of that store and times it from the start to the
moment its FIX port accepts a connection (in the split layout the FIX process opens it
once the core has recovered and every gateway has joined); then it stops the venue. The
layouts alternate, so a busier moment of a shared machine falls on both. `--baseline DIR`
adds a third: the split layout run from another checkout's `nyquestro` package (an older
commit, with this build's compiled modules copied in), for a before/after in one run.

The venue runs with `[store] audit = false`: the store has no audit trail, and with one
the replica would record the whole journal at its start, which a store left by a real
venue never asks of it. Snapshots stay on (every 100,000 commands), so the replica starts
and follows the journal as it does in a real venue.
"""

import argparse
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.journal_bench import flow_config, journal_fast, load_average, verdict
from benchmarks.venue_process import free_port
from nyquestro.store.database import create_db_engine, upgrade

TARGET_SECONDS = 5.0
START_TIMEOUT = 300.0
STOP_TIMEOUT = 120.0
LAYOUTS = {"split": True, "one process": False}
"""Layout name: `[fix] own_process`."""
BASELINE = "split, baseline"

VENUE_TOML = """\
# Written by benchmarks/restart_bench.py for one run.
[store]
dir = "{store}"
audit = false
snapshot_every = 100000

[fix]
port = {port}
own_process = {own_process}
comp_id = "NYQUESTRO"
sessions = [{{ begin_string = "FIX.4.4", target_comp_id = "CLIENT1" }}]
{instruments}"""


@dataclass(frozen=True, slots=True)
class Run:
    layout: str
    seconds: float
    """From `nyquestro serve`'s start to its FIX port accepting a connection."""
    core_recovery: str
    """What the core logged of its recovery."""
    fix_follow: str
    """What the FIX gateway's process logged of its catching up (split layout)."""


def build_store(root: Path, commands: int, seed: int) -> tuple[Path, str]:
    """The crashed venue's store, and its instruments as config tables."""
    store = root / "pristine"
    store.mkdir()
    db = create_db_engine(str(store / "nyquestro.db"))
    try:
        upgrade(db)
        cfg = flow_config(commands, seed)
        instruments, taken = journal_fast(db, cfg, snapshot_at=commands - commands // 10)
    finally:
        db.dispose()
    print(f"store built: {commands:,} commands, snapshot after {taken.seq:,} "
          f"({taken.size / 1e6:.0f} MB)")  # fmt: skip
    tables = "".join(
        f'\n[instruments.{inst.symbol}]\ntick_size = "{inst.tick_size}"\nmax_qty = {inst.max_qty}\n'
        for inst in instruments
    )
    return store, tables


def _log_line(log: str, pattern: str) -> str:
    found = re.search(pattern, log)
    return found.group(0) if found else "-"


def run_once(
    root: Path, pristine: Path, instruments: str, layout: str, n: int, options: argparse.Namespace
) -> Run:
    workdir = root / f"run-{n}"
    store = workdir / "store"
    shutil.copytree(pristine, store)
    port = free_port()
    config = workdir / "venue.toml"
    config.write_text(VENUE_TOML.format(
        store=store, port=port, own_process=str(LAYOUTS.get(layout, True)).lower(),
        instruments=instruments,
    ))  # fmt: skip
    environment = dict(os.environ)
    if layout == BASELINE:
        environment["PYTHONPATH"] = str(options.baseline)
    log_path = workdir / "serve.log"
    with log_path.open("wb") as out:
        started = time.monotonic()
        venue = subprocess.Popen(
            [sys.executable, "-m", "nyquestro", "serve", "--config", str(config)],
            cwd=workdir, stdout=out, stderr=subprocess.STDOUT, env=environment,
        )  # fmt: skip
    try:
        seconds = _wait_open(venue, port, started, log_path)
    finally:
        venue.send_signal(signal.SIGTERM)
        try:
            venue.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            venue.kill()
            venue.wait()
    log = log_path.read_text(errors="replace")
    if options.keep_logs is not None:
        name = layout.replace(",", "").replace(" ", "-")
        shutil.copy(log_path, options.keep_logs / f"serve-{name}-{n}.log")
    shutil.rmtree(workdir)
    return Run(
        layout,
        seconds,
        _log_line(log, r"recovered from .* in [\d.]+ s"),
        _log_line(log, r"replayed \d+ journaled commands in [\d.]+ s|fix follows the core after "
                       r"command \d+ \(history to command \d+\)"),
    )  # fmt: skip


def _wait_open(venue: subprocess.Popen[bytes], port: int, started: float, log: Path) -> float:
    deadline = started + START_TIMEOUT
    while time.monotonic() < deadline:
        if venue.poll() is not None:
            raise RuntimeError(f"nyquestro serve exited:\n{log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return time.monotonic() - started
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"nyquestro serve did not open port {port} within {START_TIMEOUT} s")


def table(runs: list[Run], commands: int, layouts: list[str]) -> Table:
    out = Table(title=f"Restart from the snapshot after {commands - commands // 10:,} commands "
                      f"and a {commands // 10:,}-command tail")  # fmt: skip
    for column in ("layout", "seconds to the FIX port open", "median", "target"):
        out.add_column(column)
    for layout in layouts:
        seconds = [r.seconds for r in runs if r.layout == layout]
        median = statistics.median(seconds)
        out.add_row(
            layout,
            ", ".join(f"{s:.2f}" for s in seconds),
            f"{median:.2f}",
            f"<= {TARGET_SECONDS:g} s: {verdict(median <= TARGET_SECONDS)}"
            if layout == "split" else "the same-run comparison",
        )  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=1_000_000,
                        help="commands journaled before the crash (default 1000000)")  # fmt: skip
    parser.add_argument("--runs", type=int, default=3, help="starts per layout (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-logs", type=Path, help="copy each run's serve log into this folder")
    parser.add_argument("--baseline", type=Path,
                        help="also run the split layout from this checkout (its nyquestro "
                             "package first on PYTHONPATH)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.commands < 10 or args.runs < 1:
        parser.error("--commands must be at least 10 and --runs at least 1")
    if args.keep_logs is not None:
        args.keep_logs.mkdir(parents=True, exist_ok=True)
    if args.baseline is not None and not (args.baseline / "nyquestro" / "__init__.py").is_file():
        parser.error(f"--baseline {args.baseline}: no nyquestro package there")
    layouts = [*LAYOUTS, *([BASELINE] if args.baseline is not None else [])]
    console = Console()
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load {load_average()}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="nyquestro-restart-bench-") as tmp:
        root = Path(tmp)
        pristine, instruments = build_store(root, args.commands, args.seed)
        runs: list[Run] = []
        for n in range(args.runs):
            for layout in layouts:
                run = run_once(root, pristine, instruments, layout, n, args)
                print(f"{layout}: {run.seconds:.2f} s; core: {run.core_recovery}; "
                      f"FIX gateway: {run.fix_follow}")  # fmt: skip
                runs.append(run)
    console.print(table(runs, args.commands, layouts))
    print(f"load after: {load_average()}")


if __name__ == "__main__":
    main()
