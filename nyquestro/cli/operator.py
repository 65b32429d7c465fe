"""Operator commands for the running venue: `nyquestro kill-switch engage|release` and
`nyquestro halt|resume SYMBOL` (resume also releases a tripped circuit breaker).

Each is queued in the store's operator_requests table; the venue polls it and carries
every request out exactly once, as a journaled command.
"""

from typing import Any

from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from nyquestro.store.database import create_db_engine, upgrade
from nyquestro.store.operator import queue_request


def kill_switch_command(
    action: str, account: str | None, session: str | None, reason: str, db: str, out: Console
) -> int:
    if account is not None and session is not None:
        out.print("--account and --session: give one scope (or neither, for the venue)")
        return 2
    params = {"engage": action == "engage", "account": account, "session": session,
              "reason": reason}  # fmt: skip
    scope = f"account {account}" if account else f"session {session}" if session else "the venue"
    return _queue("kill_switch", params, f"{action} the kill switch for {scope}", db, out)


def trading_command(action: str, symbol: str, reason: str, db: str, out: Console) -> int:
    """`action` is "halt" or "resume"."""
    params = {"symbol": symbol, "reason": reason}
    return _queue(action, params, f"{action} {symbol}", db, out)


def _queue(kind: str, params: dict[str, Any], what: str, db: str, out: Console) -> int:
    try:
        engine = create_db_engine(db)
        upgrade(engine)
        request_id = queue_request(engine, kind, params)
    except SQLAlchemyError as exc:
        reason_text = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        out.print(f"--db {db}: cannot queue the request: {reason_text}", markup=False)
        return 2
    out.print(
        f"request {request_id} queued: {what}; the running venue carries it out within a "
        "second (or at its next start)",
        markup=False,
    )
    return 0
