"""`nyquestro serve`: wire engine, sequencer and FIX acceptor; stop cleanly on a signal.

Threads (the whole lock order is ADR 0008): the main thread only waits for signals.
quickfix's SocketAcceptor runs one thread that makes every callback; the callbacks copy
what they need and post it to the writer thread, which runs it under the sequencer's lock.
The committer thread ("journal") writes the journal and releases what became durable.
Messages leave only after their thread let go of the sequencer's lock (the outbox's
`deliver_ready`), so no thread waits for a quickfix mutex while holding that lock.

Shutdown never calls quickfix 1.16's `Acceptor::stop()`: it races the acceptor thread to
close the listening socket and crashed with SIGSEGV in about one shutdown in three (the
binding's `poll()` takes no timeout, so driving the acceptor from our own thread would
spin). Instead every session is told to log out while the acceptor thread still runs;
once they are out (or a grace period passed), the process exits. Every message quickfix
sent is already in its FileStore by then.
"""

import logging
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from types import FrameType
from typing import Any, NoReturn

import quickfix as fix

from nyquestro.bus.stream import StreamServer
from nyquestro.codec.frames import decode_command
from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.instruments import ConfigError
from nyquestro.config.venue import VenueConfig
from nyquestro.domain.commands import (
    BustTrade,
    Command,
    ControlSession,
    CorrectTrade,
    EndOfDay,
    ExpireDue,
    Halt,
    KillSwitch,
    MassCancel,
    Resume,
    SetPhase,
)
from nyquestro.domain.enums import MassCancelOrigin, SessionAction, TradingPhase
from nyquestro.domain.events import Configured
from nyquestro.domain.ids import (
    Account,
    ClOrdId,
    OrderId,
    Px,
    Qty,
    Seq,
    SessionKey,
    Symbol,
    TradeId,
    Ts,
)
from nyquestro.gateways.fix.acceptor import Application
from nyquestro.gateways.fix.peers import LogonGate
from nyquestro.gateways.fix.venue import EXEC_SLOT
from nyquestro.gateways.udp.gateway import UdpGateway
from nyquestro.runtime import collector, fix_settings, snapshotting
from nyquestro.runtime.assembly import assemble
from nyquestro.runtime.clock import ClockBackwards, reader, venue_clock
from nyquestro.runtime.committed_stream import CommittedStream, ring_entries
from nyquestro.runtime.gateway_process import GatewayProcess, GatewayStartError
from nyquestro.runtime.latency import LatencyRecorder, stage_clock
from nyquestro.runtime.liveness import LivenessMonitor
from nyquestro.runtime.metrics import VenueMetrics, venue_metrics
from nyquestro.runtime.outbox import Outbox
from nyquestro.runtime.progress import Progress
from nyquestro.runtime.recorder import SESSIONS_REFRESH_SECONDS, Recorder
from nyquestro.runtime.replica import Replica
from nyquestro.runtime.schedule import Move, Scheduler
from nyquestro.runtime.settings import (
    apply_throttles,
    configure,
    describe_throttles,
    not_live,
    settings_of,
    throttle_changes,
    with_risk_change,
)
from nyquestro.runtime.watchdog import ShutdownWatchdog
from nyquestro.runtime.writer import Writer
from nyquestro.store.audit import AuditTrail
from nyquestro.store.database import create_db_engine, upgrade
from nyquestro.store.journal import (
    Durability,
    Entry,
    JournalWriter,
    journal_newest_seq,
    read_journal,
)
from nyquestro.store.operator import requests_after
from nyquestro.store.projection import Projection
from nyquestro.store.snapshots import latest_seq as latest_snapshot_seq
from nyquestro.store.snapshots import write_snapshot

log = logging.getLogger(__name__)


class Exchange:
    """A running venue: recovered from its journal, FIX port open after start()."""

    def __init__(self, config: VenueConfig) -> None:
        self.config = config
        self._app: Application | None = None  # set below; delivery needs it first
        self._outbox: Outbox[Any] = Outbox(self._deliver)
        self._side_outputs: dict[str, Callable[[str, Any], None]] = {}
        """Other gateways' deliver functions by name (see `side_sender`)."""
        self._side_flushes: list[Callable[[], None]] = []
        self._outbox.after_release = self._flush_sides
        db = create_db_engine(config.db, synchronous="FULL" if config.durability == "sync"
                              else "OFF" if config.durability == "none" else "NORMAL")  # fmt: skip
        upgrade(db)
        self._db = db
        self._clock = venue_clock(config.clock)
        """The virtual clock, set over the bus (None: the machine's clock)."""
        now = reader(self._clock)
        self._now = now
        self._scheduler: Scheduler | None = None
        """Set at `start`, from the venue's time then ([schedule]; None: none)."""
        self._recorder = None
        self._udp: UdpGateway | None = None  # replies reach it once it exists (below)
        if config.audit:
            self._recorder = Recorder(
                AuditTrail(db, DecimalPrices({i.symbol: i for i in config.instruments})),
                Projection(db),
                lambda: self.sequencer.last_seq,
                now,
            )
        self.journal = JournalWriter(db, Durability(config.durability), background=True)
        metrics = venue_metrics()
        if metrics is not None:
            self.journal.on_commit = partial(_commit_observed, metrics)
        """Also read by the liveness monitor (its counters, never its lock)."""
        runs_replica = bool(config.snapshot_every or config.audit)
        # Gateway processes follow the committed stream on the bus. Started first, from
        # the newest snapshot: each loads its part of it while the core loads its own and
        # replays the journal after it. (Should that snapshot not load here, the core
        # starts from an older one; a gateway's part, pickled apart, still holds, and the
        # stream brings it what follows.)
        start_snapshot = latest_snapshot_seq(db, snapshotting.snapshot_format(config.instruments))
        self._bus_address = f"@nyquestro-{os.getpid()}-bus"
        self._gateways: list[GatewayProcess] = []
        own_fix = config.fix if config.fix.own_process else None
        for name, configured in (
            ("fix", own_fix),
            ("itch", config.itch),
            ("websocket", config.websocket),
            ("control", config.control),
            ("metrics", config.metrics),
        ):
            if configured is not None:
                self._gateways.append(GatewayProcess(
                    name, f"nyquestro.runtime.{name}_process", config, self._bus_address,
                    start_snapshot,
                ))  # fmt: skip
        for gateway in self._gateways:
            gateway.start()
        core = assemble(
            config,
            db,
            send=self._send,
            journal=self.journal,
            on_durable=self._outbox.release_upto,
            udp_reply=self._udp_reply,
            # With the FIX gateway in a process of its own, the FIX gateway core here
            # would only fold state for snapshots, which the replica takes (the final one
            # too, `Replica`); without a replica the core still takes that one itself.
            fold_venue=not (config.fix.own_process and runs_replica),
            clock=now,
        )
        self._engine, self.sequencer, self._venue = core.engine, core.sequencer, core.venue
        # Whoever released messages sends them once out of the lock (see the module doc).
        self.sequencer.after_unlock = self._outbox.deliver_ready
        self.writer = Writer(self.sequencer.read)
        self._snapshot_seq = core.snapshot_seq
        # UDP: before recovery too, whose replay (through the core's UdpOrders, already
        # subscribed) rebuilds its retry windows after the snapshot's.
        self._udp_orders = core.udp
        if config.udp is not None and core.udp is not None:
            self._udp = UdpGateway(config.udp, config.instruments, self.sequencer.submit,
                                   self.sequencer.read, self.side_sender, core.udp)  # fmt: skip
        # Records decisions and projections (when the venue keeps an audit trail) and
        # takes the snapshots, following the committed journal in a process of its own.
        # Forked here, while this is the only thread (see `replica`); it waits for the
        # opening (`start`) before it loads anything.
        self._replica = (
            Replica(config, final_snapshot=self._venue is None) if runs_replica else None
        )
        if self._replica is not None:
            self._replica.start()
        # The bus before recovery, after the forks (no child holds its socket), serving
        # already: what the core replays fills its ring, and the gateways fold it as it
        # comes, on the other CPU (`committed_stream`).
        self._bus: StreamServer | None = None
        self._stream: CommittedStream | None = None
        if self._gateways:
            self._bus = StreamServer(
                self._bus_address, self.sequencer.last_seq, self._gateway_command,
                self._gateway_mark, retain=ring_entries(config.snapshot_every),
                recovering=True,
                on_set_clock=None if self._clock is None else self._set_clock,
            )  # fmt: skip
            self._stream = CommittedStream(
                self._bus, self.side_sender, replaying=True,
                events_frame=self.sequencer.events_frame,
            )  # fmt: skip
            self.sequencer.subscribe(self._stream.on_events)
            self._bus.start()
        self._recover()
        if self._clock is not None:
            # A virtual clock goes on from the journal's last command: never back.
            self._clock.set(self.sequencer.last_ts)
            if self._bus is not None:
                self._bus.clock(self._clock())
        if self._stream is not None:
            self._stream.recovered()
        self._write_recorded()
        # The recovered books and views live all day: out of the collector's sight.
        collector.settle()
        # quickfix here, or in the FIX gateway's process (`[fix] own_process`).
        self._acceptor: fix.SocketAcceptor | None = None
        self._latency: LatencyRecorder | None = None
        if not config.fix.own_process:
            assert self._venue is not None, "in one process the core renders the reports"
            timing = stage_clock(config, self._venue)
            self._latency = None if timing is None else timing[1]
            self._app = Application(
                self._venue, self.writer.post, tap=self._recorder,
                gate=LogonGate(config.fix.allow, config.fix.port),
                stages=None if timing is None else timing[0],
            )  # fmt: skip
            settings_path = fix_settings.write(config)
            self._settings = fix.SessionSettings(str(settings_path))
            self._store = fix.FileStoreFactory(self._settings)
            self._acceptor = fix.SocketAcceptor(self._app, self._store, self._settings)
        # Before any client can connect; after the acceptor exists, since the commands
        # release the reports recovery held back.
        self._apply_settings(config)
        self._operator_seen = self._engine.last_request_id
        self._operator_polled = 0.0
        self._sessions_refreshed = 0.0
        if self._recorder is not None and self._venue is not None:
            self._recorder.throttle_usage = self._venue.throttle_usage
        self._apply_operator_requests()
        self._committer = threading.Thread(target=self._commit_loop, name="journal", daemon=True)
        self._stopping = threading.Event()

    def _recover(self) -> None:
        """Start-up is recovery: replay the journal after the snapshot through the live path.

        Reports that reached a session's quickfix store before the stop are muted: its
        client gets any it missed by ResendRequest. A crash between a commit and the
        hand-over to quickfix leaves durable commands whose reports were not stored for
        some session; those are sent again (same ExecIDs) once the acceptor runs.
        """
        started = time.monotonic()
        highest = fix_settings.delivered_exec_ids(self.config)
        replaying = 0
        after = self._snapshot_seq
        progress = Progress("recovery: commands replayed",
                            max(journal_newest_seq(self._db) - after, 0), say=log.info)  # fmt: skip

        def note(entry: Entry) -> None:
            nonlocal replaying
            replaying = entry.command.seq
            progress(replaying - after)

        # Side gateways rebuild their state from the replay but send none of it again.
        self._outbox.mute = lambda key, message: (
            _SIDE in key or fix_settings.in_store(highest.get(key, 0), replaying, message)
        )
        try:
            count = self.sequencer.recover(read_journal(self._db, after), note)
        finally:
            self._outbox.mute = _never
        if after or count:
            log.info(
                "recovered from %s and %d journaled commands after it in %.2f s",
                f"the snapshot after command {after}" if after else "an empty venue",
                count, time.monotonic() - started,
            )  # fmt: skip
        frontiers = {key: exec_id // EXEC_SLOT for key, exec_id in highest.items()}
        behind = {key: seq for key, seq in frontiers.items() if seq < self.sequencer.last_seq}
        if count and behind:
            log.info(
                "reports of commands after these did not reach quickfix before the stop "
                "and will be sent: %s",
                ", ".join(f"{key} {seq}" for key, seq in sorted(behind.items())),
            )

    def _apply_settings(self, config: VenueConfig) -> None:
        """Journal a Configure if `config` asks for other settings than those in force, and
        always as a new journal's first command: it records the instruments the venue
        started with, so a replay needs no config file."""
        wanted = settings_of(config, self._engine.settings)
        if wanted == self._engine.settings and self.sequencer.last_seq:
            return
        events = self.sequencer.submit(configure(wanted))
        for event in events:
            if isinstance(event, Configured):
                for change in event.changes:
                    log.info("settings: %s", change)
            else:
                log.error("settings refused: %s", event)
        self.sequencer.flush()

    def reload(self, load: Callable[[], VenueConfig]) -> None:
        """SIGHUP: read the config again and apply what can change while running; a file
        that does not load changes nothing."""
        try:
            new = load()
        except ConfigError as exc:
            log.error("config reload refused, the running config stays in force: %s", exc)
            return
        for change in not_live(self.config, new):
            log.warning("config reload: %s needs a restart; not applied", change)
        self._apply_settings(new)
        changed = {
            (s.begin_string, s.target_comp_id): s for s in throttle_changes(self.config, new)
        }
        if not self.config.fix.own_process:
            assert self._venue is not None, "in one process the core renders the reports"
            self.sequencer.read(partial(
                apply_throttles, self._venue, self.config.fix.comp_id, changed.values()
            ))  # fmt: skip
        elif changed and self._bus is not None:
            # The FIX gateway's process applies them to its sessions.
            self._bus.broadcast(pickle.dumps(tuple(changed.values())))
        for line in describe_throttles(self.config.fix.comp_id, changed.values()):
            log.info("%s", line)
        sessions = tuple(
            changed.get((s.begin_string, s.target_comp_id), s) for s in self.config.fix.sessions
        )
        self.config = replace(
            # The engine's instruments: symbols and tick sizes changed only by a restart.
            self.config, instruments=tuple(self._engine.settings.instruments.values()),
            risk=new.risk,
            fix=replace(self.config.fix, sessions=sessions),
        )  # fmt: skip
        for gateway in self._gateways:
            gateway.config = self.config
        log.info("config reloaded")

    def _apply_operator_requests(self) -> None:
        """Carry out what the operator queued (kill switches, halts, resumes, cancels, busts
        and corrections; from the CLI or the control plane) since last time."""
        self._operator_polled = time.monotonic()
        for request in requests_after(self._db, self._operator_seen):
            self._operator_seen = request.id
            p = request.params
            command: Callable[[Seq, Ts], Command]
            if request.kind == "kill_switch":
                command = partial(
                    _kill_switch, request.id, bool(p.get("engage")), p.get("account"),
                    p.get("session"), str(p.get("reason") or ""),
                )  # fmt: skip
            elif request.kind in ("halt", "resume"):
                command = partial(_trading, request.id, request.kind, str(p.get("symbol")),
                                  str(p.get("reason") or ""))  # fmt: skip
            elif request.kind in ("cancel", "mass_cancel"):
                command = partial(_operator_cancel, request.id, p)
            elif request.kind in ("bust_trade", "correct_trade"):
                command = partial(_amend_trade, request.id, request.kind, p)
            elif request.kind in ("logout", "reset"):
                command = partial(_control_session, request.id, request.kind, p)
            elif request.kind == "set_phase":
                command = partial(_set_phase, request.id, p)
            elif request.kind in ("set_limit", "risk_check"):
                running = self.sequencer.read(lambda: self._engine.settings)
                try:
                    command = configure(with_risk_change(running, request.kind, p), request.id)
                except ValueError as exc:
                    log.error("operator request %d refused: %s", request.id, exc)
                    continue
            else:
                log.error("operator request %d: unknown kind %r, ignored", request.id, request.kind)
                continue
            events = self.sequencer.submit(command)
            log.warning("operator request %d carried out: %s", request.id, events[-1])

    def _write_recorded(self, *, now: bool = True) -> None:
        if self._recorder is not None:
            self._recorder.write_pending(now=now)

    def _final_snapshot(self) -> None:
        """At a clean stop: flush the journal and, unless the replica's newest snapshot
        already covers it, snapshot the venue (the pause no longer matters)."""
        self.sequencer.flush()
        if self._venue is None:
            return  # the replica took it as it stopped (see `assemble`)
        if self.sequencer.last_seq <= latest_snapshot_seq(self._db):
            return
        instruments = self.config.instruments
        taken = snapshotting.take(
            self.sequencer, self._engine, self._venue, instruments, self._udp_orders
        )
        write_snapshot(self._db, taken)
        log.info("snapshot after command %d written (%d bytes)", taken.seq, len(taken.payload))

    def side_sender(
        self,
        name: str,
        deliver: Callable[[str, Any], None],
        flush: Callable[[], None] | None = None,
    ) -> Callable[[str, Any], None]:
        """A `send(key, message)` for a gateway other than FIX, to call from its event
        subscriber: the message leaves through `deliver(key, message)` once the command it
        depends on is durable, in order with every other gateway's messages, and is not
        sent again when recovery replays the command. `flush` runs at the end of every
        release that delivered something, for outputs that batch what it let go."""
        self._side_outputs[name] = deliver
        if flush is not None:
            self._side_flushes.append(flush)
        return lambda key, message: self._send(f"{name}{_SIDE}{key}", message)

    def _flush_sides(self) -> None:
        for flush in self._side_flushes:
            flush()

    def _gateway_command(self, name: str, frame: bytes) -> None:
        """A command a gateway process sent over the bus (on the bus's thread)."""
        self.sequencer.submit(partial(decode_command, frame))

    def _gateway_mark(self, name: str, token: int) -> None:
        """A gateway process's mark (on the bus's thread): answered behind its commands."""
        assert self._stream is not None, "only gateway processes mark, on the bus"
        self._stream.mark(name, token)

    def _set_clock(self, name: str, ts: int) -> None:
        """A gateway's SET_CLOCK (the control plane's SetClock), on the bus's thread: the
        venue's time moves between two commands, then every gateway hears the time it
        has, after a refused set too (so whoever asked learns it was refused)."""
        clock, bus = self._clock, self._bus
        assert clock is not None and bus is not None, "only a virtual clock is set on the bus"
        try:
            self.sequencer.read(partial(clock.set, ts))
        except ClockBackwards as exc:
            log.warning("gateway %s asked to set the clock: refused, %s", name, exc)
        # What the new time makes due happens before whoever set it hears the time: a
        # script that sets 09:30 then sends an order finds the venue open.
        self._run_schedule()
        self._expire_when_due()
        bus.clock(clock())

    def _udp_reply(self, session: int, frame: bytes) -> None:
        if self._udp is not None:
            self._udp.reply(session, frame)

    def _send(self, key: str, message: Any) -> None:
        self.sequencer.read(lambda: self._hold(key, message))

    def _hold(self, key: str, message: Any) -> None:
        # Whatever is sent now depends on every command so far (inside `submit`, the
        # current one): it leaves once that command is durable, in send order.
        self._outbox.hold(self.sequencer.last_seq, key, message)
        self.sequencer.release()

    def _deliver(self, key: str, message: Any) -> None:
        name, side, rest = key.partition(_SIDE)
        if side:
            self._side_outputs[name](rest, message)
        elif self._app is not None:  # else the FIX gateway's process sends its own
            self._app.send(SessionKey(key), message)

    def _commit_loop(self) -> None:
        """Group commit: write each batch as soon as the previous one is on disk."""
        work = self.sequencer.work
        while not self._stopping.is_set():
            work.wait(_COMMITTER_IDLE_SECONDS)
            work.clear()
            while self.sequencer.commit_pending():
                pass
            self._write_recorded(now=False)
            if time.monotonic() - self._sessions_refreshed >= SESSIONS_REFRESH_SECONDS:
                self._refresh_sessions()
                self._sample_backlogs()
            if time.monotonic() - self._operator_polled >= _OPERATOR_POLL_SECONDS:
                try:
                    self._apply_operator_requests()
                except Exception:  # a bad request must not stop the journal
                    log.exception("operator requests could not be applied")
            self._expire_when_due()
            self._run_schedule()

    def _start_schedule(self) -> None:
        """Bring every symbol to the phase the schedule has it in now, before clients
        trade; the committer loop then makes each change as it comes."""
        schedule = self.config.schedule
        if schedule is None:
            return
        symbols = [i.symbol for i in self.config.instruments]
        scheduler = Scheduler(schedule, symbols, self._now())
        engine = self._engine
        phases = self.sequencer.read(lambda: {str(s): engine.phase(Symbol(s)) for s in symbols})
        self._carry_out(scheduler.catch_up(self._now(), phases))
        self._scheduler = scheduler

    def _run_schedule(self) -> None:
        """The phase changes the schedule reached since the loop last looked. The loop
        wakes at least every `_COMMITTER_IDLE_SECONDS`: a change is that late at most."""
        scheduler = self._scheduler
        if scheduler is not None:
            # Under the sequencer's lock: the bus's thread (SetClock) and the committer's
            # both ask, and each change must be journaled once.
            self.sequencer.read(lambda: self._carry_out(scheduler.due(self._now())))

    def _carry_out(self, moves: list[Move]) -> None:
        for move in moves:
            events = self.sequencer.submit(partial(_scheduled_phase, move))
            log.info("schedule: %s -> %s (command %d)", move.symbol or "every symbol",
                     move.phase, events[-1].seq if events else self.sequencer.last_seq)  # fmt: skip
            if move.end_of_day:
                self.sequencer.submit(_end_of_day)
                log.info("schedule: end of the trading day")

    def _expire_when_due(self) -> None:
        """A GTD order expires on time on a quiet venue too: once the earliest expire time
        has come on the venue's clock, journal an ExpireDue (on a busy venue the next
        command expires it first). This loop wakes at least every
        `_COMMITTER_IDLE_SECONDS`, which bounds how late an expiry can be."""
        self.sequencer.read(self._expire_if_due)

    def _expire_if_due(self) -> None:
        """Under the sequencer's lock: the bus's thread and the committer's both ask."""
        due = self._engine.next_expiry()
        if due is not None and self._now() >= due:
            self.sequencer.submit(_expire_due)

    def _refresh_sessions(self) -> None:
        """The sessions' activity for the sessions table, with the FIX gateway here (its
        own process does this itself). Not under any lock of the venue's: each session's
        lookup takes its quickfix mutex."""
        self._sessions_refreshed = time.monotonic()
        if self._app is not None and self._recorder is not None:
            self._recorder.refresh_sessions(self._app.session_states())
        if self._latency is not None:
            self._latency.write()

    def _sample_backlogs(self) -> None:
        metrics = venue_metrics()
        if metrics is not None and self._bus is not None:
            for gateway, backlog in self._bus.backlogs().items():
                metrics.bus_backlog.labels(gateway).set(backlog)

    def _start_throttle_release(self) -> None:
        """Queue-mode throttles: let held messages go as their sessions' tokens come back.

        A thread of its own: the writer hears of a session only when a message arrives,
        and a held one must go even after its session has gone quiet. It may drive the
        venue beside the writer because the venue handles queue-mode sessions under the
        sequencer's lock and holds copies, not quickfix messages; the replies it causes
        leave through the outbox after it lets go of the lock, as every thread's do.
        """
        venue = self._venue
        if venue is None or not venue.queues_messages:
            return

        def release() -> None:
            while not self._stopping.wait(_THROTTLE_RELEASE_SECONDS):
                try:
                    venue.release_queued()
                except Exception:  # a bug must not leave every queue stuck for good
                    log.exception("held messages could not be released")

        threading.Thread(target=release, name="throttle-release", daemon=True).start()

    def start(self) -> None:
        self.writer.start()
        self._committer.start()
        if self._udp is not None:  # bound before the FIX port opens: listening means ready
            self._udp.start()
        bus = self._bus
        for gateway in self._gateways:
            assert bus is not None
            gateway.supervise(bus)
            # The ITCH request server listens before FIX clients trade.
            gateway.wait_ready(bus, _GATEWAY_READY_SECONDS)
            log.info("%s process (pid %s) joined the bus", gateway.name, gateway.pid)
        if self._acceptor is not None:
            self._acceptor.start()
            self._start_throttle_release()
        self.sequencer.read(self.sequencer.release)  # reports recovery held back
        self._start_schedule()
        if bus is not None:  # the FIX gateway's process opens its port now
            bus.open()
        if self._acceptor is not None:
            log.info("%s", fix_settings.listening(self.config))
        if self._replica is not None:
            self._replica.release()

    def _log_out_gateway_process(self) -> None:
        """`[fix] own_process`: the FIX gateway logs its sessions out and sends what
        cancel-on-disconnect asks for; the core waits for it to say it is done."""
        for gateway in self._gateways:
            if gateway.name == "fix" and self._bus is not None:
                gateway.signal_stop()
                if not self._bus.wait_finished("fix", _LOGOUT_GRACE_SECONDS + 1):
                    log.error("the FIX gateway did not finish logging out in time")

    def shut_down(self) -> None:
        """Graceful stop: refuse new Logons, log every session out (bounded wait), let
        in-flight commands finish, flush the journal, snapshot.

        In-flight commands drain by themselves: a command runs entirely under the
        sequencer's lock, which the final flush and snapshot take after it.
        """
        self._log_out_gateway_process()
        if self._bus is not None:
            self._bus.refuse_commands()  # gateway processes' clients: no more orders
        if self._udp is not None:
            self._udp.stop()  # counters logged; no more UDP requests from here on
        if self._acceptor is not None and self._app is not None:
            self._app.log_everyone_out(self._acceptor.isLoggedOn, _LOGOUT_GRACE_SECONDS)
        # What the logouts posted (cancel-on-disconnect) is carried out before the journal's
        # last flush; a writer that does not finish is left to the shutdown bound.
        if not self.writer.stop(_WRITER_STOP_SECONDS):
            log.error("the writer did not finish its work within %.0f s", _WRITER_STOP_SECONDS)
        self._stopping.set()
        self._committer.join()
        # The journal complete first: the replica records all of it before it ends.
        self.sequencer.flush()
        if self._replica is not None:
            self._replica.stop()
        self._write_recorded()
        self._final_snapshot()
        if self._bus is not None:  # after the final flush: the gateways get everything
            for gateway in self._gateways:
                gateway.expect_exit()
            self._bus.close(_BUS_DRAIN_SECONDS)
        for gateway in self._gateways:
            gateway.stop(_GATEWAY_STOP_SECONDS)
        self._write_recorded()
        log.info("all sessions logged out; journal flushed; snapshot taken; stopped")


_LOGOUT_GRACE_SECONDS = 5.0
_GATEWAY_READY_SECONDS = 300.0
"""A gateway process replays the journal after the snapshot before it joins the bus."""
_BUS_DRAIN_SECONDS = 2.0
_GATEWAY_STOP_SECONDS = 3.0
_WRITER_STOP_SECONDS = 5.0
_SIDE = "|"
"""Joins a side gateway's name and its own key in the outbox (FIX keys have no "|")."""


def _kill_switch(
    request_id: int, engage: bool, account: str | None, session: str | None, reason: str,
    seq: Seq, ts: Ts,
) -> KillSwitch:  # fmt: skip
    return KillSwitch(
        seq=seq, ts=ts, engage=engage, reason=reason, request_id=request_id,
        account=None if account is None else Account(account),
        session=None if session is None else SessionKey(session),
    )  # fmt: skip


def _trading(request_id: int, kind: str, symbol: str, reason: str, seq: Seq, ts: Ts) -> Command:
    if kind == "halt":
        return Halt(seq=seq, ts=ts, symbol=Symbol(symbol), reason=reason, request_id=request_id)
    return Resume(seq=seq, ts=ts, symbol=Symbol(symbol), request_id=request_id)


def _scheduled_phase(move: Move, seq: Seq, ts: Ts) -> SetPhase:
    symbol = None if move.symbol is None else Symbol(move.symbol)
    return SetPhase(seq=seq, ts=ts, phase=move.phase, symbol=symbol)


def _end_of_day(seq: Seq, ts: Ts) -> EndOfDay:
    return EndOfDay(seq=seq, ts=ts)


def _expire_due(seq: Seq, ts: Ts) -> ExpireDue:
    return ExpireDue(seq=seq, ts=ts)


def _commit_observed(metrics: VenueMetrics, records: int, seconds: float) -> None:
    metrics.journal_commit.observe(seconds)
    metrics.journal_records.inc(records)


def _set_phase(request_id: int, params: dict[str, Any], seq: Seq, ts: Ts) -> SetPhase:
    symbol = params.get("symbol")
    return SetPhase(
        seq=seq, ts=ts, phase=TradingPhase(str(params["phase"])),
        symbol=None if symbol is None else Symbol(str(symbol)), request_id=request_id,
    )  # fmt: skip


def _control_session(
    request_id: int, kind: str, params: dict[str, Any], seq: Seq, ts: Ts
) -> ControlSession:
    return ControlSession(
        seq=seq, ts=ts, session=SessionKey(str(params.get("session"))),
        action=SessionAction(kind), reason=str(params.get("reason") or ""),
        request_id=request_id,
    )  # fmt: skip


def _amend_trade(
    request_id: int, kind: str, params: dict[str, Any], seq: Seq, ts: Ts
) -> BustTrade | CorrectTrade:
    trade_id, reason = TradeId(int(params["trade_id"])), str(params.get("reason") or "")
    if kind == "bust_trade":
        return BustTrade(seq=seq, ts=ts, trade_id=trade_id, reason=reason, request_id=request_id)
    return CorrectTrade(
        seq=seq, ts=ts, trade_id=trade_id, px=Px(int(params["px"])), qty=Qty(int(params["qty"])),
        reason=reason, request_id=request_id,
    )  # fmt: skip


def _operator_cancel(request_id: int, params: dict[str, Any], seq: Seq, ts: Ts) -> MassCancel:
    """One order (`order_id`) or every open order matching the filters, for whoever asked
    (`by`): an unsolicited cancel for each order's session, no answer to anyone."""

    def given(key: str) -> str | None:
        value = params.get(key)
        return None if value is None else str(value)

    order_id, scope, account, symbol = (given(key) for key in ("order_id", "session",
                                                               "account", "symbol"))  # fmt: skip
    return MassCancel(
        seq=seq, ts=ts, session=SessionKey(f"operator:{params.get('by') or 'cli'}"),
        cl_ord_id=ClOrdId(f"operator-{request_id}"),
        scope_session=None if scope is None else SessionKey(scope),
        account=None if account is None else Account(account),
        symbol=None if symbol is None else Symbol(symbol),
        order_id=None if order_id is None else OrderId(int(order_id)),
        origin=MassCancelOrigin.OPERATOR, request_id=request_id,
    )  # fmt: skip


_OPERATOR_POLL_SECONDS = 0.25
# How late after its token a held message may go; short against any configured rate.
_THROTTLE_RELEASE_SECONDS = 0.005


def _never(_key: str, _message: object) -> bool:
    return False


# The committer is woken by each command; the timeout only bounds a missed wake-up.
_COMMITTER_IDLE_SECONDS = 0.05


def run_until_signalled(
    exchange: Exchange,
    load: Callable[[], VenueConfig],
    serving: Callable[[], None] = lambda: None,
) -> NoReturn:
    """Serve until SIGINT/SIGTERM; on SIGHUP reload the config `load` reads. `serving` is
    called once every port is open (the supervisor's cue, `nyquestro.runtime.supervisor`).

    The stop is bounded (`nyquestro.runtime.watchdog`): exit status 0 when it finished in
    `[store] shutdown_timeout` seconds, 3 (stacks in the log) when it did not or a second
    signal came first. While serving, `status.json` in the store directory says whether
    the writer makes progress (`nyquestro.runtime.liveness`, read by `nyquestro status`).
    """
    stopping = threading.Event()
    reloading = threading.Event()
    timeout = exchange.config.shutdown_timeout
    watchdog = ShutdownWatchdog(timeout)

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        if stopping.is_set():
            return  # the watchdog got this signal too (its wakeup pipe) and ends the process
        watchdog.arm()
        log.info(
            "%s received: logging sessions out (a stop may take %g s; a second signal ends "
            "it at once)", signal.Signals(signum).name, timeout,
        )  # fmt: skip
        stopping.set()

    def request_reload(_signum: int, _frame: FrameType | None) -> None:
        reloading.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGHUP, request_reload)
    # Before the port opens: once clients can connect, `nyquestro status` has an answer.
    monitor = LivenessMonitor(
        exchange.sequencer.probe, exchange.journal, exchange.config.store_dir, exchange.writer
    )
    monitor.start()
    try:
        exchange.start()
    except GatewayStartError as exc:
        # Nothing is open to clients yet; the gateway processes die with this one.
        log.error("the venue cannot start: %s", exc)
        logging.shutdown()
        os._exit(1)
    serving()
    while not stopping.wait(0.2):
        if reloading.is_set():
            reloading.clear()
            log.info("SIGHUP received: reloading the config")
            exchange.reload(load)
    exchange.shut_down()
    monitor.stop()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # Not a normal interpreter exit: that would run quickfix's destructors, which call
    # the racy stop() (see the module docstring).
    os._exit(0)
