"""`nyquestro serve`: wire engine, sequencer and FIX acceptor; stop cleanly on a signal.

Threads: the main thread only waits for SIGINT/SIGTERM. quickfix's SocketAcceptor runs
one thread that makes every callback; that thread enters the sequencer to change state.
"""

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

import quickfix as fix

from nyquestro.config.venue import VenueConfig
from nyquestro.engine import Engine
from nyquestro.gateways.fix.acceptor import Application, session_key_of
from nyquestro.gateways.fix.message import OutMessage
from nyquestro.gateways.fix.venue import FixVenue
from nyquestro.runtime import fix_settings
from nyquestro.runtime.sequencer import Sequencer

log = logging.getLogger(__name__)


class Exchange:
    """A running venue: start() opens the FIX port, stop() logs every session out."""

    def __init__(self, config: VenueConfig) -> None:
        self.config = config
        self.sequencer = Sequencer(Engine(config.instruments), time.time_ns)
        self._app: Application | None = None
        venue = FixVenue(
            config.instruments,
            submit=self.sequencer.submit,
            read=self.sequencer.read,
            send=self._send,
            clock=time.time_ns,
        )
        for s in config.fix.sessions:
            key = session_key_of(s.begin_string, config.fix.comp_id, s.target_comp_id)
            venue.add_session(key, s.begin_string, s.account, s.cancel_on_disconnect)
        self.sequencer.subscribe(venue.on_events)
        self._app = Application(venue)
        settings_path = fix_settings.write(config)
        self._settings = fix.SessionSettings(str(settings_path))
        self._store = fix.FileStoreFactory(self._settings)
        self._acceptor = fix.SocketAcceptor(self._app, self._store, self._settings)

    def _send(self, key: str, message: OutMessage) -> None:
        assert self._app is not None
        self._app.send(key, message)  # type: ignore[arg-type]

    def start(self) -> None:
        self._acceptor.start()
        fix_cfg = self.config.fix
        names = ", ".join(f"{s.target_comp_id}/{s.begin_string}" for s in fix_cfg.sessions)
        log.info(
            "Nyquestro FIX acceptor on port %d (connect to 127.0.0.1:%d) as %s; sessions: %s",
            fix_cfg.port, fix_cfg.port, fix_cfg.comp_id, names,
        )  # fmt: skip

    def stop(self) -> None:
        self._acceptor.stop()
        log.info("all sessions logged out; stopped")


def run_until_signalled(exchange: Exchange, on_ready: Callable[[], None] | None = None) -> int:
    stopping = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s received: logging sessions out", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    exchange.start()
    if on_ready is not None:
        on_ready()
    while not stopping.wait(0.2):
        pass
    exchange.stop()
    return 0
