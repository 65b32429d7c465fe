"""UDP output of the feed: the `deliver` and `flush` ends of the runtime's outbox.

`deliver` runs on whichever thread delivers the outbox, under the outbox's delivery lock
(one thread at a time, which is what guards the packet being filled), so it only does
non-blocking `sendto`s (a full socket buffer drops the packet:
UDP receivers recover lost packets from the request server anyway) and hands request
replies to the waiting connection's queue.

Feed messages are packed when they leave, not when they are numbered: consecutive
commands released together (a group commit makes many durable at once) share MoldUDP64
packets, each filled up to `max_payload`, and `flush` sends the part-filled last one at
the end of every release. A packet per command would cost a `sendto` per command.
"""

import queue
import socket
import threading
import time

from nyquestro.config.itch import Address
from nyquestro.gateways.itch.feed import DEPTH, FEED, Batch
from nyquestro.gateways.itch.framing import HEADER, LENGTH, MAX_PAYLOAD

HEARTBEAT = "heartbeat"
REPLY = "reply:"
"""Prefix of the keys of request replies, one per connection."""


class Publisher:
    def __init__(
        self,
        destinations: tuple[Address, ...],
        snapshots: tuple[Address, ...],
        session: bytes,
        max_payload: int = MAX_PAYLOAD,
    ) -> None:
        self._destinations = destinations
        self._snapshots = snapshots
        self._session = session
        self._max_payload = max_payload
        self._block: list[bytes] = []
        """Length-prefixed feed messages waiting for their packet, numbered from `_first`."""
        self._first = 0
        self._size = HEADER.size
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self._replies: dict[str, queue.SimpleQueue[bytes]] = {}
        self._replies_lock = threading.Lock()
        self.last_sent = time.monotonic()
        """When the feed last sent a packet (heartbeats count)."""
        self.packets = 0
        self.dropped = 0
        """Packets the socket refused (buffer full, unreachable)."""

    def deliver(self, key: str, message: object) -> None:
        if key == FEED:
            assert isinstance(message, Batch)
            self._pack(message)
        elif key == HEARTBEAT:
            assert isinstance(message, bytes)
            self.flush()
            self._to_all(message, self._destinations)
            self.last_sent = time.monotonic()
        elif key == DEPTH:
            assert isinstance(message, tuple)
            self.flush()  # a depth packet reflects feed messages: they go first
            for packet in message:
                self._to_all(packet, self._snapshots)
        else:
            assert isinstance(message, bytes)
            with self._replies_lock:
                waiting = self._replies.get(key)
            if waiting is not None:  # else its connection is gone: nobody to answer
                waiting.put(message)

    def flush(self) -> None:
        """Send the part-filled packet (the end of an outbox release)."""
        if self._block:
            packet = HEADER.pack(self._session, self._first, len(self._block))
            self._to_all(packet + b"".join(self._block), self._destinations)
            self._first += len(self._block)
            self._block, self._size = [], HEADER.size
            self.last_sent = time.monotonic()

    def send_direct(self, packet: bytes) -> None:
        """Outside the outbox: only for the end-of-session packet, after the final flush."""
        self.flush()
        self._to_all(packet, self._destinations)

    def _pack(self, batch: Batch) -> None:
        if self._block and batch.first != self._first + len(self._block):
            self.flush()  # not contiguous (only a test's lossy pipe does that): a new packet
        if not self._block:
            self._first = batch.first
        block, limit = self._block, self._max_payload
        for message in batch.messages:
            framed = LENGTH.pack(len(message)) + message
            if block and self._size + len(framed) > limit:
                self.flush()
                block = self._block
            block.append(framed)
            self._size += len(framed)

    def open_replies(self, key: str) -> "queue.SimpleQueue[bytes]":
        replies: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        with self._replies_lock:
            self._replies[key] = replies
        return replies

    def close_replies(self, key: str) -> None:
        with self._replies_lock:
            self._replies.pop(key, None)

    def close(self) -> None:
        self._socket.close()

    def _to_all(self, packet: bytes, destinations: tuple[Address, ...]) -> None:
        for destination in destinations:
            try:
                self._socket.sendto(packet, destination)
                self.packets += 1
            except OSError:
                self.dropped += 1
