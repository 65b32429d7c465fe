"""The core's half of the committed stream (`nyquestro.bus.stream`, ADR 0011).

A sequencer subscriber: each command becomes one entry, `[seq, ts, command frame, events
frame]` (`nyquestro.codec.frames`), which goes on the bus through the runtime's outbox, so
only once the command is durable, in order with every other output, and not again when
recovery replays it (a gateway process rebuilds from the journal, see `follower.py`).
A gateway's mark goes the same way, so it is answered after the entries of the commands
the gateway sent before it.

While the core recovers, the commands it replays go into the ring at once (read from the
journal, they are durable already), and the bus already answers gateways' hellos: a
gateway process folds the journal's tail from the stream as the core replays it, on the
other CPU, instead of replaying it through an engine of its own, and is told where
history ends once the core has recovered (`StreamServer.recovered`). The ring keeps two
snapshot intervals of entries (`ring_entries`): the tail after the newest snapshot is at
most one, and a little more while the replica catches up.
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


MIN_RING_ENTRIES = 50_000


def ring_entries(snapshot_every: int) -> int:
    """How many entries the core's ring keeps, for `[store] snapshot_every`."""
    return max(MIN_RING_ENTRIES, 2 * snapshot_every)


class CommittedStream:
    def __init__(
        self,
        server: StreamServer,
        side_sender: SideSender,
        *,
        replaying: bool = False,
        events_frame: Callable[[Sequence[EventBase]], bytes] = encode_events,
    ) -> None:
        """`replaying`: the core is about to recover; call `recovered` once it has.
        `events_frame`: the sequencer's, which has the frame already."""
        self._events_frame = events_frame
        self._server = server
        self._send = side_sender("bus", self._deliver, server.flush)
        self._replaying = replaying
        self._unflushed = 0

    def on_events(self, command: Command, events: Sequence[EventBase]) -> None:
        body = (command.ts, encode_command(command), self._events_frame(events))
        entry = encode_entry(command.seq, body)
        if not self._replaying:
            self._send(_ENTRY, (command.seq, entry))
            return
        self._server.append(command.seq, entry)  # from the journal (the module doc)
        self._unflushed += 1
        if self._unflushed == _REPLAY_FLUSH_ENTRIES:
            self._unflushed = 0
            self._server.flush()

    def recovered(self) -> None:
        """The core has replayed its journal: the gateways are told where history ends,
        and from now on an entry waits until its command is durable."""
        self._replaying = False
        self._server.recovered()

    def mark(self, gateway: str, token: int) -> None:
        """A gateway's mark: answered behind the entries of every command before it."""
        self._send(_MARK, (gateway, token))

    def _deliver(self, key: str, message: tuple[Any, Any]) -> None:
        if key == _ENTRY:
            self._server.append(*message)
        else:
            self._server.mark(*message)


_ENTRY, _MARK = "entry", "mark"
_REPLAY_FLUSH_ENTRIES = 1_024
"""How many replayed entries go into gateways' buffers before the core sends what their
sockets take (the bus thread sends the rest)."""
