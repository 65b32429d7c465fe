"""The venue's Prometheus metrics, kept by each of its processes and served as one.

prometheus_client's multiprocess mode: every process writes its metrics to files in one
directory (the store's `metrics/`, named by `nyquestro serve` in the environment before
anything imports prometheus_client: the library reads it once, at import), and the
metrics process serves what they add up to (`metrics_process.py`). Counters and
histograms add up across processes and survive a process's restart; the gauges each have
one writer and show its most recent value.

Who keeps what:
- the core: journal commit time (a histogram per commit batch), and each gateway's bus
  backlog (sampled every second);
- the FIX gateway: the time from a request's arrival (NewOrderSingle, cancel, replace) to
  the first answer sent for it, by message type; throttle refusals per session; the
  rejects it answers itself (malformed or throttled requests), per session and reason;
- the metrics process, from the committed stream: orders accepted, executions and the
  engine's rejects per session (rejects per reason too), and each book's visible depth
  and spread.

Without `[metrics]` in the config nothing here is created or costs anything:
`venue_metrics()` is None and every caller skips.
"""

import functools
import os

from prometheus_client import Counter, Gauge, Histogram

ENVIRONMENT = "PROMETHEUS_MULTIPROC_DIR"
"""The variable `nyquestro.cli.metrics_dir` sets (the same name: prometheus_client's)."""
_LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
)  # fmt: skip
"""Seconds: a request is answered in a few hundred µs on a quiet venue, and a commit takes
about as long; the tail reaches tens of milliseconds under load."""


class VenueMetrics:
    def __init__(self) -> None:
        self.journal_commit = Histogram(
            "nyquestro_journal_commit_seconds",
            "Time to write one batch of journal records durably.",
            buckets=_LATENCY_BUCKETS,
        )
        self.journal_records = Counter("nyquestro_journal_records", "Journal records committed.")
        self.bus_backlog = Gauge(
            "nyquestro_bus_backlog_bytes",
            "Committed stream bytes waiting for a gateway process to read them.",
            ["gateway"],
            multiprocess_mode="mostrecent",
        )
        self.request_latency = Histogram(
            "nyquestro_fix_request_seconds",
            "FIX requests: from arrival at the gateway to the first answer sent for them.",
            ["msg_type"],
            buckets=_LATENCY_BUCKETS,
        )
        self.throttle_refusals = Counter(
            "nyquestro_throttle_refusals", "Messages a session's throttles refused.", ["session"]
        )
        self.orders = Counter("nyquestro_orders_accepted", "Orders accepted.", ["session"])
        self.executions = Counter("nyquestro_executions", "Executions (fills).", ["session"])
        self.rejects = Counter(
            "nyquestro_rejects",
            "Orders, cancels and replaces rejected, by reason.",
            ["session", "reason"],
        )
        self.depth = Gauge(
            "nyquestro_book_depth",
            "Visible quantity resting on one side of a book.",
            ["symbol", "side"],
            multiprocess_mode="mostrecent",
        )
        self.spread = Gauge(
            "nyquestro_book_spread_ticks",
            "Best ask minus best bid, in ticks (absent while a side is empty).",
            ["symbol"],
            multiprocess_mode="mostrecent",
        )


@functools.cache
def venue_metrics() -> VenueMetrics | None:
    """This process's metrics (made on first use), or None when the venue keeps none."""
    if ENVIRONMENT not in os.environ:
        return None
    return VenueMetrics()
