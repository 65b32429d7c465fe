"""A small FIX initiator for end-to-end tests: raw TCP plus simplefix, no quickfix.

The venue runs on quickfix; testing it with quickfix as the client too would let both
ends share one engine's reading of the spec. This client builds and parses messages
itself, so what the tests assert is what actually went over the wire.

Every read has a deadline. `sync()` is the ordering barrier the tests lean on: it sends a
TestRequest and reads until the matching Heartbeat. The venue handles all sessions on
one thread, in arrival order, so once the Heartbeat is back every message caused by what
this client (or, after its own `sync()`, any other client) sent earlier is in the inbox.
That makes "nothing else arrived" checks exact without sleeping.
"""

import itertools
import socket
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import simplefix

VENUE_COMP_ID = "NYQUESTRO"
HOST = "127.0.0.1"
CHECKSUM = 10
MSG_TYPE = 35
TEST_REQ_ID = 112
CL_ORD_ID = 11
SYNC_PREFIX = "SYNC"
"""ClOrdIDs and TestReqIDs of `FixClient.sync` barriers."""

Fields = Iterable[tuple[int, object]]

_ids = itertools.count(1)


def next_id(prefix: str = "C") -> str:
    """A ClOrdID / MDReqID unique for this test process."""
    return f"{prefix}{next(_ids)}"


def fix_now() -> str:
    """UTCTimestamp with milliseconds, as both FIX 4.2 and 4.4 accept."""
    now = datetime.now(UTC)
    return f"{now:%Y%m%d-%H:%M:%S}.{now.microsecond // 1000:03d}"


class Msg:
    """A received message as (tag, str) pairs, with str access and repeating groups."""

    def __init__(self, pairs: list[tuple[int, str]]) -> None:
        self.pairs = pairs

    @property
    def type(self) -> str:
        return self[MSG_TYPE]

    def get(self, tag: int, default: str | None = None) -> str | None:
        for t, value in self.pairs:
            if t == tag:
                return value
        return default

    def __getitem__(self, tag: int) -> str:
        value = self.get(tag)
        if value is None:
            raise KeyError(f"tag {tag} missing from {self}")
        return value

    def __contains__(self, tag: object) -> bool:
        return any(t == tag for t, _ in self.pairs)

    def matches(self, where: dict[int, str]) -> bool:
        return all(self.get(tag) == value for tag, value in where.items())

    def groups(self, count_tag: int, delimiter: int) -> list[dict[int, str]]:
        """Entries of a repeating group; each entry starts with `delimiter`.

        The group ends at the first tag that is neither a delimiter nor new within the
        current entry (or at the checksum). A count that disagrees with the entries found
        is a venue bug, so it fails loudly.
        """
        tags = [t for t, _ in self.pairs]
        if count_tag not in tags:
            return []
        start = tags.index(count_tag)
        expected = int(self.pairs[start][1])
        entries: list[dict[int, str]] = []
        for tag, value in self.pairs[start + 1 :]:
            if tag == delimiter:
                entries.append({tag: value})
            elif entries and tag not in entries[-1] and tag != CHECKSUM:
                entries[-1][tag] = value
            else:
                break
        assert len(entries) == expected, f"{count_tag}={expected} but {len(entries)} in {self}"
        return entries

    def __repr__(self) -> str:
        return "|".join(f"{t}={v}" for t, v in self.pairs)


class FixClient:
    """One FIX session seen from the client side (SenderCompID = the client's CompID)."""

    def __init__(
        self,
        port: int,
        sender: str,
        begin_string: str,
        target: str = VENUE_COMP_ID,
        heartbeat: int = 30,
        barrier: str = "status",
        source: str | None = None,
    ) -> None:
        """`barrier`: how `sync` knows the venue has handled what was sent before it —
        "status" (an OrderStatusRequest, answered in order with the reports) or
        "test_request" (for a session that sends no application messages: a drop copy)."""
        self.port = port
        self.source = source
        """Local address to connect from (e.g. 127.0.0.2, another loopback address); None:
        the system's choice."""
        self.sender = sender
        self.target = target
        self.begin_string = begin_string
        self.heartbeat = heartbeat
        self.barrier = barrier
        self.seq = 0
        self.inbox: list[Msg] = []
        self.orders: dict[str, tuple[str, str]] = {}
        """Every ClOrdID this client sent a NewOrderSingle with → (symbol, side), for cleanup."""
        self.validate: Callable[[Msg], None] | None = None
        """Called with every message received (the tests check it against a dictionary)."""
        self._sock: socket.socket | None = None
        self._parser = simplefix.FixParser()

    @property
    def is44(self) -> bool:
        return self.begin_string == "FIX.4.4"

    # --- connection ---------------------------------------------------------------------

    def connect(self, timeout: float = 5.0) -> None:
        source = None if self.source is None else (self.source, 0)
        self._sock = socket.create_connection(
            (HOST, self.port), timeout=timeout, source_address=source
        )
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._parser = simplefix.FixParser()

    def logon(self, reset: bool = True, timeout: float = 5.0) -> Msg:
        """Connect if needed, send Logon (ResetSeqNumFlag=Y starts both sides at 1)."""
        if self._sock is None:
            self.connect()
        if reset:
            self.seq = 0
        fields: list[tuple[int, object]] = [(98, 0), (108, self.heartbeat)]
        if reset:
            fields.append((141, "Y"))
        self.send("A", fields)
        return self.expect("A", timeout=timeout)

    def logout(self, timeout: float = 5.0) -> None:
        """Send Logout, wait for the venue's Logout, close the socket."""
        try:
            self.send("5", [])
            self.expect("5", timeout=timeout)
        finally:
            self.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def hung_up(self, timeout: float = 5.0) -> bool:
        """True once the venue closes the connection (whatever it sends before), False if
        it is still open after `timeout`. Closes our side either way."""
        assert self._sock is not None, "not connected"
        self._sock.settimeout(timeout)
        try:
            while self._sock.recv(4096):
                pass
        except TimeoutError:
            return False
        except ConnectionError:
            pass
        finally:
            self.close()
        return True

    # --- sending ------------------------------------------------------------------------

    def send(
        self, msg_type: str, fields: Fields, seq: int | None = None, header: Fields = ()
    ) -> int:
        """Send one message with the next MsgSeqNum (or `seq`); returns the MsgSeqNum used.
        `header` adds header fields such as PossResend (97)."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        msg = simplefix.FixMessage()
        msg.append_pair(8, self.begin_string, header=True)
        msg.append_pair(35, msg_type, header=True)
        msg.append_pair(49, self.sender, header=True)
        msg.append_pair(56, self.target, header=True)
        msg.append_pair(34, seq, header=True)
        msg.append_pair(52, fix_now(), header=True)
        for tag, value in header:
            msg.append_pair(tag, value, header=True)
        for tag, value in fields:
            msg.append_pair(tag, value)
        self.send_raw(msg.encode())
        return seq

    def send_raw(self, data: bytes) -> None:
        assert self._sock is not None, "not connected"
        self._sock.sendall(data)

    # --- receiving ----------------------------------------------------------------------

    def receive(self, timeout: float) -> Msg | None:
        """The next message off the socket (not the inbox), or None after `timeout`.

        TestRequests are answered and plain Heartbeats dropped here, so callers only see
        what the venue meant to tell them; a Heartbeat answering our own TestRequest is
        returned, since `sync()` waits for it.
        """
        assert self._sock is not None, "not connected"
        deadline = time.monotonic() + timeout
        while True:
            parsed = self._parser.get_message()
            if parsed is not None:
                msg = Msg([(int(t), v.decode()) for t, v in parsed.pairs])
                if self.validate is not None:
                    self.validate(msg)
                if msg.type == "1":
                    self.send("0", [(TEST_REQ_ID, msg[TEST_REQ_ID])])
                    continue
                if msg.type == "0" and TEST_REQ_ID not in msg:
                    continue
                return msg
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._sock.settimeout(left)
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                return None
            if not data:
                raise ConnectionError(f"{self.sender}/{self.begin_string}: venue closed")
            self._parser.append_buffer(data)

    def expect(
        self,
        msg_type: str,
        where: dict[int, str] | None = None,
        timeout: float = 5.0,
        check: Callable[[Msg], bool] | None = None,
    ) -> Msg:
        """The first message of `msg_type` matching `where` (tag → value) and `check`.

        Looks in the inbox first, then reads on; anything else read meanwhile stays in
        the inbox for later calls, in arrival order.
        """
        want = {MSG_TYPE: msg_type, **(where or {})}

        def fits(msg: Msg) -> bool:
            return msg.matches(want) and (check is None or check(msg))

        for i, msg in enumerate(self.inbox):
            if fits(msg):
                return self.inbox.pop(i)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            got = self.receive(left)
            if got is None:
                break
            if fits(got):
                return got
            self.inbox.append(got)
        raise AssertionError(
            f"{self.sender}/{self.begin_string}: no {want} within {timeout}s; inbox:\n"
            + "\n".join(map(repr, self.inbox))
        )

    def sync(self, timeout: float = 5.0) -> None:
        """Barrier: return once everything the venue sent because of what we sent before
        is read (the reports of every command handled before our request, to us).

        quickfix answers a TestRequest the moment it reads it, while the venue handles
        application messages on its writer thread, so a Heartbeat may overtake reports:
        the barrier is an OrderStatusRequest for an order that does not exist, whose
        reply leaves in order after them. A drop copy sends no application messages; its
        TestRequest orders only after what the venue already handed to quickfix.
        """
        token = next_id(SYNC_PREFIX)
        if self.barrier == "test_request":
            self.send("1", [(TEST_REQ_ID, token)])
            self.expect("0", {TEST_REQ_ID: token}, timeout=timeout)
            return
        self.status(token, "SYNC", "1")
        self.expect("8", {CL_ORD_ID: token}, timeout=timeout)

    def drain(self, timeout: float = 5.0) -> list[Msg]:
        """Everything the venue has sent so far (inbox included), emptying the inbox."""
        self.sync(timeout)
        taken, self.inbox = self.inbox, []
        return taken

    # --- application messages -----------------------------------------------------------

    def new_order(
        self,
        symbol: str,
        side: str,
        qty: object,
        price: object = None,
        *,
        ord_type: str | None = None,
        tif: str | None = None,
        cl_ord_id: str | None = None,
        extra: Fields = (),
        header: Fields = (),
    ) -> str:
        """Send a NewOrderSingle; returns its ClOrdID. OrdType defaults to limit when
        priced, market otherwise."""
        cl_ord_id = cl_ord_id or next_id("O")
        if ord_type is None:
            ord_type = "1" if price is None else "2"
        fields: list[tuple[int, object]] = [(11, cl_ord_id)]
        if not self.is44:
            fields.append((21, "1"))  # HandlInst: required in 4.2 only
        fields += [(55, symbol), (54, side), (60, fix_now()), (38, qty), (40, ord_type)]
        if price is not None:
            fields.append((44, price))
        if tif is not None:
            fields.append((59, tif))
        fields += list(extra)
        self.send("D", fields, header=header)
        self.orders.setdefault(cl_ord_id, (symbol, side))
        return cl_ord_id

    def cancel(
        self, orig: str, symbol: str, side: str, qty: object = None, cl_ord_id: str | None = None
    ) -> str:
        """Send an OrderCancelRequest for the order whose (any) ClOrdID is `orig`."""
        cl_ord_id = cl_ord_id or next_id("X")
        fields: list[tuple[int, object]] = [
            (41, orig), (11, cl_ord_id), (55, symbol), (54, side), (60, fix_now()),
        ]  # fmt: skip
        if qty is not None:
            fields.append((38, qty))
        self.send("F", fields)
        return cl_ord_id

    def replace(
        self,
        orig: str,
        symbol: str,
        side: str,
        qty: object,
        price: object = None,
        *,
        ord_type: str = "2",
        cl_ord_id: str | None = None,
        extra: Fields = (),
    ) -> str:
        """Send an OrderCancelReplaceRequest (OrderQty = the new total quantity)."""
        cl_ord_id = cl_ord_id or next_id("R")
        fields: list[tuple[int, object]] = [(41, orig), (11, cl_ord_id)]
        if not self.is44:
            fields.append((21, "1"))
        fields += [(55, symbol), (54, side), (60, fix_now()), (38, qty), (40, ord_type)]
        if price is not None:
            fields.append((44, price))
        fields += list(extra)
        self.send("G", fields)
        return cl_ord_id

    def status(self, cl_ord_id: str, symbol: str, side: str) -> None:
        self.send("H", [(11, cl_ord_id), (55, symbol), (54, side)])

    def subscribe(
        self,
        symbols: Iterable[str],
        depth: int = 0,
        entry_types: Iterable[str] = ("0", "1"),
        kind: str = "1",
        md_req_id: str | None = None,
    ) -> str:
        """Send a MarketDataRequest (incremental updates); returns its MDReqID."""
        md_req_id = md_req_id or next_id("MD")
        types = list(entry_types)
        names = list(symbols)
        fields: list[tuple[int, object]] = [(262, md_req_id), (263, kind), (264, depth)]
        if kind == "1":
            fields.append((265, "1"))
        fields.append((267, len(types)))
        fields += [(269, t) for t in types]
        fields.append((146, len(names)))
        fields += [(55, s) for s in names]
        self.send("V", fields)
        return md_req_id

    def unsubscribe(self, md_req_id: str, symbols: Iterable[str]) -> None:
        self.subscribe(symbols, kind="2", md_req_id=md_req_id)

    def cancel_open_orders(self, timeout: float = 5.0) -> None:
        """Cancel every order this client ever sent (done ones just get a reject), so a
        shared venue's books are empty again for the next test."""
        for cl_ord_id, (symbol, side) in self.orders.items():
            self.cancel(cl_ord_id, symbol, side)
        self.orders.clear()
        self.drain(timeout)
