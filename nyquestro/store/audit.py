"""The audit trail: every inbound FIX message, every decision, every outbound message.

Append-only in the database itself (migration 0002 installs triggers that refuse UPDATE
and DELETE on `audit`). Rows are numbered by the table's id in the order they were
recorded; `seq` ties each to the latest engine command at the time (a decision to its
own command).

Threading: `inbound`/`outbound` run on quickfix's callback thread, `decision` under the
sequencer's lock; each only appends a tuple to a buffer under a small lock, and the
committer thread encodes and writes the buffer (`write_pending`) off the critical path.
"""

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

from sqlalchemy import Engine, case, func, select

from nyquestro.codec.jsonl import encode_command, encode_event
from nyquestro.codec.prices import DecimalPrices
from nyquestro.domain.commands import Command
from nyquestro.domain.events import EventBase
from nyquestro.store.batch import batch_insert_sql, insert_batch
from nyquestro.store.models import AuditRecord

INBOUND, DECISION, OUTBOUND = "inbound", "decision", "outbound"
_COLUMNS = (("seq", "bigint"), ("ts", "bigint"), ("session", "text"), ("kind", "text"),
            ("payload", "text"))  # fmt: skip
_SOH = "\x01"

Pending = tuple[int, int, str | None, str, str | tuple[Command, Sequence[EventBase]]]
"""seq, ts, session, kind, and the FIX text or the (command, events) of a decision."""


class AuditTrail:
    def __init__(self, engine: Engine, prices: DecimalPrices) -> None:
        self._engine = engine
        self._prices = prices
        self._insert_sql = batch_insert_sql(
            engine.dialect.name, AuditRecord.__tablename__, _COLUMNS
        )
        self._lock = threading.Lock()
        self._pending: list[Pending] = []

    def inbound(self, seq: int, ts: int, session: str, fix_text: str) -> None:
        with self._lock:
            self._pending.append((seq, ts, session, INBOUND, fix_text))

    def outbound(self, seq: int, ts: int, session: str, fix_text: str) -> None:
        with self._lock:
            self._pending.append((seq, ts, session, OUTBOUND, fix_text))

    def decision(self, command: Command, events: Sequence[EventBase]) -> None:
        session = getattr(command, "session", None)
        with self._lock:
            self._pending.append((command.seq, command.ts, session, DECISION, (command, events)))

    def write_pending(self) -> bool:
        """Write what was recorded so far in one transaction; False when there was nothing."""
        with self._lock:
            taken, self._pending = self._pending, []
        if not taken:
            return False
        insert_batch(self._engine, self._insert_sql, [self._row(p) for p in taken])
        return True

    def _row(self, pending: Pending) -> tuple[int, int, str | None, str, str | dict[str, Any]]:
        seq, ts, session, kind, what = pending
        if isinstance(what, tuple):
            command, events = what
            payload = {
                "command": encode_command(command),
                "events": [encode_event(event, self._prices) for event in events],
            }
            # Nested in the batch as an object: the database stores its JSON text (`->>`),
            # so it is encoded once, not encoded and then escaped into a string.
            return seq, ts, session, kind, payload
        return seq, ts, session, kind, what.replace(_SOH, "|")

    def last_decision_seq(self) -> int:
        """The newest command whose decision is in the trail (0: none)."""
        with self._engine.connect() as connection:
            seq = connection.execute(
                select(func.max(AuditRecord.seq)).where(AuditRecord.kind == DECISION)
            ).scalar()
        return int(seq or 0)


def has_outbound(engine: Engine) -> bool:
    """Whether the trail holds any outbound message (none when `[store] audit = false`)."""
    with engine.connect() as connection:
        row = connection.execute(
            select(AuditRecord.id).where(AuditRecord.kind == OUTBOUND).limit(1)
        ).first()
    return row is not None


def audit_row_count(engine: Engine, after_seq: int | None = None) -> int:
    """How many rows `audit_rows` gives (for a progress bar's total)."""
    query = select(func.count()).select_from(AuditRecord)
    if after_seq is not None:
        query = query.where(AuditRecord.seq > after_seq)
    with engine.connect() as connection:
        return int(connection.execute(query).scalar() or 0)


def audit_rows(engine: Engine, after_seq: int | None = None) -> Iterator[dict[str, Any]]:
    """The trail in recording order, one dict per row; decisions' payloads decoded.

    Recording order is by command: each command's decision, then the messages that came
    in or went out while it was the latest one, in the order they did. Decisions and
    messages are written by different processes (the replica records decisions as it
    follows the journal), so the rows' ids alone do not give that order.

    `after_seq` keeps only rows of commands after it (inbound messages before the first
    command belong to command 0).
    """
    columns = (AuditRecord.id, AuditRecord.seq, AuditRecord.ts, AuditRecord.session,
               AuditRecord.kind, AuditRecord.payload)  # fmt: skip
    decision_first = case((AuditRecord.kind == DECISION, 0), else_=1)
    query = select(*columns).order_by(AuditRecord.seq, decision_first, AuditRecord.id)
    if after_seq is not None:
        query = query.where(AuditRecord.seq > after_seq)
    with engine.connect() as connection:
        # Streamed in chunks: a trail can be far larger than memory.
        result = connection.execution_options(stream_results=True, yield_per=2_000)
        for row_id, seq, ts, session, kind, payload in result.execute(query):
            yield {
                "id": row_id,
                "seq": seq,
                "ts": ts,
                "session": session,
                "kind": kind,
                "payload": json.loads(payload) if kind == DECISION else payload,
            }


def fix_messages(engine: Engine) -> Iterator[tuple[str, str, str, int]]:
    """Every FIX message of the trail as (session, "inbound" | "outbound", text with |,
    when the FIX gateway saw it in the venue's time), in the order the gateway saw them
    (its rows' ids: one process writes them all)."""
    query = (
        select(AuditRecord.session, AuditRecord.kind, AuditRecord.payload, AuditRecord.ts)
        .where(AuditRecord.kind.in_((INBOUND, OUTBOUND)))
        .order_by(AuditRecord.id)
    )
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=2_000)
        for session, kind, payload, ts in result.execute(query):
            yield session or "", kind, payload, ts


def export_jsonl(
    engine: Engine,
    out: TextIO,
    after_seq: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the trail as JSON lines; returns how many rows were written. `progress`
    gets the count so far after each row."""
    count = 0
    for row in audit_rows(engine, after_seq):
        out.write(json.dumps(row, separators=(",", ":")) + "\n")
        count += 1
        if progress is not None:
            progress(count)
    return count
