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
import threading
from collections import Counter
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
_FLUSH_SECONDS = 0.5
_Book = tuple[str, int, int, float]
"""A symbol, its visible bid and ask quantity, and its spread in ticks (NaN: a side empty)."""


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
        self._read = follower.read
        self._books: dict[str, dict[Side, dict[int, int]]] = {
            str(i.symbol): {Side.BUY: {}, Side.SELL: {}} for i in config.instruments
        }
        if follower.snapshot_seq:
            engine = follower.engine
            for symbol, sides in self._books.items():
                for side, levels in sides.items():
                    levels.update((px, qty) for px, qty, _ in engine.depth(Symbol(symbol), side))
        self._counted: Counter[tuple[str, tuple[str, ...]]] = Counter()
        """Increments since the last flush: (counter, its labels) → how many."""
        self._touched: set[str] = set(self._books)
        follower.subscribe_stamps(self._on_events)
        self._server: WSGIServer | None = None
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_often, name="metrics-flush",
                                         daemon=True)  # fmt: skip

    def _on_events(self, _stamp: Stamped, events: Sequence[EventBase]) -> None:
        """Per command, in the follower's lock: only dicts change here; prometheus_client's
        files are written by the flush, twice a second (a write per event measured as a
        quarter of a CPU under the FIX benchmark's load)."""
        counted = self._counted
        for event in events:
            if isinstance(event, LevelEvent):
                levels = self._books[event.symbol][event.side]
                if isinstance(event, LevelRemoved):
                    levels.pop(event.px, None)
                else:
                    levels[event.px] = event.qty
                self._touched.add(event.symbol)
            elif isinstance(event, Execution):
                counted["executions", (event.session,)] += 1
            elif isinstance(event, Accepted):
                counted["orders", (event.session,)] += 1
            elif isinstance(event, Rejected | CancelRejected):
                counted["rejects", (event.session, event.reason.name.lower())] += 1

    def _take(self) -> tuple[Counter[tuple[str, tuple[str, ...]]], list[_Book]]:
        """In the follower's lock: what changed since the last flush."""
        counted, self._counted = self._counted, Counter()
        books = [(symbol, *_figures(self._books[symbol])) for symbol in self._touched]
        self._touched = set()
        return counted, books

    def flush(self) -> None:
        counted, books = self._read(self._take)
        metrics = self._metrics
        for (name, labels), increments in counted.items():
            {"orders": metrics.orders, "executions": metrics.executions,
             "rejects": metrics.rejects}[name].labels(*labels).inc(increments)  # fmt: skip
        for symbol, bid_depth, ask_depth, spread in books:
            metrics.depth.labels(symbol, "buy").set(bid_depth)
            metrics.depth.labels(symbol, "sell").set(ask_depth)
            metrics.spread.labels(symbol).set(spread)

    def _flush_often(self) -> None:
        while not self._stop.wait(_FLUSH_SECONDS):
            self.flush()

    def start(self) -> None:
        self.flush()
        self._flusher.start()
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self._directory))  # type: ignore[no-untyped-call]
        self._server, _ = start_http_server(self._config.port, self._config.host, registry)

    def stop(self) -> None:
        self._stop.set()
        self.flush()
        if self._server is not None:
            self._server.shutdown()


def _figures(sides: dict[Side, dict[int, int]]) -> tuple[int, int, float]:
    bids, asks = sides[Side.BUY], sides[Side.SELL]
    spread = min(asks) - max(bids) if bids and asks else math.nan
    return sum(bids.values()), sum(asks.values()), spread


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
