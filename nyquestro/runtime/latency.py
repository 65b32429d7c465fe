"""The order path's latency, stage by stage (`gateways/fix/stages.py`), as the FIX gateway
measures it when the venue keeps metrics (`[metrics]`).

For every answered request:
- an HDR histogram per stage (microseconds; `hdrhistogram`), written every second to the
  store's `latency/fix.json`, where `nyquestro stats` and the control plane read them;
- the Prometheus histogram of the whole path (`nyquestro_fix_request_seconds`);
- with `[metrics] trace` above 0, one JSON line in the store's `trace.jsonl` for that
  share of requests (every n-th: deterministic), with each stage's time in µs.
"""

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from hdrh.histogram import HdrHistogram

from nyquestro.config.venue import VenueConfig
from nyquestro.domain.ids import SessionKey
from nyquestro.gateways.fix.stages import Passage, StageClock
from nyquestro.gateways.fix.venue import FixVenue
from nyquestro.runtime.metrics import VenueMetrics, venue_metrics

STAGES: tuple[tuple[str, Callable[[Passage], int]], ...] = (
    ("arrived to sequenced", lambda p: p.sequenced - p.arrived),
    ("sequenced to durable", lambda p: p.durable - p.sequenced),
    ("durable to answered", lambda p: p.answered - p.durable),
    ("arrived to answered", lambda p: p.answered - p.arrived),
)
"""Each stage and its duration in ns (the first three only for requests whose command came
back before the answer: not those the gateway refused itself)."""
_LOWEST_US, _HIGHEST_US, _DIGITS = 1, 60_000_000, 3
LATENCY_FILE = Path("latency") / "fix.json"
TRACE_FILE = "trace.jsonl"


def new_histogram() -> HdrHistogram:
    return HdrHistogram(_LOWEST_US, _HIGHEST_US, _DIGITS)


class LatencyRecorder:
    """The `StageClock`'s sink. Marks come from whichever thread sends an answer, so
    recording takes a small lock of its own (never held across anything else)."""

    def __init__(self, store_dir: Path, metrics: VenueMetrics | None, trace_share: float) -> None:
        self._path = store_dir / LATENCY_FILE
        self._metrics = metrics
        self._histograms = {name: new_histogram() for name, _ in STAGES}
        self._lock = threading.Lock()
        self._trace_every = round(1 / trace_share) if trace_share > 0 else 0
        self._seen = 0
        self._trace: TextIO | None = None
        if self._trace_every:
            self._trace = (store_dir / TRACE_FILE).open("a", encoding="utf-8")
        self._lines: list[str] = []

    def __call__(self, key: SessionKey, cl_ord_id: str, passage: Passage) -> None:
        whole = passage.answered - passage.arrived
        if self._metrics is not None:
            self._metrics.request_latency.labels(passage.msg_type).observe(whole / 1e9)
        stages = STAGES if passage.durable else STAGES[-1:]
        timed = {name: max(measure(passage), 0) // 1000 for name, measure in stages}
        with self._lock:
            for name, us in timed.items():
                self._histograms[name].record_value(max(us, _LOWEST_US))
            self._seen += 1
            if self._trace_every and self._seen % self._trace_every == 0:
                self._lines.append(json.dumps({
                    "session": key, "cl_ord_id": cl_ord_id, "msg_type": passage.msg_type,
                    "arrived_ns": passage.arrived, "sequenced_ns": passage.sequenced,
                    "durable_ns": passage.durable, "answered_ns": passage.answered,
                    "us": timed,
                }, separators=(",", ":")))  # fmt: skip

    def write(self) -> None:
        """Every second or so (the FIX gateway's background thread): the histograms to
        their file (replaced whole), the traces appended to theirs."""
        with self._lock:
            encoded = {name: h.encode().decode() for name, h in self._histograms.items()}
            lines, self._lines = self._lines, []
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fresh = self._path.with_suffix(".tmp")
        fresh.write_text(json.dumps(encoded))
        os.replace(fresh, self._path)
        if self._trace is not None and lines:
            self._trace.write("\n".join(lines) + "\n")
            self._trace.flush()


def stage_clock(config: VenueConfig, venue: FixVenue) -> tuple[StageClock, LatencyRecorder] | None:
    """The FIX gateway's stage clock and its recorder (None: the venue keeps no metrics);
    `venue`'s throttle refusals and own rejects are counted too."""
    metrics = venue_metrics()
    if config.metrics is None or metrics is None:
        return None
    venue.on_refused = lambda session: metrics.throttle_refusals.labels(session).inc()
    venue.on_rejected = lambda session, reason: metrics.rejects.labels(session, reason).inc()
    recorder = LatencyRecorder(config.store_dir, metrics, config.metrics.trace)
    clock = StageClock(recorder)
    venue.stages = clock
    return clock, recorder


def read_latency(store_dir: Path) -> dict[str, HdrHistogram] | None:
    """The FIX gateway's stage histograms as last written (None: none written)."""
    try:
        encoded = json.loads((store_dir / LATENCY_FILE).read_text())
    except (OSError, ValueError):
        return None
    return {name: HdrHistogram.decode(value.encode()) for name, value in encoded.items()}


def summary(histogram: HdrHistogram) -> tuple[int, int, int, int, int]:
    """(count, p50, p99, p99.9, max), µs."""
    return (
        histogram.get_total_count(),
        histogram.get_value_at_percentile(50.0),
        histogram.get_value_at_percentile(99.0),
        histogram.get_value_at_percentile(99.9),
        histogram.get_max_value(),
    )
