"""The command journal: append sequenced commands, read them back for replay.

Durability modes (`Durability`):
- SYNC: every append commits before it returns (SQLite synchronous=FULL).
- GROUP (default): appends are buffered and committed together (see `JournalWriter`);
  the caller must not release a command's effects before `durable_seq` has reached it.
- NONE: commits only when the buffer is large or on close. Unsafe: a crash loses the
  buffer. For benchmarks.

A record holds the command as a binary frame (`nyquestro.codec.frames`). Records written
before migration 0004 hold JSON text instead and are read as `legacy` entries: the
event-stream hash recorded with them is the text form of their time (see
`nyquestro.runtime.replay`).

Every record carries a CRC-32; reading stops with `JournalCorrupt` on a damaged record in
the middle, and drops a damaged last record (a write the crash interrupted) with a log line.
"""

import json
import logging
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TextIO

from sqlalchemy import Engine, delete, func, select

from nyquestro.codec import jsonl
from nyquestro.codec.frames import FrameError, decode_command, encode_command
from nyquestro.domain.commands import Command
from nyquestro.domain.errors import NyquestroError
from nyquestro.domain.ids import Seq, Ts
from nyquestro.store.batch import insert_binary_batch
from nyquestro.store.models import JournalRecord

log = logging.getLogger(__name__)


class Durability(StrEnum):
    SYNC = "sync"
    GROUP = "group"
    NONE = "none"


class JournalCorrupt(NyquestroError):
    """A journal record other than the last one fails its checksum."""


@dataclass(frozen=True, slots=True)
class Entry:
    command: Command
    event_hash: str
    legacy: bool = False
    """Written as JSON before migration 0004: `event_hash` is of the text form."""


Record = tuple[int, int, bytes, str, int]
"""seq, ts, frame, event_hash, crc: one journal row as the writer inserts it."""

_INSERT_COLUMNS = (
    ("seq", "bigint"),
    ("ts", "bigint"),
    ("frame", "bytea"),
    ("event_hash", "text"),
    ("crc", "bigint"),
)


def record_crc(seq: int, ts: int, frame: bytes, event_hash: str) -> int:
    return zlib.crc32(frame, zlib.crc32(f"{seq}|{ts}|{event_hash}|".encode()))


def legacy_record_crc(seq: int, ts: int, command: str, event_hash: str) -> int:
    """The CRC of a record written before migration 0004 (JSON text)."""
    return zlib.crc32(f"{seq}|{ts}|{command}|{event_hash}".encode())


class JournalWriter:
    """Buffers journal records and commits them in order.

    Single-threaded users (the JSON CLI) let `append` commit: every record in SYNC mode, a
    batch of `group_size` or one `group_window_ns` old in GROUP mode. The runtime passes
    `background=True` instead and commits from its own thread with `take` + `commit`, so
    batches form while the previous one is being written (smart batching): an idle venue
    commits each command at once, a busy one amortises a commit over many.
    """

    def __init__(
        self,
        engine: Engine,
        durability: Durability = Durability.GROUP,
        *,
        background: bool = False,
        group_size: int = 512,
        group_window_ns: int = 2_000_000,
    ) -> None:
        self._engine = engine
        self.durability = durability
        self._background = background
        self._group_size = group_size if durability is not Durability.NONE else 65_536
        self._group_window_ns = group_window_ns
        self._pending: list[Record] = []
        self._oldest_ns = 0
        self.appended_seq = 0
        self.durable_seq = 0
        self.on_commit: Callable[[int, float], None] | None = None
        """Told each batch's record count and seconds to commit (the venue's metrics)."""
        """Every command up to this one is committed."""

    def append(self, command: Command, event_hash: str) -> None:
        frame = encode_command(command)
        if not self._pending:
            self._oldest_ns = time.monotonic_ns()
        self._pending.append(
            (command.seq, command.ts, frame, event_hash,
             record_crc(command.seq, command.ts, frame, event_hash))
        )  # fmt: skip
        self.appended_seq = command.seq
        if self.durability is Durability.SYNC or (not self._background and self._flush_due()):
            self.flush()

    def _flush_due(self) -> bool:
        if len(self._pending) >= self._group_size:
            return True
        if self.durability is Durability.NONE:
            return False
        return time.monotonic_ns() - self._oldest_ns >= self._group_window_ns

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def releasable_seq(self) -> int:
        """Effects of commands up to this one may leave (NONE mode does not wait)."""
        return self.appended_seq if self.durability is Durability.NONE else self.durable_seq

    def take(self) -> list[Record]:
        """Hand over the buffered records; the caller must `commit` them, in order."""
        taken, self._pending = self._pending, []
        return taken

    def commit(self, records: list[Record]) -> None:
        """Write records in one transaction; on return they are durable."""
        if not records:
            return
        observe = self.on_commit
        started = time.perf_counter() if observe is not None else 0.0
        insert_binary_batch(self._engine, JournalRecord.__tablename__, _INSERT_COLUMNS, records)
        self.durable_seq = max(self.durable_seq, records[-1][0])
        if observe is not None:
            observe(len(records), time.perf_counter() - started)

    def flush(self) -> None:
        self.commit(self.take())

    def close(self) -> None:
        self.flush()


def journal_newest_seq(engine: Engine) -> int:
    """The newest journaled command's seq (0: an empty journal), without reading records."""
    with engine.connect() as connection:
        seq = connection.execute(select(func.max(JournalRecord.seq))).scalar()
    return int(seq or 0)


def read_journal(
    engine: Engine, after_seq: int = 0, *, upto_seq: int | None = None, repair: bool = True
) -> Iterator[Entry]:
    """Journaled commands in sequence order, from `after_seq` + 1 on (to `upto_seq`).

    `repair=False` is for readers beside a live writer (the replica): a damaged last
    record is skipped but left for the writer's own recovery to deal with.
    """
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                JournalRecord.seq,
                JournalRecord.ts,
                JournalRecord.command,
                JournalRecord.frame,
                JournalRecord.event_hash,
                JournalRecord.crc,
            )
            .where(JournalRecord.seq > after_seq)
            .where(JournalRecord.seq <= (upto_seq if upto_seq is not None else 2**63 - 1))
            .order_by(JournalRecord.seq)
        )
        damaged = None
        for seq, ts, text, frame, event_hash, crc in rows:
            if damaged is not None:
                raise JournalCorrupt(f"journal record {damaged} is damaged and is not the last")
            if frame is not None:
                if record_crc(seq, ts, frame, event_hash) != crc:
                    damaged = seq
                    continue
                try:
                    command = decode_command(frame, Seq(seq), Ts(ts))
                except FrameError as exc:  # its CRC holds: written so by some other code
                    raise JournalCorrupt(f"journal record {seq}: {exc}") from None
                yield Entry(command, event_hash)
            elif text is not None and legacy_record_crc(seq, ts, text, event_hash) == crc:
                command = jsonl.decode_journal_command(json.loads(text), Seq(seq), Ts(ts))
                yield Entry(command, event_hash, legacy=True)
            else:
                damaged = seq
    if damaged is not None and repair:
        log.warning(
            "journal: last record %d is damaged (interrupted write); discarding it", damaged
        )
        with engine.begin() as connection:
            connection.execute(delete(JournalRecord).where(JournalRecord.seq == damaged))


def export_commands_jsonl(
    engine: Engine,
    out: TextIO,
    after_seq: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """The journal as JSON lines, one object per command: seq, ts, command (its JSON form,
    prices in ticks), event_hash; returns how many were written. `progress` gets the
    count so far after each command."""
    count = 0
    for entry in read_journal(engine, after_seq or 0, repair=False):
        command = entry.command
        row = {"seq": command.seq, "ts": command.ts, "command": jsonl.encode_command(command),
               "event_hash": entry.event_hash}  # fmt: skip
        out.write(json.dumps(row, separators=(",", ":")) + "\n")
        count += 1
        if progress is not None:
            progress(count)
    return count
