"""The venue-process side of UDP order entry: workers in, the sequencer, replies out.

Processes. `workers` processes (`worker.py`, started with subprocess: a fresh interpreter,
never a fork of this one, whose quickfix threads a fork would copy mid-flight) each bind
the UDP port with SO_REUSEPORT, so the kernel spreads clients over them by address hash;
each decodes and validates frames, answers invalid ones itself, and forwards valid ones
here over its own Unix stream socket (see `relay.py`). One thread here reads every
worker's socket and submits the requests to the sequencer, so UDP orders take the FIX
orders' path into the one engine: same risk checks, same journal, same drop copy.

Replies go back through the worker that received the request and leave from its socket,
so their source is the port the client sent to. This process binds no UDP socket: one
bound to the same port would join the SO_REUSEPORT group and be handed a share of the
incoming datagrams, and one on another port would answer from an address a connected
client socket filters out. A client's replies go to the address (and worker) its
session's latest request came from; a session that has sent nothing since the venue
started gets no unsolicited messages (fills of resting orders) until it does.

Durability. Replies are sent through the venue's side outbox (`send`): they leave once
the command they report is durable. `_deliver`, which the outbox calls under the
sequencer's lock, never blocks: it appends to the worker's buffer and writes what the
socket takes; the reader thread writes the rest. A worker that stops reading (or died)
costs its clients their replies (counted), never the venue its progress: UDP may lose
any datagram, and a retry gets the reply again.
"""

import json
import logging
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from nyquestro.config.udp import UdpConfig
from nyquestro.domain.events import EventBase
from nyquestro.domain.instrument import Instrument
from nyquestro.gateways.udp import frames, relay
from nyquestro.gateways.udp.orders import CommandFactory, Retry, UdpOrders

log = logging.getLogger(__name__)

Send = Callable[[str, Any], None]
SideSender = Callable[[str, Send], Send]
"""Registers a deliver function under a name and returns the `send` that feeds it."""
_T = TypeVar("_T")


class ReadFn(Protocol):
    def __call__(self, query: Callable[[], _T]) -> _T: ...


START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
MAX_BUFFERED = 8 << 20
"""Bytes of replies held for one worker before further ones are dropped (it is stuck)."""
_POLL = 0.1


@dataclass(slots=True)
class _Worker:
    index: int
    sock: socket.socket
    process: subprocess.Popen[bytes]
    reader: relay.Reader
    out: bytearray
    ready: threading.Event
    counters: dict[str, int] | None = None


class UdpGateway:
    def __init__(
        self,
        config: UdpConfig,
        instruments: Sequence[Instrument],
        submit: Callable[[CommandFactory], Sequence[EventBase]],
        read: ReadFn,
        side_sender: SideSender,
        orders: UdpOrders,
    ) -> None:
        """`orders` folds every command's events (the runtime subscribes it, so the
        snapshot replica keeps the same retry windows) and hands replies to `reply`."""
        self.config = config
        self._symbols = sorted(inst.symbol for inst in instruments)
        self._orders = orders
        self._submit = submit
        self._read = read
        self._send = side_sender("udp", self._deliver)
        self._workers: list[_Worker] = []
        self._routes: dict[int, tuple[_Worker, bytes]] = {}
        """Client session → the worker and packed address of its latest request."""
        self._out_lock = threading.Lock()
        self.counters: Counter[str] = Counter()
        """Requests forwarded, retries answered again, replies sent or dropped (and why)."""
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="udp-gateway", daemon=True)
        self._selector = selectors.DefaultSelector()

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers and return once every one has bound the port."""
        for index in range(self.config.workers):
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            spec = {
                "index": index, "fd": theirs.fileno(), "host": self.config.host,
                "port": self.config.port, "sessions": [s for s, _ in self.config.sessions],
                "symbols": self._symbols,
            }  # fmt: skip
            process = subprocess.Popen(
                [sys.executable, "-m", "nyquestro.gateways.udp.worker", json.dumps(spec)],
                pass_fds=(theirs.fileno(),),
            )
            theirs.close()
            ours.setblocking(False)
            worker = _Worker(index, ours, process, relay.Reader(), bytearray(), threading.Event())
            self._workers.append(worker)
            self._selector.register(ours, selectors.EVENT_READ, worker)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        for worker in self._workers:
            if not worker.ready.wait(max(0.0, deadline - time.monotonic())):
                raise RuntimeError(
                    f"UDP worker {worker.index} did not bind {self.config.host}:"
                    f"{self.config.port} within {START_TIMEOUT} s (exit status "
                    f"{worker.process.poll()})"
                )
        log.info(
            "UDP order entry on %s:%d, %d worker process(es), sessions %s",
            self.config.host, self.config.port, len(self._workers),
            ", ".join(f"{s}/{a}" for s, a in self.config.sessions),
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the workers, collect and log every counter."""
        for worker in self._workers:
            self._queue(worker, relay.record(relay.STOP))
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and any(w.counters is None for w in self._workers):
            time.sleep(0.02)
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        for worker in self._workers:
            try:
                worker.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            worker.sock.close()
            log.info("UDP worker %d: %s", worker.index, _counted(worker.counters or {}))
        log.info("UDP gateway: %s", _counted(self.counters))

    # --- requests (the reader thread) -------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            for key, _mask in self._selector.select(_POLL):
                worker: _Worker = key.data
                try:
                    data = worker.sock.recv(1 << 20)
                except BlockingIOError:
                    continue
                if not data:
                    self._selector.unregister(worker.sock)
                    if worker.counters is None:
                        log.error("UDP worker %d went away", worker.index)
                        worker.counters = {}
                    continue
                for kind, payload in worker.reader.feed(data):
                    self._record(worker, kind, payload)
            with self._out_lock:
                for worker in self._workers:
                    if worker.out:
                        self._flush(worker)

    def _record(self, worker: _Worker, kind: int, payload: bytes) -> None:
        if kind == relay.FORWARD:
            try:
                self._read(lambda: self._requests(worker, payload))
            except Exception:  # a bug must not stop every other client's requests
                log.exception("UDP requests from worker %d failed", worker.index)
        elif kind == relay.READY:
            worker.ready.set()
        elif kind == relay.COUNTERS:
            worker.counters = json.loads(payload)

    def _requests(self, worker: _Worker, payload: bytes) -> None:
        """Handle one batch a worker forwarded, under the sequencer's lock."""
        counters = self.counters
        for address, frame in relay.forwarded(payload):
            request = frames.decode(frame)
            # The worker validated it with this same decoder: a refusal here is a bug.
            assert not isinstance(request, frames.FrameError), request
            self._routes[request.session] = (worker, address)
            outcome = self._orders.handle(request)
            if isinstance(outcome, Retry):
                counters["retries answered again"] += 1
                for reply in outcome.replies:
                    self.reply(request.session, reply)
            elif isinstance(outcome, frames.FrameError):
                counters[f"refused {outcome.code.name}"] += 1
                refusal = frames.error_reply(outcome)
                assert refusal is not None  # the header was read: the sender is known
                self.reply(request.session, refusal)
            else:
                counters["requests"] += 1
                self._submit(outcome)

    # --- replies ----------------------------------------------------------------------------

    def reply(self, session: int, frame: bytes) -> None:
        """A reply frame for a client session, from `UdpOrders.on_events` (also during
        recovery, which rebuilds the retry windows; no session has an address then, so
        nothing is sent)."""
        route = self._routes.get(session)
        if route is None:
            if self._thread.is_alive():  # not while recovery replays the journal
                self.counters["replies dropped: session has no address yet"] += 1
            return
        worker, address = route
        self._send(str(session), (worker, relay.record(relay.REPLY, address + frame)))

    def _deliver(self, _key: str, message: tuple[_Worker, bytes]) -> None:
        worker, data = message
        self._queue(worker, data)

    def _queue(self, worker: _Worker, data: bytes) -> None:
        with self._out_lock:
            if len(worker.out) + len(data) > MAX_BUFFERED:
                self.counters[f"replies dropped: worker {worker.index} not reading"] += 1
                return
            worker.out += data
            self._flush(worker)

    def _flush(self, worker: _Worker) -> None:
        try:
            sent = worker.sock.send(worker.out)
        except BlockingIOError:
            return
        except OSError:
            self.counters[f"replies dropped: worker {worker.index} gone"] += 1
            worker.out.clear()
            return
        del worker.out[:sent]


def _counted(counters: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counters.items())) or "nothing"
