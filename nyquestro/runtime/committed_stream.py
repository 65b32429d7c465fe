"""The core's half of the committed stream (`nyquestro.bus.stream`, ADR 0011).

A sequencer subscriber: each command becomes one entry, `[seq, ts, command frame, events
frame]` (`nyquestro.codec.frames`), which goes on the bus through the runtime's outbox, so
only once the command is durable, in order with every other output, and not again when
recovery replays it (a gateway process rebuilds from the journal, see `follower.py`).
A gateway's mark goes the same way, so it is answered after the entries of the commands
the gateway sent before it.
"""

from collections.abc import Callable, Sequence
from typing import Any

from nyquestro.bus.stream import StreamServer, encode_entry
from nyquestro.codec.frames import encode_command, encode_events
from nyquestro.domain.commands import Command
from nyquestro.domain.events import EventBase

Send = Callable[[str, Any], None]
SideSender = Callable[[str, Send, Callable[[], None]], Send]
"""The runtime's `side_sender(name, deliver, flush) -> send`."""


class CommittedStream:
    def __init__(self, server: StreamServer, side_sender: SideSender) -> None:
        self._server = server
        self._send = side_sender("bus", self._deliver, server.flush)

    def on_events(self, command: Command, events: Sequence[EventBase]) -> None:
        body = (command.ts, encode_command(command), encode_events(events))
        self._send(_ENTRY, (command.seq, encode_entry(command.seq, body)))

    def mark(self, gateway: str, token: int) -> None:
        """A gateway's mark: answered behind the entries of every command before it."""
        self._send(_MARK, (gateway, token))

    def _deliver(self, key: str, message: tuple[Any, Any]) -> None:
        if key == _ENTRY:
            self._server.append(*message)
        else:
            self._server.mark(*message)


_ENTRY, _MARK = "entry", "mark"
