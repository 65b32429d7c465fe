"""The `orders`, `executions` and `sessions` tables, kept from engine events for people
who query the database (the engine and the gateway never read them back).

Each event becomes one statement (two for a fill, a bust or a correction) computed from
the event alone — no copy of the orders in memory — by the fold
`nyquestro.codec.order_rows` that `nyquestro-tui`'s blotter keeps too; every statement is
idempotent: recovery replays journaled commands whose events may already be projected,
and applying them again leaves the same rows.

Threading: `apply` runs under the sequencer's lock and `session_state` on quickfix's
thread; both only buffer. The committer thread writes (`write_pending`), keeping event
order; runs of the same statement go in as one executemany.
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Insert, Update, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite

from nyquestro.codec.order_rows import order_change
from nyquestro.domain.events import EventBase
from nyquestro.store.models import ExecutionRecord, OrderRecord, SessionRecord

Statement = Insert | Update


@dataclass(frozen=True, slots=True)
class SessionActivity:
    """What a session did lately, beside its sequence numbers (None: not known yet)."""

    heartbeat_interval: int | None = None
    last_inbound_ts: int | None = None
    last_outbound_ts: int | None = None
    throttle_refusals: int | None = None
    queued_messages: int | None = None


Row = dict[str, Any]


class Projection:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        dialect_insert = _INSERTS[engine.dialect.name]
        new_order = dialect_insert(OrderRecord)
        self._upsert_order = new_order.on_conflict_do_update(
            index_elements=[OrderRecord.order_id],
            set_={c: new_order.excluded[c] for c in _ORDER_COLUMNS if c != "order_id"},
        )
        self._insert_execution = dialect_insert(ExecutionRecord).on_conflict_do_nothing()
        self._amend_execution = (
            update(ExecutionRecord)
            .where(ExecutionRecord.trade_id == bindparam("key_trade_id"))
            .where(ExecutionRecord.order_id == bindparam("key_order_id"))
            .values(px=bindparam("new_px"), qty=bindparam("new_qty"),
                    amended=bindparam("new_amended"))
        )  # fmt: skip
        new_session = dialect_insert(SessionRecord)
        self._upsert_session = new_session.on_conflict_do_update(
            index_elements=[SessionRecord.session_key],
            set_={c: new_session.excluded[c] for c in _SESSION_COLUMNS if c != "session_key"},
        )
        self._lock = threading.Lock()
        self._pending: list[tuple[Statement, Row]] = []
        self._updates: dict[tuple[str, ...], Update] = {}
        """An UPDATE per set of columns an event changes (a fill's, a cancel's, ...)."""

    def apply(self, events: Sequence[EventBase]) -> None:
        statements: list[tuple[Statement, Row]] = []
        for event in events:
            change = order_change(event)
            if change is None:
                continue
            if change.fill is not None:
                statements.append((self._insert_execution, change.fill))
            if change.fill_change is not None:
                amended = change.fill_change
                statements.append((self._amend_execution, {
                    "key_trade_id": amended["trade_id"], "key_order_id": amended["order_id"],
                    "new_px": amended["px"], "new_qty": amended["qty"],
                    "new_amended": amended["amended"],
                }))  # fmt: skip
            if change.new:
                statements.append((self._upsert_order, change.values))
            else:
                statements.append((self._update(tuple(change.values)),
                                   _bound(change.order_id, change.values)))  # fmt: skip
        if statements:
            with self._lock:
                self._pending += statements

    def session_state(
        self,
        *,
        session_key: str,
        begin_string: str,
        sender_comp_id: str,
        target_comp_id: str,
        next_sender_seq: int,
        next_target_seq: int,
        state: str,
        ts: int,
        activity: SessionActivity,
    ) -> None:
        row = {"session_key": session_key, "begin_string": begin_string,
               "sender_comp_id": sender_comp_id, "target_comp_id": target_comp_id,
               "next_sender_seq": next_sender_seq, "next_target_seq": next_target_seq,
               "state": state, "updated_ts": ts,
               "heartbeat_interval": activity.heartbeat_interval,
               "last_inbound_ts": activity.last_inbound_ts,
               "last_outbound_ts": activity.last_outbound_ts,
               "throttle_refusals": activity.throttle_refusals,
               "queued_messages": activity.queued_messages}  # fmt: skip
        with self._lock:
            self._pending.append((self._upsert_session, row))

    def write_pending(self) -> bool:
        """Write what was buffered, in order, in one transaction; False when nothing was."""
        with self._lock:
            taken, self._pending = self._pending, []
        if not taken:
            return False
        with self._engine.begin() as connection:
            start = 0
            for end in range(1, len(taken) + 1):
                if end == len(taken) or taken[end][0] is not taken[start][0]:
                    connection.execute(taken[start][0], [row for _, row in taken[start:end]])
                    start = end
        return True

    def _update(self, columns: tuple[str, ...]) -> Update:
        found = self._updates.get(columns)
        if found is None:
            found = self._updates[columns] = (
                update(OrderRecord)
                .where(OrderRecord.order_id == bindparam("key_order_id"))
                .values({name: bindparam(f"new_{name}") for name in columns})
            )
        return found


_INSERTS: dict[str, Callable[[Any], Any]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}
_ORDER_COLUMNS = [c.name for c in OrderRecord.__table__.columns]
_SESSION_COLUMNS = [c.name for c in SessionRecord.__table__.columns]


def _bound(order_id: int, values: dict[str, object]) -> Row:
    # Bound names differ from column names: SQLAlchemy reserves those for the SET clause.
    row: Row = {f"new_{name}": value for name, value in values.items()}
    row["key_order_id"] = order_id
    return row
