"""The replica: a second process that follows the committed journal, records the audit
trail's decisions and the orders/executions projections, and snapshots the venue.

Why not the venue itself: all of that is work on every command that decides nothing. In
the venue it ran on the order path — recording each decision and folding its events into
the projections under the sequencer's lock, writing them with the GIL the order path
needs (~80 µs a command) — and a snapshot taken there held the sequencer's lock while
pickling (1.7 s after 200,000 commands). The replica is built like the venue
(`assembly.assemble`) from the newest snapshot and then follows the journal: it reads
only committed records, so its state is exactly the venue's after the last durable
command; it checks every recorded event-stream hash on the way (a replica that diverges
stops with an error instead of writing a wrong snapshot); and it pays on its own core with
its own GIL. What the venue still records itself is what only it sees: the FIX messages
in and out and the sessions' states (`Recorder` as the acceptor's tap).

Order of work, every few milliseconds: replay what was committed since last time,
recording decisions after the last one in the trail (a restart records what the previous
run had not); write those rows; then, once `snapshot_every` commands have passed since the
last snapshot, snapshot. So a snapshot never gets ahead of the recorded rows, and a crash
never leaves commands between them that nothing would record.

Lifecycle: the venue forks it early in start-up, before any thread of its own or of
quickfix's exists (a fork copies only the forking thread, and with it any lock another
thread held), so it costs no interpreter start or imports: measured here, spawning a
fresh interpreter cost about a second of CPU per venue start. It then waits until the
venue has opened (`release`): loading the snapshot and replaying the journal's tail is
seconds of CPU that the core and the gateway processes need for their own recovery on a
small machine, and nothing waits for the replica. It builds its own database engine and
never touches the venue's objects. `stop()` asks it to record everything committed,
then waits: the venue flushes its journal first, so a clean stop leaves nothing
unrecorded. It exits by itself when its parent is gone, so a venue killed with SIGKILL
leaves no replica. The venue still snapshots itself at a clean shutdown, after stopping
this process, unless its FIX gateway runs in a process of its own: then the core keeps
no FIX gateway state and this process takes that last snapshot as it stops
(`final_snapshot`).
"""

import logging
import multiprocessing
import os
import signal
import time
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event

from sqlalchemy import Engine as DbEngine

from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.venue import VenueConfig
from nyquestro.runtime import collector, lifeline, snapshotting
from nyquestro.runtime.assembly import VenueCore, assemble
from nyquestro.runtime.recorder import Recorder
from nyquestro.store.audit import AuditTrail
from nyquestro.store.database import create_db_engine
from nyquestro.store.journal import journal_newest_seq, read_journal
from nyquestro.store.projection import Projection
from nyquestro.store.snapshots import write_snapshot

log = logging.getLogger(__name__)

FOLLOW_SECONDS = 0.02
"""How often a recording replica looks for newly committed commands."""
POLL_SECONDS = 0.5
"""How often a replica that only snapshots looks (it replays in bursts, when one is due)."""
_HANDOVER_GRACE_SECONDS = 0.2
_STOP_SECONDS = 5.0
"""Within the default shutdown bound; what a replica stopped early did not record, the
next start's replica does."""


class Replica:
    def __init__(self, config: VenueConfig, *, final_snapshot: bool = False) -> None:
        """`final_snapshot`: when asked to stop, follow the journal to its end and
        snapshot it (within the stop's bound)."""
        self._config = config
        self._final_snapshot = final_snapshot
        self._running: tuple[BaseProcess, Event, Event] | None = None
        """The replica, its go and its stop signals, once started (created then:
        multiprocessing objects made but never used leave semaphores behind, and a warning
        at exit)."""

    def start(self) -> None:
        """Fork the replica, which waits for `release`; call before starting any thread
        (see the module doc)."""
        context = multiprocessing.get_context("fork")
        go, stop = context.Event(), context.Event()
        process = context.Process(
            target=run_replica,
            args=(self._config, os.getpid(), go, stop, self._final_snapshot),
            name="nyquestro-replica",
            daemon=True,
        )
        process.start()
        self._running = (process, go, stop)
        log.info("replica process started (pid %s)", process.pid)

    def release(self) -> None:
        """The venue is open: the replica may load and catch up now."""
        if self._running is not None:
            self._running[1].set()

    def stop(self) -> None:
        """Let the replica record what was committed and finish what it is writing, then
        end it (if it was started)."""
        if self._running is None:
            return
        process, go, stop = self._running
        stop.set()
        go.set()  # a venue stopped before it opened: the replica still records it all
        process.join(_STOP_SECONDS)
        if process.is_alive():
            log.error("the replica did not finish within %.0f s; ended", _STOP_SECONDS)
            process.kill()
            process.join()


def run_replica(
    config: VenueConfig, parent_pid: int, go: Event, stop: Event, final_snapshot: bool
) -> None:
    if not lifeline.die_with_parent(parent_pid):
        return
    # Ctrl-C in a terminal signals the whole process group, and a service manager may
    # SIGTERM every process of the venue; the venue stops the replica after flushing its
    # journal, so that everything committed gets recorded (and, with the FIX gateway in a
    # process of its own, the final snapshot taken).
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    go.wait()
    db = create_db_engine(config.db)
    recorder = None
    if config.audit:
        prices = DecimalPrices({i.symbol: i for i in config.instruments})
        recorder = Recorder(AuditTrail(db, prices), Projection(db), lambda: 0, time.time_ns)
    core = assemble(
        config, db, send=lambda _key, _message: None,
        recorder=None if recorder is None else recorder.on_events,
    )  # fmt: skip
    collector.settle()
    snapshot_seq = core.snapshot_seq
    every = config.snapshot_every
    # A replica that records, or takes the final snapshot (which must fit in the stop's
    # bound), keeps up with the journal; one that only snapshots catches up when one is due.
    keeps_up = recorder is not None or final_snapshot
    poll = FOLLOW_SECONDS if keeps_up else POLL_SECONDS
    while os.getppid() == parent_pid and not stop.is_set():
        committed = journal_newest_seq(db)
        due = bool(every) and committed - snapshot_seq >= every
        if committed > core.sequencer.last_seq and (keeps_up or due):
            _follow(core, db, committed, recorder)
        if due:
            snapshot_seq = _snapshot(config, core, db, parent_pid, stop, snapshot_seq)
        elif stop.wait(poll):
            break
    if os.getppid() != parent_pid:
        return
    # Asked to stop: the venue flushed its journal first; record all of it.
    committed = journal_newest_seq(db)
    if recorder is not None or (final_snapshot and committed > snapshot_seq):
        _follow(core, db, committed, recorder)
    if final_snapshot and committed > snapshot_seq:
        _snapshot(config, core, db, parent_pid, stop, snapshot_seq)


def _follow(core: VenueCore, db: DbEngine, upto: int, recorder: Recorder | None) -> None:
    entries = read_journal(db, core.sequencer.last_seq, upto_seq=upto, repair=False)
    core.sequencer.recover(entries)
    if recorder is not None:
        recorder.write_pending()


def _snapshot(
    config: VenueConfig, core: VenueCore, db: DbEngine, parent_pid: int, stop: Event,
    previous: int,
) -> int:  # fmt: skip
    """Snapshot the replica (it has replayed and recorded every committed command); returns
    the command the newest snapshot follows."""
    assert core.venue is not None, "the replica folds the FIX gateway's state"
    taken = snapshotting.take(core.sequencer, core.engine, core.venue, config.instruments, core.udp)
    # A venue that dies after committing commands but before handing their reports to
    # quickfix re-sends those reports at recovery, but only for commands it replays: a
    # snapshot covering them must not be written. Handing over is the very next step
    # after a commit, on the same thread, so a venue still alive a moment after the
    # replica read the commands has done it.
    stop.wait(_HANDOVER_GRACE_SECONDS)
    if os.getppid() != parent_pid:
        return previous
    write_snapshot(db, taken)
    log.info("snapshot after command %d written (%d bytes)", taken.seq, len(taken.payload))
    return taken.seq
