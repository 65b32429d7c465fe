"""`nyquestro kill-switch engage|release`: queue a kill switch for the running venue."""

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
    try:
        engine = create_db_engine(db)
        upgrade(engine)
        request_id = queue_request(engine, "kill_switch", params)
    except SQLAlchemyError as exc:
        reason_text = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        out.print(f"--db {db}: cannot queue the request: {reason_text}", markup=False)
        return 2
    scope = f"account {account}" if account else f"session {session}" if session else "the venue"
    out.print(
        f"request {request_id} queued: {action} the kill switch for {scope}; the running "
        "venue carries it out within a second (or at its next start)",
        markup=False,
    )
    return 0
