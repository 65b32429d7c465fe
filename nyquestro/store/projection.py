"""The `orders`, `executions` and `sessions` tables, kept from engine events for people
who query the database (the engine and the gateway never read them back).

Each event becomes one statement computed from the event alone — no copy of the orders
in memory — and every statement is idempotent: recovery replays journaled commands whose
events may already be projected, and applying them again leaves the same rows.

Threading: `apply` runs under the sequencer's lock and `session_state` on quickfix's
thread; both only buffer. The committer thread writes (`write_pending`), keeping event
order; runs of the same statement go in as one executemany.
"""

import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, Insert, Update, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite

from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    EventBase,
    Execution,
    Expired,
    Filled,
    PartiallyFilled,
    Replaced,
    Restated,
)
from nyquestro.store.models import ExecutionRecord, OrderRecord, SessionRecord

Statement = Insert | Update
Row = dict[str, Any]


def _status(cum_qty: int) -> str:
    return "partially_filled" if cum_qty else "new"


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
        new_session = dialect_insert(SessionRecord)
        self._upsert_session = new_session.on_conflict_do_update(
            index_elements=[SessionRecord.session_key],
            set_={c: new_session.excluded[c] for c in _SESSION_COLUMNS if c != "session_key"},
        )
        self._lock = threading.Lock()
        self._pending: list[tuple[Statement, Row]] = []
        self._handlers: dict[type, Callable[[Any], list[tuple[Statement, Row]]]] = {
            Accepted: self._accepted,
            PartiallyFilled: self._execution,
            Filled: self._execution,
            Cancelled: self._done,
            Expired: self._done,
            Replaced: self._amended,
            Restated: self._amended,
        }

    def apply(self, events: Sequence[EventBase]) -> None:
        statements = []
        for event in events:
            handler = self._handlers.get(type(event))
            if handler is not None:
                statements += handler(event)
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
    ) -> None:
        row = {"session_key": session_key, "begin_string": begin_string,
               "sender_comp_id": sender_comp_id, "target_comp_id": target_comp_id,
               "next_sender_seq": next_sender_seq, "next_target_seq": next_target_seq,
               "state": state, "updated_ts": ts}  # fmt: skip
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

    # --- one statement (or two) per event -----------------------------------------------

    def _accepted(self, e: Accepted) -> list[tuple[Statement, Row]]:
        row = {"order_id": e.order_id, "session": e.session, "account": e.account,
               "cl_ord_id": e.cl_ord_id, "symbol": e.symbol, "side": e.side.name.lower(),
               "ord_type": e.ord_type.value, "tif": e.tif.value, "px": e.px, "qty": e.qty,
               "cum_qty": 0, "leaves_qty": e.qty, "status": "new", "accepted_seq": e.seq,
               "updated_seq": e.seq, "updated_ts": e.ts}  # fmt: skip
        return [(self._upsert_order, row)]

    def _execution(self, e: Execution) -> list[tuple[Statement, Row]]:
        fill = {"trade_id": e.trade_id, "order_id": e.order_id, "seq": e.seq, "ts": e.ts,
                "session": e.session, "account": e.account, "cl_ord_id": e.cl_ord_id,
                "symbol": e.symbol, "side": e.side.name.lower(), "px": e.px, "qty": e.qty,
                "cum_qty": e.cum_qty, "leaves_qty": e.leaves_qty,
                "aggressor": e.side is e.aggressor_side,
                "contra_order_id": e.contra_order_id}  # fmt: skip
        status = "filled" if isinstance(e, Filled) else "partially_filled"
        return [
            (self._insert_execution, fill),
            (_FILL, _changes(e.order_id, e.seq, e.ts, cum_qty=e.cum_qty,
                             leaves_qty=e.leaves_qty, status=status)),
        ]  # fmt: skip

    def _done(self, e: Cancelled | Expired) -> list[tuple[Statement, Row]]:
        status = "canceled" if isinstance(e, Cancelled) else "expired"
        return [(_FILL, _changes(e.order_id, e.seq, e.ts, cum_qty=e.cum_qty, leaves_qty=0,
                                 status=status))]  # fmt: skip

    def _amended(self, e: Replaced | Restated) -> list[tuple[Statement, Row]]:
        return [(_AMEND, _changes(e.order_id, e.seq, e.ts, cl_ord_id=e.cl_ord_id, px=e.px,
                                  qty=e.qty, cum_qty=e.cum_qty, leaves_qty=e.leaves_qty,
                                  status=_status(e.cum_qty)))]  # fmt: skip


_INSERTS: dict[str, Callable[[Any], Any]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}
_ORDER_COLUMNS = [c.name for c in OrderRecord.__table__.columns]
_SESSION_COLUMNS = [c.name for c in SessionRecord.__table__.columns]


def _changes(order_id: int, seq: int, ts: int, **values: object) -> Row:
    # Bound names differ from column names: SQLAlchemy reserves those for the SET clause.
    row = {f"new_{name}": value for name, value in values.items()}
    row.update(key_order_id=order_id, new_updated_seq=seq, new_updated_ts=ts)
    return row


def _update(*columns: str) -> Update:
    names = (*columns, "updated_seq", "updated_ts")
    return (
        update(OrderRecord)
        .where(OrderRecord.order_id == bindparam("key_order_id"))
        .values({name: bindparam(f"new_{name}") for name in names})
    )


_FILL = _update("cum_qty", "leaves_qty", "status")
_AMEND = _update("cl_ord_id", "px", "qty", "cum_qty", "leaves_qty", "status")
