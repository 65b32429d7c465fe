"""The command journal: append sequenced commands, read them back for replay.

Durability modes (`Durability`):
- SYNC: every append commits before it returns (SQLite synchronous=FULL).
- GROUP (default): appends are buffered and committed together when the batch reaches
  `group_size` commands or its oldest command is `group_window_ns` old, whichever comes
  first; the caller must not release a command's effects before `flush()` has covered it.
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

from sqlalchemy import Engine, delete, insert, select

from nyquestro.codec.jsonl import decode_command, encode_command
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


def record_crc(seq: int, ts: int, command: str, event_hash: str) -> int:
    return zlib.crc32(f"{seq}|{ts}|{command}|{event_hash}".encode())


class JournalWriter:
    def __init__(
        self,
        engine: Engine,
        durability: Durability = Durability.GROUP,
        *,
        group_size: int = 512,
        group_window_ns: int = 2_000_000,
    ) -> None:
        self._engine = engine
        self._durability = durability
        self._group_size = group_size if durability is not Durability.NONE else 65_536
        self._group_window_ns = group_window_ns
        self._pending: list[dict[str, object]] = []
        self._oldest_ns = 0

    def append(self, command: Command, event_hash: str) -> None:
        """Buffer one command; commits at once in SYNC mode, when a batch is due in GROUP."""
        text = json.dumps(encode_command(command), separators=(",", ":"))
        if not self._pending:
            self._oldest_ns = time.monotonic_ns()
        self._pending.append(
            {
                "seq": command.seq,
                "ts": command.ts,
                "command": text,
                "event_hash": event_hash,
                "crc": record_crc(command.seq, command.ts, text, event_hash),
            }
        )
        if self._durability is Durability.SYNC or self.flush_due():
            self.flush()

    def flush_due(self) -> bool:
        if not self._pending:
            return False
        if len(self._pending) >= self._group_size:
            return True
        if self._durability is Durability.NONE:
            return False
        return time.monotonic_ns() - self._oldest_ns >= self._group_window_ns

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        """Commit everything buffered; on return it is durable (per the mode's guarantee)."""
        if not self._pending:
            return
        with self._engine.begin() as connection:
            connection.execute(insert(JournalRecord), self._pending)
        self._pending = []

    def close(self) -> None:
        self.flush()


def read_journal(engine: Engine, after_seq: int = 0) -> Iterator[Entry]:
    """Journaled commands in sequence order, from `after_seq` + 1 on."""
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
            yield Entry(decode_command(json.loads(text), Seq(seq), Ts(ts), None), event_hash)
    if damaged is not None:
        log.warning(
            "journal: last record %d is damaged (interrupted write); discarding it", damaged
        )
        with engine.begin() as connection:
            connection.execute(delete(JournalRecord).where(JournalRecord.seq == damaged))
