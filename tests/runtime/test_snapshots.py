"""Snapshots: an engine restored from one continues exactly like the one that never stopped,
and recovery falls back (older snapshot, then full replay) when one is damaged."""

import logging
import pickle
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine as DbEngine
from sqlalchemy import func, select, update

from nyquestro.config.instruments import default_instruments
from nyquestro.domain.commands import Command
from nyquestro.domain.ids import OrderId, Qty, Seq, Ts
from nyquestro.engine import Engine
from nyquestro.gateways.fix.venue import FixVenue
from nyquestro.runtime import snapshotting
from nyquestro.runtime.sequencer import Sequencer
from nyquestro.store.database import upgrade
from nyquestro.store.journal import Durability, JournalWriter, read_journal
from nyquestro.store.models import SnapshotRecord
from nyquestro.store.snapshots import KEEP, write_snapshot
from tests.runtime.flows import random_flow

INSTRUMENTS = tuple(default_instruments())


def event_lines(engine: Engine, commands: list[Command]) -> list[str]:
    return [repr(event) for command in commands for event in engine.process(command)]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), split=st.integers(0, 400))
def test_an_engine_restored_from_a_snapshot_continues_like_the_original(
    seed: int, split: int
) -> None:
    commands = random_flow(seed, 400)
    original = Engine(INSTRUMENTS)
    event_lines(original, commands[:split])
    copy = Engine.restored(pickle.loads(pickle.dumps(original.export_state())))
    assert copy.state_hash() == original.state_hash()
    # Same future, byte for byte: queue positions, hidden quantities, ids, dedupe sets.
    assert event_lines(copy, commands[split:]) == event_lines(original, commands[split:])
    assert copy.state_hash() == original.state_hash()


class Venue:
    """Sequencer + journal + FIX gateway core over one database, as the runtime wires them."""

    def __init__(self, db: DbEngine, restored: snapshotting.Restored | None = None) -> None:
        self.engine = Engine(INSTRUMENTS) if restored is None else restored.engine
        self.journal = JournalWriter(db, Durability.GROUP)
        self.sequencer = Sequencer(self.engine, lambda: 0, self.journal)
        self.venue = FixVenue(
            INSTRUMENTS,
            submit=self.sequencer.submit,
            read=self.sequencer.read,
            send=lambda _key, _message: None,
            clock=lambda: 0,
        )
        if restored is not None:
            self.venue.restore_state(restored.venue())
            self.sequencer.resume(restored.stream_hash, restored.last_ts)
        self.sequencer.subscribe(self.venue.on_events)

    def run(self, commands: list[Command]) -> None:
        for command in commands:
            self.sequencer.submit(lambda seq, ts, c=command: _restamped(c, seq, ts))

    def snapshot(self, db: DbEngine) -> int:
        taken = snapshotting.take(self.sequencer, self.engine, self.venue, INSTRUMENTS)
        write_snapshot(db, taken)
        return taken.seq

    def order_views(self) -> list[object]:
        state = self.venue.export_state().orders
        return [state.get(OrderId(i)) for i in range(1, 400)]


def _restamped(command: Command, seq: Seq, ts: Ts) -> Command:
    # The flow's own stamps stand in for the sequencer's; both count from 1.
    assert command.seq == seq
    return command


def test_recovery_from_snapshot_and_journal_tail_equals_the_uninterrupted_run(
    db_engine: DbEngine,
) -> None:
    upgrade(db_engine)
    commands = random_flow(11, 300)
    live = Venue(db_engine)
    live.run(commands[:120])
    assert live.snapshot(db_engine) == 120
    live.run(commands[120:])
    live.sequencer.flush()

    restored = snapshotting.restore_newest(db_engine, INSTRUMENTS)
    assert restored is not None and restored.seq == 120
    again = Venue(db_engine, restored)
    # recover() raises if the replayed tail departs from the recorded event-stream hash.
    assert again.sequencer.recover(read_journal(db_engine, restored.seq)) == 180
    assert again.engine.state_hash() == live.engine.state_hash()
    assert again.order_views() == live.order_views()
    # And both go on identically.
    more = random_flow(12, 360)[300:]
    assert event_lines(again.engine, more) == event_lines(live.engine, more)


def test_a_snapshot_is_only_used_for_the_same_symbols_and_tick_sizes(
    db_engine: DbEngine,
) -> None:
    upgrade(db_engine)
    live = Venue(db_engine)
    live.run(random_flow(5, 50))
    live.snapshot(db_engine)
    # Other limits are fine: the snapshot carries the settings, a Configure follows.
    wider = [replace(inst, max_qty=Qty(inst.max_qty * 2)) for inst in INSTRUMENTS]
    assert snapshotting.restore_newest(db_engine, wider) is not None
    finer = [replace(INSTRUMENTS[0], tick_size=INSTRUMENTS[0].tick_size / 10), *INSTRUMENTS[1:]]
    assert snapshotting.restore_newest(db_engine, finer) is None
    assert snapshotting.restore_newest(db_engine, INSTRUMENTS[1:]) is None


def test_only_the_newest_snapshots_are_kept(db_engine: DbEngine) -> None:
    upgrade(db_engine)
    commands = random_flow(3, 60)
    live = Venue(db_engine)
    for start in range(0, 60, 10):
        live.run(commands[start : start + 10])
        live.snapshot(db_engine)
    with db_engine.connect() as connection:
        seqs = connection.execute(select(SnapshotRecord.seq).order_by(SnapshotRecord.seq)).scalars()
        assert list(seqs) == [60 - 10 * i for i in reversed(range(KEEP))]


def _damage(db: DbEngine, seq: int, **values: object) -> None:
    with db.begin() as connection:
        connection.execute(update(SnapshotRecord).where(SnapshotRecord.seq == seq).values(**values))


@pytest.mark.parametrize(
    "damage",
    [
        {"payload": b"not what was written"},
        {"format": "pickle5/nyquestro-0.0.1/py3.99/instruments-0"},
        {"state_hash": "0" * 64},
    ],
    ids=["bytes", "format", "state-hash"],
)
def test_a_bad_newest_snapshot_falls_back_to_the_older_one_then_to_replay(
    db_engine: DbEngine, damage: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    upgrade(db_engine)
    commands = random_flow(5, 40)
    live = Venue(db_engine)
    live.run(commands[:20])
    live.snapshot(db_engine)
    live.run(commands[20:])
    live.snapshot(db_engine)
    _damage(db_engine, 40, **damage)
    with caplog.at_level(logging.WARNING):
        restored = snapshotting.restore_newest(db_engine, INSTRUMENTS)
    assert restored is not None and restored.seq == 20
    assert "snapshot after command 40" in caplog.text

    _damage(db_engine, 20, **damage)
    assert snapshotting.restore_newest(db_engine, INSTRUMENTS) is None
    with db_engine.connect() as connection:  # damaged snapshots are kept for inspection
        assert connection.execute(select(func.count()).select_from(SnapshotRecord)).scalar() == 2


@pytest.mark.parametrize(
    ("name", "other"),
    [
        # Pickles of compiled and of interpreted engine classes do not load into each other.
        ("BUILD_KIND", "pure" if snapshotting.BUILD_KIND == "compiled" else "compiled"),
        # An engine state of another schema holds other fields, or the same ones in other units.
        ("STATE_SCHEMA", snapshotting.STATE_SCHEMA - 1),
    ],
)
def test_a_snapshot_of_another_build_or_schema_is_not_used_and_recovery_replays_the_journal(
    db_engine: DbEngine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    name: str,
    other: object,
) -> None:
    # The format tag names the build and the schema; a mismatch means a full replay.
    upgrade(db_engine)
    commands = random_flow(7, 80)
    live = Venue(db_engine)
    live.run(commands[:50])
    ours = snapshotting.snapshot_format(INSTRUMENTS)
    with monkeypatch.context() as patched:
        patched.setattr(snapshotting, name, other)
        theirs = snapshotting.snapshot_format(INSTRUMENTS)
        assert theirs != ours
        live.snapshot(db_engine)
    live.run(commands[50:])
    live.sequencer.flush()

    with caplog.at_level(logging.WARNING):
        assert snapshotting.restore_newest(db_engine, INSTRUMENTS) is None
    assert repr(theirs) in caplog.text and repr(ours) in caplog.text
    again = Venue(db_engine)
    assert again.sequencer.recover(read_journal(db_engine, 0)) == 80
    assert again.engine.state_hash() == live.engine.state_hash()
    assert again.order_views() == live.order_views()
