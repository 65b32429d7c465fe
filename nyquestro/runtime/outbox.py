"""Outbound messages wait here until the commands that caused them are durable.

Two stages, because of who may hold what (ADR 0008): `hold` and `release_upto` run under
the sequencer's lock and only move messages between deques; `deliver_ready` runs after
that lock is let go and is the only place messages leave, so no thread ever calls into
quickfix (whose callbacks run under its session mutexes) while it holds the sequencer's
lock.
"""

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

_M = TypeVar("_M")
log = logging.getLogger(__name__)


class Outbox(Generic[_M]):
    """Messages in send order, each tagged with the last command it depends on."""

    def __init__(self, deliver: Callable[[str, _M], None]) -> None:
        self._deliver = deliver
        self._held: deque[tuple[int, str, _M]] = deque()
        self._ready: deque[tuple[str, _M]] = deque()
        """Durable, in send order, waiting for `deliver_ready` (appended under the
        sequencer's lock, popped under `_delivering`: deque ends are thread-safe)."""
        self._delivering = threading.Lock()
        """Held by the one thread delivering: messages leave in order, one at a time."""
        self.mute: Callable[[str, _M], bool] = lambda _key, _message: False
        """While recovering: which messages are not sent again, by destination and
        message (state is rebuilt all the same)."""
        self.after_release: Callable[[], None] = lambda: None
        """Called once a delivery run has sent something: outputs that gather what one
        run lets go (a packet of several commands' messages) send it then."""

    def hold(self, after_seq: int, key: str, message: _M) -> None:
        """Under the sequencer's lock."""
        if not self.mute(key, message):
            self._held.append((after_seq, key, message))

    def release_upto(self, durable_seq: int) -> None:
        """Under the sequencer's lock: mark every message whose command is durable ready
        to leave, in order; stop at the first that is not."""
        held, ready = self._held, self._ready
        while held and held[0][0] <= durable_seq:
            _, key, message = held.popleft()
            ready.append((key, message))

    def ready(self, key: str, message: _M) -> None:
        """Under the sequencer's lock: `hold` and `release_upto` for a message whose
        command is durable already (a gateway process's: the stream carries only those)."""
        if not self.mute(key, message):
            self._ready.append((key, message))

    @property
    def waiting(self) -> int:
        """Messages held or ready, not yet delivered."""
        return len(self._held) + len(self._ready)

    def deliver_ready(self) -> None:
        """Send what is ready, in order; call it without holding the sequencer's lock.

        Any thread that released something calls it. If another thread is delivering,
        that one sends these too: it looks at the deque again after letting go of
        `_delivering`, so nothing appended meanwhile is left behind.
        """
        ready = self._ready
        while ready:
            if not self._delivering.acquire(blocking=False):
                return
            try:
                sent = False
                while ready:
                    key, message = ready.popleft()
                    sent = True
                    try:
                        self._deliver(key, message)
                    except Exception:  # one bad send must not strand the messages behind it
                        log.exception("could not deliver a message to %s", key)
                if sent:
                    self.after_release()
            finally:
                self._delivering.release()
