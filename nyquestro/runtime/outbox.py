"""Outbound messages wait here until the commands that caused them are durable."""

from collections.abc import Callable
from typing import Generic, TypeVar

_M = TypeVar("_M")


class Outbox(Generic[_M]):
    """Used only under the sequencer's lock (hold, release) or before traffic (muting)."""

    def __init__(self, deliver: Callable[[str, _M], None]) -> None:
        self._deliver = deliver
        self._held: list[tuple[str, _M]] = []
        self.muted = False
        """While recovering: state is rebuilt, but nothing is sent again."""

    def hold(self, key: str, message: _M) -> None:
        if not self.muted:
            self._held.append((key, message))

    def release(self) -> None:
        held, self._held = self._held, []
        for key, message in held:
            self._deliver(key, message)
