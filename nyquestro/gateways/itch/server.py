"""The request server: retransmissions and book snapshots over TCP (protocol in
`requests`).

One thread accepts, one thread per connection answers its requests in order, at most
`MAX_CLIENTS` connections at a time (the next one gets an error and is closed). A
request's answer is read from the feed under the feed's own lock (a copy, encoded
after letting go), then sent through the outbox like everything else the feed sends, so
no retransmitted message or snapshot leaves before the commands it reflects are durable;
the connection's thread waits for it on a queue. Bad requests get an "X" reply; nothing
a client sends stops the server.
"""

import contextlib
import socket
import threading
from collections.abc import Callable
from queue import Empty

from nyquestro.gateways.itch import requests as r
from nyquestro.gateways.itch.errors import ItchError
from nyquestro.gateways.itch.feed import ItchFeed
from nyquestro.gateways.itch.framing import FrameReader, frame, pack_packets
from nyquestro.gateways.itch.publisher import REPLY, Publisher

MAX_CLIENTS = 16
IDLE_SECONDS = 60.0
"""A connection with no request for this long is closed."""
REPLY_SECONDS = 10.0
"""Longest wait for the journal to make a reply releasable."""
_ACCEPT_POLL_SECONDS = 0.2


class RequestServer:
    def __init__(
        self,
        host: str,
        port: int,
        feed: ItchFeed,
        publisher: Publisher,
        send: Callable[[str, object], None],
        max_payload: int,
    ) -> None:
        self._address = (host, port)
        self._feed = feed
        self._publisher = publisher
        self._send = send
        self._max_payload = max_payload
        self._stopping = threading.Event()
        self._connections: dict[int, socket.socket] = {}
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(self._address)
        listener.listen(MAX_CLIENTS)
        listener.settimeout(_ACCEPT_POLL_SECONDS)
        self._listener = listener
        accept = threading.Thread(target=self._accept, name="itch-requests", daemon=True)
        accept.start()
        self._threads.append(accept)

    @property
    def port(self) -> int:
        assert self._listener is not None
        port: int = self._listener.getsockname()[1]
        return port

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            for conn in self._connections.values():
                conn.close()
        for thread in self._threads:
            thread.join(REPLY_SECONDS)
        if self._listener is not None:
            self._listener.close()

    def _accept(self) -> None:
        assert self._listener is not None
        number = 0
        while not self._stopping.is_set():
            try:
                conn, _peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            number += 1
            with self._lock:
                full = len(self._connections) >= MAX_CLIENTS
                if not full:
                    self._connections[number] = conn
            if full:
                _refuse(conn, f"at most {MAX_CLIENTS} connections at a time")
                continue
            thread = threading.Thread(
                target=self._serve, args=(number, conn), name=f"itch-request-{number}", daemon=True
            )
            thread.start()
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _serve(self, number: int, conn: socket.socket) -> None:
        key = f"{REPLY}{number}"
        replies = self._publisher.open_replies(key)
        reader = FrameReader()
        try:
            conn.settimeout(IDLE_SECONDS)
            while not self._stopping.is_set():
                data = conn.recv(4096)
                if not data:
                    return
                for request in reader.feed(data):
                    self._send(key, self._answer(request))
                    conn.settimeout(REPLY_SECONDS)
                    conn.sendall(replies.get(timeout=REPLY_SECONDS))
                    conn.settimeout(IDLE_SECONDS)
        except (OSError, Empty):
            return  # the client went away, idled out, or the venue is stopping
        finally:
            self._publisher.close_replies(key)
            with self._lock:
                self._connections.pop(number, None)
            conn.close()

    def _answer(self, payload: bytes) -> bytes:
        try:
            request = r.decode_request(payload)
        except ItchError as exc:
            return frame(r.ERROR + str(exc).encode("ascii", "replace"))
        if request.session != self._feed.session:
            return frame(r.ERROR + b"unknown session " + request.session)
        if isinstance(request, r.BookRequest):
            seq, messages = self._feed.book_snapshot()
            packets = pack_packets(self._feed.session, seq, messages, self._max_payload)
            body = b"".join(frame(r.SNAPSHOT_PART + packet) for packet in packets)
            return body + frame(r.encode_done(seq, len(messages)))
        first, messages = self._feed.retained(request.sequence, request.count)
        if request.sequence < first and request.count:
            return frame(
                r.ERROR + f"messages before {first} are no longer retained".encode("ascii")
            )
        packets = pack_packets(self._feed.session, first, messages, self._max_payload)
        body = b"".join(frame(r.PACKET + packet) for packet in packets)
        return body + frame(r.encode_done(first, len(messages)))


def _refuse(conn: socket.socket, text: str) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(frame(r.ERROR + text.encode("ascii")))
    conn.close()
