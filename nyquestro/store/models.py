"""Tables. Changing one means a new migration in migrations/versions/."""

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class JournalRecord(Base):
    """One sequenced command, written before any of its effects leave the process."""

    __tablename__ = "journal"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[int] = mapped_column(BigInteger)
    """Nanoseconds since the epoch, as stamped by the sequencer."""
    command: Mapped[str] = mapped_column(Text)
    """The command as JSON (nyquestro.codec.jsonl.encode_command, prices in ticks)."""
    event_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the whole event stream up to and including this command's events."""
    crc: Mapped[int] = mapped_column(BigInteger)
    """CRC-32 of seq, ts, command and event_hash: a damaged record is detected, not replayed."""
