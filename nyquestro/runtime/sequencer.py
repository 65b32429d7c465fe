"""The sequencer: the one place every command goes through, in this order:

    stamp seq + ts  →  engine.process  →  journal  →  publish  →  (once durable) release

One lock serialises every command. Whoever holds it stamps the next sequence number, runs
the engine, journals the command (with the hash of the event stream so far) and hands the
events to every subscriber before letting go, so the order in which commands reached the
engine is the order of their sequence numbers, and every subscriber sees every command's
events in that same total order.

Nothing leaves the process before its command is durable: subscribers send through an
outbox, and the outbox is released only once the journal has committed every command
whose effects it holds (at once in `sync` mode; per batch in `group` mode, where
`flush_if_due` is called every millisecond by the runtime).

Who may touch what: only code running under the lock (the engine, the journal writer,
the subscribers) touches their state; queries get in through `read`.
"""

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from nyquestro.domain.commands import Command
from nyquestro.domain.errors import InvariantViolation
from nyquestro.domain.events import EventBase
from nyquestro.domain.ids import Seq, Ts
from nyquestro.engine import Engine
from nyquestro.runtime.replay import EventStreamHash
from nyquestro.store.journal import Entry, JournalWriter

CommandFactory = Callable[[Seq, Ts], Command]
"""Builds the command once its sequence number and timestamp are known."""

Subscriber = Callable[[Command, Sequence[EventBase]], None]
_T = TypeVar("_T")


class Clock(Protocol):
    def __call__(self) -> int:
        """Nanoseconds since the Unix epoch."""
        ...


class Sequencer:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        journal: JournalWriter | None = None,
        on_durable: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._journal = journal
        self._on_durable = on_durable
        self._stream = EventStreamHash()
        # Re-entrant: a subscriber's send goes through `read` to reach the outbox safely
        # from inside `submit` as well as from other threads.
        self._lock = threading.RLock()
        self._subscribers: list[Subscriber] = []
        self._last_ts = 0

    def subscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(subscriber)

    def submit(self, build: CommandFactory) -> Sequence[EventBase]:
        """Sequence, apply, journal and publish one command; returns its events."""
        with self._lock:
            # Timestamps never run backwards, even if the wall clock does.
            ts = max(self._clock(), self._last_ts)
            self._last_ts = ts
            command = build(Seq(self._engine.last_seq + 1), Ts(ts))
            events = self._engine.process(command)
            journal = self._journal
            if journal is not None:
                journal.append(command, self._stream.add(events))
            for subscriber in self._subscribers:
                subscriber(command, events)
            if journal is not None and journal.pending == 0 and self._on_durable is not None:
                self._on_durable()
            return events

    def flush_if_due(self) -> None:
        """Group commit: make a due batch durable, then release what it held back."""
        with self._lock:
            journal = self._journal
            if journal is not None and journal.flush_due():
                journal.flush()
                if self._on_durable is not None:
                    self._on_durable()

    def flush(self) -> None:
        with self._lock:
            if self._journal is not None:
                self._journal.flush()
                if self._on_durable is not None:
                    self._on_durable()

    def recover(self, entries: Iterable[Entry]) -> int:
        """Rebuild engine and subscriber state from the journal; returns commands replayed.

        Replayed commands go through the same engine entry point and subscribers as live
        ones (subscribers must not send: the runtime mutes their output meanwhile). A
        replayed event stream that departs from the recorded hash is a broken invariant.
        """
        count = 0
        with self._lock:
            for entry in entries:
                events = self._engine.process(entry.command)
                if self._stream.add(events) != entry.event_hash:
                    raise InvariantViolation(
                        f"replay of command {entry.command.seq} produced different events"
                    )
                for subscriber in self._subscribers:
                    subscriber(entry.command, events)
                self._last_ts = max(self._last_ts, entry.command.ts)
                count += 1
        return count

    @property
    def pending(self) -> int:
        """Journaled commands not yet durable (call under the lock, e.g. inside `read`)."""
        return 0 if self._journal is None else self._journal.pending

    def read(self, query: Callable[[], _T]) -> _T:
        """Run `query` under the lock: it sees subscriber state between two commands."""
        with self._lock:
            return query()
