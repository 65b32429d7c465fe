"""The FIX gateway's process, when `[fix] own_process` is on (`gateway_process.py` starts
it; not a command for people).

Here run quickfix, the sessions' translation (`FixVenue`), throttles, the drop copy and
the FIX tap of the audit trail; the core only sequences, matches and journals. The
venue's state is rebuilt from the core's start snapshot and the committed stream, and
reports a session's quickfix store lacks (the gateway or the whole venue died between a
commit and the hand-over) are sent again with their original ExecIDs, as a venue in one
process does at recovery.

Two things differ from one process, both handled here:
- A command is sent to the core and its reports come back on the stream, so a message
  whose answer reads the gateway's views (OrderStatusRequest, MarketDataRequest, a
  NewOrderSingle resent with PossResend) waits for a mark: it is answered once the core
  has put every command this gateway sent before it on the stream, i.e. after their
  reports, as in one process.
- The stop: the core sends SIGTERM; the gateway refuses Logons, logs every session out
  (cancel-on-disconnect commands go to the core), tells the core it sends no more, and
  follows the stream until the core ends it, so the last reports reach quickfix's store.
"""

import itertools
import logging
import os
import pickle
import signal
import socket
import sys
import threading
import time
from functools import partial
from types import FrameType

import quickfix as fix

from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.faults import Fault
from nyquestro.config.venue import FixSessionConfig, VenueConfig
from nyquestro.domain.ids import SessionKey
from nyquestro.gateways.fix.acceptor import Application, QuickfixNumbering
from nyquestro.gateways.fix.after_ack import after_ack
from nyquestro.gateways.fix.after_fill import after_fill
from nyquestro.gateways.fix.delays import DelayedDelivery
from nyquestro.gateways.fix.dialect import tag
from nyquestro.gateways.fix.inbound import FieldSource
from nyquestro.gateways.fix.message import ToSession
from nyquestro.gateways.fix.peers import LogonGate
from nyquestro.gateways.fix.relay import FaultRelay
from nyquestro.gateways.fix.venue import FixVenue
from nyquestro.runtime import fix_settings
from nyquestro.runtime.assembly import add_sessions
from nyquestro.runtime.clock import reader, venue_clock
from nyquestro.runtime.follower import Follower
from nyquestro.runtime.gateway_main import Start, read_start, run_gateway
from nyquestro.runtime.latency import stage_clock
from nyquestro.runtime.recorder import SESSIONS_REFRESH_SECONDS, Recorder
from nyquestro.runtime.settings import apply_throttles
from nyquestro.runtime.writer import Writer
from nyquestro.store.audit import AuditTrail
from nyquestro.store.database import create_db_engine
from nyquestro.store.faults import finish_fault, pending_faults
from nyquestro.store.projection import Projection

log = logging.getLogger("nyquestro.runtime.fix_process")

READS_VIEWS = frozenset({"H", "V"})
"""Message types whose answer reads the gateway's views (besides a resent order)."""
_LOGOUT_GRACE_SECONDS = 5.0
_WRITER_STOP_SECONDS = 3.0
_THROTTLE_RELEASE_SECONDS = 0.005
_FAULTS_POLL = 0.1
"""Seconds between looks for session faults the control plane queued."""
_TAP_WRITE_SECONDS = 0.05


class Deferring:
    """The venue as the quickfix adapter sees it in a gateway process: messages that read
    the views wait for a mark (module doc); the rest go to the venue at once."""

    def __init__(self, venue: FixVenue, follower: Follower) -> None:
        self._venue = venue
        self._follower = follower
        self._waiting: dict[int, tuple[SessionKey, str, FieldSource]] = {}
        self._tokens = itertools.count(1)
        follower.on_marked = self._marked

    def handles(self, key: SessionKey, msg_type: str) -> bool:
        return self._venue.handles(key, msg_type)

    def on_logout(self, key: SessionKey) -> None:
        self._venue.on_logout(key)

    def receive(self, key: SessionKey, msg_type: str, msg: FieldSource) -> None:
        """On the writer thread, under the follower's lock."""
        if msg_type in READS_VIEWS or (msg_type == "D" and msg.get(tag("PossResend")) == "Y"):
            token = next(self._tokens)
            self._waiting[token] = (key, msg_type, msg)
            self._follower.mark(token)
        else:
            self._venue.receive(key, msg_type, msg)

    def _marked(self, token: int) -> None:
        """On the stream's thread, under the follower's lock, between two entries."""
        key, msg_type, msg = self._waiting.pop(token)
        self._venue.receive(key, msg_type, msg)


class FixGateway:
    def __init__(self, config: VenueConfig, follower: Follower) -> None:
        self._config = config
        self._follower = follower
        # Behaviour rules' delays hold a session's reports after they are durable.
        rules = config.fix.rules
        delays = any(r.delay_acks or r.delay_fills for r in rules)
        self._acting = tuple(r for r in rules if r.cancel_after_ack or r.fill or r.amend)
        """Rules that act once an ack or a fill has gone out: reports are looked at only if
        there are."""
        deliver = DelayedDelivery(rules, self._deliver) if delays else self._deliver
        send = follower.side_sender("fix", deliver)
        clock = venue_clock(config.clock)
        if clock is not None:
            # The core holds the venue's time and announces each move on the bus.
            follower.on_clock = clock.set
        now = reader(clock)
        self._venue = FixVenue(config.instruments, submit=follower.submit,
                               read=follower.read, send=send, clock=now)  # fmt: skip
        add_sessions(self._venue, config)
        restored = follower.restored_venue()
        if restored is not None:
            self._venue.restore_state(restored)
        follower.subscribe(self._venue.on_events)
        follower.on_settings = self._throttles
        follower.on_open = self._open
        highest = fix_settings.delivered_exec_ids(config)
        follower.resend = lambda key, seq, message: (
            not fix_settings.in_store(highest.get(key, 0), seq, message)
        )
        self._recorder: Recorder | None = None
        if config.audit:
            db = create_db_engine(config.db)
            prices = DecimalPrices({i.symbol: i for i in config.instruments})
            self._recorder = Recorder(AuditTrail(db, prices), Projection(db),
                                      lambda: follower.last_seq, now)  # fmt: skip
            self._recorder.throttle_usage = self._venue.throttle_usage
        self._writer = Writer(follower.read)
        timing = stage_clock(config, self._venue)
        self._latency = None if timing is None else timing[1]
        # With the fault relay in front, quickfix listens on a loopback port of its own and
        # every peer it sees is the relay: the relay applies [fix] allow at accept instead.
        inner_port = _free_loopback_port() if config.fix.faults else None
        self._app = Application(
            Deferring(self._venue, follower), self._writer.post, tap=self._recorder,
            gate=None if inner_port else LogonGate(config.fix.allow, config.fix.port),
            stages=None if timing is None else timing[0],
        )  # fmt: skip
        self._relay: FaultRelay | None = None
        self._faults_db = None
        if inner_port is not None:
            hooks = QuickfixNumbering(self._app.session_ids)
            fix_cfg = config.fix
            self._relay = FaultRelay(fix_cfg.port, inner_port, fix_cfg.allow, fix_cfg.comp_id,
                                     hooks, fix_cfg.fault_schedule)  # fmt: skip
            self._faults_db = create_db_engine(config.db)
        self._settings = fix.SessionSettings(str(fix_settings.write(config, inner_port)))
        self._store = fix.FileStoreFactory(self._settings)
        self._acceptor = fix.SocketAcceptor(self._app, self._store, self._settings)
        self._stopping = threading.Event()
        self._leaving = False
        """A stop is under way (set by the SIGTERM handler, on the main thread only)."""

    def _throttles(self, payload: bytes) -> None:
        """A reload changed throttles (the core logged which): apply them here."""
        changed: tuple[FixSessionConfig, ...] = pickle.loads(payload)
        apply_throttles(self._venue, self._config.fix.comp_id, changed)
        log.info("throttles of %d session(s) applied to the FIX gateway's sessions", len(changed))

    def _deliver(self, key: str, message: ToSession) -> None:
        self._app.send(SessionKey(key), message)
        if not self._acting:
            return
        amending = after_fill(self._acting, key, message)
        if amending is not None:
            self._writer.post(partial(self._venue.amend_by_rule, amending.exec_id,
                                      amending.rule, amending.amend))  # fmt: skip
            return
        action = after_ack(self._acting, key, message)
        if action is None:
            return
        # On the writer, like every request of the venue's: one thread submits.
        if action.cancel:
            task = partial(self._venue.cancel_by_rule, SessionKey(key), action.order_id)
            self._writer.post(task)
        if action.fill is not None:
            self._writer.post(partial(self._venue.fill_by_rule, action.order_id, action.fill))

    def start(self) -> None:
        """Everything but the port, which opens when the core opens the venue (`_open`):
        a client that can connect finds every gateway ready. That the port is free is
        checked now, so a gateway that could not listen fails before it joins and
        `nyquestro serve` exits non-zero."""
        _check_port_free(self._config.fix.port)
        self._writer.start()
        threading.Thread(target=self._background, name="fix-background", daemon=True).start()
        signal.signal(signal.SIGTERM, self._log_out)

    def _open(self) -> None:
        if self._leaving:
            return  # the venue is stopping before it opened: nobody to let in
        self._acceptor.start()
        if self._relay is not None:
            self._relay.start()
            log.info("fault relay on port %d in front of quickfix", self._config.fix.port)
        log.info("%s (the FIX gateway's process, pid %d)", fix_settings.listening(self._config),
                 os.getpid())  # fmt: skip

    def _background(self) -> None:
        """Queue-mode throttles' held messages, the tap's audit writes and the sessions'
        activity."""
        last_write = last_refresh = last_faults = time.monotonic()
        while not self._stopping.wait(_THROTTLE_RELEASE_SECONDS):
            try:
                if self._relay is not None and time.monotonic() - last_faults > _FAULTS_POLL:
                    last_faults = time.monotonic()
                    self._do_faults(self._relay)
                if self._venue.queues_messages:
                    self._venue.release_queued()
                now = time.monotonic()
                if now - last_refresh > SESSIONS_REFRESH_SECONDS:
                    last_refresh = now
                    if self._recorder is not None:
                        self._recorder.refresh_sessions(self._app.session_states())
                    if self._latency is not None:
                        self._latency.write()
                if self._recorder is not None and now - last_write > _TAP_WRITE_SECONDS:
                    last_write = now
                    self._recorder.write_pending(now=False)
            except Exception:  # a bug must not stop the queues or the audit for good
                log.exception("background work of the FIX gateway failed")

    def _do_faults(self, relay: FaultRelay) -> None:
        """Faults the control plane queued: done (or refused), the outcome written back."""
        assert self._faults_db is not None
        for request in pending_faults(self._faults_db):
            try:
                fault = Fault(request.fault)
                outcome, refused = relay.arm(request.session_key, fault, request.amount), False
            except (ValueError, KeyError) as exc:  # unknown fault; FaultRefused; no session
                outcome, refused = str(exc), True
            finish_fault(self._faults_db, request.id, refused, outcome)

    def _log_out(self, _signum: int, _frame: FrameType | None) -> None:
        """SIGTERM from the core: log out, then tell the core no more commands come. Once:
        a service manager that signals every process sends one too, besides the core's."""
        if self._leaving:
            return
        self._leaving = True
        threading.Thread(target=self._leave, name="fix-stop", daemon=True).start()

    def _leave(self) -> None:
        if self._relay is not None:
            self._relay.stop()
        self._app.log_everyone_out(self._acceptor.isLoggedOn, _LOGOUT_GRACE_SECONDS)
        if not self._writer.stop(_WRITER_STOP_SECONDS):
            log.error("the writer did not finish within %.0f s", _WRITER_STOP_SECONDS)
        self._follower.finish()

    def stop(self) -> None:
        """After the stream's END: every report is in quickfix's store. Exit at once:
        quickfix 1.16's destructors race its acceptor thread (see runtime/serve.py)."""
        self._stopping.set()
        if self._recorder is not None:
            self._recorder.write_pending()
        log.info("FIX gateway stopped")
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _check_port_free(port: int) -> None:
    """OSError naming the port if another process listens on it (quickfix's acceptor binds
    every IPv4 interface, with SO_REUSEADDR as here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError as exc:
            why = f"[fix] port {port} cannot be listened on: {exc.strerror}"
            raise OSError(exc.errno, why) from None


def main(start: Start) -> int:
    return run_gateway(start, "fix", FixGateway)


if __name__ == "__main__":
    sys.exit(main(read_start(sys.argv)))
