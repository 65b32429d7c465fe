"""The committed stream on the local bus: the core's server end and a gateway's client end.

The core appends one entry per committed command, in sequence order, once the command is
durable (ADR 0011). Every gateway process connects over a Unix stream socket and says
which sequence number it already has (`hello`); the server answers with each entry after
it, then every new one as it comes. It keeps the latest entries in a ring, so a gateway
that restarts or reconnects resumes from where it was; one that asks for an entry the
ring no longer holds is told `gone` with the oldest it could have, and catches up from
the journal first.

The core never waits for a gateway. Entries go with a non-blocking send; what a socket
does not take waits in that subscriber's buffer, flushed by the server's thread as the
socket drains. A subscriber whose buffer passes `max_backlog` is cut off (its socket
closed, a warning logged): it reconnects and resumes from the ring or the journal. The
history it was handed at its hello does not count, however much of the ring that was.

Messages are MessagePack arrays whose first element says what they are: a gateway sends
`[HELLO, name, after]`; the server answers `[JOINED, newest]` (the newest entry at that
moment: those up to it are history to the gateway, rebuilt but not acted on again) or
`[GONE, oldest - 1]`, then sends `[ENTRY, seq, *body]` (the body is the runtime's: the
bus carries it without looking) and, once at a clean stop after the last entry, `[END]`.
A server made `recovering` answers hellos while the core still replays its journal into
the ring, so gateways fold that history as it comes; it sends `[JOINED, newest]` once
the core has `recovered`, behind every replayed entry: all of them are history.
Once JOINED came a gateway may send `[COMMAND, frame]`: the server hands the frame to
the core's `on_command` in the order each gateway sent them, outside its own lock. `[MARK,
token]` asks the core to answer `[MARKED, token]` once every command the gateway sent
before it is on the stream (the core's `on_mark` queues the answer behind them, `mark`
sends it): how a gateway answers a query only after the commands that came before it.
`[FINISHED]` says the gateway will send no more commands (a stop under way).
`[SETTINGS, payload]` carries settings the core changed while running (a reload) to
every gateway, between two entries. `[OPEN]` says the core lets clients in (every
gateway has joined): every gateway gets it then, and one that joins later right after
its history, so a gateway whose port is what clients wait for opens that port last.
`[SET_CLOCK, ts]` from a gateway asks the core to set the venue's virtual clock (the
core's `on_set_clock`); `[CLOCK, ts]` tells every gateway the venue's time after a set
(`clock`), and one that joins later right after its history. This module knows sockets
and frames, not commands or events.
"""

import contextlib
import logging
import os
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import msgspec

from nyquestro.bus.framing import FrameReader, FramingError, frame
from nyquestro.domain.errors import NyquestroError

log = logging.getLogger(__name__)

HELLO = 0
ENTRY = 1
GONE = 2
END = 3
JOINED = 4
COMMAND = 5
MARK = 6
MARKED = 7
FINISHED = 8
SETTINGS = 9
OPEN = 10
SET_CLOCK = 11
CLOCK = 12

_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder()
_RECV_BYTES = 1 << 20
_POLL_SECONDS = 0.2


class StreamError(NyquestroError):
    """The other end broke the stream's protocol; the message says how."""


def _sockaddr(address: str) -> str:
    # "@name" is how `ss` and systemd write an abstract socket; the kernel wants a NUL.
    return "\0" + address[1:] if address.startswith("@") else address


def encode_entry(seq: int, body: Sequence[object]) -> bytes:
    """An entry message: what `StreamServer.append` takes and a `StreamClient` yields."""
    return _ENCODER.encode([ENTRY, seq, *body])


def command_message(command: bytes) -> bytes:
    """A command frame on its way to the core (`StreamClient.send`)."""
    return frame(_ENCODER.encode([COMMAND, command]))


def mark_message(token: int) -> bytes:
    return frame(_ENCODER.encode([MARK, token]))


def finished_message() -> bytes:
    return frame(_ENCODER.encode([FINISHED]))


def set_clock_message(ts: int) -> bytes:
    """Asks the core to set the venue's clock to `ts` (ns since the epoch)."""
    return frame(_ENCODER.encode([SET_CLOCK, ts]))


class VenueTime(NamedTuple):
    """The venue's time the core announced (`StreamServer.clock`), among a read's entries."""

    ts: int


@dataclass(slots=True)
class _Subscriber:
    sock: socket.socket
    reader: FrameReader = field(default_factory=FrameReader)
    name: str = ""
    """Empty until its hello came: only then does it get entries."""
    out: bytearray = field(default_factory=bytearray)
    after: int = 0
    """The last command it had when it said hello."""
    finished: bool = False
    """It said it sends no more commands."""
    history: int = 0
    """Bytes of the history it was handed at its hello not sent yet (not a backlog)."""
    joined: bool = False
    """Whether JOINED was sent: until then it may not send commands."""


class StreamServer:
    """The core's end. `append` and `flush` may be called from any thread; `start` runs
    the thread that accepts gateways, answers their hellos and drains slow sockets."""

    def __init__(
        self,
        address: str,
        last_seq: int,
        on_command: Callable[[str, bytes], None] | None = None,
        on_mark: Callable[[str, int], None] | None = None,
        *,
        retain: int = 50_000,
        max_backlog: int = 64 << 20,
        recovering: bool = False,
        on_set_clock: Callable[[str, int], None] | None = None,
    ) -> None:
        """`address`: a Unix socket's path, or with a leading "@" a name in Linux's
        abstract namespace (no file to clean up after a crash, no path length to mind).
        `recovering`: JOINED waits for `recovered` (the module doc). `on_set_clock`:
        (gateway, ts) of each SET_CLOCK, on the server's thread (None: refused)."""
        self.address = address
        self._on_command = on_command
        self._on_mark = on_mark
        self._on_set_clock = on_set_clock
        self._clock: bytes | None = None
        """The latest CLOCK frame, for gateways that join after it (under the lock)."""
        self._refusing = False
        """Runs on the server's thread, outside its lock: (gateway, command frame)."""
        self._last_seq = last_seq
        """The newest entry appended (at start: the command the core recovered up to)."""
        self._ring: deque[tuple[int, bytes]] = deque(maxlen=retain)
        self._max_backlog = max_backlog
        self._lock = threading.Lock()
        self._subscribers: dict[int, _Subscriber] = {}
        self._joins: dict[str, int] = {}
        self._unlink()  # left by a process that was killed
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(_sockaddr(address))
        self._listener.listen(16)
        self._listener.setblocking(False)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_w.setblocking(False)
        self._wake_r.setblocking(False)
        self._stopping = threading.Event()
        self._ended = False
        """Whether END was queued (a clean stop is under way)."""
        self._open = False
        """Whether `open` was called (under the lock)."""
        self._recovering = recovering
        """Whether JOINED waits for `recovered` (under the lock)."""
        self._thread = threading.Thread(target=self._serve, name="bus", daemon=True)
        self.joined = threading.Condition(self._lock)
        """Notified whenever a gateway's hello was answered (`wait_for`)."""

    def start(self) -> None:
        self._thread.start()

    # --- the core's side: entries in sequence order ---------------------------------------

    def append(self, seq: int, message: bytes) -> None:
        """Queue the entry of command `seq` (the next in sequence) for every gateway."""
        data = frame(message)
        with self._lock:
            self._ring.append((seq, data))
            self._last_seq = seq
            for sub in self._subscribers.values():
                if sub.name and seq > sub.after:
                    sub.out += data

    def recovered(self) -> None:
        """The core has replayed its journal: every gateway that said hello meanwhile gets
        JOINED, behind the replayed entries; those that say it from now on, at once."""
        with self._lock:
            self._recovering = False
            for sub in self._subscribers.values():
                if sub.name and not sub.joined:
                    self._answer_joined(sub)
        self.flush()

    def flush(self) -> None:
        """Send what the sockets take now; the server's thread sends the rest later."""
        with self._lock:
            for sub in list(self._subscribers.values()):
                if sub.out and not self._send_some(sub):
                    self._wake()

    def mark(self, name: str, token: int) -> None:
        """Answer gateway `name`'s mark `token`, behind every entry appended so far."""
        data = frame(_ENCODER.encode([MARKED, token]))
        with self._lock:
            for sub in self._subscribers.values():
                if sub.name == name:
                    sub.out += data

    def broadcast(self, settings: bytes) -> None:
        """Hand every gateway `settings` (their form is the runtime's), behind the entries
        appended so far."""
        data = frame(_ENCODER.encode([SETTINGS, settings]))
        with self._lock:
            for sub in self._subscribers.values():
                if sub.name:
                    sub.out += data
        self.flush()

    def clock(self, ts: int) -> None:
        """Tell every gateway, and each that joins from now on, that the venue's time is
        `ts`, behind the entries appended so far."""
        data = frame(_ENCODER.encode([CLOCK, ts]))
        with self._lock:
            self._clock = data
            for sub in self._subscribers.values():
                if sub.name:
                    sub.out += data
        self.flush()

    def open(self) -> None:
        """Tell every gateway, and each that joins from now on, that the venue is open."""
        data = frame(_ENCODER.encode([OPEN]))
        with self._lock:
            self._open = True
            for sub in self._subscribers.values():
                if sub.name:
                    sub.out += data
        self.flush()

    def wait_finished(self, name: str, timeout: float) -> bool:
        """Whether gateway `name` said it sends no more commands (or is gone) within
        `timeout` seconds."""
        with self._lock:
            return self.joined.wait_for(
                lambda: all(sub.finished for sub in self._subscribers.values()
                            if sub.name == name), timeout,
            )  # fmt: skip

    def joins(self, name: str) -> int:
        """How many times a gateway called `name` has joined (restarts count again)."""
        with self._lock:
            return self._joins.get(name, 0)

    def backlogs(self) -> dict[str, int]:
        """Bytes waiting to be sent, by gateway (the history handed at a hello aside)."""
        with self._lock:
            return {
                sub.name: max(len(sub.out) - sub.history, 0)
                for sub in self._subscribers.values()
                if sub.name
            }

    def subscribers(self) -> list[str]:
        """Names of the gateways connected and answered."""
        with self._lock:
            return [sub.name for sub in self._subscribers.values() if sub.name]

    def wait_for(self, name: str, timeout: float) -> bool:
        """Whether a gateway called `name` said hello within `timeout` seconds."""
        with self._lock:
            return self.joined.wait_for(
                lambda: any(sub.name == name for sub in self._subscribers.values()), timeout
            )

    def close(self, drain_seconds: float) -> None:
        """A clean stop, after the last entry: tell every gateway, give their sockets up to
        `drain_seconds` to take what is buffered, close them. Once: later calls return."""
        if self._stopping.is_set():
            return
        with self._lock:
            self._ended = True
            end = frame(_ENCODER.encode([END]))
            for sub in self._subscribers.values():
                if sub.name:
                    sub.out += end
        deadline = time.monotonic() + drain_seconds
        while time.monotonic() < deadline:
            with self._lock:
                waiting = [sub for sub in self._subscribers.values() if sub.name and sub.out]
                for sub in waiting:
                    self._send_some(sub)
            if not waiting:
                break
            time.sleep(0.005)
        self._stopping.set()
        self._wake()
        if self._thread.is_alive():
            self._thread.join(_POLL_SECONDS * 5)
        with self._lock:
            for sub in self._subscribers.values():
                sub.sock.close()
            self._subscribers.clear()
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()
        self._unlink()

    def _unlink(self) -> None:
        if not self.address.startswith("@"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.address)

    # --- under the lock -------------------------------------------------------------------

    def _send_some(self, sub: _Subscriber) -> bool:
        """Send what the socket takes; False if some is left. Cuts off a laggard."""
        try:
            sent = sub.sock.send(sub.out)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._drop(sub, "its socket failed")
            return True
        del sub.out[:sent]
        sub.history = max(0, sub.history - sent)
        if len(sub.out) - sub.history > self._max_backlog:
            self._drop(sub, f"{len(sub.out)} bytes behind; cut off (it resumes when it reconnects)")
            return True
        return not sub.out

    def _drop(self, sub: _Subscriber, why: str) -> None:
        if sub.name:
            # After END a gateway leaves by itself; before it, leaving means it died.
            level = logging.INFO if self._ended else logging.WARNING
            log.log(level, "gateway %s on the bus: %s", sub.name, why)
        self._subscribers.pop(sub.sock.fileno(), None)
        sub.sock.close()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self._wake_w.send(b"x")

    def _hello(self, sub: _Subscriber, message: object) -> None:
        if not (
            isinstance(message, list) and len(message) == 3 and message[0] == HELLO
            and isinstance(message[1], str) and message[1] and isinstance(message[2], int)
        ):  # fmt: skip
            raise StreamError(f"expected [HELLO, name, after], got {message!r:.200}")
        name, after = message[1], message[2]
        ring = self._ring
        oldest = ring[0][0] if ring else self._last_seq + 1
        if after + 1 < oldest:
            sub.out += frame(_ENCODER.encode([GONE, oldest - 1]))
            log.info("gateway %s asked for entries after %d; the ring starts at %d", name,
                     after, oldest)  # fmt: skip
            return
        sub.name = name
        self._joins[name] = self._joins.get(name, 0) + 1
        # It may have read the journal a little beyond the newest entry (a commit is
        # durable a moment before it is appended here): those it gets no more.
        sub.after = after
        if not self._recovering:
            self._answer_joined(sub)
        start = after + 1 - oldest
        history = b"".join(ring[i][1] for i in range(start, len(ring)))
        sub.out += history
        sub.history = len(history)
        if self._clock is not None:
            sub.out += self._clock
        if self._open:
            sub.out += frame(_ENCODER.encode([OPEN]))
        log.info("gateway %s joined the bus after command %d", name, after)
        self.joined.notify_all()

    def _answer_joined(self, sub: _Subscriber) -> None:
        sub.out += frame(_ENCODER.encode([JOINED, self._last_seq]))
        sub.joined = True

    # --- the server's thread --------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                subscribers = list(self._subscribers.values())
            readers = [self._listener, self._wake_r, *(s.sock for s in subscribers)]
            # While the core recovers, its own flushes send (`flush`): this thread, woken
            # each time a socket takes what was appended, would take turns with the
            # replay for the GIL.
            writers = [] if self._recovering else [s.sock for s in subscribers if s.out]
            try:
                readable, writable, _ = select.select(readers, writers, [], _POLL_SECONDS)
            except (OSError, ValueError):
                continue  # a socket closed by another thread meanwhile
            if self._wake_r in readable:
                with contextlib.suppress(BlockingIOError):
                    self._wake_r.recv(4096)
            commands: list[tuple[str, list[Any]]] = []
            with self._lock:
                if self._listener in readable:
                    self._accept()
                for sock in readable:
                    if sock is not self._listener and sock is not self._wake_r:
                        self._receive(sock, commands)
                for sock in writable:
                    sub = self._subscribers.get(sock.fileno()) if sock.fileno() >= 0 else None
                    if sub is not None:
                        self._send_some(sub)
                        if not sub.name and not sub.out:
                            self._drop(sub, "answered gone")
            for name, command in commands:
                self._command(name, command)

    def refuse_commands(self) -> None:
        """From now on drop what gateways send (a stop is under way), with a warning."""
        self._refusing = True

    def _command(self, name: str, message: list[Any]) -> None:
        if message[0] == SET_CLOCK:
            self._set_clock(name, message[1])
            return
        on_command, on_mark = self._on_command, self._on_mark
        if on_command is None or on_mark is None:
            log.error("gateway %s sent %s; this bus takes no commands", name, message[0])
            return
        if self._refusing and message[0] == COMMAND:
            log.warning("a command from gateway %s came while stopping; not carried out", name)
            return
        try:
            if message[0] == COMMAND:
                on_command(name, message[1])
            else:
                on_mark(name, message[1])
        except Exception:  # one bad command must not stop the bus
            log.exception("a command from gateway %s failed", name)

    def _set_clock(self, name: str, ts: int) -> None:
        if self._on_set_clock is None:
            log.error("gateway %s asked to set the clock; this venue's clock is not virtual", name)
            return
        try:
            self._on_set_clock(name, ts)
        except Exception:  # a bad request must not stop the bus
            log.exception("setting the clock for gateway %s failed", name)

    def _accept(self) -> None:
        try:
            sock, _ = self._listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        self._subscribers[sock.fileno()] = _Subscriber(sock)

    def _receive(self, sock: socket.socket, commands: list[tuple[str, list[Any]]]) -> None:
        sub = self._subscribers.get(sock.fileno()) if sock.fileno() >= 0 else None
        if sub is None:
            return
        try:
            data = sock.recv(_RECV_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(sub, "disconnected")
            return
        try:
            for message in sub.reader.feed(data):
                decoded = _DECODER.decode(message)
                if not sub.name:
                    self._hello(sub, decoded)
                elif _is_request(decoded):
                    if not sub.joined:
                        raise StreamError(f"{sub.name} sent a request before JOINED")
                    commands.append((sub.name, decoded))
                elif decoded == [FINISHED]:
                    sub.finished = True
                    self.joined.notify_all()
                else:
                    raise StreamError(f"{sub.name} sent {decoded!r:.200}, not a command")
        except (FramingError, StreamError, msgspec.DecodeError) as exc:
            log.warning("a gateway on the bus broke the protocol and was cut off: %s", exc)
            self._drop(sub, "protocol error")
            return
        if sub.out:
            self._send_some(sub)
            if not sub.name and not sub.out:
                self._drop(sub, "answered gone")


def _is_request(message: object) -> bool:
    """`[COMMAND, frame]`, `[MARK, token]` or `[SET_CLOCK, ts]`."""
    if not isinstance(message, list) or len(message) != 2:
        return False
    kind, value = message
    return (kind == COMMAND and isinstance(value, bytes)) or (
        kind in (MARK, SET_CLOCK) and isinstance(value, int)
    )


class Gone(Exception):
    """The server no longer has the entries asked for; it has those after `seq`."""

    def __init__(self, seq: int) -> None:
        super().__init__(f"the bus holds entries after command {seq} only")
        self.seq = seq


class StreamClient:
    """A gateway's end: connect, say which command it has, then read entries."""

    def __init__(self, address: str, name: str, after: int, timeout: float) -> None:
        """Connect (retrying until `timeout` while the core is not listening yet) and say
        hello; raises OSError if the core cannot be reached."""
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(_sockaddr(address))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.sendall(frame(_ENCODER.encode([HELLO, name, after])))
        self._sock = sock
        self._reader = FrameReader()
        self.ended = False
        """Whether the core said END: a clean stop, not a crash."""
        self.joined_at: int | None = None
        """The core's newest entry when it answered the hello (None before that)."""
        self.opened = False
        """Whether the core said the venue is open (`StreamServer.open`)."""
        self._sending = threading.Lock()

    def send(self, message: bytes) -> None:
        """Send a message made by `command_message`, `mark_message`, `finished_message` or
        `set_clock_message` (any thread; blocks only while the socket's buffer is full,
        i.e. while the core is busy taking commands)."""
        with self._sending:
            self._sock.sendall(message)

    def read(self) -> list[list[Any] | int | bytes | VenueTime] | None:
        """The entries (`[seq, *body]`), answered marks (their tokens), settings (their
        payloads) and the venue's time (`VenueTime`) of one receive, in order, blocking
        until some arrive (or the answer to the hello, or OPEN: then `joined_at` or
        `opened` is set, maybe with nothing yet); None once the stream is over (END, or
        the core went away: see `ended`). Raises Gone."""
        while True:
            try:
                data = self._sock.recv(_RECV_BYTES)
            except ConnectionResetError:
                data = b""
            if not data:
                return None
            entries: list[list[Any] | int | bytes | VenueTime] = []
            answered = False
            for payload in self._reader.feed(data):
                message = _DECODER.decode(payload)
                kind = message[0]
                if kind == ENTRY:
                    entries.append(message[1:])
                elif kind in (MARKED, SETTINGS):
                    entries.append(message[1])
                elif kind == CLOCK:
                    entries.append(VenueTime(message[1]))
                elif kind == JOINED:
                    self.joined_at, answered = message[1], True
                elif kind == OPEN:
                    self.opened = answered = True
                elif kind == GONE:
                    raise Gone(message[1])
                elif kind == END:
                    self.ended = True
                    return entries or None
                else:
                    raise StreamError(f"unknown message kind {kind!r} from the core")
            if entries or answered:
                return entries

    def close(self) -> None:
        self._sock.close()
