"""The snapshotter: a second process that keeps a replica of the venue and snapshots it.

Why not the venue itself: a snapshot must be taken between two commands, and pickling a
busy venue (engine plus the gateway's record of every order) held the sequencer's lock
for 1.7 s after 200,000 commands on this hardware — a pause every client would see.
The replica is built like the venue (`assembly.assemble`) from the newest snapshot and
then follows the journal: it reads only committed records, so its state is exactly the
venue's after the last durable command, and it pays for replay and pickling on its own
core with its own GIL. It replays in bursts, once `snapshot_every` commands have piled
up, and checks every recorded event-stream hash on the way (a replica that diverges
stops with an error instead of writing a wrong snapshot).

Lifecycle: the venue starts it once the first snapshot is due (a fresh interpreter,
spawned: forking a process with quickfix's threads would copy their locks); `stop()` asks
it to finish and waits. It exits by itself when its parent is gone, so a venue killed
with SIGKILL leaves no replica. The venue still snapshots itself at a clean shutdown,
after stopping this process.
"""

import logging
import multiprocessing
import os
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event

from sqlalchemy import Engine as DbEngine
from sqlalchemy import func, select

from nyquestro.config.venue import VenueConfig
from nyquestro.runtime import collector, snapshotting
from nyquestro.runtime.assembly import assemble
from nyquestro.store.database import create_db_engine
from nyquestro.store.journal import read_journal
from nyquestro.store.models import AuditRecord, JournalRecord
from nyquestro.store.snapshots import write_snapshot

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
_HANDOVER_GRACE_SECONDS = 0.2
_STOP_SECONDS = 10.0


class Snapshotter:
    def __init__(self, config: VenueConfig) -> None:
        self._config = config
        self._running: tuple[BaseProcess, Event] | None = None
        """The replica and its stop signal, once started (created then: multiprocessing
        objects made but never used leave semaphores behind, and a warning at exit)."""

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        process = context.Process(
            target=run_replica,
            args=(self._config, os.getpid(), stop),
            name="nyquestro-snapshotter",
            daemon=True,
        )
        process.start()
        self._running = (process, stop)

    def stop(self) -> None:
        """Let the replica finish what it is writing, then end it (if it was started)."""
        if self._running is None:
            return
        process, stop = self._running
        stop.set()
        process.join(_STOP_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()


def recorded_seq(db: DbEngine, audit: bool) -> int:
    """The last command both committed and, with `audit`, recorded (audit trail,
    projections).

    The venue writes a command's audit and projection rows after its journal record, and
    recovery rewrites them only for commands it replays: a snapshot must not get ahead of
    them, or a crash would leave the commands in between missing from those tables.
    """
    with db.connect() as connection:
        journaled = connection.execute(select(func.max(JournalRecord.seq))).scalar() or 0
        if not audit:
            return int(journaled)
        recorded = connection.execute(
            select(func.max(AuditRecord.seq)).where(AuditRecord.kind == "decision")
        ).scalar()
    return min(journaled, recorded or 0)


def run_replica(config: VenueConfig, parent_pid: int, stop: Event) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    db = create_db_engine(config.db)
    core = assemble(config, db, send=lambda _key, _message: None)
    collector.settle()
    snapshot_seq = core.snapshot_seq
    every = config.snapshot_every
    while os.getppid() == parent_pid and not stop.is_set():
        ready = recorded_seq(db, config.audit)
        if ready - snapshot_seq < every:
            if stop.wait(POLL_SECONDS):
                return
            continue
        entries = read_journal(db, core.sequencer.last_seq, upto_seq=ready, repair=False)
        core.sequencer.recover(entries)
        taken = snapshotting.take(
            core.sequencer, core.engine, core.venue, config.instruments, core.udp
        )
        # A venue that dies after committing commands but before handing their reports
        # to quickfix re-sends those reports at recovery, but only for commands it
        # replays: a snapshot covering them must not be written. Handing over is the
        # very next step after a commit, on the same thread, so a venue still alive a
        # moment after the replica read the commands has done it.
        stop.wait(_HANDOVER_GRACE_SECONDS)
        if os.getppid() != parent_pid:
            return
        write_snapshot(db, taken)
        snapshot_seq = taken.seq
        log.info("snapshot after command %d written (%d bytes)", taken.seq, len(taken.payload))
