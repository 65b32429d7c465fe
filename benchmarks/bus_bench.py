"""Which local IPC carries the bus: frames between two processes, five ways, one run.

Run from the repository root:

    .venv/bin/python -m benchmarks.bus_bench [--round-trips N] [--frames N] [--size B]

A child process (the "core") answers a parent (the "gateway") over each transport:

- unix: a Unix stream socket, frames length-prefixed (`nyquestro.bus.framing`);
- tcp: a TCP connection on 127.0.0.1 (TCP_NODELAY), the same framing;
- pipe: two anonymous pipes, one each way, the same framing;
- shm: two rings in shared memory, one each way, an eventfd each to wake the reader
  (`Ring`), the same framing;
- nats: NATS core publish/subscribe through a `nats-server` the benchmark starts on a free
  loopback port (skipped, saying why, without one), one message per frame (`nats-py`).
  It is the networked bus the pipeline moves to later; here it shows what that costs on
  one machine.

Two figures per transport:

1. ping-pong: one frame of `--size` bytes out, the same back, `--round-trips` times; the
   round trip's p50, p99 and max (HDR histogram), which bounds what one hop of an
   order's path (gateway -> core -> gateway) costs;
2. stream: `--frames` frames sent one way as fast as the sender goes (socket transports
   join up to 256 frames per write, as a busy gateway would; NATS batches inside its
   client), until the receiver reports the count; frames per second.
"""

import argparse
import asyncio
import multiprocessing
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing import shared_memory
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram
from rich.console import Console
from rich.table import Table

from nyquestro.bus.framing import FrameReader, frame, join

TRANSPORTS = ("unix", "tcp", "pipe", "shm", "nats")
BATCH = 256
END = b""
"""An empty frame ends a stream; the receiver answers with the count it saw."""
STREAM = b"stream"


@dataclass(frozen=True, slots=True)
class Result:
    transport: str
    p50_us: float
    p99_us: float
    max_us: float
    frames_per_s: float


# --- the "core": echo frames back, or count a stream ------------------------------------


Receive = Callable[[], bytes]
"""Blocks until bytes arrive and returns them; b"" when the peer has gone."""
Send = Callable[[bytes], None]


def _echo_or_count(receive: Receive, send: Send) -> None:
    """Echo every frame until the peer closes. A b"stream" frame starts counting instead:
    frames are counted until an END frame, answered with the count."""
    reader = FrameReader()
    counting = False
    counted = 0
    while True:
        data = receive()
        if not data:
            return
        out = []
        for payload in reader.feed(data):
            if payload == STREAM:
                counting, counted = True, 0
            elif payload == END:
                counting = False
                out.append(counted.to_bytes(8, "little"))
            elif counting:
                counted += 1
            else:
                out.append(payload)
        if out:
            send(join(out))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fd_receive(fd: int) -> Receive:
    return lambda: os.read(fd, 1 << 16)


def _fd_send(fd: int) -> Send:
    return lambda data: _write_all(fd, data)


def _socket_core(kind: str, address: str | tuple[str, int], ready: Connection) -> None:
    family = socket.AF_UNIX if kind == "unix" else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.bind(address)
        listener.listen(1)
        ready.send(listener.getsockname())
        peer, _ = listener.accept()
        with peer:
            if kind == "tcp":
                peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _echo_or_count(_fd_receive(peer.fileno()), _fd_send(peer.fileno()))


def _pipe_core(inbound: int, outbound: int, parent_ends: tuple[int, int]) -> None:
    for fd in parent_ends:  # forked with them: the parent's close must reach us as EOF
        os.close(fd)
    _echo_or_count(_fd_receive(inbound), _fd_send(outbound))


# --- the "gateway": drive one transport ----------------------------------------------------


def _measure(receive: Receive, send: Send, round_trips: int, frames: int, size: int) -> Result:
    reader = FrameReader()
    payload = bytes(size)
    one = frame(payload)

    def take_one() -> bytes:
        while True:
            got = reader.feed(receive())
            if got:
                return got[0]

    histogram = HdrHistogram(1, 10_000_000_000, 3)
    clock = time.perf_counter_ns
    for _ in range(round_trips):
        started = clock()
        send(one)
        take_one()
        histogram.record_value(clock() - started)
    send(frame(STREAM))
    started = clock()
    batch = one * BATCH
    full, rest = divmod(frames, BATCH)
    for _ in range(full):
        send(batch)
    send(one * rest + frame(END))
    counted = int.from_bytes(take_one(), "little")
    elapsed = (clock() - started) / 1e9
    if counted != frames:
        raise AssertionError(f"the core counted {counted} frames of {frames}")
    return _result("", histogram, frames / elapsed)


def _result(transport: str, histogram: HdrHistogram, rate: float) -> Result:
    return Result(
        transport,
        histogram.get_value_at_percentile(50) / 1e3,
        histogram.get_value_at_percentile(99) / 1e3,
        histogram.get_max_value() / 1e3,
        rate,
    )


def run_socket(kind: str, round_trips: int, frames: int, size: int) -> Result:
    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory() as directory:
        address: str | tuple[str, int] = (
            str(Path(directory) / "bus.sock") if kind == "unix" else ("127.0.0.1", 0)
        )
        ready, announce = context.Pipe(duplex=False)
        core = context.Process(target=_socket_core, args=(kind, address, announce), daemon=True)
        core.start()
        try:
            bound = ready.recv()
            family = socket.AF_UNIX if kind == "unix" else socket.AF_INET
            with socket.socket(family, socket.SOCK_STREAM) as client:
                client.connect(bound)
                if kind == "tcp":
                    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                fd = client.fileno()
                result = _measure(_fd_receive(fd), _fd_send(fd), round_trips, frames, size)
        finally:
            core.join(10)
            core.kill()
    return Result(kind, result.p50_us, result.p99_us, result.max_us, result.frames_per_s)


def run_pipe(round_trips: int, frames: int, size: int) -> Result:
    context = multiprocessing.get_context("fork")
    to_core_r, to_core_w = os.pipe()
    from_core_r, from_core_w = os.pipe()
    core = context.Process(
        target=_pipe_core, args=(to_core_r, from_core_w, (to_core_w, from_core_r)), daemon=True
    )
    core.start()
    os.close(to_core_r)
    os.close(from_core_w)
    try:
        result = _measure(_fd_receive(from_core_r), _fd_send(to_core_w), round_trips, frames, size)
    finally:
        os.close(to_core_w)
        os.close(from_core_r)
        core.join(10)
        core.kill()
    return Result("pipe", result.p50_us, result.p99_us, result.max_us, result.frames_per_s)


# --- shared memory -----------------------------------------------------------------------


class Ring:
    """A one-way byte ring in shared memory: one writer process, one reader process.

    The first 16 bytes hold how far the reader has read and how far the writer has
    written (both only ever grow; positions in the data are taken modulo its size). The
    writer copies bytes in, then advances its counter, then signals an eventfd; the reader
    blocks on the eventfd when the ring is empty, so neither side spins. (x86 keeps the
    order of the two stores the writer makes; each process runs one thread.)
    """

    _COUNTERS = struct.Struct("<QQ")

    def __init__(self, capacity: int = 1 << 20) -> None:
        self.capacity = capacity
        self.memory = shared_memory.SharedMemory(create=True, size=16 + capacity)
        self.memory.buf[:16] = bytes(16)
        self.signal = os.eventfd(0)

    def send(self, data: bytes) -> None:
        buf, capacity, view = self.memory.buf, self.capacity, memoryview(data)
        while view:
            read, written = self._COUNTERS.unpack_from(buf, 0)
            room = capacity - (written - read)
            if not room:
                time.sleep(0)  # full: let the reader run
                continue
            chunk = view[: min(room, capacity - written % capacity)]
            start = 16 + written % capacity
            buf[start : start + len(chunk)] = chunk
            struct.pack_into("<Q", buf, 8, written + len(chunk))
            os.eventfd_write(self.signal, 1)
            view = view[len(chunk) :]

    def receive(self) -> bytes:
        buf, capacity = self.memory.buf, self.capacity
        while True:
            read, written = self._COUNTERS.unpack_from(buf, 0)
            if written > read:
                break
            os.eventfd_read(self.signal)  # blocks until the writer signals
        start = read % capacity
        end = min(start + (written - read), capacity)
        data = bytes(buf[16 + start : 16 + end])
        struct.pack_into("<Q", buf, 0, read + len(data))
        return data

    def close(self) -> None:
        os.close(self.signal)
        self.memory.close()
        self.memory.unlink()


def _shm_core(inbound: Ring, outbound: Ring) -> None:
    _echo_or_count(inbound.receive, outbound.send)


def run_shm(round_trips: int, frames: int, size: int) -> Result:
    context = multiprocessing.get_context("fork")
    to_core, from_core = Ring(), Ring()
    core = context.Process(target=_shm_core, args=(to_core, from_core), daemon=True)
    core.start()
    try:
        result = _measure(from_core.receive, to_core.send, round_trips, frames, size)
    finally:
        core.kill()
        core.join(10)
        to_core.close()
        from_core.close()
    return Result("shm", result.p50_us, result.p99_us, result.max_us, result.frames_per_s)


# --- NATS ----------------------------------------------------------------------------------


def nats_server_path() -> str | None:
    return shutil.which("nats-server") or (
        "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _nats_core(url: str, ready: Connection) -> None:
    import nats  # noqa: PLC0415  (only this transport needs it)

    async def serve() -> None:
        client = await nats.connect(url)
        counted = 0
        finished = asyncio.Event()

        async def ping(message: Any) -> None:
            await client.publish("bus.pong", message.data)

        async def stream(message: Any) -> None:
            nonlocal counted
            if message.data == END:
                await client.publish("bus.count", counted.to_bytes(8, "little"))
                finished.set()
            else:
                counted += 1

        await client.subscribe("bus.ping", cb=ping)
        await client.subscribe("bus.stream", cb=stream)
        await client.flush()
        ready.send("ready")
        await finished.wait()
        await client.flush()
        await client.drain()

    asyncio.run(serve())


def run_nats(round_trips: int, frames: int, size: int) -> Result | str:
    server_path = nats_server_path()
    if server_path is None:
        return "no nats-server on this machine (Debian package nats-server)"
    try:
        import nats  # noqa: PLC0415
    except ImportError:
        return "nats-py is not installed (pip install -e '.[dev]')"
    port = _free_port()
    url = f"nats://127.0.0.1:{port}"
    server = subprocess.Popen(
        [server_path, "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    context = multiprocessing.get_context("fork")
    core = None
    try:
        _wait_for_port(port)
        ready, announce = context.Pipe(duplex=False)
        core = context.Process(target=_nats_core, args=(url, announce), daemon=True)
        core.start()
        ready.recv()
        return asyncio.run(_nats_client(nats, url, round_trips, frames, size))
    finally:
        if core is not None:
            core.join(10)
            core.kill()
        server.terminate()
        server.wait(10)


async def _nats_client(nats: Any, url: str, round_trips: int, frames: int, size: int) -> Result:
    client = await nats.connect(url)
    pongs: asyncio.Queue[bytes] = asyncio.Queue()
    counts: asyncio.Queue[bytes] = asyncio.Queue()

    async def on_pong(message: Any) -> None:
        pongs.put_nowait(message.data)

    async def on_count(message: Any) -> None:
        counts.put_nowait(message.data)

    await client.subscribe("bus.pong", cb=on_pong)
    await client.subscribe("bus.count", cb=on_count)
    await client.flush()
    payload = bytes(size)
    histogram = HdrHistogram(1, 10_000_000_000, 3)
    clock = time.perf_counter_ns
    for _ in range(round_trips):
        started = clock()
        await client.publish("bus.ping", payload)
        await client.flush()
        await pongs.get()
        histogram.record_value(clock() - started)
    started = clock()
    for _ in range(frames):
        await client.publish("bus.stream", payload)
    await client.publish("bus.stream", END)
    await client.flush()
    counted = int.from_bytes(await counts.get(), "little")
    elapsed = (clock() - started) / 1e9
    await client.drain()
    if counted != frames:
        raise AssertionError(f"the core counted {counted} messages of {frames}")
    return _result("nats", histogram, frames / elapsed)


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nats-server did not listen on port {port} within {timeout:g} s")


# --- report ----------------------------------------------------------------------------------


def run(
    transports: Sequence[str], round_trips: int, frames: int, size: int
) -> tuple[list[Result], dict[str, str]]:
    results: list[Result] = []
    skipped: dict[str, str] = {}
    runners: dict[str, Callable[[], Result | str]] = {
        "unix": lambda: run_socket("unix", round_trips, frames, size),
        "tcp": lambda: run_socket("tcp", round_trips, frames, size),
        "pipe": lambda: run_pipe(round_trips, frames, size),
        "shm": lambda: run_shm(round_trips, frames, size),
        "nats": lambda: run_nats(round_trips, frames, size),
    }
    for transport in transports:
        outcome = runners[transport]()
        if isinstance(outcome, str):
            skipped[transport] = outcome
        else:
            results.append(outcome)
    return results, skipped


def table(results: Sequence[Result], round_trips: int, frames: int, size: int) -> Table:
    out = Table(
        title=f"Bus transports: {round_trips:,} round trips and a {frames:,}-frame stream "
        f"of {size}-byte frames, between two processes"
    )
    for column in ("transport", "round trip p50", "p99", "max", "stream frames/s"):
        out.add_column(column, justify="left" if column == "transport" else "right")
    for r in results:
        out.add_row(
            r.transport, f"{r.p50_us:.1f} µs", f"{r.p99_us:.1f} µs", f"{r.max_us:.1f} µs",
            f"{r.frames_per_s:,.0f}",
        )  # fmt: skip
    return out


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bus_bench")
    parser.add_argument("--round-trips", type=int, default=20_000)
    parser.add_argument("--frames", type=int, default=500_000)
    parser.add_argument("--size", type=int, default=64, help="bytes per frame")
    parser.add_argument("--transport", choices=(*TRANSPORTS, "all"), default="all")
    args = parser.parse_args(argv)
    console = console or Console()
    transports = TRANSPORTS if args.transport == "all" else (args.transport,)
    console.print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
                  f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    results, skipped = run(transports, args.round_trips, args.frames, args.size)
    console.print(table(results, args.round_trips, args.frames, args.size))
    for transport, reason in skipped.items():
        console.print(f"{transport}: skipped: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
