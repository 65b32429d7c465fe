"""A gateway process's copy of the venue's history: what its gateway folds from events.

A gateway in a process of its own (ADR 0011) sees the venue only through the committed
stream on the bus. It starts from the core's start snapshot (so it numbers what
it sends as an in-process gateway would have), then says hello to the core with the last
command it has. The core answers with the entries its ring holds after that one: at a
start, the journal's tail, which the core put there as it recovered. If the ring no
longer reaches back so far, the follower replays the journal up to where the ring starts,
through an engine of its own, and says hello again. Only then, or when a gateway reads
it, is the engine's part of the snapshot loaded: the FIX gateway's process, which needs
only its own part, starts without it.

Entries up to the core's newest at the hello are history: the gateway rebuilds its state
from them but sends nothing (the process it replaces did, or the core had not started
yet); entries after it are live, and what the gateway sends then leaves at once, since
everything on the bus is durable already. Sends go through an `Outbox` after the
follower's lock is let go, so a gateway's timer and request threads send in order with
the stream's own messages, and no thread sends while it holds the lock.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Engine as DbEngine

from nyquestro.bus.stream import (
    Gone,
    StreamClient,
    VenueTime,
    command_message,
    finished_message,
    mark_message,
    set_clock_message,
)
from nyquestro.codec.frames import decode_command, decode_events, encode_command
from nyquestro.domain.commands import Command, Stamped
from nyquestro.domain.errors import InvariantViolation
from nyquestro.domain.events import EventBase
from nyquestro.domain.ids import Seq, Ts
from nyquestro.domain.instrument import Instrument
from nyquestro.engine import Engine
from nyquestro.gateways.fix.venue import VenueState
from nyquestro.runtime import snapshotting
from nyquestro.runtime.outbox import Outbox
from nyquestro.runtime.sequencer import Exclusive, Sequencer, Subscriber
from nyquestro.store.journal import Entry, journal_newest_seq, read_journal

log = logging.getLogger(__name__)

_T = TypeVar("_T")
Deliver = Callable[[str, Any], None]
_CONNECT_SECONDS = 600.0
"""How long to wait for the core's bus: it listens once it has recovered (this process
dies with the core, so waiting longer than needed costs nothing)."""


StampSubscriber = Callable[[Stamped, Sequence[EventBase]], None]
_ALL_HISTORY = 2**63


class Stamp(NamedTuple):
    """A command off the stream, undecoded: when it was sequenced, and nothing else (a
    named tuple: one is built per command, and a frozen dataclass's `__init__` measured
    as 5% of the ITCH feed process's time)."""

    seq: int
    ts: int


class Follower:
    def __init__(
        self, db: DbEngine, instruments: Sequence[Instrument], start_snapshot: int | None
    ) -> None:
        """`start_snapshot`: the command the core's start snapshot follows (0: the store
        had none; None: the newest snapshot that checks out, loaded now)."""
        self._restored = (
            snapshotting.restore_newest(db, instruments)
            if start_snapshot is None
            else snapshotting.the_core_started_from(db, instruments, start_snapshot)
        )
        self._instruments = instruments
        self._engine: Engine | None = None
        self.snapshot_seq = 0 if self._restored is None else self._restored.seq
        self._replayer: Sequencer | None = None
        """Replays the journal when the ring does not reach back far enough (made then)."""
        self._live = False
        """Whether entries came from the stream: the journal is not replayed again."""
        self._db = db
        self.last_seq = self.snapshot_seq
        self._live_after: int | None = None
        """Entries after this one are live (None until the core said where history ends:
        all is history until then)."""
        self._muted = True
        """Whether sends are dropped: until the hello is answered, and while history is
        applied (set and cleared under the lock, so other threads never see it set)."""
        self._subscribers: list[Subscriber] = []
        self._stamp_subscribers: list[StampSubscriber] = []
        self._lock = threading.RLock()
        self._exclusive = Exclusive(self._lock, self._after_unlock)
        self._outbox: Outbox[tuple[str, Any]] = Outbox(self._deliver)
        """Keyed by gateway name; each message is the gateway's (key, message)."""
        self._outbox.after_release = self._flush_outputs
        self._outputs: dict[str, Deliver] = {}
        self._flushes: list[Callable[[], None]] = []
        self._client: StreamClient | None = None
        self._submitting = threading.Lock()
        self._early: list[bytes] = []
        """Messages for the core from before the join, sent at it in order."""
        self.on_marked: Callable[[int], None] = _no_marks
        """Called with each answered mark's token (see `mark`)."""
        self.on_settings: Callable[[bytes], None] = _no_settings
        """Called with settings the core changed while running (under the lock)."""
        self.on_clock: Callable[[int], None] = _no_clock
        """Called with the venue's time whenever the core announces it (a virtual clock
        was set, or this gateway joined), between two entries, under the lock."""
        self.on_open: Callable[[], None] = _no_port
        """Called once, when the core opens the venue (every gateway has joined), on the
        stream's thread and not under the lock (it may start quickfix's acceptor)."""
        self._opened = False
        self.resend: Callable[[str, int, Any], bool] | None = None
        """For history: whether a send (destination, the command it is for, message) did
        not reach its destination before and goes again (a report a FIX session's
        quickfix store lacks). None: history sends nothing."""
        self._history_seq = 0
        self._applying: int | None = None
        """The thread inside `_apply`, which holds the lock: its subscribers' sends (one or
        more per command) skip taking it again."""

    @property
    def engine(self) -> Engine:
        """The venue's engine as of the snapshot, and as the journal's replay moved it:
        gateways may read it to seed themselves before `join`. Once live it no longer
        moves (the stream brings events, not commands to run) and is not kept."""
        if self._engine is None:
            if self._live:
                raise InvariantViolation("the follower keeps no engine once live")
            restored = self._restored
            self._engine = Engine(self._instruments) if restored is None else restored.engine
        return self._engine

    def restored_venue(self) -> VenueState | None:
        """The FIX gateway's state in the snapshot this follower started from (None: it
        started empty). Only the FIX gateway's process asks, once; the others never load
        that part of the snapshot."""
        return None if self._restored is None else self._restored.venue()

    def subscribe(self, subscriber: Subscriber) -> None:
        """Before `catch_up` and `join`: sees every command's events after the snapshot,
        in order."""
        self._subscribers.append(subscriber)

    def subscribe_stamps(self, subscriber: StampSubscriber) -> None:
        """`subscribe` for a subscriber that reads of a command only its `seq` and `ts`
        (it gets a `Stamp` off the stream): while no subscriber reads more, the stream's
        command frames are not decoded at all, a tenth of the ITCH feed process's time.
        Called after the `subscribe` ones for each command."""
        self._stamp_subscribers.append(subscriber)

    def side_sender(
        self, name: str, deliver: Deliver, flush: Callable[[], None] | None = None
    ) -> Callable[[str, Any], None]:
        """The runtime's `side_sender` for a gateway in this process (same contract as the
        core's: `deliver(key, message)` in send order, `flush` after each run of them)."""
        self._outputs[name] = deliver
        if flush is not None:
            self._flushes.append(flush)

        def send(key: str, message: Any) -> None:
            self._send(name, key, message)

        return send

    def read(self, query: Callable[[], _T]) -> _T:
        """Run `query` between two commands (what it sends leaves after the lock)."""
        with self._exclusive:
            return query()

    def join(self, address: str, name: str) -> None:
        """Say hello to the core (replaying the journal first if the ring says `gone`)
        and apply the history it sends until it says where history ends (a core still
        recovering says so once it has); then `submit` may be called."""
        while True:
            client = StreamClient(address, name, self.last_seq, _CONNECT_SECONDS)
            try:
                entries = client.read()
            except Gone as gone:
                client.close()
                if self._live:
                    raise
                self._replay_journal(gone.seq)
                continue
            after = self.last_seq
            while entries is not None and client.joined_at is None:
                self._apply(entries)  # all history: `_live_after` is None yet
                entries = client.read()
            if entries is None:
                raise ConnectionError("the core closed the bus before answering")
            self._live_after = client.joined_at
            with self._submitting:
                for message in self._early:
                    client.send(message)
                self._early.clear()
                self._client = client
            self._apply(entries)
            log.info(
                "%s follows the core after command %d (history to command %s)",
                name, after, self._live_after,
            )  # fmt: skip
            self._open_if_told(client)
            return

    def run(self) -> bool:
        """Follow the stream until it ends; True if the core ended it cleanly (END),
        False if the core went away. Raises InvariantViolation if the stream skips a
        command, and Gone if it no longer holds what this follower needs once live (then
        the process starts over)."""
        client = self._client
        assert client is not None, "join first"
        try:
            while (entries := client.read()) is not None:
                self._apply(entries)
                self._open_if_told(client)
            return client.ended
        finally:
            client.close()

    def submit(self, build: Callable[[Seq, Ts], Command]) -> Sequence[EventBase]:
        """Send a command to the core; its events come back on the stream (none here).
        Before `join` (a gateway opens its port first) it waits to be sent at the join."""
        # The core stamps seq and ts; a frame carries neither.
        self._to_core(command_message(encode_command(build(Seq(0), Ts(0)))))
        return ()

    def mark(self, token: int) -> None:
        """Ask the core for a mark: `on_marked(token)` runs once every command submitted
        before it is applied here (between two entries, under the lock)."""
        self._to_core(mark_message(token))

    def set_clock(self, ts: int) -> None:
        """Ask the core to set the venue's virtual clock to `ts`; every gateway (this one
        too: `on_clock`) hears the time the venue has after it."""
        self._to_core(set_clock_message(ts))

    def finish(self) -> None:
        """Tell the core this gateway submits no more commands (a stop is under way)."""
        self._to_core(finished_message())

    def _to_core(self, message: bytes) -> None:
        with self._submitting:
            client = self._client
            if client is None:
                self._early.append(message)
                return
        client.send(message)

    def catch_up(self, ring: int) -> None:
        """Before `join`: replay the part of the journal after the snapshot that the core's
        ring (`ring` entries) cannot hold, so that it runs beside the core's own recovery
        at a start rather than after it, once the ring said `gone` (history: sends
        nothing). Most starts it replays nothing: the ring holds the whole tail. A gateway
        restarted while the venue trades stops half a ring short of the journal's newest
        command, and replays only when more than three quarters of a ring are missing:
        the core appends as it replays."""
        behind = journal_newest_seq(self._db) - self.last_seq
        if behind > ring * 3 // 4:
            self._replay_journal(self.last_seq + behind - ring // 2)

    def _open_if_told(self, client: StreamClient) -> None:
        if client.opened and not self._opened:
            self._opened = True
            self.on_open()

    def _replay_journal(self, upto: int) -> None:
        started = time.monotonic()
        entries = read_journal(self._db, self.last_seq, upto_seq=upto, repair=False)
        count = self._replayer_now().recover(entries, self._replaying)
        self.last_seq = self.engine.last_seq
        if self.last_seq < upto:
            raise InvariantViolation(
                f"the journal ends at command {self.last_seq}; the core's ring starts after {upto}"
            )
        log.info("replayed %d journaled commands in %.2f s", count, time.monotonic() - started)

    def _replayer_now(self) -> Sequencer:
        if self._replayer is None:
            replayer = Sequencer(self.engine, time.time_ns)
            if self._restored is not None:
                replayer.resume(self._restored.stream_hash, self._restored.last_ts)
            for subscriber in (*self._subscribers, *self._stamp_subscribers):
                replayer.subscribe(subscriber)
            self._replayer = replayer
        return self._replayer

    def _apply(self, entries: list[list[Any] | int | bytes | VenueTime]) -> None:
        if entries and not self._live:
            # Live from here: the stream has what the journal has.
            self._live = True
            self._replayer = self._restored = self._engine = None
        live_after = _ALL_HISTORY if self._live_after is None else self._live_after
        with self._exclusive:
            self._applying = threading.get_ident()
            try:
                self._apply_locked(entries, live_after)
            finally:
                self._applying = None

    def _apply_locked(
        self, entries: list[list[Any] | int | bytes | VenueTime], live_after: int
    ) -> None:
        for entry in entries:
            if isinstance(entry, int):
                self._muted = False
                self.on_marked(entry)
                continue
            if isinstance(entry, bytes):
                self.on_settings(entry)
                continue
            if isinstance(entry, VenueTime):
                self.on_clock(entry.ts)
                continue
            seq, ts, command_frame, events_frame = entry
            if seq != self.last_seq + 1:
                raise InvariantViolation(f"the bus sent command {seq} after {self.last_seq}")
            events = decode_events(events_frame, seq)
            self.last_seq = self._history_seq = seq
            self._muted = seq <= live_after
            if self._subscribers:
                command = decode_command(command_frame, Seq(seq), Ts(ts))
                for subscriber in self._subscribers:
                    subscriber(command, events)
                for stamped in self._stamp_subscribers:
                    stamped(command, events)
            else:
                stamp = Stamp(seq, ts)
                for stamped in self._stamp_subscribers:
                    stamped(stamp, events)
        self._muted = False

    # --- sending ----------------------------------------------------------------------------

    def _send(self, name: str, key: str, message: Any) -> None:
        if self._applying == threading.get_ident():
            self._send_locked(name, key, message)  # a subscriber's, inside `_apply`
            return
        with self._exclusive:
            self._send_locked(name, key, message)

    def _send_locked(self, name: str, key: str, message: Any) -> None:
        resend = self.resend
        if self._muted and (resend is None or not resend(key, self._history_seq, message)):
            return  # history: rebuilt, not sent again
        # Everything on the stream is durable already: ready to leave at once.
        self._outbox.ready(name, (key, message))

    def _replaying(self, entry: Entry) -> None:
        self._history_seq = entry.command.seq

    def _after_unlock(self) -> None:
        self._outbox.deliver_ready()

    def _deliver(self, name: str, keyed: tuple[str, Any]) -> None:
        self._outputs[name](*keyed)

    def _flush_outputs(self) -> None:
        for flush in self._flushes:
            flush()


def _no_marks(token: int) -> None:
    raise InvariantViolation(f"mark {token} answered, but this gateway asks for none")


def _no_settings(_payload: bytes) -> None:
    """A gateway without settings that change while running has nothing to do."""


def _no_clock(_ts: int) -> None:
    """A gateway that stamps nothing itself has no use for the venue's time."""


def _no_port() -> None:
    """A gateway whose port opens at its start (clients need not wait for the core's
    opening) has nothing to do when the venue opens."""
