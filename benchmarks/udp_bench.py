"""UDP order entry: orders/s through `nyquestro serve`'s UDP gateway into the engine, with
1 and 2 worker processes sharing the port.

Run from the repository root:

    .venv/bin/python -m benchmarks.udp_bench [--seconds S] [--workers 1,2] [--clients N]

For each worker count it starts a fresh `nyquestro serve` (durability none, audit off, no
drop copy: the figure is the gateway's and the engine's, not the disk's or the FIX
renderer's) on free loopback ports, then load-generator processes, each driving its share
of `--clients` client sessions. Every client keeps `--window` NewOrders in flight (limit
orders that rest, buys and sells on either side of a fixed spread, so the book only
grows), counts each seq's first Accepted, and after 0.2 s without a reply sends what is
still open again with the same seq (an idempotent retry). Orders/s is the sum of
first acknowledgements over the measured window, after a warm-up second.
"""

import argparse
import multiprocessing
import os
import platform
import selectors
import signal
import socket
import subprocess
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.venue_process import free_port, serve
from nyquestro.domain.enums import OrdType, Side, TimeInForce
from nyquestro.gateways.udp import frames
from nyquestro.gateways.udp.frames import MsgType, NewOrderFrame

WARMUP_SECONDS = 1.0
RETRY_SECONDS = 0.2

VENUE = """\
[store]
dir = "{store}"
durability = "none"
audit = false
snapshot_every = 0

[fix]
port = {fix_port}
drop_copy_comp_id = "none"
sessions = [{{ begin_string = "FIX.4.4", target_comp_id = "CLIENT1" }}]

[instruments.AAPL]
tick_size = "0.01"
max_qty = 1000000

[udp]
port = {udp_port}
workers = {workers}
sessions = {{ {sessions} }}
"""


def start_venue(root: Path, workers: int, clients: int) -> tuple[subprocess.Popen[bytes], int]:
    fix_port, udp_port = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
    sessions = ", ".join(f'{n} = "ACC{n}"' for n in range(1, clients + 1))
    text = VENUE.format(store=root / "store", fix_port=fix_port, udp_port=udp_port,
                        workers=workers, sessions=sessions)  # fmt: skip
    # The FIX port opens after every UDP worker has bound its socket.
    return serve(root, text, fix_port), udp_port


def generate(
    port: int, sessions: list[int], window: int, start: float, stop: float, out: Connection
) -> None:
    """One load-generator process: returns (via `out`) first Accepteds inside the window."""
    socks = {}
    open_orders: dict[int, dict[int, bytes]] = {}
    next_seq = dict.fromkeys(sessions, 0)
    for session in sessions:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect(("127.0.0.1", port))
        sock.setblocking(False)
        socks[session] = sock
        open_orders[session] = {}
    by_fd = {sock.fileno(): session for session, sock in socks.items()}
    acked = 0
    last_reply = dict.fromkeys(sessions, time.monotonic())

    def send_new(session: int) -> None:
        next_seq[session] += 1
        seq = next_seq[session]
        side = Side.BUY if seq % 2 else Side.SELL
        px = 10_000 - seq % 50 if side is Side.BUY else 10_100 + seq % 50
        data = frames.encode(NewOrderFrame(
            session=session, seq=seq, symbol="AAPL", side=side, ord_type=OrdType.LIMIT,
            tif=TimeInForce.DAY, qty=1, px=px, display_qty=0,
        ))  # fmt: skip
        open_orders[session][seq] = data
        socks[session].send(data)

    while time.time() < start:
        time.sleep(0.001)
    for session in sessions:
        for _ in range(window):
            send_new(session)
    selector = selectors.DefaultSelector()
    for sock in socks.values():
        selector.register(sock, selectors.EVENT_READ)
    measure_from = start + WARMUP_SECONDS
    while (now := time.time()) < stop:
        for key, _ in selector.select(RETRY_SECONDS / 2):
            session = by_fd[key.fd]
            sock = socks[session]
            while True:
                try:
                    data = sock.recv(2048)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                if data[2] != MsgType.ACCEPTED:
                    continue
                seq = frames.HEADER.unpack_from(data)[4]
                if open_orders[session].pop(seq, None) is not None:
                    last_reply[session] = time.monotonic()
                    if now >= measure_from:
                        acked += 1
                    send_new(session)
        quiet = time.monotonic() - RETRY_SECONDS
        for session, sock in socks.items():
            if last_reply[session] < quiet:  # lost on the way: retry what is open, same seqs
                for data in open_orders[session].values():
                    sock.send(data)
                last_reply[session] = time.monotonic()
    out.send(acked)


def run(
    workers: int, seconds: float, clients: int, window: int, generators: int
) -> tuple[float, list[str]]:
    """Orders/s, and the venue's UDP counter lines (per worker: how the port was shared)."""
    with tempfile.TemporaryDirectory(prefix="udp-bench-") as tmp:
        venue, port = start_venue(Path(tmp), workers, clients)
        try:
            start = time.time() + 0.5
            stop = start + WARMUP_SECONDS + seconds
            ctx = multiprocessing.get_context("spawn")
            pipes, procs = [], []
            for g in range(generators):
                sessions = list(range(1 + g, clients + 1, generators))
                ours, theirs = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=generate,
                                   args=(port, sessions, window, start, stop, theirs))  # fmt: skip
                proc.start()
                pipes.append(ours)
                procs.append(proc)
            acked = sum(pipe.recv() for pipe in pipes)
            for proc in procs:
                proc.join()
        finally:
            venue.send_signal(signal.SIGTERM)
            venue.wait(30)
        log = (Path(tmp) / "serve.log").read_text(errors="replace").splitlines()
        counters = [line.split(": ", 1)[1] for line in log if ": UDP worker" in line
                    or ": UDP gateway:" in line]  # fmt: skip
        return acked / seconds, counters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--clients", type=int, default=16, help="client sessions in all")
    parser.add_argument("--window", type=int, default=8, help="orders in flight per client")
    parser.add_argument("--generators", type=int, default=2, help="load-generator processes")
    args = parser.parse_args()
    table = Table(title="UDP order entry → engine (durability none, audit off, no drop copy)")
    for column in ("workers", "orders/s", "vs 1 worker"):
        table.add_column(column, justify="right")
    base = None
    counted = []
    for workers in (int(w) for w in args.workers.split(",")):
        rate, counters = run(workers, args.seconds, args.clients, args.window, args.generators)
        base = base or rate
        table.add_row(str(workers), f"{rate:,.0f}", f"{rate / base:.2f}x")
        counted += [f"{workers} worker(s): {line}" for line in counters]
    console = Console()
    console.print(table)
    for line in counted:
        console.print(line, style="dim", markup=False)
    console.print(
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} "
        f"CPUs, {args.clients} clients x {args.window} in flight, {args.generators} "
        f"load-generator processes, {args.seconds:g} s measured per row"
    )


if __name__ == "__main__":
    main()
