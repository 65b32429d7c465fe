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


# A batch goes in as one statement whose one parameter is the batch as a JSON array, which
# the database unpacks itself. Through the DB-API driver directly: a SQLAlchemy Core insert
# costs ~100 µs of Python per transaction. And one statement, not `executemany`: that
# binds each row in Python and takes the GIL back after every row's step, and while the
# sequencer thread keeps the GIL busy each of those waits a switch interval (5 ms), so a
# busy venue's batches crawled. Here the driver waits for the GIL once per batch.
_COLUMNS = "seq, ts, command, event_hash, crc"
_BATCH_INSERTS = {
    "sqlite": (
        f"INSERT INTO {JournalRecord.__tablename__} ({_COLUMNS}) "
        "SELECT value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each(?)"
    ),
    "postgresql": (
        f"INSERT INTO {JournalRecord.__tablename__} ({_COLUMNS}) "
        "SELECT (r->>0)::bigint, (r->>1)::bigint, r->>2, r->>3, (r->>4)::bigint "
        "FROM json_array_elements(%s::json) AS r"
    ),
}
_COMPACT = json.JSONEncoder(separators=(",", ":"))


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
        self._insert_sql = _BATCH_INSERTS[engine.dialect.name]
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
        batch = _COMPACT.encode(records)
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(self._insert_sql, (batch,))
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()  # back to the pool
        self.durable_seq = max(self.durable_seq, records[-1][0])

    def flush(self) -> None:
        self.commit(self.take())

    def close(self) -> None:
        self.flush()


def read_journal(engine: Engine, after_seq: int = 0, *, repair: bool = True) -> Iterator[Entry]:
    """Journaled commands in sequence order, from `after_seq` + 1 on.

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
