"""The control plane's process (`gateway_process.py` starts it; not a command for people).

It follows the committed stream like every gateway process, and keeps an engine of its
own in step by running each command the stream brings, from the core's start snapshot
on: books, positions, PnL, kill switches and risk settings are read from it exactly as
the core has them, without a question to the core. Orders, executions and sessions come
from the store's projections, order histories and old events from the audit trail.
Actions go to the core as operator requests in the store, never over the bus: the core
carries them out as journaled commands exactly once, whoever queued them (this process or
the CLI), and a restarted core knows which it has carried out. The one exception is a
virtual clock's time, which is no command: SetClock asks the core over the bus, and the
core announces the time it moved to on the bus (`_BusClock`).
"""

import logging
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent import futures
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import grpc
from sqlalchemy import Engine as DbEngine

from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.clock import ClockMode
from nyquestro.config.venue import VenueConfig
from nyquestro.control import control_pb2_grpc
from nyquestro.domain.commands import Command
from nyquestro.domain.enums import Side, TradingPhase
from nyquestro.domain.events import EventBase
from nyquestro.domain.ids import Account, OrderId, Px, Qty, Symbol, TradeId
from nyquestro.domain.risk import AccountRisk, SessionRisk
from nyquestro.engine import Engine
from nyquestro.gateways.control.service import ControlService
from nyquestro.gateways.control.view import ControlView
from nyquestro.runtime.fix_settings import fix_session_keys
from nyquestro.runtime.follower import Follower
from nyquestro.runtime.gateway_main import Start, read_start, run_gateway
from nyquestro.runtime.latency import read_latency, summary
from nyquestro.store import queries
from nyquestro.store.database import create_db_engine
from nyquestro.store.faults import fault_outcome, request_fault
from nyquestro.store.operator import queue_request

log = logging.getLogger(__name__)

_WORKERS = 16
"""gRPC threads: each open StreamEvents holds one."""
_ACTION_TIMEOUT_SECONDS = 10.0
_STOP_GRACE_SECONDS = 1.0


class _SqlStore:
    def __init__(self, db: DbEngine) -> None:
        self._db = db

    def orders(
        self, session: str, account: str, symbol: str, status: str, after: int, limit: int
    ) -> list[dict[str, Any]]:
        where = queries.OrderFilter(session=session, account=account, symbol=symbol, status=status)
        return queries.orders(self._db, where, after, limit)

    def order(self, order_id: int) -> dict[str, Any] | None:
        return queries.order(self._db, order_id)

    def executions(
        self,
        session: str,
        account: str,
        symbol: str,
        order_id: int,
        after: tuple[int, int],
        limit: int,
    ) -> list[dict[str, Any]]:
        where = queries.OrderFilter(session=session, account=account, symbol=symbol)
        return queries.executions(self._db, where, order_id, after, limit)

    def sessions(self) -> list[dict[str, Any]]:
        return queries.sessions(self._db)

    def decisions(self, first_seq: int, last_seq: int) -> Iterator[tuple[int, int, Any]]:
        return queries.decisions(self._db, first_seq, last_seq)

    def projected_seq(self) -> int:
        return queries.projected_seq(self._db)

    def queue_request(self, kind: str, params: dict[str, Any]) -> int:
        return queue_request(self._db, kind, params)

    def request_fault(self, session: str, fault: str, amount: float | None, who: str) -> int:
        return request_fault(self._db, session, fault, amount, who)

    def fault_outcome(self, request_id: int) -> tuple[bool, str] | None:
        return fault_outcome(self._db, request_id)


class _EngineCopy:
    """The control plane's own engine, kept in step with the core's by running every
    command the stream brings (as the replica does): positions, PnL, books and settings
    exactly as the core has them, without asking the core anything."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._diverged = False

    def on_events(self, command: Command, events: Sequence[EventBase]) -> None:
        # The follower's journal replay (before the join) moves this engine itself.
        if command.seq <= self.engine.last_seq:
            return
        produced = self.engine.process(command)
        if produced != list(events) and not self._diverged:
            self._diverged = True
            log.error("the control plane's engine decided command %d otherwise than the core; "
                      "its positions and books are wrong from here", command.seq)  # fmt: skip

    # --- VenueReads ----------------------------------------------------------------------

    def is_halted(self, symbol: Symbol) -> bool:
        return self.engine.is_halted(symbol)

    def phase(self, symbol: Symbol) -> TradingPhase:
        return self.engine.phase(symbol)

    def last_trade_px(self, symbol: Symbol) -> Px | None:
        return self.engine.last_trade_px(symbol)

    def depth(self, symbol: Symbol, side: Side) -> list[tuple[Px, Qty, int]]:
        return self.engine.depth(symbol, side)

    def kill_switches(self) -> dict[tuple[str, str], str]:
        return self.engine.kill_switches()

    def accounts(self) -> list[Account]:
        return self.engine.accounts()

    def exposure(self, account: Account, symbol: Symbol) -> tuple[int, int, int]:
        return self.engine.exposure(account, symbol)

    def pnl(self, account: Account, symbol: Symbol) -> tuple[Decimal, Decimal]:
        return self.engine.pnl(account, symbol)

    def account_risk(self, account: Account) -> AccountRisk | None:
        return self.engine.settings.accounts.get(account)

    def session_risks(self) -> list[SessionRisk]:
        sessions = self.engine.settings.sessions
        return [sessions[key] for key in sorted(sessions)]

    def trade(self, trade_id: TradeId) -> tuple[Symbol, Px, Qty] | None:
        return self.engine.trade(trade_id)

    def latest_trade_of(self, order_id: OrderId) -> TradeId | None:
        return self.engine.latest_trade_of(order_id)


class _BusClock:
    """The venue's virtual clock, set through the core: a set goes over the bus, and the
    core announces the time it has after it to every gateway, this one included."""

    def __init__(self, follower: Follower) -> None:
        self._follower = follower
        self._heard = threading.Condition()
        self._now = 0
        self._announcements = 0
        self._setting = threading.Lock()
        follower.on_clock = self._announced

    def _announced(self, ts: int) -> None:
        with self._heard:
            self._now = ts
            self._announcements += 1
            self._heard.notify_all()

    def now(self) -> int:
        with self._heard:
            return self._now

    def set(self, ts: int, timeout: float) -> int | None:
        # One set at a time, so the announcement that answers it is told apart: the first
        # after the request that is at `ts` or beyond (beyond: the core refused it).
        with self._setting:
            with self._heard:
                before = self._announcements
            self._follower.set_clock(ts)
            with self._heard:
                answered = self._heard.wait_for(
                    lambda: self._announcements > before and self._now >= ts, timeout
                )
                return self._now if answered else None


def _latency(store_dir: Path) -> list[tuple[str, int, int, int, int, int]]:
    histograms = read_latency(store_dir)
    return [] if histograms is None else [(s, *summary(h)) for s, h in histograms.items()]


class _ControlPlane:
    def __init__(self, config: VenueConfig, follower: Follower) -> None:
        if config.control is None:
            raise ValueError("the venue's config has no [control] table")
        self._config = config.control
        view = ControlView(config.instruments, config.control.history)
        view.start_at(follower.snapshot_seq)
        engine = _EngineCopy(follower.engine)
        follower.subscribe(engine.on_events)
        follower.subscribe(view.on_events)
        prices = DecimalPrices({i.symbol: i for i in config.instruments})
        self._service = ControlService(
            config.control, view, engine, follower.read,
            _SqlStore(create_db_engine(config.db)), prices, fix_session_keys(config),
            _ACTION_TIMEOUT_SECONDS, partial(_latency, config.store_dir), config.fix.faults,
            _BusClock(follower) if config.clock is ClockMode.VIRTUAL else None,
        )  # fmt: skip
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=_WORKERS))
        control_pb2_grpc.add_ControlServicer_to_server(self._service, self._server)

    def start(self) -> None:
        address = f"{self._config.host}:{self._config.port}"
        if not self._server.add_insecure_port(address):
            raise OSError(f"the control plane cannot listen on {address}")
        self._server.start()

    def stop(self) -> None:
        self._server.stop(_STOP_GRACE_SECONDS).wait()


def main(start: Start) -> int:
    return run_gateway(start, "control", _ControlPlane)


if __name__ == "__main__":
    sys.exit(main(read_start(sys.argv)))
