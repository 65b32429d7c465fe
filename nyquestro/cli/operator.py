"""Operator commands for the running venue: `nyquestro kill-switch engage|release`,
`nyquestro halt|resume SYMBOL` (resume also releases a tripped circuit breaker),
`nyquestro trade bust|correct TRADE_ID` and `nyquestro clock set WHEN` (a venue on a
virtual clock).

With a control-plane token (`--token`, or NYQUESTRO_OPERATOR_TOKEN) each goes through
the venue's control plane (`--connect`), which answers once the venue has carried it out,
or says why it will not. Without one, or when the control plane is not answering (the
venue is down), the request is queued in the store's operator_requests table; the venue
polls it and carries every request out exactly once, as a journaled command, within a
second or at its next start. Two need the control plane (and a token): setting the
clock, which is no journaled command, and correcting a trade, whose price is read in the
trade's symbol, which only the venue knows.
"""

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from nyquestro.control import TOKEN_VARIABLE
from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient
from nyquestro.store.database import create_db_engine, upgrade
from nyquestro.store.operator import queue_request


@dataclass(frozen=True, slots=True)
class Through:
    """How a command reaches the venue: the control plane at `connect` (when `token` is
    set), else the store's queue in `db`; `out` is where the command reports."""

    db: str
    connect: str
    token: str | None
    out: Console


def kill_switch_command(
    action: str, account: str | None, session: str | None, reason: str, through: Through
) -> int:
    out = through.out
    if account is not None and session is not None:
        out.print("--account and --session: give one scope (or neither, for the venue)")
        return 2
    params = {"engage": action == "engage", "account": account, "session": session,
              "reason": reason}  # fmt: skip
    scope = f"account {account}" if account else f"session {session}" if session else "the venue"
    request = pb.SetKillSwitchRequest(engage=action == "engage", account=account or "",
                                      session=session or "", reason=reason)  # fmt: skip
    return _carry_out(
        "kill_switch", params, f"{action} the kill switch for {scope}", through,
        lambda client: client.stub.SetKillSwitch(request, **client.call()),
    )  # fmt: skip


def trading_command(action: str, symbol: str, reason: str, through: Through) -> int:
    """`action` is "halt" or "resume"."""
    params = {"symbol": symbol, "reason": reason}

    def call(client: ControlClient) -> pb.ActionResponse:
        if action == "halt":
            return client.stub.Halt(pb.HaltRequest(symbol=symbol, reason=reason), **client.call())
        return client.stub.Resume(pb.ResumeRequest(symbol=symbol), **client.call())

    return _carry_out(action, params, f"{action} {symbol}", through, call)


def phase_command(phase: str, symbol: str | None, through: Through) -> int:
    """Move `symbol` (None: every symbol) to `phase`."""
    scope = symbol or "every symbol"
    request = pb.SetPhaseRequest(phase=phase, symbol=symbol or "")
    return _carry_out(
        "set_phase", {"symbol": symbol, "phase": phase}, f"move {scope} to {phase}", through,
        lambda client: client.stub.SetPhase(request, **client.call()),
    )  # fmt: skip


def bust_command(trade_id: int, reason: str, through: Through) -> int:
    request = pb.BustTradeRequest(trade_id=trade_id, reason=reason)
    return _carry_out(
        "bust_trade", {"trade_id": trade_id, "reason": reason}, f"bust trade {trade_id}",
        through, lambda client: client.stub.BustTrade(request, **client.call()),
    )  # fmt: skip


def correct_command(trade_id: int, px: str, qty: int, reason: str, through: Through) -> int:
    what = f"correct trade {trade_id} to {qty} @ {px}"
    if through.token is None:
        through.out.print(f"{what}: needs a control-plane token that may act (--token, or "
                          f"${TOKEN_VARIABLE}): the price is read in the trade's symbol, "
                          "which the venue knows", markup=False)  # fmt: skip
        return 2
    request = pb.CorrectTradeRequest(trade_id=trade_id, px=px, qty=qty, reason=reason)
    return _carry_out(
        "correct_trade", {}, what, through,
        lambda client: client.stub.CorrectTrade(request, **client.call()),
    )  # fmt: skip


def moment(text: str) -> int | None:
    """WHEN of `clock set`: nanoseconds since the epoch, or an ISO 8601 time (UTC unless
    it names its offset), to the microsecond; None if it is neither."""
    if text.isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    whole = int(parsed.replace(microsecond=0).timestamp())
    return whole * 1_000_000_000 + parsed.microsecond * 1_000


def clock_command(when: str, through: Through) -> int:
    out = through.out
    ts = moment(when)
    if ts is None:
        out.print(f"clock set: {when!r} is no time: nanoseconds since the epoch, or an ISO "
                  "8601 time such as 2025-03-14T09:30:00.000125Z", markup=False)  # fmt: skip
        return 2
    if through.token is None:
        out.print(f"clock set: needs a control-plane token that may act (--token, or "
                  f"${TOKEN_VARIABLE}): the clock is set through the control plane only",
                  markup=False)  # fmt: skip
        return 2
    with ControlClient(through.connect, through.token) as client:
        try:
            done = client.stub.SetClock(pb.SetClockRequest(ts=ts), **client.call())
        except grpc.RpcError as error:
            code = error.code()
            name = code.name if code is not None else "UNKNOWN"
            out.print(f"clock set: refused ({name}): {error.details()}", markup=False)
            return 1
    out.print(f"clock set: {done.summary}", markup=False)
    return 0


def _carry_out(
    kind: str, params: dict[str, Any], what: str, through: Through,
    call: Callable[[ControlClient], pb.ActionResponse],
) -> int:  # fmt: skip
    out = through.out
    if through.token is None:
        return _queue(kind, params, what, through.db, out)
    with ControlClient(through.connect, through.token) as client:
        try:
            done = call(client)
        except grpc.RpcError as error:
            code, details = error.code(), error.details()
            if code is not grpc.StatusCode.UNAVAILABLE:
                out.print(f"{what}: refused ({code.name}): {details}", markup=False)
                return 1
            out.print(
                f"the control plane at {through.connect} is not answering (is the venue "
                "running?): queuing the request in the store instead",
                markup=False,
            )
            return _queue(kind, params, what, through.db, out)
    out.print(
        f"{what}: done as command {done.seq} (request {done.request_id}): {done.summary}",
        markup=False,
    )
    return 0


def _queue(kind: str, params: dict[str, Any], what: str, db: str, out: Console) -> int:
    try:
        engine = create_db_engine(db)
        upgrade(engine)
        request_id = queue_request(engine, kind, {**params, "by": f"cli:{_user()}"})
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


def _user() -> str:
    """Who ran the command, for the audit's record of the request."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name: a container's anonymous uid
        return "unknown"
