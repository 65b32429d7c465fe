"""Session faults between the control plane, which asks, and the FIX gateway, which does
them: a row per fault, its outcome written back on the same row."""

import time
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from nyquestro.store.models import SessionFault


@dataclass(frozen=True, slots=True)
class FaultRequest:
    id: int
    session_key: str
    fault: str
    amount: float | None


def request_fault(
    engine: Engine, session_key: str, fault: str, amount: float | None, who: str
) -> int:
    with engine.begin() as connection:
        result = connection.execute(
            insert(SessionFault).values(
                ts=time.time_ns(), session_key=session_key, fault=fault, amount=amount,
                requested_by=who,
            )
        )  # fmt: skip
        (request_id,) = result.inserted_primary_key or (0,)
    return int(request_id)


def pending_faults(engine: Engine) -> list[FaultRequest]:
    """Faults nobody has done yet, oldest first."""
    query = (
        select(SessionFault.id, SessionFault.session_key, SessionFault.fault, SessionFault.amount)
        .where(SessionFault.done_ts.is_(None))
        .order_by(SessionFault.id)
    )
    with engine.connect() as connection:
        return [FaultRequest(*row) for row in connection.execute(query)]


def finish_fault(engine: Engine, request_id: int, refused: bool, outcome: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(SessionFault)
            .where(SessionFault.id == request_id)
            .values(done_ts=time.time_ns(), refused=refused, outcome=outcome)
        )


def fault_outcome(engine: Engine, request_id: int) -> tuple[bool, str] | None:
    """(refused, outcome) once the gateway has done it, else None."""
    query = select(SessionFault.refused, SessionFault.outcome).where(
        SessionFault.id == request_id, SessionFault.done_ts.is_not(None)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else (bool(row[0]), str(row[1] or ""))
