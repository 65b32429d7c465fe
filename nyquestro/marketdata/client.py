"""`FeedClient`: listen to the feed on a UDP port and keep an order-level book current.

One thread receives, sequences and applies packets. A gap that the packets arriving
within `gap_grace` seconds do not fill (they may only be reordered) is re-requested
from the request server; when the server no longer retains it, or the book has lost
sync, the client loads a book snapshot and applies only what follows it. A new
MoldUDP64 session (the venue restarted from a snapshot) starts the book over.
"""

import logging
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from nyquestro.config.itch import Address
from nyquestro.gateways.itch.depth import DepthSnapshot, decode_depth
from nyquestro.gateways.itch.errors import ItchError
from nyquestro.gateways.itch.framing import Packet, parse_packet
from nyquestro.gateways.itch.messages import decode
from nyquestro.marketdata.builder import BookBuilder
from nyquestro.marketdata.gaps import GapTracker
from nyquestro.marketdata.recovery import RecoveryError, RequestClient

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_POLL_SECONDS = 0.02
_RECEIVE_BUFFER = 4 * 1024 * 1024


class FeedClient:
    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        request: Address | None = None,
        depth_port: int | None = None,
        gap_grace: float = 0.05,
    ) -> None:
        self.builder = BookBuilder()
        self.tracker = GapTracker()
        self.requests = None if request is None else RequestClient(request)
        self.gap_grace = gap_grace
        self.depth: dict[tuple[int, int], tuple[int, DepthSnapshot]] = {}
        """(locate, kind) -> (feed sequence number it reflects, the latest snapshot)."""
        self.recoveries = {"retransmit": 0, "snapshot": 0}
        self.bad_packets = 0
        self._feed = _bind(host, port)
        self._depth = None if depth_port is None else _bind(host, depth_port)
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._gap_since: float | None = None
        self._lost_sync = False
        """A message did not fit the book: only a snapshot can repair it."""
        self._thread = threading.Thread(target=self._run, name="feed-client", daemon=True)

    @property
    def port(self) -> int:
        port: int = self._feed.getsockname()[1]
        return port

    @property
    def depth_port(self) -> int | None:
        return None if self._depth is None else int(self._depth.getsockname()[1])

    def start(self) -> "FeedClient":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()
        self._feed.close()
        if self._depth is not None:
            self._depth.close()

    def read(self, query: Callable[[], _T]) -> _T:
        """Run `query` while no packet is being applied (the book between two messages)."""
        with self._changed:
            return query()

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until `predicate` (run under the client's lock) holds; False at timeout."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    @property
    def applied(self) -> int:
        """The sequence number of the last message applied."""
        return self.tracker.expected - 1

    # --- the receiving thread ---------------------------------------------------------

    def _run(self) -> None:
        sockets = [self._feed] if self._depth is None else [self._feed, self._depth]
        while not self._stopping.is_set():
            readable, _, _ = select.select(sockets, [], [], _POLL_SECONDS)
            for sock in readable:
                data = sock.recv(65536)
                try:
                    packet = parse_packet(data)
                    with self._changed:
                        if sock is self._feed:
                            self._on_packet(packet)
                        else:
                            self._on_depth(packet)
                        self._changed.notify_all()
                except ItchError as exc:
                    self.bad_packets += 1
                    log.warning("feed packet dropped: %s", exc)
            self._recover_if_stuck()

    def _on_packet(self, packet: Packet) -> None:
        if packet.session != self.tracker.session:
            self.tracker.restart(packet.session)
            self.builder.reset()
        self._apply(self.tracker.receive(packet))

    def _on_depth(self, packet: Packet) -> None:
        for message in packet.messages:
            snapshot = decode_depth(message)
            self.depth[(snapshot.locate, snapshot.kind)] = (packet.sequence, snapshot)

    def _apply(self, messages: list[bytes]) -> None:
        for message in messages:
            try:
                self.builder.apply(decode(message))
            except ItchError as exc:
                if not self._lost_sync:
                    log.warning("book out of sync (%s): loading a snapshot", exc)
                self._lost_sync = True

    def _recover_if_stuck(self) -> None:
        if self._lost_sync and self.requests is not None and self.tracker.session is not None:
            self._load_snapshot(self.tracker.session)
        with self._changed:
            gap = self.tracker.gap()
        if gap is None:
            self._gap_since = None
            return
        now = time.monotonic()
        if self._gap_since is None:
            self._gap_since = now
        if now - self._gap_since < self.gap_grace or self.requests is None:
            return
        self._gap_since = None
        session = self.tracker.session
        assert session is not None
        first, count = gap
        try:
            sent_first, messages = self.requests.retransmit(session, first, min(count, 0xFFFF))
            with self._changed:
                self._apply(self.tracker.fill(sent_first, messages))
                self.recoveries["retransmit"] += 1
                self._changed.notify_all()
        except (RecoveryError, ItchError) as exc:
            log.info("retransmission of %d+%d failed (%s): loading a snapshot", first, count, exc)
            self._load_snapshot(session)

    def _load_snapshot(self, session: bytes) -> None:
        assert self.requests is not None
        try:
            seq, messages = self.requests.book(session)
        except RecoveryError as exc:
            log.warning("book snapshot failed: %s", exc)
            return
        with self._changed:
            self.builder.reset()
            self._lost_sync = False
            self._apply(messages)
            self._apply(self.tracker.skip_to(seq + 1))
            self.recoveries["snapshot"] += 1
            self._changed.notify_all()


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
    sock.bind((host, port))
    return sock
