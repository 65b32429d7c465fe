"""`nyquestro serve`'s first process: it runs the venue's core in a child process and
starts it again when something kills it.

Why a process of its own: the core supervises its gateway processes (`gateway_process`),
but nothing supervised the core, so a kill -9 of it (or the OOM killer) ended the venue
until someone started it again. The supervisor does nothing else: no threads, sockets or
database, so what kills a core does not reach it. It forks each core from its own
interpreter, whose modules are already imported: a restart costs no interpreter start.

Signals: SIGTERM, SIGINT and SIGHUP are passed on to the core, which stops or reloads as
it always did (a second SIGTERM still ends a wedged stop at once). The core runs in a
process group of its own, so a terminal's Ctrl-C reaches it once, through here, not
twice. The core's exit status becomes `nyquestro serve`'s. A core that ends by a signal
nobody passed on is restarted: after `RESTART_SECONDS` if it had told the supervisor it
was serving (through a pipe), else after a delay that doubles up to `MAX_RESTART_SECONDS`
(a core that dies while it recovers would otherwise restart in a tight loop). One that
exits (a clean stop, a venue that cannot start, a configuration error) is not restarted. The core
dies with the supervisor, and its gateway processes with it: kill -9 of `nyquestro serve`
still ends the whole venue.
"""

import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import suppress
from types import FrameType
from typing import NoReturn

from nyquestro.runtime import lifeline

log = logging.getLogger(__name__)

RESTART_SECONDS = 0.5
MAX_RESTART_SECONDS = 30.0
_POLL_SECONDS = 0.05
_PASSED_ON = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_STOPS = (signal.SIGTERM, signal.SIGINT)


class Supervisor:
    def __init__(self, run_core: Callable[[Callable[[], None]], int], stop_timeout: float) -> None:
        """`run_core(serving)` runs in each child, calls `serving()` once its ports are
        open and returns its exit status; `stop_timeout`: how long a core asked to stop
        may take before it is killed (the core's own watchdog ends it sooner: this bounds
        a core that no longer handles signals)."""
        self._run_core = run_core
        self._stop_timeout = stop_timeout
        self._core: int | None = None
        self._served = False
        """The current core said it was serving."""
        self._stop_asked_at: float | None = None

    def run(self) -> int:
        """Run cores until one exits; returns the exit status for `nyquestro serve`."""
        for signum in _PASSED_ON:
            signal.signal(signum, self._pass_on)
        delay = RESTART_SECONDS
        while True:
            pid, status = self._run_once()
            if not os.WIFSIGNALED(status) or self._stop_asked_at is not None:
                code = os.waitstatus_to_exitcode(status)
                return code if code >= 0 else 128 - code
            if self._served:
                delay = RESTART_SECONDS
            log.error(
                "the core process (pid %d) was killed by %s; restarting it in %.1f s",
                pid, signal.Signals(os.WTERMSIG(status)).name, delay,
            )  # fmt: skip
            if not self._sleep(delay):
                return 0  # asked to stop while no core ran: nothing left to stop
            delay = min(delay * 2, MAX_RESTART_SECONDS)

    def _run_once(self) -> tuple[int, int]:
        parent = os.getpid()
        said, say = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(said)
            self._child(parent, say)
        os.close(say)
        os.set_blocking(said, False)
        # Both sides set the group: whichever runs first, a signal finds it in place.
        _own_group(pid)
        self._core, self._served = pid, False
        log.info("core process started (pid %d)", pid)
        if self._stop_asked_at is not None:  # the signal came before `_core` was set
            os.kill(pid, signal.SIGTERM)
        try:
            return pid, self._wait(pid, said)
        finally:
            self._core = None
            os.close(said)

    def _child(self, parent: int, say: int) -> NoReturn:
        code = 1

        def serving() -> None:
            with suppress(OSError):  # a supervisor that is gone takes this process along
                os.write(say, b"!")

        try:
            _own_group(0)
            # The core installs its own handlers once it has recovered; until then a stop
            # ends it at once (as it always did) and a reload has nothing to reload yet.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            if lifeline.die_with_parent(parent):
                code = self._run_core(serving)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # the core's own failure: say what it was, exit 1
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _wait(self, pid: int, said: int) -> int:
        """The core's wait status, once it ends; killed if a stop takes too long."""
        killed = False
        while True:
            if not self._served:
                with suppress(BlockingIOError):
                    self._served = os.read(said, 1) == b"!"
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            asked = self._stop_asked_at
            if not killed and asked is not None and time.monotonic() - asked > self._stop_timeout:
                log.error("the core process (pid %d) did not stop within %.0f s; killed", pid,
                          self._stop_timeout)  # fmt: skip
                os.kill(pid, signal.SIGKILL)
                killed = True
            time.sleep(_POLL_SECONDS)

    def _sleep(self, seconds: float) -> bool:
        """Wait before a restart; False if a stop was asked meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._stop_asked_at is not None:
                return False
            time.sleep(_POLL_SECONDS)
        return self._stop_asked_at is None

    def _pass_on(self, signum: int, _frame: FrameType | None) -> None:
        if signum in _STOPS and self._stop_asked_at is None:
            self._stop_asked_at = time.monotonic()
        if self._core is not None:
            with suppress(ProcessLookupError):  # it just ended; `_wait` reaps it
                os.kill(self._core, signum)


def _own_group(pid: int) -> None:
    """Put process `pid` (0: this one) in a process group of its own."""
    with suppress(ProcessLookupError):  # the core already ended; `_wait` reaps it
        os.setpgid(pid, pid)
