"""The control plane's process (`gateway_process.py` starts it; not a command for people).

It follows the committed stream like every gateway process: its view of the venue
(instrument states, books, kill switches, recent events) starts from the engine as of
the core's start snapshot and folds every command after it. Orders, executions and
sessions come from the store's projections, order histories from the audit trail.
Actions go to the core as operator requests in the store, never over the bus: the core
carries them out as journaled commands exactly once, whoever queued them (this process or
the CLI), and a restarted core knows which it has carried out.
"""

import sys
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
from sqlalchemy import Engine as DbEngine

from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.venue import VenueConfig
from nyquestro.control import control_pb2_grpc
from nyquestro.domain.ids import Symbol
from nyquestro.gateways.control.service import ControlService
from nyquestro.gateways.control.view import ControlView
from nyquestro.runtime.follower import Follower
from nyquestro.runtime.gateway_main import Start, read_start, run_gateway
from nyquestro.store import queries
from nyquestro.store.database import create_db_engine
from nyquestro.store.operator import queue_request

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


class _ControlPlane:
    def __init__(self, config: VenueConfig, follower: Follower) -> None:
        if config.control is None:
            raise ValueError("the venue's config has no [control] table")
        self._config = config.control
        view = ControlView(config.instruments, config.control.history)
        if follower.snapshot_seq:
            engine = follower.engine
            view.seed(
                follower.snapshot_seq,
                lambda symbol, side: engine.depth(Symbol(symbol), side),
                lambda symbol: engine.is_halted(Symbol(symbol)),
                lambda symbol: engine.last_trade_px(Symbol(symbol)),
                engine.kill_switches(),
            )
        follower.subscribe(view.on_events)
        prices = DecimalPrices({i.symbol: i for i in config.instruments})
        self._service = ControlService(
            config.control,
            view,
            follower.read,
            _SqlStore(create_db_engine(config.db)),
            prices,
            _ACTION_TIMEOUT_SECONDS,
        )
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
