"""Taking venue snapshots and starting from one.

A snapshot is the engine's state (books with exact queue order, live orders with their
hidden iceberg remainders and peg offsets, SMP keys, ClOrdID maps, id counters) and the
FIX gateway's folded state (order views, depth, ExecID counters) and the UDP gateway's
retry windows, each pickled apart, together with the event-stream hash and the last
timestamp, all taken under the sequencer's lock right after the journal was committed up
to that command. Recovery loads the newest usable snapshot and replays only the journal
after it. Apart, because not every process needs every part: the engine's is always
loaded (its state hash checks the snapshot), a gateway's only by the process that runs
that gateway (the core with the FIX gateway in a process of its own loads a third of a
day's snapshot; the ITCH and WebSocket processes need no gateway's state at all).

Pickle, not a hand-written format: it reproduces the object graph exactly (shared order
objects between the FIFO queues and the live map, insertion order of every dict) at C
speed, and nothing but this process ever writes the store. Its weakness, dependence on the
code that wrote it, is handled by the format tag: a snapshot written by another version of
Nyquestro, another build of its core (compiled or pure: their pickles of the same class
differ), another Python or for other symbols or tick sizes is not loaded, and neither is one whose
bytes fail their SHA-256 or whose restored engine does not reproduce the recorded state
hash. Each of those falls back to an older snapshot, then to a full replay.
"""

import hashlib
import logging
import pickle
import sys
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from sqlalchemy import Engine as DbEngine

from nyquestro import BUILD_KIND
from nyquestro.domain.instrument import Instrument
from nyquestro.engine import STATE_SCHEMA, Engine
from nyquestro.gateways.fix.venue import FixVenue, VenueState
from nyquestro.gateways.udp.orders import RetryWindow, UdpOrders
from nyquestro.runtime import collector
from nyquestro.runtime.sequencer import Sequencer
from nyquestro.store.snapshots import Snapshot, usable_snapshot, usable_snapshots

log = logging.getLogger(__name__)


class Restored:
    """A usable snapshot, each part unpickled when first asked for: the FIX gateway's
    process needs the engine's part only if it must replay the journal itself, and most
    starts it does not (`follower.py`)."""

    __slots__ = ("_engine", "_parts", "_state_hash", "last_ts", "seq", "stream_hash")

    def __init__(self, snapshot: Snapshot) -> None:
        self.seq = snapshot.seq
        self.stream_hash: str
        self.last_ts: int
        # The hash and timestamp travel outside the parts so a reader can check them first.
        self.stream_hash, self.last_ts, self._parts = pickle.loads(snapshot.payload)
        self._state_hash = snapshot.state_hash
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        """The engine's state (loaded once; ValueError if it does not reproduce the
        recorded state hash)."""
        if self._engine is None:
            with collector.paused():
                engine = Engine.restored(pickle.loads(self._parts[0]))
                restored_hash = engine.state_hash()
            if restored_hash != self._state_hash:
                raise ValueError("the restored engine's state hash differs from the recorded one")
            self._engine = engine
        return self._engine

    def venue(self) -> VenueState:
        """The FIX gateway's state (unpickled on each call: call it once)."""
        state: VenueState = _load_part(self._parts[1])
        return state

    def udp(self) -> dict[int, RetryWindow] | None:
        """The UDP gateway's retry windows (None: the venue had no UDP gateway)."""
        windows: dict[int, RetryWindow] | None = _load_part(self._parts[2])
        return windows


def _load_part(part: bytes) -> Any:
    # A day's order views are millions of objects that live on: unpickling them with the
    # collector running would scan them again and again for nothing.
    with collector.paused():
        return pickle.loads(part)


def snapshot_format(instruments: Sequence[Instrument]) -> str:
    # Only what no Configure can change: the snapshot carries the settings in force.
    described = repr(sorted((inst.symbol, inst.tick_size) for inst in instruments)).encode()
    return (
        # "parts": the state's parts are pickled apart (the module doc); the store's older
        # snapshots, pickled whole, are not tried.
        f"parts{pickle.HIGHEST_PROTOCOL}/nyquestro-{version('nyquestro')}/{BUILD_KIND}"
        f"/s{STATE_SCHEMA}"
        f"/py{sys.version_info.major}.{sys.version_info.minor}"
        # Short: the store's format column holds 64 characters.
        f"/sym-{hashlib.sha256(described).hexdigest()[:16]}"
    )


def take(
    sequencer: Sequencer,
    engine: Engine,
    venue: FixVenue,
    instruments: Sequence[Instrument],
    udp: UdpOrders | None = None,
) -> Snapshot:
    """Snapshot the venue between two commands (the lock is held while pickling)."""

    def capture() -> tuple[tuple[bytes, bytes, bytes], str]:
        udp_state = None if udp is None else udp.export_state()
        states = (engine.export_state(), venue.export_state(), udp_state)
        with collector.paused():
            parts = tuple(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL) for part in states)
            return (parts[0], parts[1], parts[2]), engine.state_hash()

    seq, ts, stream_hash, (state, state_hash) = sequencer.checkpoint(capture)
    # The hash and timestamp travel outside the pickle so a reader can check them first.
    payload = pickle.dumps((stream_hash, ts, state), protocol=pickle.HIGHEST_PROTOCOL)
    return Snapshot(seq, ts, snapshot_format(instruments), state_hash, payload)


def restore_newest(db: DbEngine, instruments: Sequence[Instrument]) -> Restored | None:
    """The newest snapshot that loads and checks out, or None (then replay everything)."""
    for snapshot in usable_snapshots(db, snapshot_format(instruments)):
        try:
            restored = Restored(snapshot)
            restored.engine  # noqa: B018 -- loads and checks the engine's part
        except Exception as exc:  # whatever is wrong with it, an older one or replay will do
            log.warning("snapshot after command %d not used: %s", snapshot.seq, exc)
            continue
        return restored
    return None


def the_core_started_from(
    db: DbEngine, instruments: Sequence[Instrument], seq: int
) -> Restored | None:
    """The core's start snapshot, the newest in the store when it started (after command
    `seq`), its engine's part not loaded yet; None if the store had none (`seq` 0), no
    longer keeps it (a restart late in the day) or it does not check out: then the
    journal from its start rebuilds the same state. A gateway process starts from it,
    whenever it starts, so that it numbers what it sends as the core's first gateway
    did."""
    snapshot = usable_snapshot(db, snapshot_format(instruments), seq) if seq else None
    return None if snapshot is None else Restored(snapshot)
