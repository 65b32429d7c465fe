"""The ITCH gateway as the runtime sees it: the feed, its UDP publisher, the request
server and one timer thread (heartbeats when idle, periodic depth snapshots)."""

import threading
import time
from collections.abc import Callable, Iterable

from nyquestro.config.itch import ItchConfig
from nyquestro.domain.instrument import Instrument
from nyquestro.gateways.itch.feed import ItchFeed
from nyquestro.gateways.itch.framing import end_of_session, heartbeat, session_field
from nyquestro.gateways.itch.publisher import HEARTBEAT, Publisher
from nyquestro.gateways.itch.server import RequestServer

Deliver = Callable[[str, object], None]
Send = Callable[[str, object], None]
SideSender = Callable[[str, Deliver, Callable[[], None]], Send]
"""The runtime's `side_sender(name, deliver, flush) -> send`."""

_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def session_name(prefix: str, start: int) -> str:
    """The MoldUDP64 session: the configured prefix, then the command the feed's numbering
    starts after (the venue snapshot it started from; 0 for an empty venue) in base 36.

    A venue restarted by a full journal replay renumbers exactly as before, so its session
    continues; one started from a snapshot numbers from there, under a new session name,
    which tells clients to start over instead of taking new numbers for old ones.
    """
    digits = 10 - len(prefix)
    value = start % 36**digits
    text = ""
    for _ in range(digits):
        value, digit = divmod(value, 36)
        text = _BASE36[digit] + text
    return prefix + text


class ItchGateway:
    def __init__(
        self,
        config: ItchConfig,
        instruments: Iterable[Instrument],
        side_sender: SideSender,
        start: int = 0,
    ) -> None:
        self.config = config
        session = session_field(session_name(config.session, start))
        self.publisher = Publisher(
            config.destinations, config.snapshot_destinations, session, config.max_payload
        )
        self._send = side_sender("itch", self.publisher.deliver, self.publisher.flush)
        self.feed = ItchFeed(
            instruments,
            self._send,
            session=session,
            retain=config.retain,
            max_payload=config.max_payload,
            attribution=config.attribution,
            mpids=dict(config.mpids),
        )
        self.on_events = self.feed.on_events
        self.server = None
        if config.request_port is not None:
            self.server = RequestServer(
                config.request_host, config.request_port, self.feed, self.publisher,
                self._send, config.max_payload,
            )  # fmt: skip
        self._stopping = threading.Event()
        self._timer = threading.Thread(target=self._tick, name="itch-timer", daemon=True)

    def start(self) -> None:
        if self.server is not None:
            self.server.start()
        self._timer.start()

    def stop(self, read: Callable[[Callable[[], None]], None]) -> None:
        """End the session: System Event 'C' in the sequence (under the runtime's `read`,
        between commands), then the MoldUDP64 end-of-session packet."""
        self._stopping.set()
        if self._timer.is_alive():
            self._timer.join()
        if self.server is not None:
            self.server.stop()
        read(self.feed.end_of_messages)
        self.publisher.send_direct(end_of_session(self.feed.session, self.feed.next_seq))
        self.publisher.close()

    def _tick(self) -> None:
        config = self.config
        period = min(config.heartbeat_seconds, config.snapshot_seconds) / 4
        last_depth = time.monotonic()
        while not self._stopping.wait(period):
            now = time.monotonic()
            if now - self.publisher.last_sent >= config.heartbeat_seconds:
                # Through the outbox: it announces numbers only once they are durable.
                self._send(HEARTBEAT, heartbeat(self.feed.session, self.feed.next_seq))
            if config.snapshot_destinations and now - last_depth >= config.snapshot_seconds:
                last_depth = now
                self.feed.send_depth(config.snapshot_levels)
