"""A client session's TCP connection: the sans-IO session and splitter driven by a socket,
every read bounded by a deadline, every message in and out written to the transcript."""

import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from nyquestro.cert.session import ClientSession, Outgoing
from nyquestro.codec.fix_wire import SOH, Message, Splitter

CONNECT_TIMEOUT = 5.0


class Dialer(Protocol):
    """How a pack's session gets its connection: dialling a venue, or (cert serve)
    accepting the engine under test."""

    def open(self, timeout: float) -> tuple[socket.socket, str]:
        """A connected socket and who is at the other end, within `timeout` seconds."""
        ...

    def describe(self) -> str: ...


class Dial:
    """Connects to the address `where()` gives (a restarted venue moves ports)."""

    def __init__(self, where: Callable[[], tuple[str, int]]) -> None:
        self._where = where

    def open(self, timeout: float) -> tuple[socket.socket, str]:
        host, port = self._where()
        sock = socket.create_connection((host, port), timeout=min(timeout, CONNECT_TIMEOUT))
        return sock, f"connected to {host}:{port}"

    def describe(self) -> str:
        host, port = self._where()
        return f"{host}:{port}"


class Listen:
    """Accepts the engine under test's connections on one listening socket."""

    def __init__(self, host: str, port: int) -> None:
        self._server = socket.create_server((host, port))
        self.address: tuple[str, int] = self._server.getsockname()[:2]

    def open(self, timeout: float) -> tuple[socket.socket, str]:
        self._server.settimeout(timeout)
        sock, peer = self._server.accept()
        sock.settimeout(None)
        return sock, f"accepted a connection from {peer[0]}:{peer[1]}"

    def describe(self) -> str:
        return f"engines connecting to {self.address[0]}:{self.address[1]}"

    def close(self) -> None:
        self._server.close()


class Closed(ConnectionError):
    """The venue closed the connection (or it broke)."""


@dataclass(frozen=True)
class Line:
    at: float
    """Seconds since the run began."""
    client: str
    direction: str
    """"sent", "received" or "note"."""
    text: str


@dataclass
class Transcript:
    """Every message of a run, in the order they crossed the wire."""

    lines: list[Line] = field(default_factory=list)
    start: float = field(default_factory=time.monotonic)
    keep: bool = True
    """False: keep nothing (a replay of millions of messages)."""

    def add(self, client: str, direction: str, text: str) -> None:
        if not self.keep:
            return
        self.lines.append(Line(time.monotonic() - self.start, client, direction, text))


def sending_time() -> str:
    """UTCTimestamp with milliseconds, which both FIX 4.2 and 4.4 accept."""
    now = datetime.now(UTC)
    return f"{now:%Y%m%d-%H:%M:%S}.{now.microsecond // 1000:03d}"


class Connection:
    def __init__(
        self, session: ClientSession, sock: socket.socket, peer: str, transcript: Transcript
    ) -> None:
        """`sock`: connected to the peer, which `peer` describes for the transcript."""
        self.session = session
        self._transcript = transcript
        self._sock = sock
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._splitter = Splitter()
        self._pending: deque[Message] = deque()
        self._eof = False
        self.logged_on = False
        """A Logon answer came on this connection."""
        self._note(peer)

    @property
    def name(self) -> str:
        return self.session.spec.name

    @property
    def finished(self) -> bool:
        """Closed, and every message before that read."""
        return self._eof and not self._pending

    def send(self, out: Outgoing) -> None:
        self.send_bytes(self.session.build(out, sending_time()))

    def send_bytes(self, data: bytes) -> None:
        self._transcript.add(self.name, "sent", data.replace(SOH, b"|").decode(errors="replace"))
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise Closed(f"the connection broke while sending: {exc}") from exc

    def receive(self, deadline: float) -> Message | None:
        """The next message, None once `deadline` (monotonic) passes; Closed when the venue
        has closed the connection and every message before that has been read. A deadline
        already past still takes what has arrived, without waiting."""
        waited = False
        while not self._pending:
            if self._eof:
                raise Closed("the other side closed the connection")
            left = deadline - time.monotonic()
            if left <= 0 and waited:
                return None
            waited = True
            self._sock.settimeout(max(left, 0.0))
            try:
                data = self._sock.recv(65536)
            except (TimeoutError, BlockingIOError):
                return None
            except OSError as exc:
                self._eof = True
                self._note(f"connection broke: {exc}")
                continue
            if not data:
                self._eof = True
                self._note("the other side closed the connection")
                continue
            self._pending.extend(self._splitter.feed(data))
        msg = self._pending.popleft()
        self._transcript.add(self.name, "received", msg.text())
        if msg.type == "A":
            self.logged_on = True
        elif msg.type == "5":
            self.logged_on = False
        answer = self.session.received(msg, sending_time())
        if answer is not None and not self._eof:
            self.send_bytes(answer)
        return msg

    def close(self) -> None:
        if not self._eof:
            self._note("closed by the client")
        self._eof = True
        self._sock.close()

    def _note(self, text: str) -> None:
        self._transcript.add(self.name, "note", text)
