"""Event-stream hashing and journal replay: the determinism check.

The live run records, with each journaled command, a hash of every event emitted so far:
a chain, where each command's hash is the SHA-256 of the previous command's hash followed
by this command's events (each event's repr, one per line). Replaying the journal through
a fresh engine must reproduce that hash at every command; the first command where it does
not is where determinism broke. Being a chain, the whole state of the hash is the last
hex digest, which a snapshot records so recovery can resume the chain mid-stream.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine as DbEngine

from nyquestro.domain.events import EventBase
from nyquestro.domain.instrument import Instrument
from nyquestro.engine import Engine
from nyquestro.store.journal import read_journal

EMPTY_STREAM_HASH = hashlib.sha256().hexdigest()


class EventStreamHash:
    def __init__(self, resume_from: str = EMPTY_STREAM_HASH) -> None:
        self._hex = resume_from
        """The hash after the last command added."""

    def add(self, events: Sequence[EventBase]) -> str:
        """Fold one command's events in; returns the hash of the stream so far.

        An event's repr names its class and every field's value (enums by member), the
        same in every process: as canonical as its JSON form at a third of the cost.
        """
        digest = hashlib.sha256(self._hex.encode())
        update = digest.update
        for event in events:
            update(repr(event).encode())
            update(b"\n")
        self._hex = digest.hexdigest()
        return self._hex

    def hexdigest(self) -> str:
        return self._hex


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
