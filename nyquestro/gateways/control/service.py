"""The control plane's gRPC service (`nyquestro/control/control.proto`).

Queries read the stream's fold (`ControlView`, through the follower's lock) or the
store's projections and audit trail. Actions never decide anything here: each becomes an
operator request in the store (who, what, when: the audit's record of it), which the core
carries out as a journaled command; the answer waits until that command comes back on
the stream, so an answered action is committed. SetClock is the exception: a virtual
clock's time is no command (the commands it stamps carry it), so it goes to the core
over the bus at once, and is answered when the core announces the time it moved to. A
request the venue refuses comes back
as a gRPC status naming the problem; so does one refused here first: a bad token, an
unknown order or symbol, a state the action makes no sense in.
"""

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any, NoReturn, Protocol, TypeVar

import grpc

from nyquestro.codec.jsonl import encode_event
from nyquestro.codec.order_rows import DONE_STATUSES, OPEN_STATUSES
from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.control import ControlConfig, ControlToken
from nyquestro.config.faults import Fault
from nyquestro.control import control_pb2 as pb
from nyquestro.control import control_pb2_grpc as pb_grpc
from nyquestro.domain.commands import BUST_WINDOW
from nyquestro.domain.enums import SessionAction, Side, TradingPhase
from nyquestro.domain.errors import InputError
from nyquestro.domain.events import (
    Cancelled,
    Configured,
    EventBase,
    Halted,
    KillSwitchSet,
    OperatorRejected,
    Resumed,
    SessionControlled,
    TradeBusted,
    TradeCorrected,
)
from nyquestro.domain.ids import Account, OrderId, Px, Qty, SessionKey, Symbol, TradeId
from nyquestro.domain.reasons import RejectReason
from nyquestro.domain.risk import (
    ACCOUNT_LIMITS,
    ORDER_LIMITS,
    AccountRisk,
    OrderLimits,
    SessionRisk,
    with_account_limit,
    with_check,
    with_session_limit,
)
from nyquestro.gateways.control.view import Committed, ControlView, ReadFn

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_DEFAULT_PAGE = 100
_MAX_PAGE = 1000
_STREAM_BATCH = 1000
_STREAM_POLL_SECONDS = 0.5
_FAULT_POLL_SECONDS = 0.05
FAULTS = tuple(fault.value for fault in Fault)
"""How often a waiting stream checks that its client is still there."""
_BOOK_EVENTS = frozenset({"level_added", "level_changed", "level_removed"})
"""The audit trail's names of the level events, which name the order that moved a level
but belong to the book's history, not the order's."""
ORDER_STATUSES = (*OPEN_STATUSES, *DONE_STATUSES, "open", "done")


class Store(Protocol):
    """What the control plane reads and writes in the venue's store."""

    def orders(
        self, session: str, account: str, symbol: str, status: str, after: int, limit: int
    ) -> list[dict[str, Any]]: ...
    def order(self, order_id: int) -> dict[str, Any] | None: ...
    def executions(
        self,
        session: str,
        account: str,
        symbol: str,
        order_id: int,
        after: tuple[int, int],
        limit: int,
    ) -> list[dict[str, Any]]: ...
    def sessions(self) -> list[dict[str, Any]]: ...
    def decisions(self, first_seq: int, last_seq: int) -> Iterator[tuple[int, int, Any]]: ...
    def projected_seq(self) -> int: ...
    def queue_request(self, kind: str, params: dict[str, Any]) -> int: ...
    def request_fault(self, session: str, fault: str, amount: float | None, who: str) -> int: ...
    def fault_outcome(self, request_id: int) -> tuple[bool, str] | None: ...


class VenueReads(Protocol):
    """What the control plane reads of its copy of the venue's engine (under the
    follower's lock; `nyquestro.engine.Engine` is one)."""

    def is_halted(self, symbol: Symbol) -> bool: ...
    def phase(self, symbol: Symbol) -> TradingPhase: ...
    def last_trade_px(self, symbol: Symbol) -> Px | None: ...
    def depth(self, symbol: Symbol, side: Side) -> list[tuple[Px, Qty, int]]: ...
    def kill_switches(self) -> dict[tuple[str, str], str]: ...
    def accounts(self) -> list[Account]: ...
    def exposure(self, account: Account, symbol: Symbol) -> tuple[int, int, int]: ...
    def pnl(self, account: Account, symbol: Symbol) -> tuple[Decimal, Decimal]: ...
    def account_risk(self, account: Account) -> AccountRisk | None: ...
    def session_risks(self) -> list[SessionRisk]: ...
    def trade(self, trade_id: TradeId) -> tuple[Symbol, Px, Qty] | None: ...
    def latest_trade_of(self, order_id: OrderId) -> TradeId | None: ...


class VirtualClock(Protocol):
    """The venue's virtual clock as the control plane reaches it."""

    def now(self) -> int:
        """The venue's time as last announced (ns since the epoch)."""
        ...

    def set(self, ts: int, timeout: float) -> int | None:
        """Ask the core to move the clock to `ts`; the time it has after that, or None if
        the core did not answer within `timeout` seconds."""
        ...


class ControlService(pb_grpc.ControlServicer):
    def __init__(
        self,
        config: ControlConfig,
        view: ControlView,
        venue: VenueReads,
        read: ReadFn,
        store: Store,
        prices: DecimalPrices,
        fix_sessions: frozenset[str],
        action_timeout: float,
        latency: Callable[[], list[tuple[str, int, int, int, int, int]]] = list,
        faults: bool = False,
        clock: VirtualClock | None = None,
    ) -> None:
        """`fix_sessions`: the keys of the venue's FIX sessions. `action_timeout`: how
        long an action waits for the core to carry it out. `latency`: each stage of the order
        path with its count, p50, p99, p99.9 and max in µs (none: not measured). `faults`:
        the FIX gateway runs the fault relay ([fix] faults). `clock`: the venue's virtual
        clock (None: the venue runs on the wall clock)."""
        self._config = config
        self._view = view
        self._venue = venue
        self._read = read
        self._store = store
        self._prices = prices
        self._fix_sessions = fix_sessions
        self._action_timeout = action_timeout
        self._latency = latency
        self._faults = faults
        self._clock = clock

    # --- queries ------------------------------------------------------------------------

    def ListInstruments(
        self, request: pb.ListInstrumentsRequest, context: grpc.ServicerContext
    ) -> pb.ListInstrumentsResponse:
        self._caller(context)
        view, venue = self._view, self._venue

        def instruments() -> pb.ListInstrumentsResponse:
            out = pb.ListInstrumentsResponse(as_of_seq=view.last_seq)
            for symbol, instrument in sorted(view.instruments.items()):
                halted = venue.is_halted(Symbol(symbol))
                message = out.instruments.add(
                    symbol=symbol,
                    tick_size=str(instrument.tick_size),
                    state=pb.Instrument.HALTED if halted else pb.Instrument.OPEN,
                    halt_reason=view.halt_reasons.get(symbol, "") if halted else "",
                    phase=venue.phase(Symbol(symbol)).value,
                )
                last = venue.last_trade_px(Symbol(symbol))
                if last is not None:
                    message.last_trade_px = last
            return out

        return self._read(instruments)

    def ListSessions(
        self, request: pb.ListSessionsRequest, context: grpc.ServicerContext
    ) -> pb.ListSessionsResponse:
        self._caller(context)
        return pb.ListSessionsResponse(
            sessions=[
                pb.Session(**{name: value for name, value in row.items() if value is not None})
                for row in self._store.sessions()
            ]
        )

    def ListOrders(
        self, request: pb.ListOrdersRequest, context: grpc.ServicerContext
    ) -> pb.ListOrdersResponse:
        self._caller(context)
        if request.status and request.status not in ORDER_STATUSES:
            _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"status {request.status!r}: expected one of {', '.join(ORDER_STATUSES)}",
            )
        limit = _page_size(request.page_size, context)
        after = _int_token(request.page_token, context)
        rows = self._store.orders(
            request.session, request.account, request.symbol, request.status, after, limit + 1
        )
        out = pb.ListOrdersResponse(orders=[_order(row) for row in rows[:limit]])
        if len(rows) > limit:
            out.next_page_token = str(rows[limit - 1]["order_id"])
        return out

    def GetOrderHistory(
        self, request: pb.GetOrderHistoryRequest, context: grpc.ServicerContext
    ) -> pb.GetOrderHistoryResponse:
        self._caller(context)
        order_id = request.order_id
        row = self._store.order(order_id)
        out = pb.GetOrderHistoryResponse()
        seen: set[int] = set()
        if row is not None:
            out.order.CopyFrom(_order(row))
            for seq, ts, decision in self._store.decisions(row["accepted_seq"], row["updated_seq"]):
                seen.add(seq)
                out.events.extend(
                    _event(seq, ts, fields)
                    for fields in decision["events"]
                    if fields.get("order_id") == order_id and fields["type"] not in _BOOK_EVENTS
                )
        recent = self._read(lambda: self._view.order_events(order_id))
        out.events.extend(self._event(c, event) for c, event in recent if c.seq not in seen)
        if not out.events and row is None:
            _abort(context, grpc.StatusCode.NOT_FOUND, f"unknown order {order_id}")
        out.complete = bool(out.events) and out.events[0].type == "accepted"
        return out

    def ListExecutions(
        self, request: pb.ListExecutionsRequest, context: grpc.ServicerContext
    ) -> pb.ListExecutionsResponse:
        self._caller(context)
        limit = _page_size(request.page_size, context)
        after = (0, 0)
        if request.page_token:
            seq, _, order_id = request.page_token.partition(":")
            after = (_int_token(seq, context), _int_token(order_id, context))
        rows = self._store.executions(
            request.session, request.account, request.symbol, request.order_id, after, limit + 1
        )
        out = pb.ListExecutionsResponse(executions=[pb.ExecutionRow(**r) for r in rows[:limit]])
        if len(rows) > limit:
            last = rows[limit - 1]
            out.next_page_token = f"{last['seq']}:{last['order_id']}"
        return out

    def GetBook(
        self, request: pb.GetBookRequest, context: grpc.ServicerContext
    ) -> pb.GetBookResponse:
        self._caller(context)
        symbol = self._symbol(request.symbol, context)
        view, venue, levels = self._view, self._venue, request.levels or None

        def book() -> pb.GetBookResponse:
            return pb.GetBookResponse(
                symbol=symbol,
                as_of_seq=view.last_seq,
                bids=[_level(*level) for level in venue.depth(Symbol(symbol), Side.BUY)[:levels]],
                asks=[_level(*level) for level in venue.depth(Symbol(symbol), Side.SELL)[:levels]],
            )

        return self._read(book)

    def ListKillSwitches(
        self, request: pb.ListKillSwitchesRequest, context: grpc.ServicerContext
    ) -> pb.ListKillSwitchesResponse:
        self._caller(context)
        engaged = self._read(lambda: sorted(self._venue.kill_switches().items()))
        return pb.ListKillSwitchesResponse(
            engaged=[
                pb.KillSwitch(scope=scope, name=name, reason=reason)
                for (scope, name), reason in engaged
            ]
        )

    def GetRisk(
        self, request: pb.GetRiskRequest, context: grpc.ServicerContext
    ) -> pb.GetRiskResponse:
        self._caller(context)
        view, venue = self._view, self._venue
        symbols = [Symbol(symbol) for symbol in sorted(view.instruments)]

        def risk() -> pb.GetRiskResponse:
            out = pb.GetRiskResponse(as_of_seq=view.last_seq)
            accounts = venue.accounts()
            if request.account:
                accounts = [a for a in accounts if a == request.account]
            for account in accounts:
                entry = out.accounts.add(account=account)
                for symbol in symbols:
                    position, open_buy, open_sell = venue.exposure(account, symbol)
                    if position or open_buy or open_sell or venue.pnl(account, symbol)[0]:
                        realised, unrealised = venue.pnl(account, symbol)
                        entry.positions.add(
                            symbol=symbol, position=position, open_buy=open_buy,
                            open_sell=open_sell, realised_pnl=str(realised),
                            unrealised_pnl=str(unrealised),
                        )  # fmt: skip
                settings = venue.account_risk(account)
                if settings is not None:
                    entry.limits.update(_limits(settings, ACCOUNT_LIMITS))
                    entry.limits.update(_limits(settings.limits, ORDER_LIMITS))
            for session in venue.session_risks():
                out.sessions.add(
                    session=session.session, limits=_limits(session.limits, ORDER_LIMITS),
                    checks_off=sorted(check.value for check in session.off),
                )  # fmt: skip
            return out

        return self._read(risk)

    def GetEngineStats(
        self, request: pb.GetEngineStatsRequest, context: grpc.ServicerContext
    ) -> pb.GetEngineStatsResponse:
        self._caller(context)
        stats = self._read(self._view.stats)
        projected = self._store.projected_seq()
        return pb.GetEngineStatsResponse(
            last_seq=stats.last_seq,
            commands_per_second=stats.commands_per_second,
            events_per_second=stats.events_per_second,
            projected_seq=projected,
            journal_lag=max(stats.last_seq - projected, 0),
            history_from_seq=stats.history_from_seq,
            latency=[
                pb.StageLatency(stage=stage, requests=count, p50_us=p50, p99_us=p99,
                                p999_us=p999, max_us=most)
                for stage, count, p50, p99, p999, most in self._latency()
            ],
        )  # fmt: skip

    def StreamEvents(
        self, request: pb.StreamEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.CommittedEvents]:
        self._caller(context)
        view = self._view
        after = request.after_seq
        while context.is_active():
            batch, generation, last_seq = self._read(partial(view.next_batch, after, _STREAM_BATCH))
            if after > last_seq:
                _abort(
                    context,
                    grpc.StatusCode.OUT_OF_RANGE,
                    f"after_seq {after} is ahead of the venue's newest command {last_seq}",
                )
            if batch is None:
                # Older than what this process holds (it started from a snapshot after
                # it, or the client fell behind): the audit trail has every command up
                # to the snapshot this process started from, and usually beyond.
                from_trail = self._from_trail(after, context)
                yield from from_trail
                after = from_trail[-1].seq
                continue
            for committed in batch:
                yield pb.CommittedEvents(
                    seq=committed.seq,
                    ts=committed.ts,
                    events=[self._event(committed, event) for event in committed.events],
                )
                after = committed.seq
            if not batch:
                view.wait_past(generation, _STREAM_POLL_SECONDS)

    def _from_trail(self, after: int, context: grpc.ServicerContext) -> list[pb.CommittedEvents]:
        """The commands after `after` that the audit trail holds, up to a batch of them;
        OUT_OF_RANGE when it has none."""
        upto = self._read(lambda: self._view.history_from_seq)
        found = [
            pb.CommittedEvents(
                seq=seq, ts=ts, events=[_event(seq, ts, fields) for fields in decision["events"]]
            )
            for seq, ts, decision in self._store.decisions(
                after + 1, min(upto, after + _STREAM_BATCH)
            )
        ]
        if not found or found[0].seq != after + 1:
            _abort(
                context,
                grpc.StatusCode.OUT_OF_RANGE,
                f"command {after + 1} is neither in the control plane's history (it resumes "
                f"after {upto} at the earliest) nor in the audit trail; query the state "
                "again and stream from there",
            )
        return found

    # --- actions -------------------------------------------------------------------------

    def CancelOrder(
        self, request: pb.CancelOrderRequest, context: grpc.ServicerContext
    ) -> pb.ActionResponse:
        who = self._actor(context)
        row = self._store.order(request.order_id)
        recent = self._read(lambda: self._view.order_events(request.order_id))
        if row is None and not recent:
            _abort(context, grpc.StatusCode.NOT_FOUND, f"unknown order {request.order_id}")
        done = _done_status(row, recent)
        if done is not None:
            _abort(
                context,
                grpc.StatusCode.FAILED_PRECONDITION,
                f"order {request.order_id} is not open: it is {done}",
            )
        params = {"order_id": request.order_id, "reason": request.reason}
        response = self._act(context, who, "cancel", params)
        if not any(e.type == "cancelled" for e in response.events):
            _abort(
                context,
                grpc.StatusCode.FAILED_PRECONDITION,
                f"order {request.order_id} was no longer open when the venue came to "
                f"cancel it (request {response.request_id}, command {response.seq})",
            )
        return response

    def MassCancel(
        self, request: pb.MassCancelRequest, context: grpc.ServicerContext
    ) -> pb.ActionResponse:
        who = self._actor(context)
        if not (request.session or request.account or request.symbol or request.all):
            _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                "no filter: give a session, an account or a symbol, or all=true to "
                "cancel every open order of the venue",
            )
        if request.symbol:
            self._symbol(request.symbol, context)
        params = {
            "session": request.session or None,
            "account": request.account or None,
            "symbol": request.symbol or None,
            "reason": request.reason,
        }
        return self._act(context, who, "mass_cancel", params)

    def BustTrade(
        self, request: pb.BustTradeRequest, context: grpc.ServicerContext
    ) -> pb.ActionResponse:
        who = self._actor(context)
        trade_id = self._trade_id(request.trade_id, request.order_id, context)
        self._trade(trade_id, context)
        params = {"trade_id": trade_id, "reason": request.reason}
        return self._act(context, who, "bust_trade", params)

    def CorrectTrade(
        self, request: pb.CorrectTradeRequest, context: grpc.ServicerContext
    ) -> pb.ActionResponse:
        who = self._actor(context)
        trade_id = self._trade_id(request.trade_id, request.order_id, context)
        symbol, _, qty = self._trade(trade_id, context)
        try:
            px = self._prices.to_ticks(symbol, request.px, "px")
        except InputError as exc:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        if px <= 0:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"px {request.px!r}: above 0")
        if not 0 < request.qty <= qty:
            _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"qty {request.qty}: 1 up to the trade's {qty} (a correction cannot add)",
            )
        params = {"trade_id": trade_id, "px": px, "qty": request.qty,
                  "reason": request.reason}  # fmt: skip
        return self._act(context, who, "correct_trade", params)

    def _trade_id(self, trade_id: int, order_id: int, context: grpc.ServicerContext) -> int:
        """The trade a request names: by its id, or as its order's latest."""
        if bool(trade_id) == bool(order_id):
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                   "name the trade by trade_id or by order_id (its latest trade): one of "
                   "them")  # fmt: skip
        if trade_id:
            return trade_id
        found = self._read(lambda: self._venue.latest_trade_of(OrderId(order_id)))
        if found is None:
            _abort(context, grpc.StatusCode.NOT_FOUND,
                   f"order {order_id} has no trade that can be busted or corrected")  # fmt: skip
        return found

    def _trade(self, trade_id: int, context: grpc.ServicerContext) -> tuple[Symbol, Px, Qty]:
        found = self._read(lambda: self._venue.trade(TradeId(trade_id)))
        if found is None:
            _abort(
                context,
                grpc.StatusCode.NOT_FOUND,
                f"no trade {trade_id} to bust or correct: never made, already busted, or "
                f"not among the day's latest {BUST_WINDOW} trades",
            )
        return found

    def Halt(self, request: pb.HaltRequest, context: grpc.ServicerContext) -> pb.ActionResponse:
        who = self._actor(context)
        symbol = self._symbol(request.symbol, context)
        halted, reason = self._read(
            lambda: (self._venue.is_halted(Symbol(symbol)), self._view.halt_reasons.get(symbol))
        )
        if halted:
            _abort(
                context,
                grpc.StatusCode.FAILED_PRECONDITION,
                f"{symbol} is already halted" + (f" ({reason})" if reason else ""),
            )
        return self._act(context, who, "halt", {"symbol": symbol, "reason": request.reason})

    def Resume(self, request: pb.ResumeRequest, context: grpc.ServicerContext) -> pb.ActionResponse:
        who = self._actor(context)
        symbol = self._symbol(request.symbol, context)
        if not self._read(lambda: self._venue.is_halted(Symbol(symbol))):
            _abort(
                context,
                grpc.StatusCode.FAILED_PRECONDITION,
                f"{symbol} is not halted: nothing to resume",
            )
        return self._act(context, who, "resume", {"symbol": symbol, "reason": ""})

    def SetPhase(
        self, request: pb.SetPhaseRequest, context: grpc.ServicerContext
    ) -> pb.ActionResponse:
        who = self._actor(context)
        phases = [phase.value for phase in TradingPhase]
        if request.phase not in phases:
            _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"phase {request.phase!r}: one of {', '.join(phases)}",
            )
        symbol = self._symbol(request.symbol, context) if request.symbol else None
        return self._act(context, who, "set_phase", {"symbol": symbol, "phase": request.phase})

    def SetKillSwitch(
        self, request: pb.SetKillSwitchRequest, context: grpc.ServicerContext
    ) -> pb.ActionResponse:
        who = self._actor(context)
        if request.account and request.session:
            _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                "account and session: give one scope, or neither for the whole venue",
            )
        scope = (
            ("account", request.account)
            if request.account
            else ("session", request.session)
            if request.session
            else ("venue", "")
        )
        engaged = self._read(lambda: scope in self._venue.kill_switches())
        if engaged == request.engage:
            where = "the venue" if scope[0] == "venue" else " ".join(scope)
            state = "engaged" if engaged else "not engaged"
            _abort(
                context,
                grpc.StatusCode.FAILED_PRECONDITION,
                f"the kill switch for {where} is already {state}",
            )
        params = {
            "engage": request.engage,
            "account": request.account or None,
            "session": request.session or None,
            "reason": request.reason,
        }
        return self._act(context, who, "kill_switch", params)

    def SetLimit(
        self, request: pb.SetLimitRequest, context: grpc.ServicerContext
    ) -> pb.ActionResponse:
        who = self._actor(context)
        if bool(request.account) == bool(request.session):
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                   "give one of account and session: whose limit this is")  # fmt: skip
        try:
            if request.account:
                account = Account(request.account)
                current = self._read(lambda: self._venue.account_risk(account))
                with_account_limit(current, account, request.limit, request.value)
            else:
                with_session_limit(None, SessionKey(request.session), request.limit,
                                   request.value)  # fmt: skip
        except ValueError as exc:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        params = {"account": request.account or None, "session": request.session or None,
                  "limit": request.limit, "value": request.value}  # fmt: skip
        return self._act(context, who, "set_limit", params)

    def SetRiskCheck(
        self, request: pb.SetRiskCheckRequest, context: grpc.ServicerContext
    ) -> pb.ActionResponse:
        who = self._actor(context)
        if not request.session:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, "no session: checks are per session")
        try:
            with_check(None, SessionKey(request.session), request.check, request.enabled)
        except ValueError as exc:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        params = {"session": request.session, "check": request.check,
                  "enabled": request.enabled}  # fmt: skip
        return self._act(context, who, "risk_check", params)

    def ForceLogout(
        self, request: pb.ForceLogoutRequest, context: grpc.ServicerContext
    ) -> pb.ActionResponse:
        who = self._actor(context)
        session = self._session(request.session, context)
        if not any(
            row["session_key"] == session and row["state"] == "logged_on"
            for row in self._store.sessions()
        ):
            _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                   f"session {session} is not logged on")  # fmt: skip
        return self._act(context, who, "logout", {"session": session, "reason": request.reason})

    def ResetSequence(
        self, request: pb.ResetSequenceRequest, context: grpc.ServicerContext
    ) -> pb.ActionResponse:
        who = self._actor(context)
        session = self._session(request.session, context)
        return self._act(context, who, "reset", {"session": session, "reason": ""})

    def InjectFault(
        self, request: pb.InjectFaultRequest, context: grpc.ServicerContext
    ) -> pb.ActionResponse:
        who = self._actor(context)
        session = self._session(request.session, context)
        if request.fault not in FAULTS:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                   f"unknown fault {request.fault!r}; one of {', '.join(FAULTS)}")  # fmt: skip
        if not self._faults:
            _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                   "the venue runs without the fault relay: set [fix] faults = true")  # fmt: skip
        amount = request.amount if request.HasField("amount") else None
        if amount is not None and amount < 0:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"amount {amount} is below 0")
        request_id = self._store.request_fault(session, request.fault, amount, who.name)
        log.warning("control plane: %s asked for fault %s (%s) on %s (fault request %d)",
                    who.name, request.fault, amount, session, request_id)  # fmt: skip
        deadline = time.monotonic() + self._action_timeout
        while (outcome := self._store.fault_outcome(request_id)) is None:
            if time.monotonic() > deadline:
                _abort(context, grpc.StatusCode.DEADLINE_EXCEEDED,
                       f"fault request {request_id}: the FIX gateway did not answer within "
                       f"{self._action_timeout:g} s")  # fmt: skip
            time.sleep(_FAULT_POLL_SECONDS)
        refused, text = outcome
        if refused:
            _abort(context, grpc.StatusCode.FAILED_PRECONDITION, text)
        return pb.ActionResponse(request_id=request_id, seq=0, summary=text)

    def SetClock(
        self, request: pb.SetClockRequest, context: grpc.ServicerContext
    ) -> pb.ActionResponse:
        who = self._actor(context)
        clock = self._clock
        if clock is None:
            _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                   "the venue runs on the wall clock: SetClock needs "
                   '[clock] mode = "virtual"')  # fmt: skip
        if request.ts < 0:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                   f"ts {request.ts}: nanoseconds since the epoch, not below 0")  # fmt: skip
        now = clock.now()
        if request.ts < now:
            _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                   f"{clock_text(request.ts)} is before the venue's clock, "
                   f"{clock_text(now)}: a virtual clock never goes back")  # fmt: skip
        # A replay sets the clock before every message: not worth a line each at INFO.
        log.debug("control plane: %s sets the clock to %d", who.name, request.ts)
        reached = clock.set(request.ts, self._action_timeout)
        if reached is None:
            _abort(context, grpc.StatusCode.DEADLINE_EXCEEDED,
                   f"the core did not set the clock within {self._action_timeout:g} s")  # fmt: skip
        if reached != request.ts:
            _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                   f"{clock_text(request.ts)} is before the venue's clock, moved meanwhile "
                   f"to {clock_text(reached)}: a virtual clock never goes back")  # fmt: skip
        return pb.ActionResponse(summary=f"the venue's clock is at {clock_text(reached)}")

    # --- helpers -------------------------------------------------------------------------

    def _session(self, session: str, context: grpc.ServicerContext) -> str:
        if session not in self._fix_sessions:
            _abort(
                context,
                grpc.StatusCode.NOT_FOUND,
                f"unknown FIX session {session!r}: the venue has "
                f"{', '.join(sorted(self._fix_sessions))}",
            )
        return session

    def _caller(self, context: grpc.ServicerContext) -> ControlToken:
        presented = ""
        for key, value in context.invocation_metadata():
            if key == "authorization" and isinstance(value, str):
                presented = value.removeprefix("Bearer ").strip()
        if not presented:
            _abort(
                context,
                grpc.StatusCode.UNAUTHENTICATED,
                "no token: send the metadata entry authorization: Bearer <token>",
            )
        token = self._config.token(presented)
        if token is None:
            _abort(
                context,
                grpc.StatusCode.UNAUTHENTICATED,
                "unknown token: it is not in the venue's [control.tokens]",
            )
        return token

    def _actor(self, context: grpc.ServicerContext) -> ControlToken:
        token = self._caller(context)
        if not token.actions:
            _abort(
                context,
                grpc.StatusCode.PERMISSION_DENIED,
                f"token {token.name!r} may only query: its [control.tokens] entry "
                "lacks actions = true",
            )
        return token

    def _symbol(self, symbol: str, context: grpc.ServicerContext) -> str:
        if symbol not in self._view.instruments:
            _abort(
                context,
                grpc.StatusCode.NOT_FOUND,
                f"unknown symbol {symbol!r}: the venue lists "
                f"{', '.join(sorted(self._view.instruments))}",
            )
        return symbol

    def _act(
        self,
        context: grpc.ServicerContext,
        who: ControlToken,
        kind: str,
        params: dict[str, Any],
    ) -> pb.ActionResponse:
        request_id = self._store.queue_request(kind, {**params, "by": who.name})
        log.warning(
            "control plane: %s asked for %s %s (request %d)",
            who.name,
            kind,
            json.dumps(params, sort_keys=True),
            request_id,
        )
        committed = self._view.wait_carried_out(self._read, request_id, self._action_timeout)
        if committed is None:
            _abort(
                context,
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"request {request_id} is queued, but the venue did not carry it out "
                f"within {self._action_timeout:g} s; it will when it can",
            )
        for event in committed.events:
            if isinstance(event, OperatorRejected):
                code = (
                    grpc.StatusCode.NOT_FOUND
                    if event.reason is RejectReason.UNKNOWN_SYMBOL
                    else grpc.StatusCode.FAILED_PRECONDITION
                )
                _abort(context, code, f"the venue refused request {request_id}: {event.text}")
        events = [self._event(committed, event) for event in committed.events]
        return pb.ActionResponse(
            request_id=request_id,
            seq=committed.seq,
            events=events,
            summary=_summary(kind, committed.events),
        )

    def _event(self, committed: Committed, event: EventBase) -> pb.Event:
        return _event(committed.seq, committed.ts, encode_event(event, self._prices))


def _event(seq: int, ts: int, fields: dict[str, Any]) -> pb.Event:
    return pb.Event(
        seq=seq,
        ts=ts,
        type=str(fields["type"]),
        order_id=int(fields.get("order_id") or 0),
        session=str(fields.get("session") or ""),
        symbol=str(fields.get("symbol") or ""),
        fields_json=json.dumps(fields, separators=(",", ":")),
    )


def _limits(settings: AccountRisk | OrderLimits, names: Sequence[str]) -> dict[str, str]:
    """The limits among `names` that `settings` sets, as text."""
    return {name: str(value) for name in names if (value := getattr(settings, name)) is not None}


def _order(row: dict[str, Any]) -> pb.Order:
    return pb.Order(**row)


def _level(px: int, qty: int, orders: int) -> pb.Level:
    return pb.Level(px=px, qty=qty, orders=orders)


def _done_status(
    row: dict[str, Any] | None, recent: Sequence[tuple[Committed, EventBase]]
) -> str | None:
    """The order's final status if it is done (None while open), from its newest event
    here, else from the projection."""
    for _, event in reversed(recent):
        kind = type(event).__name__
        if kind in ("Filled", "Cancelled", "Expired"):
            return {"Filled": "filled", "Cancelled": "canceled", "Expired": "expired"}[kind]
        if kind in ("Accepted", "PartiallyFilled", "Replaced", "Restated"):
            return None
    if row is not None and row["status"] in DONE_STATUSES:
        return str(row["status"])
    return None


def _summary(kind: str, events: Sequence[EventBase]) -> str:
    """One line of what the venue did."""
    told = [line for event in events if (line := _told(event))]
    cancelled = sum(isinstance(e, Cancelled) for e in events)
    if cancelled or kind in ("cancel", "mass_cancel"):
        told.append(f"{cancelled} order{'s' if cancelled != 1 else ''} cancelled")
    return "; ".join(told)


def _told(event: EventBase) -> str | None:
    """What an action's event says, for its summary (None: a consequence told otherwise,
    such as the book's levels, or the cancels, which are counted)."""
    if isinstance(event, Halted):
        return f"{event.symbol} halted" + (f" ({event.reason})" if event.reason else "")
    if isinstance(event, Resumed):
        return f"{event.symbol} resumed"
    if isinstance(event, KillSwitchSet):
        scope = (f"account {event.account}" if event.account is not None
                 else f"session {event.session}" if event.session is not None
                 else "the venue")  # fmt: skip
        return f"kill switch {'engaged' if event.engaged else 'released'} for {scope}"
    if isinstance(event, Configured):
        return "; ".join(event.changes) or "settings unchanged"
    if isinstance(event, SessionControlled):
        done = "logged out" if event.action is SessionAction.LOGOUT else "reset to 1"
        return f"{event.session} {done}"
    if isinstance(event, TradeBusted):
        return f"trade {event.trade_id} busted ({event.orig_qty} {event.symbol})"
    if isinstance(event, TradeCorrected):
        return (f"trade {event.trade_id} corrected: {event.orig_qty} -> {event.qty} "
                f"{event.symbol} at {event.orig_px} -> {event.px} ticks")  # fmt: skip
    return None


def _page_size(asked: int, context: grpc.ServicerContext) -> int:
    if asked > _MAX_PAGE:
        _abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"page_size {asked}: at most {_MAX_PAGE}")
    return asked or _DEFAULT_PAGE


def _int_token(token: str, context: grpc.ServicerContext) -> int:
    if not token:
        return 0
    if not token.isdigit():
        _abort(
            context,
            grpc.StatusCode.INVALID_ARGUMENT,
            f"page_token {token!r}: not a token a page of this call gave",
        )
    return int(token)


def clock_text(ts: int) -> str:
    """`ts` (ns since the epoch) as a UTC time to the nanosecond, and the number itself."""
    second, fraction = divmod(ts, 1_000_000_000)
    return f"{datetime.fromtimestamp(second, tz=UTC):%Y-%m-%dT%H:%M:%S}.{fraction:09d}Z ({ts})"


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise AssertionError("grpc's abort returned")  # it raises; this satisfies the type
