"""The FIX benchmark's load generator: one process per session, raw sockets, no quickfix.

A session process (`Session`) logs on to every target with the same CompID (FIX.4.4,
ResetSeqNumFlag=Y), one socket each, and runs two phases, each a warm-up then a measured
window, in step with the other session processes through a `multiprocessing.Barrier` (the
harness takes part too, to sample the servers' CPU time at the window edges):

- ping-pong: one NewOrderSingle, wait for its ExecutionReport(New), repeat, the targets
  taking turns in slices of a quarter second; each round trip goes into the result as
  nanoseconds;
- sustained, one target after the other: as many requests as the server takes (or `rate`
  per second), pipelined on a non-blocking socket read in the same loop, at most `window`
  unanswered at a time; every `cancel_every`-th request cancels a random resting order
  of this client. Answers received per second of the window are the throughput figure.

Messages are built from byte templates: only MsgSeqNum, SendingTime, ClOrdID, the price,
BodyLength and CheckSum change per order, so a client costs a few µs of Python per
message and one client process stays well ahead of a quickfix acceptor. Orders are
non-marketable DAY limit orders (buys below the reference price, sells above it, 500 ticks
deep on each side over three symbols), so nothing trades: every new order is answered by
exactly one ExecutionReport and the book grows. Every target gets the same orders (same
seed per session).
"""

import contextlib
import random
import select
import socket
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from threading import BrokenBarrierError
from typing import Any, Protocol

SOH = b"\x01"
BEGIN_STRING = b"FIX.4.4"
# (symbol, reference price in cents): buys rest 1..500 ticks below, sells above.
SYMBOLS = ((b"AAPL", 19_000), (b"MSFT", 42_000), (b"IBM", 18_000))
DEPTH_TICKS = 500
ORDER_QTY = b"100"
RECV_BYTES = 1 << 18

EXEC_NEW = b"0"
EXEC_CANCELED = b"4"
EXEC_REJECTED = b"8"


class FixError(Exception):
    """The server answered with something a correct session would not (or not at all)."""


class PhaseBarrier(Protocol):
    def wait(self, timeout: float | None = None) -> int: ...


@dataclass(frozen=True, slots=True)
class LoadConfig:
    host: str
    port: int
    sender: str
    target: str
    seconds: float = 5.0
    """Measured window of each phase."""
    warmup: float = 1.0
    """Unmeasured run-in before each window."""
    rate: float = 0.0
    """Sustained phase: requests per second for this session; 0 = as fast as answered."""
    window: int = 1000
    """Sustained phase: most requests in flight (sent, not yet answered)."""
    cancel_every: int = 10
    """Sustained phase: every n-th request is a cancel (0: never)."""
    seed: int = 1
    poll: float = 0.002
    """Sustained phase: sleep between rounds while more than half the window is in flight."""
    timeout: float = 10.0
    """Longest wait for any expected reply: past it the client gives up with an error."""
    phases: tuple[str, ...] = ("pingpong", "sustained")


@dataclass(slots=True)
class PhaseResult:
    requests: int = 0
    """Requests sent inside the measured window."""
    answers: int = 0
    """Replies (ExecutionReport or OrderCancelReject) received inside the window."""
    elapsed_s: float = 0.0
    rtt_ns: array = field(default_factory=lambda: array("q"))  # type: ignore[type-arg]
    per_second: list[int] = field(default_factory=list)
    """Answers in each whole second of the window (sustained phase)."""
    max_in_flight: int = 0
    cpu_s: float = 0.0
    """This client's own CPU time in the window: shows whether the client kept up."""


@dataclass(slots=True)
class ClientResult:
    sender: str
    phases: dict[str, PhaseResult] = field(default_factory=dict)
    replies: dict[str, int] = field(default_factory=dict)
    """Every message received after Logon, by MsgType (ExecType for ExecutionReports)."""
    errors: list[str] = field(default_factory=list)


def field_value(msg: bytes, tag: bytes) -> bytes | None:
    """Value of the first `tag` field in a whole message (tag given as b"\\x01TAG=")."""
    start = msg.find(tag)
    if start < 0:
        return None
    start += len(tag)
    return msg[start : msg.index(SOH, start)]


def checksum(data: bytes) -> bytes:
    return b"%03d" % (sum(data) & 0xFF)


class FixCodec:
    """Framing for one session: header, BodyLength and CheckSum on the way out, splitting
    the byte stream into messages on the way in."""

    def __init__(self, sender: str, target: str) -> None:
        self.seq = 0
        # Every header field but MsgSeqNum and SendingTime is constant for the session.
        self._comp_ids = b"49=%s\x0156=%s\x01" % (sender.encode(), target.encode())
        self._second = -1
        self._second_text = b""
        self._buffer = bytearray()

    def sending_time(self) -> bytes:
        now = time.time_ns()
        second = now // 1_000_000_000
        if second != self._second:
            # strftime once a second; the milliseconds are formatted per message.
            self._second = second
            self._second_text = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(second)).encode()
        return b"%s.%03d" % (self._second_text, (now // 1_000_000) % 1000)

    def encode(self, msg_type: bytes, body: bytes, stamp: bytes | None = None) -> bytes:
        """One whole message; `body` holds the fields after the header, each ending in SOH."""
        self.seq += 1
        stamp = stamp or self.sending_time()
        rest = b"35=%s\x0134=%d\x01%s52=%s\x01%s" % (
            msg_type, self.seq, self._comp_ids, stamp, body,
        )  # fmt: skip
        head = b"8=%s\x019=%d\x01%s" % (BEGIN_STRING, len(rest), rest)
        return b"%s10=%s\x01" % (head, checksum(head))

    def feed(self, data: bytes) -> list[bytes]:
        """Append received bytes; return the messages now complete."""
        buffer = self._buffer
        buffer += data
        out = []
        start = 0
        find = buffer.find
        while True:
            # CheckSum is always the last field, so "<SOH>10=...<SOH>" ends a message.
            tail = find(b"\x0110=", start)
            if tail < 0:
                break
            end = find(SOH, tail + 4)
            if end < 0:
                break
            out.append(bytes(buffer[start : end + 1]))
            start = end + 1
        if start:
            del buffer[:start]
        return out


class OrderFlow:
    """The requests one client sends: new limit orders and cancels of its resting ones."""

    def __init__(self, codec: FixCodec, sender: str, seed: int, cancel_every: int) -> None:
        self._codec = codec
        self._prefix = sender.encode()
        self._rng = random.Random(seed)
        self._next_id = 0
        self._cancel_every = cancel_every
        self._count = 0
        # (ClOrdID, symbol, side) of orders not yet cancelled, for picking cancels.
        self.live: list[tuple[bytes, bytes, bytes]] = []
        self._prices = [
            [
                (b"1", b"%d.%02d" % divmod(reference - ticks, 100)),
                (b"2", b"%d.%02d" % divmod(reference + ticks, 100)),
            ]
            for _, reference in SYMBOLS
            for ticks in range(1, DEPTH_TICKS + 1)
        ]

    def new_id(self) -> bytes:
        self._next_id += 1
        return b"%s-%d" % (self._prefix, self._next_id)

    def new_order(self) -> tuple[bytes, bytes]:
        """(ClOrdID, message) of the next order."""
        cl_ord_id = self.new_id()
        which = self._rng.randrange(len(self._prices))
        symbol = SYMBOLS[which // DEPTH_TICKS][0]
        side, price = self._prices[which][self._rng.getrandbits(1)]
        stamp = self._codec.sending_time()
        body = (
            b"11=%s\x0155=%s\x0154=%s\x0160=%s\x0138=%s\x0140=2\x0144=%s\x0159=0\x01"
            % (cl_ord_id, symbol, side, stamp, ORDER_QTY, price)
        )  # fmt: skip
        self.live.append((cl_ord_id, symbol, side))
        return cl_ord_id, self._codec.encode(b"D", body, stamp)

    def cancel(self) -> bytes | None:
        live = self.live
        if not live:
            return None
        # Swap-remove a random resting order: O(1), and each order is cancelled once.
        index = self._rng.randrange(len(live))
        live[index], live[-1] = live[-1], live[index]
        orig, symbol, side = live.pop()
        stamp = self._codec.sending_time()
        body = b"41=%s\x0111=%s\x0155=%s\x0154=%s\x0160=%s\x0138=%s\x01" % (
            orig, self.new_id(), symbol, side, stamp, ORDER_QTY,
        )  # fmt: skip
        return self._codec.encode(b"F", body, stamp)

    def next_request(self) -> bytes:
        self._count += 1
        if self._cancel_every and self._count % self._cancel_every == 0:
            cancel = self.cancel()
            if cancel is not None:
                return cancel
        return self.new_order()[1]


class LoadClient:
    """One FIX session over a raw socket."""

    def __init__(self, cfg: LoadConfig) -> None:
        self.cfg = cfg
        self.codec = FixCodec(cfg.sender, cfg.target)
        self.flow = OrderFlow(self.codec, cfg.sender, cfg.seed, cfg.cancel_every)
        self.result = ClientResult(sender=cfg.sender)
        self.sock: socket.socket | None = None

    # --- session ------------------------------------------------------------------------

    def connect(self) -> None:
        deadline = time.monotonic() + self.cfg.timeout
        while True:
            try:
                sock = socket.create_connection((self.cfg.host, self.cfg.port), timeout=1.0)
                break
            except OSError:
                # The acceptor may still be binding its port.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.cfg.timeout)
        self.sock = sock

    def logon(self) -> None:
        self._send(self.codec.encode(b"A", b"98=0\x01108=30\x01141=Y\x01"))
        reply = self._wait(lambda m: field_value(m, b"\x0135=") in (b"A", b"5"))
        if field_value(reply, b"\x0135=") != b"A":
            raise FixError(f"logon refused: {_printable(reply)}")

    def logout(self) -> None:
        self._send(self.codec.encode(b"5", b""))
        # The numbers are in: a slow or missing Logout answer changes nothing.
        with contextlib.suppress(FixError, OSError):
            self._wait(lambda m: field_value(m, b"\x0135=") == b"5", timeout=2.0)
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _send(self, data: bytes) -> None:
        assert self.sock is not None
        self.sock.sendall(data)

    def _wait(self, matches: Callable[[bytes], bool], timeout: float | None = None) -> bytes:
        """Read (blocking) until a message matches; count and answer everything else."""
        assert self.sock is not None
        self.sock.settimeout(timeout or self.cfg.timeout)
        while True:
            for msg in self.codec.feed(self._recv()):
                if matches(msg):
                    return msg
                self._other(msg)

    def _recv(self) -> bytes:
        assert self.sock is not None
        try:
            data = self.sock.recv(RECV_BYTES)
        except TimeoutError:
            raise FixError(f"no reply within {self.sock.gettimeout()} s") from None
        if not data:
            raise FixError("the server closed the connection")
        return data

    def _other(self, msg: bytes) -> int:
        """Count a received message; return 1 if it answers a request (ER or cancel reject)."""
        msg_type = field_value(msg, b"\x0135=") or b"?"
        replies = self.result.replies
        if msg_type == b"8":
            exec_type = field_value(msg, b"\x01150=") or b"?"
            key = f"8/{exec_type.decode()}"
            replies[key] = replies.get(key, 0) + 1
            if exec_type == EXEC_REJECTED:
                self._error(msg)
            return 1
        key = msg_type.decode()
        replies[key] = replies.get(key, 0) + 1
        if msg_type == b"1":
            # Answer a TestRequest, or the server drops us as dead.
            test_id = field_value(msg, b"\x01112=") or b""
            self._send(self.codec.encode(b"0", b"112=%s\x01" % test_id))
        elif msg_type == b"9":
            self._error(msg)
            return 1
        elif msg_type in (b"3", b"j", b"5"):
            self._error(msg)
        return 0

    def _error(self, msg: bytes) -> None:
        if len(self.result.errors) < 5:
            self.result.errors.append(_printable(msg))
        else:
            self.result.errors[-1:] = ["... more rejects"]

    # --- phases -------------------------------------------------------------------------

    def ping_once(self) -> int:
        """One NewOrderSingle, wait for its ExecutionReport; the round trip in ns."""
        assert self.sock is not None
        clock = time.perf_counter_ns
        feed = self.codec.feed
        recv = self._recv
        other = self._other
        cl_ord_id, data = self.flow.new_order()
        t0 = clock()
        self.sock.sendall(data)
        while True:
            answered = False
            for msg in feed(recv()):
                # Every message is counted (by ExecType for reports) for the summary.
                other(msg)
                if (
                    not answered
                    and msg.find(b"\x0135=8\x01") >= 0
                    and field_value(msg, b"\x0111=") == cl_ord_id
                ):
                    answered = True
            if answered:
                return clock() - t0

    def ping_pong(self, seconds: float) -> PhaseResult:
        """One order at a time for `seconds` (alone; `Session` alternates between targets)."""
        return ping_pong([self], seconds)[0]

    def sustained(
        self, seconds: float, at_window_end: Callable[[], None] | None = None
    ) -> PhaseResult:
        """Pipelined requests for `seconds`, then wait until every one is answered.

        `at_window_end` runs as soon as the window closes, before the draining (the
        harness reads the server's CPU time there, so the drain is not charged to the
        requests answered inside the window).

        While more than half the window is in flight the server has plenty queued, so the
        client sleeps `poll` seconds between rounds instead of waking for every report:
        each round then reads many reports and sends many orders in a few system calls,
        which keeps the client's CPU (shared with the server on a small machine) low.
        """
        cfg = self.cfg
        result = PhaseResult()
        sock = self.sock
        assert sock is not None
        sock.setblocking(False)
        clock = time.perf_counter
        sleep = time.sleep
        next_request = self.flow.next_request
        feed = self.codec.feed
        other = self._other
        recv = sock.recv
        interval = 1.0 / cfg.rate if cfg.rate > 0 else 0.0
        window = cfg.window
        comfortable = window // 2
        poll = cfg.poll
        started = clock()
        end = started + seconds
        per_second = [0] * (int(seconds) + 1)
        pending = bytearray()
        sent = answered = 0
        next_due = started
        last_progress = started
        now = started
        cpu = time.process_time()
        while now < end or answered < sent:
            sending = now < end
            if sending:
                room = window - (sent - answered)
                while room > 0 and (not interval or next_due <= now):
                    pending += next_request()
                    sent += 1
                    room -= 1
                    next_due += interval
                result.max_in_flight = max(result.max_in_flight, sent - answered)
            if pending:
                # BlockingIOError: the kernel's buffer is full, the server is behind.
                with contextlib.suppress(BlockingIOError):
                    del pending[: sock.send(pending)]
            got = 0
            while True:
                try:
                    data = recv(RECV_BYTES)
                except BlockingIOError:
                    break
                if not data:
                    raise FixError("the server closed the connection")
                for msg in feed(data):
                    got += other(msg)
                last_progress = now
                if len(data) < RECV_BYTES:
                    break  # drained
            if got:
                answered += got
                if sending:
                    result.answers += got
                    per_second[int(now - started)] += got
            elif sent > answered and now - last_progress > cfg.timeout:
                raise FixError(f"{sent - answered} requests unanswered for {cfg.timeout} s")
            in_flight = sent - answered
            if sending and in_flight > comfortable:
                sleep(poll)
            elif sending and interval and not got:
                # Paced and ahead: sleep until the next order is due or a report comes.
                wait = min(max(0.0, next_due - now), end - now)
                select.select([sock], [sock] if pending else [], [], wait)
            elif not sending and in_flight:
                select.select([sock], [sock] if pending else [], [], 0.05)
            now = clock()
            if sending and now >= end:
                # The window just closed: what follows is draining, not measured.
                result.requests = sent
                result.cpu_s = time.process_time() - cpu
                if at_window_end is not None:
                    at_window_end()
                    now = clock()
        sock.setblocking(True)
        result.elapsed_s = min(now, end) - started
        result.per_second = per_second[: int(seconds)]
        return result


def ping_pong(
    clients: Sequence[LoadClient], seconds: float, slice_s: float = 0.25
) -> list[PhaseResult]:
    """One order at a time for `seconds` per client (one client per target), the targets
    taking turns in slices of `slice_s`.

    Each target is measured alone, as in a run of its own, but slow changes in the rest of
    the machine's load (other processes come and go over seconds) land on every target
    alike. Turn-taking order by order would not do: a target's work after sending its
    report (persisting, bookkeeping) would overlap the next target's round trip, and with
    several sessions the slower target would hold most of the waiting clients at once.
    The first round trip of each slice is dropped: it pays for the switch (a server idle
    for a whole slice, cold caches).
    """
    results = [PhaseResult() for _ in clients]
    for client in clients:
        assert client.sock is not None
        client.sock.settimeout(client.cfg.timeout)
    pings = [client.ping_once for client in clients]
    records = [result.rtt_ns.append for result in results]
    turns = len(clients)
    clock = time.perf_counter_ns
    slice_ns = max(int(slice_s * 1e9), 1)
    cpu = time.process_time()
    started = clock()
    end = started + int(seconds * 1e9) * turns
    now = started
    current = -1
    while now < end:
        # Slices follow the clock from the common start, so every session switches together.
        turn = (now - started) // slice_ns % turns
        rtt = pings[turn]()
        if turn == current:
            records[turn](rtt)
        current = turn
        now = clock()
    cpu_s = (time.process_time() - cpu) / turns
    for result in results:
        result.requests = result.answers = len(result.rtt_ns)
        result.elapsed_s = (now - started) / 1e9 / turns
        result.cpu_s = cpu_s
    return results


class Session:
    """One client process: the same CompID logged on to every target, one socket each.

    Barrier points (every session process and the harness): all logged on; the ping-pong
    window's start and end (all targets taking turns in slices); then for each target in
    turn the start and end of its sustained window.
    """

    def __init__(self, configs: Sequence[LoadConfig], barrier: PhaseBarrier | None) -> None:
        self.clients = [LoadClient(cfg) for cfg in configs]
        self.barrier = barrier
        first = configs[0]
        self.cfg = first
        # Ping-pong runs every target's window back to back: the longest wait at a barrier.
        self._limit = first.timeout + (first.warmup + first.seconds) * len(configs) + 30.0

    def sync(self) -> None:
        if self.barrier is not None:
            self.barrier.wait(self._limit)

    def run(self) -> list[ClientResult]:
        cfg = self.cfg
        current = self.clients[0]
        try:
            for current in self.clients:
                current.connect()
                current.logon()
                current.result.replies.clear()  # only what the phases cause
            self.sync()
            if "pingpong" in cfg.phases:
                current = self.clients[0]
                if cfg.warmup > 0:
                    ping_pong(self.clients, cfg.warmup)
                self.sync()
                for client, result in zip(
                    self.clients, ping_pong(self.clients, cfg.seconds), strict=True
                ):
                    client.result.phases["pingpong"] = result
                self.sync()
            if "sustained" in cfg.phases:
                for current in self.clients:
                    if cfg.warmup > 0:
                        current.sustained(cfg.warmup)
                    self.sync()
                    current.result.phases["sustained"] = current.sustained(
                        cfg.seconds, at_window_end=self.sync
                    )
            for current in self.clients:
                current.logout()
        except (FixError, OSError, BrokenBarrierError) as exc:
            current.result.errors.append(f"{type(exc).__name__}: {exc}")
            if self.barrier is not None and not isinstance(exc, BrokenBarrierError):
                # Release everyone else instead of letting them wait for us.
                abort = getattr(self.barrier, "abort", None)
                if abort is not None:
                    abort()
            for client in self.clients:
                client.close()
        return [client.result for client in self.clients]


def _printable(msg: bytes) -> str:
    return msg.replace(SOH, b"|").decode("ascii", "replace")


def client_main(configs: Sequence[LoadConfig], barrier: Any, results: Any) -> None:
    """Entry point of a client process: run, then put its results (per target) on the queue."""
    results.put(Session(configs, barrier).run())
