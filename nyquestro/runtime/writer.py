"""The single writer: the thread that carries out what quickfix's callbacks hand over.

A quickfix callback runs while quickfix holds that session's mutex, so it must never
wait for the sequencer's lock: the thread holding that lock may itself be waiting for a
session mutex (ADR 0008). Callbacks `post` their work here instead and return at once;
this thread runs it under the sequencer's lock, in the order it was posted, a batch at a
time (one lock round-trip, and one delivery run after it, for whatever arrived together).
"""

import logging
import queue
import threading
from collections.abc import Callable
from functools import partial

log = logging.getLogger(__name__)

Task = Callable[[], None]
RunLocked = Callable[[Callable[[], None]], None]
"""Runs a function under the sequencer's lock (`Sequencer.read`)."""

BATCH = 64
"""Most tasks run under one lock acquisition: a long backlog still lets other threads
(the committer releasing reports, the throttle timer) in between batches."""


class Writer:
    def __init__(self, run_locked: RunLocked, name: str = "writer") -> None:
        self._run_locked = run_locked
        self._queue: queue.SimpleQueue[Task | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.completed = 0
        """Tasks carried out so far (read by the liveness monitor without a lock)."""

    def post(self, task: Task) -> None:
        """Queue `task`; never blocks (any thread, quickfix's callbacks included)."""
        self._queue.put(task)

    @property
    def backlog(self) -> int:
        """Tasks posted and not yet started (approximate, as any queue size)."""
        return self._queue.qsize()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Carry out what was posted before this call, then end; False if the thread is
        still running after `timeout` seconds (it is wedged: the caller decides)."""
        self._queue.put(None)
        if not self._thread.is_alive():
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        pending = self._queue
        while True:
            first = pending.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < BATCH:
                try:
                    task = pending.get_nowait()
                except queue.Empty:
                    break
                if task is None:
                    stop = True
                    break
                batch.append(task)
            try:
                self._run_locked(partial(_run_all, batch))
            except Exception:  # a failed lock section must not end the writer
                log.exception("writer batch failed")
            self.completed += len(batch)
            if stop:
                return


def _run_all(batch: list[Task]) -> None:
    for task in batch:
        try:
            task()
        except Exception:  # one bad task must not cost the others in its batch
            log.exception("writer task failed: %r", task)
