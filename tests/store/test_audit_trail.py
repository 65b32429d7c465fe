"""The audit trail: what goes in comes out in order, decisions decode to the engine's
events, the database refuses to change a row, and export writes one JSON object a row."""

import io
import json
import threading

import pytest
from sqlalchemy import Engine as DbEngine
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from nyquestro.codec.jsonl import encode_command, encode_event
from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.instruments import default_instruments
from nyquestro.engine import Engine
from nyquestro.store.audit import AuditTrail, export_jsonl
from nyquestro.store.database import upgrade
from nyquestro.store.models import AuditRecord
from tests.runtime.flows import random_flow

INSTRUMENTS = default_instruments()
PRICES = DecimalPrices({i.symbol: i for i in INSTRUMENTS})


def exported(db: DbEngine, after_seq: int | None = None) -> list[dict[str, object]]:
    out = io.StringIO()
    count = export_jsonl(db, out, after_seq)
    lines = out.getvalue().splitlines()
    assert count == len(lines)
    return [json.loads(line) for line in lines]


def test_decisions_and_messages_come_back_in_recording_order(db_engine: DbEngine) -> None:
    upgrade(db_engine)
    trail = AuditTrail(db_engine, PRICES)
    engine = Engine(INSTRUMENTS)
    commands = random_flow(9, 60)
    expected = []
    for command in commands:
        trail.inbound(
            command.seq - 1, command.ts, "FIX.4.4:NYQUESTRO->C1", f"35=D\x0111=c{command.seq}\x01"
        )
        events = engine.process(command)
        trail.decision(command, events)
        expected.append((command, events))
        if command.seq % 25 == 0:  # several batches
            assert trail.write_pending()
    assert trail.write_pending()
    assert not trail.write_pending()

    rows = exported(db_engine)
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    assert [row["kind"] for row in rows] == ["inbound", "decision"] * len(commands)
    inbound, decisions = rows[0::2], rows[1::2]
    assert inbound[0]["payload"] == "35=D|11=c1|"
    assert inbound[0]["session"] == "FIX.4.4:NYQUESTRO->C1"
    for row, (command, events) in zip(decisions, expected, strict=True):
        assert (row["seq"], row["ts"]) == (command.seq, command.ts)
        assert row["session"] == getattr(command, "session", None)
        assert row["payload"] == {
            "command": encode_command(command),
            "events": [encode_event(e, PRICES) for e in events],
        }
    assert trail.last_decision_seq() == 60
    # Decision 59, then the inbound message that led to command 60, then decision 60.
    assert [row["seq"] for row in exported(db_engine, after_seq=58)] == [59, 59, 60]


def test_recording_from_two_threads_loses_nothing(db_engine: DbEngine) -> None:
    upgrade(db_engine)
    trail = AuditTrail(db_engine, PRICES)

    def send(kind: str) -> None:
        record = trail.inbound if kind == "in" else trail.outbound
        for i in range(500):
            record(i, i, kind, f"{kind}{i}")

    threads = [threading.Thread(target=send, args=(k,)) for k in ("in", "out")]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        trail.write_pending()
    trail.write_pending()
    rows = exported(db_engine)
    for kind, name in (("in", "inbound"), ("out", "outbound")):
        mine = [r["payload"] for r in rows if r["kind"] == name]
        assert mine == [f"{kind}{i}" for i in range(500)]


def test_the_database_refuses_to_change_or_delete_audit_rows(db_engine: DbEngine) -> None:
    upgrade(db_engine)
    trail = AuditTrail(db_engine, PRICES)
    trail.outbound(1, 2, "S", "35=8\x01")
    trail.write_pending()
    for statement in (
        update(AuditRecord).values(payload="forged"),
        delete(AuditRecord),
        text("UPDATE audit SET seq = 7"),
    ):
        with pytest.raises(DBAPIError, match="append-only"), db_engine.begin() as connection:
            connection.execute(statement)
    assert [row["payload"] for row in exported(db_engine)] == ["35=8|"]


def test_an_empty_trail_exports_nothing(db_engine: DbEngine) -> None:
    upgrade(db_engine)
    assert exported(db_engine) == []
    assert AuditTrail(db_engine, PRICES).last_decision_seq() == 0
