"""The metrics process (`gateway_process.py` starts it; not a command for people).

It follows the committed stream like every gateway process and keeps the metrics the
stream tells (orders accepted, executions and rejects per session, each book's visible
depth and spread), and it serves every process's metrics, added up, at
http://HOST:PORT/metrics (see `metrics.py`).

Its own counters count from the core's start snapshot, history included, so a restarted
metrics process arrives at the same totals: it first removes the files of the one it
replaces, which would otherwise be counted twice.
"""

import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

from nyquestro.config.venue import VenueConfig
from nyquestro.domain.commands import Stamped
from nyquestro.domain.enums import Side
from nyquestro.domain.events import (
    Accepted,
    CancelRejected,
    EventBase,
    Execution,
    LevelEvent,
    LevelRemoved,
    Rejected,
)
from nyquestro.domain.ids import Symbol
from nyquestro.runtime.follower import Follower
from nyquestro.runtime.gateway_main import Start, read_start, run_gateway
from nyquestro.runtime.metrics import ENVIRONMENT, venue_metrics

_PID_FILE = "metrics-process.pid"


class _Endpoint:
    def __init__(self, config: VenueConfig, follower: Follower) -> None:
        metrics = venue_metrics()
        if config.metrics is None or metrics is None:
            raise ValueError(
                "[metrics] needs the venue started by `nyquestro serve`, which names the "
                f"metrics directory (${ENVIRONMENT}) before any process imports "
                "prometheus_client"
            )
        self._config = config.metrics
        self._directory = Path(os.environ[ENVIRONMENT])
        _retire_previous(self._directory)
        self._metrics = metrics
        self._books: dict[str, dict[Side, dict[int, int]]] = {
            str(i.symbol): {Side.BUY: {}, Side.SELL: {}} for i in config.instruments
        }
        if follower.snapshot_seq:
            engine = follower.engine
            for symbol, sides in self._books.items():
                for side, levels in sides.items():
                    levels.update((px, qty) for px, qty, _ in engine.depth(Symbol(symbol), side))
        for symbol in self._books:
            self._show_book(symbol)
        follower.subscribe_stamps(self._on_events)
        self._server: WSGIServer | None = None

    def _on_events(self, _stamp: Stamped, events: Sequence[EventBase]) -> None:
        metrics, touched = self._metrics, set()
        for event in events:
            if isinstance(event, LevelEvent):
                levels = self._books[event.symbol][event.side]
                if isinstance(event, LevelRemoved):
                    levels.pop(event.px, None)
                else:
                    levels[event.px] = event.qty
                touched.add(event.symbol)
            elif isinstance(event, Execution):
                metrics.executions.labels(event.session).inc()
            elif isinstance(event, Accepted):
                metrics.orders.labels(event.session).inc()
            elif isinstance(event, Rejected | CancelRejected):
                metrics.rejects.labels(event.session, event.reason.name.lower()).inc()
        for symbol in touched:
            self._show_book(symbol)

    def _show_book(self, symbol: str) -> None:
        sides = self._books[symbol]
        for side, levels in sides.items():
            self._metrics.depth.labels(symbol, side.name.lower()).set(sum(levels.values()))
        bids, asks = sides[Side.BUY], sides[Side.SELL]
        spread = min(asks) - max(bids) if bids and asks else math.nan
        self._metrics.spread.labels(symbol).set(spread)

    def start(self) -> None:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self._directory))  # type: ignore[no-untyped-call]
        self._server, _ = start_http_server(self._config.port, self._config.host, registry)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()


def _retire_previous(directory: Path) -> None:
    """Remove the metric files of the metrics process this one replaces (if any)."""
    marker = directory / _PID_FILE
    try:
        previous = int(marker.read_text())
    except (OSError, ValueError):
        previous = None
    if previous is not None and previous != os.getpid():
        for leftover in directory.glob(f"*_{previous}.db"):
            leftover.unlink(missing_ok=True)
    marker.write_text(str(os.getpid()))


def main(start: Start) -> int:
    return run_gateway(start, "metrics", _Endpoint)


if __name__ == "__main__":
    sys.exit(main(read_start(sys.argv)))
