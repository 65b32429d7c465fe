"""WebSocket fan-out of `nyquestro serve`: updates delivered per second and their lag.

Run from the repository root:

    .venv/bin/python -m benchmarks.ws_bench [--clients 100] [--rate 1000] [--seconds 5]

Starts a venue (group commit, the default) with the bridge on a free loopback port, then
`--clients` WebSocket clients spread over `--processes` processes, all subscribed to
AAPL. A driver logged in with a session token sends orders through the bridge at `--rate`
commands a second, alternating a new order and its cancel, so every command changes one
level and every client is owed one update per command. Each client notes, per update,
receive time minus the command's `ts` (stamped by the sequencer; same machine clock):
the publish-to-receive lag, which includes the wait for the journal commit that must
come before anything leaves. Prints updates delivered per second over all clients, the
lag percentiles, and how many clients the bridge dropped as too slow.
"""

import argparse
import asyncio
import json
import multiprocessing
import subprocess
import tempfile
import time
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from benchmarks.venue_process import free_port, serve

TOKEN = "bench"
SYMBOL = "AAPL"

VENUE = """\
[store]
dir = "{store}"

[fix]
port = {fix_port}
sessions = [{{ begin_string = "FIX.4.4", target_comp_id = "CLIENT1" }}]

[instruments.AAPL]
tick_size = "0.01"

[websocket]
port = {ws_port}
client_queue = {queue}

[websocket.tokens]
{token} = {{ account = "BENCH", name = "bench" }}
"""


def start_venue(root: Path, queue: int) -> tuple[subprocess.Popen[bytes], int]:
    ws_port = free_port()
    text = VENUE.format(store=root / "store", fix_port=free_port(), ws_port=ws_port,
                        queue=queue, token=TOKEN)  # fmt: skip
    return serve(root, text, ws_port), ws_port


async def _subscribed(url: str) -> ClientConnection:
    ws = await connect(url, max_queue=None)
    await ws.recv()  # hello
    await ws.send(json.dumps({"v": 1, "type": "subscribe", "symbols": [SYMBOL]}))
    await ws.recv()  # snapshot
    return ws


async def _watch(ws: ClientConnection, done: Event) -> tuple[list[int], bool]:
    """Note the lag of every update until `done`; True when the bridge dropped us."""
    lags: list[int] = []
    try:
        while not done.is_set():
            try:
                text = await asyncio.wait_for(ws.recv(), 0.2)
            except TimeoutError:
                continue
            now = time.time_ns()
            message = json.loads(text)
            if message["type"] == "update":
                lags.append(now - message["ts"])
    except ConnectionClosed:
        return lags, True
    await ws.close()
    return lags, False


def _watchers(url: str, count: int, ready: Barrier, done: Event, out: Any) -> None:
    async def run() -> list[tuple[list[int], bool]]:
        clients = [await _subscribed(url) for _ in range(count)]
        await asyncio.get_running_loop().run_in_executor(None, ready.wait)
        return await asyncio.gather(*(_watch(ws, done) for ws in clients))

    out.put(asyncio.run(run()))


async def _drive(url: str, rate: int, seconds: float) -> tuple[int, float]:
    """Send new orders and their cancels at `rate` commands a second; returns how many
    and over how long. Its own order reports are read (and ignored) as they come, so the
    driver is never the slow client."""
    async with connect(url, max_queue=None) as ws:
        await ws.recv()
        await ws.send(json.dumps({"v": 1, "type": "login", "token": TOKEN}))
        reader = asyncio.create_task(_ignore(ws))
        sent = 0
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < seconds:
            due = int(elapsed * rate)
            while sent < due:
                n = sent // 2
                if sent % 2 == 0:
                    order = {"type": "new_order", "cl_ord_id": f"b{n}", "symbol": SYMBOL,
                             "side": "buy", "qty": 100, "px": f"{100 + n % 50}.00"}  # fmt: skip
                else:
                    order = {"type": "cancel", "cl_ord_id": f"x{n}", "orig_cl_ord_id": f"b{n}"}
                await ws.send(json.dumps({"v": 1, **order}))
                sent += 1
            await asyncio.sleep(0.001)
        reader.cancel()
        return sent, time.monotonic() - start


async def _ignore(ws: ClientConnection) -> None:
    while True:
        await ws.recv()


def percentile(ordered: list[int], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rate", type=int, default=1000, help="commands a second")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--queue", type=int, default=1000, help="[websocket] client_queue")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ws-bench-") as tmp:
        proc, port = start_venue(Path(tmp), args.queue)
        url = f"ws://127.0.0.1:{port}/ws"
        try:
            ready = multiprocessing.Barrier(args.processes + 1)
            done = multiprocessing.Event()
            out: Any = multiprocessing.Queue()
            shares = [args.clients // args.processes + (i < args.clients % args.processes)
                      for i in range(args.processes)]  # fmt: skip
            workers = [
                multiprocessing.Process(target=_watchers, args=(url, n, ready, done, out))
                for n in shares
            ]
            for worker in workers:
                worker.start()
            ready.wait(timeout=60)
            sent, elapsed = asyncio.run(_drive(url, args.rate, args.seconds))
            time.sleep(3.0)  # let the last updates arrive (lag beyond this is missed)
            done.set()
            results = [item for _ in workers for item in out.get(timeout=60)]
            for worker in workers:
                worker.join(30)
        finally:
            proc.terminate()
            proc.wait(30)

    dropped = sum(1 for _, closed in results if closed)
    lags = sorted(lag for samples, _ in results for lag in samples)
    delivered = len(lags)
    table = Table(title=f"WebSocket fan-out: {args.clients} clients, {sent} commands "
                        f"at {args.rate}/s")  # fmt: skip
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("updates owed per client", f"{sent:,}")
    table.add_row("updates delivered (all clients)", f"{delivered:,}")
    table.add_row("updates delivered per second", f"{delivered / elapsed:,.0f}")
    table.add_row("clients dropped as slow", str(dropped))
    for p in (50, 90, 99, 99.9):
        table.add_row(f"lag p{p} (ms)", f"{percentile(lags, p):.2f}" if lags else "-")
    table.add_row("lag max (ms)", f"{lags[-1] / 1e6:.2f}" if lags else "-")
    Console().print(table)


if __name__ == "__main__":
    main()
