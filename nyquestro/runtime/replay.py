"""Event-stream hashing and journal replay: the determinism check.

The live run records, with each journaled command, a hash of every event emitted so far:
a chain, where each command's hash is the SHA-256 of the previous command's digest
followed by this command's events frame (`nyquestro.codec.frames.encode_events`).
Replaying the journal through a fresh engine must reproduce that hash at every command;
the first command where it does not is where determinism broke. Being a chain, the whole
state of the hash is the last hex digest, which a snapshot records so recovery can resume
the chain mid-stream.

Journal records written before migration 0004 (`Entry.legacy`) were hashed over a text
form, one line per event (`_line`); replaying them folds that form in, so an old journal
still checks, and the chain runs on across the switch.
"""

import dataclasses
import hashlib
import operator
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import Engine as DbEngine

from nyquestro import declared_hints
from nyquestro.codec.frames import encode_events
from nyquestro.domain.commands import Command, Configure
from nyquestro.domain.events import EventBase
from nyquestro.domain.instrument import Instrument
from nyquestro.engine import Engine
from nyquestro.store.journal import Entry, read_journal

EMPTY_STREAM_HASH = hashlib.sha256().hexdigest()


def _line(event: EventBase) -> str:
    """One event as a line: class name and every field's value, the same in every process.

    Strings and numbers by repr, enums by value (`%s`: their repr is a slow Python
    method); a format string per class, worked out on first use, does it in one C call.
    """
    try:
        template, values = _LINE_FORMATS[type(event)]
    except KeyError:
        template, values = _LINE_FORMATS[type(event)] = _line_format(type(event))
    return template % values(event)


def _line_format(cls: type) -> tuple[str, Callable[[object], tuple[Any, ...]]]:
    hints = declared_hints(cls)
    names = [field.name for field in dataclasses.fields(cls)]
    parts = [f"{name}=%{'s' if _is_enum(hints[name]) else 'r'}" for name in names]
    getter = operator.attrgetter(*names)  # every event has seq and ts: always a tuple
    return f"{cls.__name__}({','.join(parts)})\n", getter


def _is_enum(hint: object) -> bool:
    return any(isinstance(t, type) and issubclass(t, Enum) for t in (hint, *typing.get_args(hint)))


_LINE_FORMATS: dict[type, tuple[str, Callable[[object], tuple[Any, ...]]]] = {}


class EventStreamHash:
    def __init__(self, resume_from: str = EMPTY_STREAM_HASH) -> None:
        self._hex = resume_from
        """The hash after the last command added."""
        self._digest = bytes.fromhex(resume_from)
        self.last: tuple[Sequence[EventBase] | None, bytes] = (None, b"")
        """The events `add` hashed last and their frame (`Sequencer.events_frame`)."""

    def add(self, events: Sequence[EventBase]) -> str:
        """Fold one command's events in; returns the hash of the stream so far."""
        frame = encode_events(events)
        self.last = (events, frame)
        digest = hashlib.sha256(self._digest + frame).digest()
        self._digest = digest
        self._hex = digest.hex()
        return self._hex

    def add_legacy(self, events: Sequence[EventBase]) -> str:
        """`add` as records written before migration 0004 were hashed (text lines)."""
        lines = "".join([_line(event) for event in events])
        self._hex = hashlib.sha256((self._hex + lines).encode()).hexdigest()
        self._digest = bytes.fromhex(self._hex)
        return self._hex

    def add_entry(self, events: Sequence[EventBase], entry: Entry) -> str:
        """Fold in the events replayed for `entry`, hashed as its record was."""
        return self.add_legacy(events) if entry.legacy else self.add(events)

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


def replay(
    journal: DbEngine,
    instruments: Iterable[Instrument],
    subscribers: Sequence[Callable[[Command, Sequence[EventBase]], None]] = (),
    progress: Callable[[int], None] | None = None,
) -> ReplayResult:
    """Replay the whole journal. A venue's journal starts with the Configure of its first
    start, whose instruments then replace `instruments` (the venue started with those).
    `subscribers` see each command's events, as the live venue's did; `progress` gets
    the count of commands replayed after each."""
    engine: Engine | None = None
    stream = EventStreamHash()
    commands = events = 0
    recorded: str | None = None
    divergence: int | None = None
    for entry in read_journal(journal):
        if engine is None:
            first = entry.command
            engine = Engine(first.instruments if isinstance(first, Configure) else instruments)
        produced = engine.process(entry.command)
        commands += 1
        events += len(produced)
        if progress is not None:
            progress(commands)
        for subscriber in subscribers:
            subscriber(entry.command, produced)
        now = stream.add_entry(produced, entry)
        recorded = entry.event_hash
        if divergence is None and now != recorded:
            divergence = entry.command.seq
    return ReplayResult(commands, events, stream.hexdigest(), recorded, divergence)
