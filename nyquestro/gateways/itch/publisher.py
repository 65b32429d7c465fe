"""UDP output of the feed: the `deliver` end of the runtime's outbox.

`deliver` runs on whichever thread releases the outbox, possibly under the sequencer's
lock, so it only does non-blocking `sendto`s (a full socket buffer drops the packet:
UDP receivers recover lost packets from the request server anyway) and hands request
replies to the waiting connection's queue.
"""

import queue
import socket
import threading
import time

from nyquestro.config.itch import Address
from nyquestro.gateways.itch.feed import DEPTH, FEED, Batch

HEARTBEAT = "heartbeat"
REPLY = "reply:"
"""Prefix of the keys of request replies, one per connection."""


class Publisher:
    def __init__(self, destinations: tuple[Address, ...], snapshots: tuple[Address, ...]) -> None:
        self._destinations = destinations
        self._snapshots = snapshots
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
            for packet in message.packets:
                self._to_all(packet, self._destinations)
            self.last_sent = time.monotonic()
        elif key == HEARTBEAT:
            assert isinstance(message, bytes)
            self._to_all(message, self._destinations)
            self.last_sent = time.monotonic()
        elif key == DEPTH:
            assert isinstance(message, tuple)
            for packet in message:
                self._to_all(packet, self._snapshots)
        else:
            assert isinstance(message, bytes)
            with self._replies_lock:
                waiting = self._replies.get(key)
            if waiting is not None:  # else its connection is gone: nobody to answer
                waiting.put(message)

    def send_direct(self, packet: bytes) -> None:
        """Outside the outbox: only for the end-of-session packet, after the final flush."""
        self._to_all(packet, self._destinations)

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
