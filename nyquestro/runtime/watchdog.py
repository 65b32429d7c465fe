"""A bounded stop: once a stop is requested, the process is gone within a set time.

The orderly stop (`Exchange.shut_down`) logs sessions out, joins the committer, flushes
the journal and takes a snapshot; one thread wedged on a lock or a database call makes it
wait forever, and a main thread blocked in `Thread.join` may never run a Python signal
handler again. So the watchdog, armed when the stop is requested, ends the process when
the stop has not finished within its bound, or at once on a second SIGTERM/SIGINT:

1. Its own thread logs why, flushes every logging handler and stdio, writes every
   thread's stack with `faulthandler` to the log's file descriptor, and leaves with
   `os._exit(HARD_EXIT_STATUS)`. It touches nothing that may be what is wedged (not the
   sequencer's lock, not the database): what the journal committed is durable already,
   and what it had not is what the venue never acknowledged.
2. A backstop in C (`faulthandler.dump_traceback_later`), `BACKSTOP_SECONDS` after the
   bound, dumps the stacks and exits with status 1 where that thread cannot run at all
   (a thread holding the GIL in a C call, a logging lock held by a wedged writer).

A second signal reaches the watchdog through `signal.set_wakeup_fd`: the C-level handler
writes the signal's number to a pipe from whichever thread the signal interrupts, so it
does not wait for the main thread to get back to the interpreter. One that comes within
`DUPLICATE_SECONDS` of the first is the same request delivered twice, not an operator's
second Ctrl-C: a service manager that signals every process of the venue (systemd's
default) reaches the core both directly and through `serve`'s supervisor.
"""

import faulthandler
import logging
import os
import select
import signal
import sys
import threading
import time
from typing import NoReturn, TextIO

log = logging.getLogger(__name__)

HARD_EXIT_STATUS = 3
"""Exit status when the watchdog ended the stop (0 is an orderly stop, 1 the backstop)."""
BACKSTOP_SECONDS = 2.0
"""How long after the bound the C-level backstop fires if the watchdog thread has not."""
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})
DUPLICATE_SECONDS = 1.0


class ShutdownWatchdog:
    """Ends the process `timeout` seconds after `arm`, or on the next stop signal."""

    def __init__(self, timeout: float, stream: TextIO | None = None) -> None:
        self._timeout = timeout
        self._stream = sys.stderr if stream is None else stream
        """Where the stacks go: the file the log handlers write to."""
        self._armed = False

    def arm(self) -> None:
        """Start the countdown; call it from the main thread (a signal handler runs
        there), which alone may install the wakeup descriptor. Arming twice does nothing."""
        if self._armed:
            return
        self._armed = True
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)  # the C signal handler must never block on it
        signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        faulthandler.dump_traceback_later(
            self._timeout + BACKSTOP_SECONDS, exit=True, file=self._stream
        )
        deadline = time.monotonic() + self._timeout
        threading.Thread(
            target=self._watch, args=(read_fd, deadline), name="shutdown-watchdog", daemon=True
        ).start()

    def _watch(self, read_fd: int, deadline: float) -> None:
        duplicates_until = time.monotonic() + DUPLICATE_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                continue
            for number in os.read(read_fd, 64):
                if number in STOP_SIGNALS and time.monotonic() >= duplicates_until:
                    self._end(f"{signal.Signals(number).name} received again while stopping")
        self._end(f"the stop did not finish within {self._timeout:g} s")

    def _end(self, why: str) -> NoReturn:
        log.critical(
            "%s: every thread's stack follows; exiting with status %d", why, HARD_EXIT_STATUS
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stdout.flush()
        self._stream.flush()
        # The backstop would dump a second time, interleaved with this dump.
        faulthandler.cancel_dump_traceback_later()
        faulthandler.dump_traceback(file=self._stream, all_threads=True)
        os._exit(HARD_EXIT_STATUS)
