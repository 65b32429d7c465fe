"""Tables. Changing one means a new migration in migrations/versions/."""

from sqlalchemy import BigInteger, Boolean, Float, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class JournalRecord(Base):
    """One sequenced command, written before any of its effects leave the process."""

    __tablename__ = "journal"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[int] = mapped_column(BigInteger)
    """Nanoseconds since the epoch, as stamped by the sequencer."""
    command: Mapped[str | None] = mapped_column(Text)
    """Records written before migration 0004: the command as JSON (prices in ticks)."""
    frame: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The command as a binary frame (nyquestro.codec.frames); set on every newer record."""
    event_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the whole event stream up to and including this command's events."""
    crc: Mapped[int] = mapped_column(BigInteger)
    """CRC-32 of seq, ts, command or frame, and event_hash: a damaged record is detected,
    not replayed."""


# SQLite only autoincrements an INTEGER PRIMARY KEY (its rowid); elsewhere a BIGINT.
_RowId = BigInteger().with_variant(Integer, "sqlite")


class SnapshotRecord(Base):
    """The venue's state after command `seq`: recovery starts here and replays the rest."""

    __tablename__ = "snapshots"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[int] = mapped_column(BigInteger)
    """Timestamp of command `seq` (nanoseconds since the epoch)."""
    format: Mapped[str] = mapped_column(String(64))
    """Which code wrote the payload; a snapshot of another format is not loaded."""
    sha256: Mapped[str] = mapped_column(String(64))
    """SHA-256 of `payload`: a damaged snapshot is detected and recovery replays instead."""
    state_hash: Mapped[str] = mapped_column(String(64))
    """The engine's `state_hash()` when the snapshot was taken, checked after loading."""
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class AuditRecord(Base):
    """One inbound message, decision or outbound message; rows are never changed.

    The database refuses UPDATE and DELETE on this table (triggers in migration 0002).
    """

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(_RowId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    """The command this row belongs to (inbound/outbound: the latest command at the time)."""
    ts: Mapped[int] = mapped_column(BigInteger)
    session: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    """`inbound`, `decision` or `outbound`."""
    payload: Mapped[str] = mapped_column(Text)
    """FIX messages as text with '|' for SOH; decisions as the JSON of command and events."""


class OrderRecord(Base):
    """Every order the engine accepted, as it stands now (a projection of the events)."""

    __tablename__ = "orders"

    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    session: Mapped[str] = mapped_column(String(128), index=True)
    account: Mapped[str] = mapped_column(String(64))
    cl_ord_id: Mapped[str] = mapped_column(String(128))
    """The order's current ClOrdID (the latest replace's)."""
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    ord_type: Mapped[str] = mapped_column(String(16))
    tif: Mapped[str] = mapped_column(String(8))
    px: Mapped[int | None] = mapped_column(BigInteger)
    """Limit price in ticks of the symbol (None: market or pegged)."""
    qty: Mapped[int] = mapped_column(BigInteger)
    cum_qty: Mapped[int] = mapped_column(BigInteger)
    leaves_qty: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(24))
    accepted_seq: Mapped[int] = mapped_column(BigInteger)
    updated_seq: Mapped[int] = mapped_column(BigInteger)
    updated_ts: Mapped[int] = mapped_column(BigInteger)
    stop_px: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Stop price in ticks of a stop or stop-limit order (None: not a stop)."""


class ExecutionRecord(Base):
    """One side of one trade (each trade has two rows, one per order)."""

    __tablename__ = "executions"

    trade_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    ts: Mapped[int] = mapped_column(BigInteger)
    session: Mapped[str] = mapped_column(String(128), index=True)
    account: Mapped[str] = mapped_column(String(64))
    cl_ord_id: Mapped[str] = mapped_column(String(128))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    px: Mapped[int] = mapped_column(BigInteger)
    qty: Mapped[int] = mapped_column(BigInteger)
    cum_qty: Mapped[int] = mapped_column(BigInteger)
    leaves_qty: Mapped[int] = mapped_column(BigInteger)
    aggressor: Mapped[bool] = mapped_column(Boolean)
    contra_order_id: Mapped[int] = mapped_column(BigInteger)
    amended: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """None; "busted" (qty 0 since) or "corrected" (px and qty are the corrected ones)."""


class SessionRecord(Base):
    """A FIX session's identity and sequence numbers as last seen (a mirror: quickfix's
    FileStore under the store directory is what the session layer itself reads)."""

    __tablename__ = "sessions"

    session_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    begin_string: Mapped[str] = mapped_column(String(16))
    sender_comp_id: Mapped[str] = mapped_column(String(64))
    target_comp_id: Mapped[str] = mapped_column(String(64))
    next_sender_seq: Mapped[int] = mapped_column(BigInteger)
    next_target_seq: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    """`logged_on` or `logged_out`."""
    updated_ts: Mapped[int] = mapped_column(BigInteger)
    heartbeat_interval: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """HeartBtInt of the session's last Logon, in seconds."""
    last_inbound_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_outbound_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    throttle_refusals: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Messages its throttles refused since the FIX gateway started."""
    queued_messages: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Messages its queue-mode throttle holds."""


class OperatorRequest(Base):
    """An operator's request to the running venue (e.g. a kill switch), queued by the CLI.

    The venue polls for requests newer than the last it carried out (its engine records
    that id in the journaled command), so each is applied exactly once, also across
    restarts.
    """

    __tablename__ = "operator_requests"

    id: Mapped[int] = mapped_column(_RowId, primary_key=True, autoincrement=True)
    ts: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    """The request's parameters as JSON."""


class SessionFault(Base):
    """A session fault asked of the FIX gateway's fault relay (control plane, cert packs):
    queued here, done (or refused) by the gateway, which writes the outcome."""

    __tablename__ = "session_faults"

    id: Mapped[int] = mapped_column(_RowId, primary_key=True, autoincrement=True)
    ts: Mapped[int] = mapped_column(BigInteger)
    session_key: Mapped[str] = mapped_column(String(128))
    fault: Mapped[str] = mapped_column(String(32))
    amount: Mapped[float | None] = mapped_column(Float, nullable=True)
    """Seconds or a count, by fault; None: the fault's default."""
    requested_by: Mapped[str] = mapped_column(String(64))
    done_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    refused: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
