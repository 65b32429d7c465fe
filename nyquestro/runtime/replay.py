"""Event-stream hashing and journal replay: the determinism check.

The live run records, with each journaled command, the SHA-256 of every event emitted so
far (each event's repr, one per line). Replaying the journal through a fresh
engine must reproduce that hash at every command; the first command where it does not is
where determinism broke.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine as DbEngine

from nyquestro.domain.events import EventBase
from nyquestro.domain.instrument import Instrument
from nyquestro.engine import Engine
from nyquestro.store.journal import read_journal


class EventStreamHash:
    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def add(self, events: Sequence[EventBase]) -> str:
        """Fold one command's events in; returns the hash of the stream so far.

        An event's repr names its class and every field's value (enums by member), the
        same in every process: as canonical as its JSON form at a third of the cost.
        """
        update = self._digest.update
        for event in events:
            update(repr(event).encode())
            update(b"\n")
        return self._digest.hexdigest()

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


@dataclass(frozen=True, slots=True)
class ReplayResult:
    commands: int
    events: int
    event_hash: str
    recorded_hash: str | None
    first_divergence: int | None
    """Sequence number of the first command whose replayed hash differs from the record."""

    @property
    def matches(self) -> bool:
        return self.first_divergence is None


def replay(journal: DbEngine, instruments: Iterable[Instrument]) -> ReplayResult:
    engine = Engine(instruments)
    stream = EventStreamHash()
    commands = events = 0
    recorded: str | None = None
    divergence: int | None = None
    for entry in read_journal(journal):
        produced = engine.process(entry.command)
        commands += 1
        events += len(produced)
        now = stream.add(produced)
        recorded = entry.event_hash
        if divergence is None and now != recorded:
            divergence = entry.command.seq
    return ReplayResult(commands, events, stream.hexdigest(), recorded, divergence)
