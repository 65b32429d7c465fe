"""Gateway processes: started by the core, restarted when they die, stopped with it.

A gateway process is `python -m <module> PARENT_PID BUS_ADDRESS START_SNAPSHOT`, with the
venue's config pickled on its stdin (the core's config as it stands, reloads included:
no file to read again, no environment to agree on). It follows the committed stream
(`follower.py`) and dies with the core (`lifeline.py`). One that exits while the core
runs is started again and resumes from the bus's ring or the journal: after half a
second if it had joined the bus, after a pause that doubles (up to 30 s) each time one
dies before joining (a gateway that cannot start does not spin).
"""

import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time

from nyquestro.bus.stream import StreamServer
from nyquestro.config.venue import VenueConfig
from nyquestro.domain.errors import NyquestroError

log = logging.getLogger(__name__)

_FIRST_PAUSE_SECONDS = 0.5
_LONGEST_PAUSE_SECONDS = 30.0


class GatewayStartError(NyquestroError):
    """A gateway process could not start; the message says which and how it ended."""


class GatewayProcess:
    def __init__(
        self, name: str, module: str, config: VenueConfig, bus: str, start_snapshot: int
    ) -> None:
        self.name = name
        self._module = module
        self.config = config
        """Handed to each start (the core replaces it when the config is reloaded)."""
        self._bus = bus
        self._start_snapshot = start_snapshot
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._supervisor = threading.Thread(
            target=self._supervise, name=f"{name}-supervisor", daemon=True
        )
        self._server: StreamServer | None = None
        """The bus, once supervising (it did not exist when the first process started)."""
        self._joins_before = 0
        """The bus's count of this gateway's joins when the current process started."""

    @property
    def pid(self) -> int | None:
        with self._lock:
            return None if self._process is None else self._process.pid

    def start(self) -> None:
        """Start the process, from the main thread (the kernel's parent-death signal
        follows the thread that started a child; restarts come from the supervisor's,
        which lives until `stop`)."""
        self._spawn()

    def supervise(self, server: StreamServer) -> None:
        """Restart the process whenever it ends, from now until `stop`."""
        self._server = server
        self._supervisor.start()

    def wait_ready(self, server: StreamServer, timeout: float) -> None:
        """Wait until the process joined the bus; GatewayStartError if it ended first or
        did not join within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not server.wait_for(self.name, 0.1):
            with self._lock:
                process = self._process
            code = None if process is None else process.poll()
            if code is not None:
                raise GatewayStartError(
                    f"the {self.name} process ended with exit status {code} before it joined "
                    "the bus; its log is above"
                )
            if time.monotonic() >= deadline:
                raise GatewayStartError(f"the {self.name} process did not join the bus in "
                                        f"{timeout:.0f} s")  # fmt: skip

    def signal_stop(self) -> None:
        """SIGTERM: the gateway's cue to wind down while the stream goes on (the FIX
        gateway logs its sessions out)."""
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float) -> None:
        """Let the process finish (the core ended the stream first), then end it."""
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is None:
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.error("the %s process did not stop within %.0f s; killed", self.name, timeout)
            process.kill()
            process.wait()

    def _spawn(self) -> None:
        process = subprocess.Popen(
            [sys.executable, "-m", self._module, str(os.getpid()), self._bus,
             str(self._start_snapshot)],
            stdin=subprocess.PIPE,
            # Not in the terminal's process group: Ctrl-C reaches the core only, which
            # ends the stream, and the gateway finishes on its own.
            start_new_session=True,
        )  # fmt: skip
        assert process.stdin is not None
        try:
            process.stdin.write(pickle.dumps(self.config, protocol=pickle.HIGHEST_PROTOCOL))
            process.stdin.close()
        except BrokenPipeError:
            pass  # it died at once; the supervisor sees its exit status
        with self._lock:
            self._process = process
        log.info("%s process started (pid %d)", self.name, process.pid)

    def _supervise(self) -> None:
        server = self._server
        assert server is not None
        pause = _FIRST_PAUSE_SECONDS
        while True:
            with self._lock:
                process = self._process
            assert process is not None
            code = process.wait()
            if self._stopping.is_set():
                return
            if server.joins(self.name) > self._joins_before:
                pause = _FIRST_PAUSE_SECONDS  # it had started fine: no crash loop
            log.error("the %s process (pid %d) ended with exit status %d; restarting it in "
                      "%.1f s", self.name, process.pid, code, pause)  # fmt: skip
            if self._stopping.wait(pause):
                return
            pause = min(pause * 2, _LONGEST_PAUSE_SECONDS)
            self._joins_before = server.joins(self.name)
            self._spawn()
