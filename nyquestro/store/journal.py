"""The command journal: append sequenced commands, read them back for replay.

Durability modes (`Durability`):
- SYNC: every append commits before it returns (SQLite synchronous=FULL).
- GROUP (default): appends are buffered and committed together (see `JournalWriter`);
  the caller must not release a command's effects before `durable_seq` has reached it.
- NONE: commits only when the buffer is large or on close. Unsafe: a crash loses the
  buffer. For benchmarks.

Every record carries a CRC-32; reading stops with `JournalCorrupt` on a damaged record in
the middle, and drops a damaged last record (a write the crash interrupted) with a log line.
"""

import json
import logging
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, delete, select

from nyquestro.codec.jsonl import decode_journal_command, encode_command_text
from nyquestro.domain.commands import Command
from nyquestro.domain.errors import NyquestroError
from nyquestro.domain.ids import Seq, Ts
from nyquestro.store.batch import batch_insert_sql, insert_batch
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


_INSERT_COLUMNS = (
    ("seq", "bigint"),
    ("ts", "bigint"),
    ("command", "text"),
    ("event_hash", "text"),
    ("crc", "bigint"),
)


def record_crc(seq: int, ts: int, command: str, event_hash: str) -> int:
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
        self._pending: list[tuple[int, int, str, str, int]] = []
        self._insert_sql = batch_insert_sql(
            engine.dialect.name, JournalRecord.__tablename__, _INSERT_COLUMNS
        )
        self._oldest_ns = 0
        self.appended_seq = 0
        self.durable_seq = 0
        """Every command up to this one is committed."""

    def append(self, command: Command, event_hash: str) -> None:
        text = encode_command_text(command)
        if not self._pending:
            self._oldest_ns = time.monotonic_ns()
        self._pending.append(
            (command.seq, command.ts, text, event_hash,
             record_crc(command.seq, command.ts, text, event_hash))
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

    def take(self) -> list[tuple[int, int, str, str, int]]:
        """Hand over the buffered records; the caller must `commit` them, in order."""
        taken, self._pending = self._pending, []
        return taken

    def commit(self, records: list[tuple[int, int, str, str, int]]) -> None:
        """Write records in one transaction; on return they are durable."""
        if not records:
            return
        insert_batch(self._engine, self._insert_sql, records)
        self.durable_seq = max(self.durable_seq, records[-1][0])

    def flush(self) -> None:
        self.commit(self.take())

    def close(self) -> None:
        self.flush()


def read_journal(
    engine: Engine, after_seq: int = 0, *, upto_seq: int | None = None, repair: bool = True
) -> Iterator[Entry]:
    """Journaled commands in sequence order, from `after_seq` + 1 on (to `upto_seq`).

    `repair=False` is for readers beside a live writer (the snapshotter): a damaged last
    record is skipped but left for the writer's own recovery to deal with.
    """
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                JournalRecord.seq,
                JournalRecord.ts,
                JournalRecord.command,
                JournalRecord.event_hash,
                JournalRecord.crc,
            )
            .where(JournalRecord.seq > after_seq)
            .where(JournalRecord.seq <= (upto_seq if upto_seq is not None else 2**63 - 1))
            .order_by(JournalRecord.seq)
        )
        damaged = None
        for seq, ts, text, event_hash, crc in rows:
            if damaged is not None:
                raise JournalCorrupt(f"journal record {damaged} is damaged and is not the last")
            if record_crc(seq, ts, text, event_hash) != crc:
                damaged = seq
                continue
            yield Entry(decode_journal_command(json.loads(text), Seq(seq), Ts(ts)), event_hash)
    if damaged is not None and repair:
        log.warning(
            "journal: last record %d is damaged (interrupted write); discarding it", damaged
        )
        with engine.begin() as connection:
            connection.execute(delete(JournalRecord).where(JournalRecord.seq == damaged))
