"""The sequencer: the one place every command goes through, in this order:

    stamp seq + ts  →  engine.process  →  journal  →  publish  →  (once durable) release

One lock serialises every command. Whoever holds it stamps the next sequence number, runs
the engine, journals the command (with the hash of the event stream so far) and hands the
events to every subscriber before letting go, so the order in which commands reached the
engine is the order of their sequence numbers, and every subscriber sees every command's
events in that same total order.

Nothing leaves the process before its command is durable: subscribers send through an
outbox whose messages carry the sequence number they depend on, released as the journal's
durable sequence number passes them (at once in `sync` mode; in `group` mode a committer
thread calls `commit_pending`, which writes whatever accumulated while the previous batch
was being written, outside the lock).

Released is not sent: `on_durable` only marks messages ready, under the lock, and
`after_unlock` runs once the thread has let go of the lock (the outermost exit of a
re-entrant section), where they leave. So nothing that runs under this lock ever waits
for a lock of quickfix's (ADR 0008 has the whole lock order).

Who may touch what: only code running under the lock (the engine, the journal writer,
the subscribers) touches their state; queries get in through `read`.
"""

import threading
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Protocol, TypeVar

from nyquestro.codec.frames import encode_events
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
        on_durable: Callable[[int], None] | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._journal = journal
        self._on_durable = on_durable
        """Called under the lock with the journal's releasable sequence number."""
        self.work = threading.Event()
        """Set when records wait to be committed (the committer thread waits on it)."""
        self._stream = EventStreamHash()
        # Re-entrant: a subscriber's send goes through `read` to reach the outbox safely
        # from inside `submit` as well as from other threads.
        self._lock = threading.RLock()
        self._exclusive = Exclusive(self._lock, self._unlocked)
        self.after_unlock: Callable[[], None] | None = None
        """Runs after a thread leaves its outermost section under the lock (delivery)."""
        self._subscribers: list[Subscriber] = []
        self._last_ts = 0

    def _unlocked(self) -> None:
        if self.after_unlock is not None:
            self.after_unlock()

    def subscribe(self, subscriber: Subscriber) -> None:
        with self._exclusive:
            self._subscribers.append(subscriber)

    def submit(self, build: CommandFactory) -> Sequence[EventBase]:
        """Sequence, apply, journal and publish one command; returns its events."""
        with self._exclusive:
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
            if journal is not None:
                self.release()
                if journal.pending and not self.work.is_set():
                    self.work.set()  # (set() takes a lock even when already set)
            return events

    def events_frame(self, events: Sequence[EventBase]) -> bytes:
        """`encode_events(events)` for a subscriber of the command being run: the frame
        its stream hash was taken over when it was (not encoded twice)."""
        hashed, frame = self._stream.last
        return frame if hashed is events else encode_events(events)

    def release(self) -> None:
        """Let out everything already durable (call under the lock, e.g. inside `read`)."""
        if self._journal is not None and self._on_durable is not None:
            self._on_durable(self._journal.releasable_seq)

    def commit_pending(self) -> bool:
        """Commit what accumulated, outside the lock; returns False when there was nothing."""
        journal = self._journal
        if journal is None:
            return False
        with self._exclusive:
            records = journal.take()
        if not records:
            return False
        # Only this thread commits (sync mode commits inline and never leaves records
        # behind), so batches reach the database in sequence order.
        journal.commit(records)
        with self._exclusive:
            self.release()
        return True

    def flush(self) -> None:
        """Commit everything now (shutdown, tests)."""
        with self._exclusive:
            if self._journal is not None:
                self._journal.flush()
                self.release()

    @property
    def last_seq(self) -> int:
        return self._engine.last_seq

    @property
    def last_ts(self) -> int:
        """The newest command's timestamp (0: none yet)."""
        return self._last_ts

    def checkpoint(self, capture: Callable[[], _T]) -> tuple[int, int, str, _T]:
        """Commit the journal, let out what it covers, and run `capture` between commands.

        Returns the last command's sequence number and timestamp, the event-stream hash
        after it, and what `capture` returned: together, a consistent point to resume from.
        """
        with self._exclusive:
            self.flush()
            return self._engine.last_seq, self._last_ts, self._stream.hexdigest(), capture()

    def resume(self, stream_hash: str, last_ts: int) -> None:
        """Continue after a snapshot: its engine was handed in, this restores the rest."""
        with self._exclusive:
            self._stream = EventStreamHash(stream_hash)
            self._last_ts = last_ts
            if self._journal is not None:
                self._journal.appended_seq = self._journal.durable_seq = self._engine.last_seq

    def recover(
        self, entries: Iterable[Entry], before: Callable[[Entry], None] | None = None
    ) -> int:
        """Rebuild engine and subscriber state from the journal; returns commands replayed.

        Replayed commands go through the same engine entry point and subscribers as live
        ones; `before` sees each entry first (the runtime mutes what was already sent). A
        replayed event stream that departs from the recorded hash is a broken invariant.
        """
        count = 0
        with self._exclusive:
            for entry in entries:
                if before is not None:
                    before(entry)
                events = self._engine.process(entry.command)
                if self._stream.add_entry(events, entry) != entry.event_hash:
                    raise InvariantViolation(
                        f"replay of command {entry.command.seq} produced different events"
                    )
                for subscriber in self._subscribers:
                    subscriber(entry.command, events)
                self._last_ts = max(self._last_ts, entry.command.ts)
                count += 1
            if self._journal is not None:
                # What was read back is on disk: replies about it may leave at once.
                self._journal.appended_seq = self._journal.durable_seq = self._engine.last_seq
        return count

    def read(self, query: Callable[[], _T]) -> _T:
        """Run `query` under the lock: it sees subscriber state between two commands."""
        with self._exclusive:
            return query()

    def probe(self, timeout: float) -> int | None:
        """The last sequence number, if the lock can be taken within `timeout` seconds;
        None if not (liveness monitor). Takes the raw lock: leaving it runs nothing else."""
        if not self._lock.acquire(timeout=timeout):
            return None
        try:
            return self._engine.last_seq
        finally:
            self._lock.release()


class Exclusive:
    """`with` this instead of the lock: on the outermost exit of a thread's (re-entrant)
    section it calls `unlocked`, after the lock is free."""

    __slots__ = ("_depth", "_lock", "_unlocked")

    def __init__(self, lock: threading.RLock, unlocked: Callable[[], None]) -> None:
        self._lock = lock
        self._unlocked = unlocked
        self._depth = threading.local()

    def __enter__(self) -> None:
        self._lock.acquire()
        depth = self._depth
        depth.n = getattr(depth, "n", 0) + 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        depth = self._depth
        depth.n -= 1
        outermost = depth.n == 0
        self._lock.release()
        if outermost:
            self._unlocked()
