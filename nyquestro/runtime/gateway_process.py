"""Gateway processes: started by the core, restarted when they die, stopped with it.

A gateway process runs its module's `main(Start)` (`gateway_main.py`) with the core's
config as it stands, reloads included: no file to read again, no environment to agree
on. It follows the committed stream (`follower.py`) and dies with the core
(`lifeline.py`). One that exits while the core runs is started again and resumes from the
bus's ring or the journal: after half a second if it had joined the bus, after a pause
that doubles (up to 30 s) each time one dies before joining (a gateway that cannot start
does not spin).

How a process starts depends on whether the core has threads yet:
- the first start, at the core's start-up, while the main thread is the only one, forks
  the core: the child has every module imported already, which saves about half a
  second of CPU per gateway (`import nyquestro.runtime.fix_process` alone costs 0.57 s
  on the 2-core machine here) while the core recovers on the same two cores;
- a restart comes from the supervisor's thread while the core's others run. A fork then
  copies only the forking thread, with any lock another thread held at that moment
  locked for good in the child, so it starts a fresh interpreter instead: `python -m
  <module>` with the `Start` in its arguments and the config pickled on its stdin.
"""

import importlib
import logging
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
import weakref
from typing import Protocol

from nyquestro.bus.stream import StreamServer
from nyquestro.config.venue import VenueConfig
from nyquestro.domain.errors import NyquestroError
from nyquestro.runtime.gateway_main import Start

log = logging.getLogger(__name__)

_FIRST_PAUSE_SECONDS = 0.5
_LONGEST_PAUSE_SECONDS = 30.0


class GatewayStartError(NyquestroError):
    """A gateway process could not start; the message says which and how it ended."""


class _Child(Protocol):
    """What supervising a gateway process uses of it: `subprocess.Popen`'s calls."""

    @property
    def pid(self) -> int: ...
    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def send_signal(self, sig: int) -> None: ...
    def kill(self) -> None: ...


class _Forked:
    """A child forked from this process, with the calls of `subprocess.Popen` that
    `_Child` names. Exit is watched through a pidfd, so waiting needs no polling loop;
    reaping happens under a lock, so any thread may ask."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._exited = os.pidfd_open(pid)
        # Closed only with this object: a waiter may be about to poll it when another
        # thread reaps the child, and a number closed then could be reused by another file.
        weakref.finalize(self, os.close, self._exited)
        self._lock = threading.Lock()
        self._code: int | None = None

    def poll(self) -> int | None:
        with self._lock:
            if self._code is None:
                reaped, status = os.waitpid(self.pid, os.WNOHANG)
                if reaped:
                    self._code = os.waitstatus_to_exitcode(status)
            return self._code

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
            # Readable once the child has exited (and until it is reaped). poll, not select:
            # a busy core's descriptor numbers may pass select's limit of 1024.
            exited = select.poll()
            exited.register(self._exited, select.POLLIN)
            exited.poll(None if left is None else left * 1000)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


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
        self._process: _Child | None = None
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
        which lives until `stop`). Forked while that thread is the only one (see the
        module doc)."""
        if threading.active_count() == 1:
            self._fork()
        else:
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

    def expect_exit(self) -> None:
        """The core is about to end the stream: from here on the process ending is its
        stop, not a crash to restart it after (it may end before `stop` is called)."""
        self._stopping.set()

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

    def _start(self) -> Start:
        return Start(os.getpid(), self._bus, self._start_snapshot, self.config)

    def _fork(self) -> None:
        main = importlib.import_module(self._module).main  # imported once, here
        start = self._start()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                # Not in the core's process group, as a started one would not be (below).
                os.setsid()
                code = main(start)
            except BaseException:  # the child never returns into the core's stack
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self._started(_Forked(pid), "forked from the core")

    def _spawn(self) -> None:
        process = subprocess.Popen(
            [sys.executable, "-m", self._module, *self._start().arguments()],
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
        self._started(process, "a fresh interpreter")

    def _started(self, process: _Child, how: str) -> None:
        with self._lock:
            self._process = process
        log.info("%s process started (pid %d): %s", self.name, process.pid, how)

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
