"""Reads of the projections and the audit trail for people watching a running venue
(the control plane): orders and executions a page at a time, sessions, and one order's
decisions.

Pages are keyed by the last row of the page before (not an offset), so a page stays
right while the replica keeps appending rows behind it.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Row, Select, and_, func, or_, select

from nyquestro.codec.order_rows import DONE_STATUSES, OPEN_STATUSES
from nyquestro.store.audit import DECISION
from nyquestro.store.models import AuditRecord, ExecutionRecord, OrderRecord, SessionRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilter:
    session: str = ""
    account: str = ""
    symbol: str = ""
    status: str = ""
    """An order status, "open", "done", or "" for any."""


def orders(db: Engine, where: OrderFilter, after_order_id: int, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` orders after `after_order_id` matching `where`, by order id."""
    query = _matching(
        select(*OrderRecord.__table__.columns),
        OrderRecord,
        where.session,
        where.account,
        where.symbol,
    )
    statuses = {"open": OPEN_STATUSES, "done": DONE_STATUSES}.get(where.status)
    if statuses is not None:
        query = query.where(OrderRecord.status.in_(statuses))
    elif where.status:
        query = query.where(OrderRecord.status == where.status)
    query = query.where(OrderRecord.order_id > after_order_id)
    query = query.order_by(OrderRecord.order_id).limit(limit)
    with db.connect() as connection:
        return [_columns(row) for row in connection.execute(query)]


def order(db: Engine, order_id: int) -> dict[str, Any] | None:
    with db.connect() as connection:
        row = connection.execute(
            select(*OrderRecord.__table__.columns).where(OrderRecord.order_id == order_id)
        ).first()
    return None if row is None else _columns(row)


def executions(
    db: Engine,
    where: OrderFilter,
    order_id: int,
    after: tuple[int, int],
    limit: int,
) -> list[dict[str, Any]]:
    """Up to `limit` executions after `after` (seq, order id) matching `where` (its status
    is not used) and `order_id` (0: any), by seq and then order id."""
    query = _matching(
        select(*ExecutionRecord.__table__.columns),
        ExecutionRecord,
        where.session,
        where.account,
        where.symbol,
    )
    if order_id:
        query = query.where(ExecutionRecord.order_id == order_id)
    seq, after_order = after
    query = query.where(
        or_(
            ExecutionRecord.seq > seq,
            and_(ExecutionRecord.seq == seq, ExecutionRecord.order_id > after_order),
        )
    )
    query = query.order_by(ExecutionRecord.seq, ExecutionRecord.order_id).limit(limit)
    with db.connect() as connection:
        return [_columns(row) for row in connection.execute(query)]


def sessions(db: Engine) -> list[dict[str, Any]]:
    """Every session the venue has seen, by key."""
    query = select(*SessionRecord.__table__.columns).order_by(SessionRecord.session_key)
    with db.connect() as connection:
        return [_columns(row) for row in connection.execute(query)]


def decisions(db: Engine, first_seq: int, last_seq: int) -> Iterator[tuple[int, int, Any]]:
    """(seq, ts, decoded payload) of each decision in the trail for commands
    `first_seq`..`last_seq`, in order (the trail's seq index bounds the scan)."""
    query = (
        select(AuditRecord.seq, AuditRecord.ts, AuditRecord.payload)
        .where(AuditRecord.kind == DECISION)
        .where(AuditRecord.seq.between(first_seq, last_seq))
        .order_by(AuditRecord.seq)
    )
    with db.connect() as connection:
        for seq, ts, payload in connection.execute(query):
            yield seq, ts, json.loads(payload)


def projected_seq(db: Engine) -> int:
    """The newest command the orders and executions tables show a change of (0: none)."""
    with db.connect() as connection:
        orders_seq = connection.execute(select(func.max(OrderRecord.updated_seq))).scalar()
        fills_seq = connection.execute(select(func.max(ExecutionRecord.seq))).scalar()
    return max(int(orders_seq or 0), int(fills_seq or 0))


def _matching(
    query: Select[Any],
    table: type[OrderRecord] | type[ExecutionRecord],
    session: str,
    account: str,
    symbol: str,
) -> Select[Any]:
    if session:
        query = query.where(table.session == session)
    if account:
        query = query.where(table.account == account)
    if symbol:
        query = query.where(table.symbol == symbol)
    return query


def _columns(row: Row[Any]) -> dict[str, Any]:
    return dict(row._mapping)
