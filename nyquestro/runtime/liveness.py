"""Is the venue's writer making progress? A monitor thread writes the answer to a file.

The writer is the sequencer (one lock around every command) and the journal's committer
behind it. Every `INTERVAL_SECONDS` the monitor tries the sequencer's lock with a timeout
(`Sequencer.probe`) and reads how far the journal has appended and committed; it writes
what it saw, atomically (temporary file + `os.replace`), to `status.json` in the store
directory, where `nyquestro status` reads it without talking to the venue.

The writer counts as making progress at a sample when the lock could be taken, the
journal has either nothing waiting (durable == appended) or committed more since the last
sample, and the writer thread that carries out quickfix's messages has either nothing
queued or finished more since the last sample. It is stalled when that has not been
true for more than `STALL_SECONDS`: work is waiting and nothing moves (a committer
blocked in its commit, a thread wedged under the lock or in a send). An idle venue is
never stalled.

The monitor never blocks: the lock only with a timeout, the journal's counters read as
plain attributes; it never calls into quickfix (the probe takes the raw lock, so leaving
it delivers nothing).
"""

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

STATUS_FILE = "status.json"
INTERVAL_SECONDS = 0.25
PROBE_TIMEOUT_SECONDS = 0.2
STALL_SECONDS = 1.0
"""Work waiting and no progress for longer than this: stalled."""
STALE_SECONDS = 1.0
"""A status file older than this means the monitor itself has stopped writing."""


class WriterThread(Protocol):
    """What the monitor reads of `runtime.writer.Writer`: two counters, no lock taken."""

    @property
    def completed(self) -> int: ...

    @property
    def backlog(self) -> int: ...


class Journal(Protocol):
    """What the monitor reads of `JournalWriter`: two counters, no lock taken."""

    @property
    def appended_seq(self) -> int: ...

    @property
    def durable_seq(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Status:
    """One sample, as written to the status file."""

    pid: int
    written_at: float
    """Seconds since the Unix epoch (readers in other processes compare it to their clock)."""
    stalled: bool
    lock_free: bool
    """Whether the sequencer's lock could be taken within the probe timeout."""
    last_seq: int
    """The last sequenced command (as of the last probe that got the lock)."""
    appended_seq: int
    durable_seq: int
    commands_last_second: int
    seconds_since_progress: float


class Progress:
    """Folds samples into a `Status`: pure arithmetic on the times it is given."""

    def __init__(self, now: float) -> None:
        self._last_progress = now
        self._durable = -1
        self._completed = -1
        self._last_seq = 0
        self._recent: deque[tuple[float, int]] = deque()
        """(time, last_seq) back to the newest sample at least a second old."""

    def observe(
        self, now: float, last_seq: int | None, appended: int, durable: int,
        completed: int = 0, backlog: int = 0,
    ) -> tuple[bool, int, float]:  # fmt: skip
        """(stalled, commands in the last second, seconds since progress) after a sample;
        `last_seq` None: the lock could not be taken. `completed` and `backlog`: the
        writer thread's tasks done so far and waiting."""
        committed = durable > self._durable
        worked = completed > self._completed
        self._durable, self._completed = durable, completed
        if last_seq is not None:
            self._last_seq = last_seq
            if (appended <= durable or committed) and (backlog == 0 or worked):
                self._last_progress = now
        recent = self._recent
        recent.append((now, self._last_seq))
        while len(recent) > 1 and recent[1][0] <= now - 1.0:
            recent.popleft()
        since = now - self._last_progress
        return since > STALL_SECONDS, self._last_seq - recent[0][1], since

    @property
    def last_seq(self) -> int:
        return self._last_seq


class LivenessMonitor:
    """The monitor thread of a running venue; `stop` removes its status file."""

    def __init__(
        self,
        probe: Callable[[float], int | None],
        journal: Journal | None,
        store_dir: Path,
        writer: WriterThread | None = None,
    ) -> None:
        self._probe = probe
        self._journal = journal
        self._writer = writer
        self._path = store_dir / STATUS_FILE
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liveness", daemon=True)
        self._progress = Progress(time.monotonic())

    def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._write(self._sample())  # a status exists as soon as the venue serves
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(INTERVAL_SECONDS + PROBE_TIMEOUT_SECONDS + 1.0)
        self._path.unlink(missing_ok=True)

    def _run(self) -> None:
        failed = False
        while not self._stop.wait(INTERVAL_SECONDS):
            try:
                self._write(self._sample())
                failed = False
            except OSError as exc:  # a full disk must not end the monitor; say so once
                if not failed:
                    log.warning("liveness: cannot write %s: %s", self._path, exc)
                failed = True

    def _sample(self) -> Status:
        last_seq = self._probe(PROBE_TIMEOUT_SECONDS)
        journal = self._journal
        durable = journal.durable_seq if journal is not None else 0
        appended = journal.appended_seq if journal is not None else 0
        writer = self._writer
        stalled, commands, since = self._progress.observe(
            time.monotonic(), last_seq, appended, durable,
            writer.completed if writer is not None else 0,
            writer.backlog if writer is not None else 0,
        )  # fmt: skip
        return Status(
            pid=os.getpid(),
            written_at=time.time(),
            stalled=stalled,
            lock_free=last_seq is not None,
            last_seq=self._progress.last_seq,
            appended_seq=appended,
            durable_seq=durable,
            commands_last_second=commands,
            seconds_since_progress=round(since, 3),
        )

    def _write(self, status: Status) -> None:
        temporary = self._path.with_name(f".{STATUS_FILE}.{os.getpid()}")
        temporary.write_text(json.dumps(asdict(status)), encoding="utf-8")
        os.replace(temporary, self._path)


class State(StrEnum):
    OK = "ok"
    STALLED = "stalled"
    NOT_RUNNING = "not running"


def assess(store_dir: Path, now: float) -> tuple[State, str]:
    """What the status file in `store_dir` says at wall-clock time `now`, in one line."""
    path = store_dir / STATUS_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        status = Status(**{f.name: doc[f.name] for f in fields(Status)})
    except FileNotFoundError:
        return State.NOT_RUNNING, f"no venue has written {path} (none runs on this store)"
    except (OSError, ValueError, TypeError, KeyError) as exc:
        return State.NOT_RUNNING, f"{path} is not a status file this version reads ({exc!r})"
    if not _alive(status.pid):
        return State.NOT_RUNNING, f"pid {status.pid}, which wrote {path}, has ended"
    figures = (
        f"pid {status.pid}, last seq {status.last_seq}, durable seq {status.durable_seq} "
        f"(appended {status.appended_seq}), {status.commands_last_second} commands in the "
        f"last second, writer last made progress {status.seconds_since_progress:.1f} s ago"
    )
    age = now - status.written_at
    if age > STALE_SECONDS:
        return State.STALLED, f"status not updated for {age:.1f} s; as last written: {figures}"
    if status.stalled:
        lock = "" if status.lock_free else "; the sequencer's lock is held"
        return State.STALLED, f"work is waiting and nothing moves{lock}: {figures}"
    return State.OK, figures


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True
