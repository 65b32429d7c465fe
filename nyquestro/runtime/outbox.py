"""Outbound messages wait here until the commands that caused them are durable."""

from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

_M = TypeVar("_M")


class Outbox(Generic[_M]):
    """Messages in send order, each tagged with the last command it depends on.

    Used under the sequencer's lock (hold, release_upto) or before traffic (muting).
    """

    def __init__(self, deliver: Callable[[str, _M], None]) -> None:
        self._deliver = deliver
        self._held: deque[tuple[int, str, _M]] = deque()
        self.mute: Callable[[str], bool] = lambda _key: False
        """While recovering: which sessions' messages are not sent again (state is
        rebuilt all the same)."""
        self.after_release: Callable[[], None] = lambda: None
        """Called once a release has delivered something: outputs that gather what one
        release lets go (a packet of several commands' messages) send it then."""

    def hold(self, after_seq: int, key: str, message: _M) -> None:
        if not self.mute(key):
            self._held.append((after_seq, key, message))

    def release_upto(self, durable_seq: int) -> None:
        """Deliver, in order, every message whose command is durable; stop at the first not."""
        held = self._held
        if not held or held[0][0] > durable_seq:
            return
        while held and held[0][0] <= durable_seq:
            _, key, message = held.popleft()
            self._deliver(key, message)
        self.after_release()
