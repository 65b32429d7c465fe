"""Snapshots of the venue's state: written now and then, read back at start-up.

The store treats a snapshot as opaque bytes with a header: the command it follows
(`seq`), a format tag, the SHA-256 of the bytes and the engine's state hash. Reading
skips (with a log line) any snapshot whose bytes do not match their SHA-256 or whose
format is not the one asked for, so recovery falls back to an older snapshot or to a
full replay of the journal rather than starting from damaged state.
"""

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select

from nyquestro.store.models import SnapshotRecord

log = logging.getLogger(__name__)

KEEP = 2
"""Snapshots kept: the newest, and one to fall back on should the newest be damaged."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    seq: int
    ts: int
    format: str
    state_hash: str
    payload: bytes


def write_snapshot(engine: Engine, snapshot: Snapshot) -> None:
    """Store `snapshot` and drop all but the newest `KEEP` ones, in one transaction."""
    with engine.begin() as connection:
        connection.execute(
            insert(SnapshotRecord).values(
                seq=snapshot.seq,
                ts=snapshot.ts,
                format=snapshot.format,
                sha256=hashlib.sha256(snapshot.payload).hexdigest(),
                state_hash=snapshot.state_hash,
                payload=snapshot.payload,
            )
        )
        kept = select(SnapshotRecord.seq).order_by(SnapshotRecord.seq.desc()).limit(KEEP).subquery()
        connection.execute(delete(SnapshotRecord).where(SnapshotRecord.seq.not_in(select(kept))))


def latest_seq(engine: Engine, format: str | None = None) -> int:
    """The newest snapshot's command (0: none), of `format` if given, without reading any
    payload."""
    query = select(SnapshotRecord.seq).order_by(SnapshotRecord.seq.desc()).limit(1)
    if format is not None:
        query = query.where(SnapshotRecord.format == format)
    with engine.connect() as connection:
        seq = connection.execute(query).scalar()
    return int(seq or 0)


def usable_snapshots(engine: Engine, format: str) -> Iterator[Snapshot]:
    """Intact snapshots of `format`, newest first; damaged or foreign ones are logged."""
    with engine.connect() as connection:
        seqs = list(
            connection.execute(select(SnapshotRecord.seq).order_by(SnapshotRecord.seq.desc()))
            .scalars()
            .all()
        )
    for seq in seqs:
        snapshot = usable_snapshot(engine, format, seq)
        if snapshot is not None:
            yield snapshot


def usable_snapshot(engine: Engine, format: str, seq: int) -> Snapshot | None:
    """The snapshot after command `seq` if it is there, intact and of `format` (else None;
    a damaged or foreign one is logged)."""
    with engine.connect() as connection:
        row = connection.execute(
            select(SnapshotRecord).where(SnapshotRecord.seq == seq)
        ).one_or_none()
    if row is None:
        return None
    if row.format != format:
        log.warning(
            "snapshot after command %d has format %r, this venue writes %r: not used",
            seq, row.format, format,
        )  # fmt: skip
        return None
    if hashlib.sha256(row.payload).hexdigest() != row.sha256:
        log.warning("snapshot after command %d is damaged (SHA-256 differs): not used", seq)
        return None
    return Snapshot(row.seq, row.ts, row.format, row.state_hash, row.payload)
