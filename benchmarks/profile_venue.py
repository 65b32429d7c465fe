"""Profile a live venue under load: a flamegraph of each of its processes (`scripts/profile.sh`).

Starts `nyquestro serve` (the shipped venue, on free ports and a store of its own), finds
every process of it (the supervisor, the core and the processes the core forked: FIX
gateway, replica, control plane, ...), starts `py-spy record` on each, and meanwhile runs
the FIX benchmark's load generator (pipelined NewOrderSingles and cancels, raw sockets)
from `--sessions` client processes. Then it stops the venue and says where each
flamegraph is, with what the load got answered.

`--native` adds C/C++ frames (quickfix, SQLite); py-spy then pauses each process for every
sample, so only the proportions mean anything, not the throughput.
"""

import argparse
import multiprocessing
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from benchmarks.fix_load import LoadClient, LoadConfig
from benchmarks.venue_process import free_port, serve

_STARTED = re.compile(r"(\w[\w-]*) process started \(pid (\d+)\)")
_CLIENTS = ("CLIENT1", "CLIENT2", "CLIENT3", "CLIENT4")
_PY_SPY = Path(sys.executable).parent / "py-spy"
"""The dev install's (pyproject's dev extra), beside this interpreter."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/profile.sh", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the load runs")
    parser.add_argument(
        "--sessions", type=int, default=2, choices=range(1, len(_CLIENTS) + 1),
        help="FIX client processes sending the load (1-4)",
    )  # fmt: skip
    parser.add_argument(
        "--rate", type=float, default=0.0,
        help="requests/s per session (0: as fast as the venue answers)",
    )  # fmt: skip
    parser.add_argument(
        "--out", type=Path, default=Path("profiles"),
        help="where the flamegraphs go (default ./profiles)",
    )  # fmt: skip
    parser.add_argument("--native", action="store_true", help="C/C++ frames too (see above)")
    return parser.parse_args(argv)


def venue_config(store: Path) -> tuple[str, int]:
    """The shipped venue on free ports, its store in `store`; and its FIX port."""
    text = resources.files("nyquestro.config").joinpath("default_venue.toml").read_text()
    fix_port = free_port()
    text = text.replace('dir = "var"', f'dir = "{store}"')
    text = text.replace("port = 9878", f"port = {fix_port}")
    text = text.replace("port = 9880", f"port = {free_port()}")
    text = text.replace("port = 9881", f"port = {free_port()}")
    return text, fix_port


def processes(supervisor: int, log: Path) -> dict[str, int]:
    """Every process of the venue by name: `serve`'s own, then what its log says it started."""
    found = {"serve": supervisor}
    for name, pid in _STARTED.findall(log.read_text(errors="replace")):
        found[name] = int(pid)
    return found


def load(port: int, sender: str, seconds: float, rate: float) -> tuple[str, int, int]:
    """One client session's sustained load; (sender, requests sent, answers received)."""
    client = LoadClient(LoadConfig(host="127.0.0.1", port=port, sender=sender,
                                   target="NYQUESTRO", seconds=seconds, rate=rate,
                                   phases=("sustained",)))  # fmt: skip
    client.connect()
    client.logon()
    result = client.sustained(seconds)
    client.logout()
    return sender, result.requests, result.answers


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nyquestro-profile-") as tmp:
        root = Path(tmp)
        text, fix_port = venue_config(root / "store")
        venue = serve(root, text, fix_port)
        try:
            time.sleep(1.0)  # every process has logged its start
            named = processes(venue.pid, root / "serve.log")
            duration = int(args.seconds) + 2
            samplers = {}
            for name, pid in named.items():
                target = args.out / f"{name}-{pid}.svg"
                command = [
                    str(_PY_SPY), "record", "--pid", str(pid), "--duration", str(duration),
                    "--rate", "200", "--format", "flamegraph", "--output", str(target),
                ]  # fmt: skip
                if args.native:
                    command.append("--native")
                else:
                    command.append("--nonblocking")
                samplers[target] = subprocess.Popen(
                    command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
                )
            time.sleep(0.5)  # py-spy attached
            jobs = [(fix_port, sender, args.seconds, args.rate)
                    for sender in _CLIENTS[: args.sessions]]  # fmt: skip
            with multiprocessing.Pool(len(jobs)) as pool:
                results = pool.starmap(load, jobs)
            for target, sampler in samplers.items():
                _, err = sampler.communicate(timeout=duration + 30)
                if sampler.returncode != 0 or not target.exists():
                    print(f"{target.name}: py-spy failed: {err.decode(errors='replace')[-300:]}")
        finally:
            venue.send_signal(signal.SIGTERM)
            venue.wait(30)
    for sender, requests, answers in results:
        print(f"{sender}: {requests:,} requests sent, {answers:,} answered in {args.seconds:g} s")
    for target in sorted(samplers):
        if target.exists():
            print(f"flamegraph: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
