"""The fault relay: with `[fix] faults = true` clients connect here, and the relay passes
their bytes to quickfix (listening on a loopback port of its own) and back, message by
message, so `faults.py` can make the venue misbehave on purpose for one session.

Transparent otherwise: every byte goes through unchanged and in order. A stream that
stops being FIX (a client sending garbage on purpose) is passed on as it is from there.
Costs a hop per message each way, which is why it is off unless asked for.

Threads: one accepts; each connection has one reading the client (to quickfix) and one
reading quickfix (to the client). Only the latter writes to the client, except a fault's
injected messages, which take the same per-connection lock. No quickfix lock is held
here; the session API calls (`SessionHooks`) take quickfix's own locks briefly.
"""

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from nyquestro.codec.fix_wire import Message, Splitter, WireError
from nyquestro.config.faults import Fault, ScheduledFault
from nyquestro.config.peers import AllowList
from nyquestro.gateways.fix.faults import (
    DEFAULT_AMOUNT,
    DESCRIPTIONS,
    IMMEDIATE,
    Action,
    Effect,
    Link,
    SessionRecord,
)  # fmt: skip

log = logging.getLogger(__name__)

READ_BYTES = 65536
ACCEPT_POLL_SECONDS = 0.5


class FaultRefused(ValueError):
    """The fault cannot be done now (the text says why)."""


class SessionHooks(Protocol):
    """quickfix's numbering of a session, which two faults move."""

    def skip(self, key: str, count: int) -> None: ...
    def reset(self, key: str, next_seq: int) -> None: ...


def sending_time() -> str:
    now = datetime.now(UTC)
    return f"{now:%Y%m%d-%H:%M:%S}.{now.microsecond // 1000:03d}"


class FaultRelay:
    def __init__(
        self,
        port: int,
        venue_port: int,
        allow: AllowList,
        comp_id: str,
        hooks: SessionHooks,
        schedule: tuple[ScheduledFault, ...] = (),
    ) -> None:
        """`schedule`: faults done by themselves ([fix] fault_schedule)."""
        self._port = port
        self._venue_port = venue_port
        self._allow = allow
        self._comp_id = comp_id
        self._hooks = hooks
        self._schedule = schedule
        self._records: dict[str, SessionRecord] = {}
        self._connections: dict[str, _Connection] = {}
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("0.0.0.0", self._port))
        server.listen(64)
        server.settimeout(ACCEPT_POLL_SECONDS)
        self._server = server
        threading.Thread(target=self._accept, name="fault-relay", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.close()
        with self._lock:
            connections = list(self._connections.values())
        for connection in connections:
            connection.close()

    def scheduled(self, key: str, count: int) -> list[tuple[Fault, float]]:
        """Faults of `key`'s schedule due once `count` messages came in on a connection."""
        return [
            (entry.fault, DEFAULT_AMOUNT.get(entry.fault, 0.0) if entry.amount is None
             else entry.amount)
            for entry in self._schedule
            if entry.session == key and entry.after == count
        ]  # fmt: skip

    def arm(self, key: str, fault: Fault, amount: float | None) -> str:
        """Arms `fault` for the session `key` (or does it now, if immediate); returns what
        was done, or raises FaultRefused."""
        amount = DEFAULT_AMOUNT.get(fault, 0.0) if amount is None else amount
        with self._lock:
            connection = self._connections.get(key)
            record = self._records.get(key)
        if fault in IMMEDIATE and (connection is None or connection.closed):
            raise FaultRefused(f"{fault} needs session {key} connected, and it is not")
        if connection is not None and not connection.closed:
            connection.apply(connection.link.arm(fault, amount, sending_time()))
        else:
            if record is None:
                begin = key.partition(":")[0]
                record = self._records.setdefault(key, SessionRecord(begin))
            record.armed.append((fault, amount))
        log.warning("session fault %s (%s) for %s", fault, amount, key)
        how = f" (amount {amount:g})" if fault in DEFAULT_AMOUNT or fault is Fault.SILENCE else ""
        return f"{fault}{how} for {key}: {DESCRIPTIONS[fault]}"

    def _accept(self) -> None:
        assert self._server is not None
        while not self._stopping.is_set():
            try:
                client, peer = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._allow.allows(peer[0]):
                log.warning("fault relay: refused a connection from %s ([fix] allow)", peer[0])
                client.close()
                continue
            try:
                venue = socket.create_connection(("127.0.0.1", self._venue_port), timeout=5)
            except OSError as exc:
                log.error("fault relay: quickfix did not take the connection: %s", exc)
                client.close()
                continue
            _Connection(self, client, venue).start()

    def _register(self, key: str, begin_string: str, connection: "_Connection") -> Link:
        with self._lock:
            record = self._records.setdefault(key, SessionRecord(begin_string))
            self._connections[key] = connection
        return Link(record)

    def _effect(self, key: str, effect: Effect, amount: int) -> None:
        if effect is Effect.SKIP:
            self._hooks.skip(key, amount)
        else:
            self._hooks.reset(key, amount)


class _Connection:
    def __init__(self, relay: FaultRelay, client: socket.socket, venue: socket.socket) -> None:
        for sock in (client, venue):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(None)
        self._relay = relay
        self._client = client
        self._venue = venue
        self._write = threading.Lock()
        self._hold_until = 0.0
        self.key: str | None = None
        self.link = Link(SessionRecord(""))
        """The session's link once its Logon named it; until then a stand-in."""
        self.closed = False
        self._inbound_count = 0
        self._in_splitter: Splitter | None = Splitter()
        self._out_splitter: Splitter | None = Splitter()
        """None once the stream stopped being FIX: from there bytes pass as they are."""

    def start(self) -> None:
        threading.Thread(target=self._pump, args=(self._client, self._inbound),
                         name="relay-in", daemon=True).start()  # fmt: skip
        threading.Thread(target=self._pump, args=(self._venue, self._outbound),
                         name="relay-out", daemon=True).start()  # fmt: skip

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for sock in (self._client, self._venue):
            with contextlib.suppress(OSError):  # already gone
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def apply(self, action: Action) -> None:
        """An armed fault's (or a message's) instructions; the message itself is not here."""
        if action.hold:
            self._hold_until = max(self._hold_until, time.monotonic() + action.hold)
        for effect, amount in action.effects:
            self._relay._effect(self.key or "", effect, amount)
        for data in action.to_client:
            self._to_client(data)
        if action.close:
            # Abrupt: a reset (RST), not an orderly FIN, as when a venue's host fails.
            self._client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00"
                                    b"\x00\x00\x00\x00")  # fmt: skip
            self.close()

    def _pump(self, source: socket.socket, handle: Callable[[bytes], None]) -> None:
        try:
            while not self.closed:
                data = source.recv(READ_BYTES)
                if not data:
                    break
                handle(data)
        except OSError:
            pass
        finally:
            self.close()

    def _parsed(self, splitter: Splitter | None, data: bytes) -> tuple[list[Message], bytes]:
        """Whole messages, and bytes to pass on as they are (the stream stopped being FIX)."""
        if splitter is None:
            return [], data
        messages: list[Message] = []
        try:
            messages.extend(splitter.feed(data))
        except WireError:
            return messages, splitter.rest()
        return messages, b""

    def _inbound(self, data: bytes) -> None:
        messages, raw = self._parsed(self._in_splitter, data)
        if raw:
            self._in_splitter = None  # garbage on purpose: pass everything on from here
        for msg in messages:
            if self.key is None and msg.type == "A":
                begin = msg.get(8) or ""
                self.key = f"{begin}:{msg.get(56)}->{msg.get(49)}"
                self.link = self._relay._register(self.key, begin, self)
            action = self.link.inbound(msg, sending_time())
            if action.forward:
                self._venue.sendall(msg.raw)
            self.apply(action)
            self._inbound_count += 1
            for fault, amount in self._relay.scheduled(self.key or "", self._inbound_count):
                log.warning("scheduled session fault %s (%s) for %s", fault, amount, self.key)
                self.apply(self.link.arm(fault, amount, sending_time()))
        if raw:
            self._venue.sendall(raw)

    def _outbound(self, data: bytes) -> None:
        messages, raw = self._parsed(self._out_splitter, data)
        if raw:
            self._out_splitter = None
        for msg in messages:
            action = self.link.outbound(msg, sending_time())
            self.apply(Action(hold=action.hold, effects=action.effects))
            if action.forward:
                self._to_client(action.message or msg.raw)
        if raw:
            self._to_client(raw)

    def _to_client(self, data: bytes) -> None:
        wait = self._hold_until - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        with self._write:
            self._client.sendall(data)
