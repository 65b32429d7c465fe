"""The Prometheus endpoint of a real venue (`nyquestro serve`, FIX clients over TCP),
scraped over HTTP before and after a small load: the figures move as the load says."""

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient
from tests.control.conftest import OPERATOR, control_toml
from tests.fix.conftest import Server, Venue, free_port, gateway_pids, rest

BUY, SELL = "1", "2"
S1, S2 = "FIX.4.4:NYQUESTRO->CLIENT1", "FIX.4.4:NYQUESTRO->CLIENT2"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class MetricsServer(Server):
    def __init__(self, root: Path) -> None:
        self.metrics_port = free_port()
        self.control_port = free_port()
        # Two orders a second per session: the test's third order in a burst is refused.
        # Every request traced.
        metrics = f"\n[metrics]\nport = {self.metrics_port}\ntrace = 1.0\n"
        super().__init__(root, extra_toml=metrics + control_toml(self.control_port),
                         fix_settings="orders_per_second = 2\n")  # fmt: skip

    @property
    def store(self) -> Path:
        return self.root / f"store{self._runs}"

    def scrape(self) -> Samples:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as answer:
            text = answer.read().decode()
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def eventually(server: MetricsServer, holds: Callable[[Samples], bool]) -> Samples:
    deadline = time.monotonic() + 15
    samples: Samples = {}
    while True:
        with contextlib.suppress(urllib.error.URLError):  # a restarted endpoint not up yet
            samples = server.scrape()
            if holds(samples):
                return samples
        if time.monotonic() > deadline:
            raise AssertionError(f"not within 15 s; the last scrape: {samples}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetricsServer]:
    srv = MetricsServer(tmp_path_factory.mktemp("metrics-venue"))
    srv.start()
    yield srv
    srv.stop()


def test_the_figures_move_with_a_small_load(server: MetricsServer) -> None:
    before = server.scrape()
    assert value(before, "nyquestro_book_depth", symbol="AAPL", side="buy") == 0
    assert math.isnan(value(before, "nyquestro_book_spread_ticks", symbol="AAPL"))
    venue = Venue(server)
    buyer = venue.client("CLIENT1", "FIX.4.4")
    seller = venue.client("CLIENT2", "FIX.4.4")
    rest(buyer, "AAPL", BUY, 100, "189.00")
    time.sleep(0.6)  # tokens back
    rest(seller, "AAPL", SELL, 70, "189.50")
    time.sleep(0.6)
    seller.new_order("AAPL", SELL, 40, "189.00")
    seller.expect("8", {150: "F"})
    # A burst over CLIENT2's throttle: a reject with a reason, and a throttle refusal.
    for _ in range(3):
        seller.new_order("AAPL", SELL, 1, "195.00")
    seller.expect("8", {39: "8"})

    after = eventually(
        server, lambda s: value(s, "nyquestro_executions_total", session=S2) >= 1
        and value(s, "nyquestro_throttle_refusals_total", session=S2) >= 1,
    )  # fmt: skip
    assert (
        value(after, "nyquestro_orders_accepted_total", session=S1)
        - value(before, "nyquestro_orders_accepted_total", session=S1)
        == 1
    )
    assert value(after, "nyquestro_executions_total", session=S1) == 1
    assert value(after, "nyquestro_rejects_total", session=S2, reason="throttled") >= 1
    assert value(after, "nyquestro_book_depth", symbol="AAPL", side="buy") == 60
    assert value(after, "nyquestro_book_spread_ticks", symbol="AAPL") >= 50  # 189.50 - 189.00
    assert value(after, "nyquestro_fix_request_seconds_count", msg_type="D") >= 4
    assert value(after, "nyquestro_journal_commit_seconds_count") > value(
        before, "nyquestro_journal_commit_seconds_count"
    )
    records = "nyquestro_journal_records_total"
    assert value(after, records) - value(before, records) >= 3  # the three orders at least
    assert ("nyquestro_bus_backlog_bytes", frozenset({("gateway", "fix")})) in after
    venue.cleanup()


def test_a_restarted_metrics_process_keeps_the_totals(server: MetricsServer) -> None:
    venue = Venue(server)
    client = venue.client("CLIENT3", "FIX.4.2")
    rest(client, "MSFT", BUY, 5, "410.00")
    key = "FIX.4.2:NYQUESTRO->CLIENT3"
    before = eventually(
        server, lambda s: value(s, "nyquestro_orders_accepted_total", session=key) >= 1
    )
    (first,) = gateway_pids(server, "metrics")
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while len(gateway_pids(server, "metrics")) < 2:
        assert time.monotonic() < deadline, server.tail()
        time.sleep(0.1)
    after = eventually(
        server, lambda s: value(s, "nyquestro_book_depth", symbol="MSFT", side="buy") == 5
    )
    for name, labels in (("nyquestro_orders_accepted_total", {"session": key}),
                         ("nyquestro_executions_total", {"session": S1})):  # fmt: skip
        assert value(after, name, **labels) == value(before, name, **labels), name
    venue.cleanup()


def test_stage_latencies_in_stats_the_control_plane_and_traces(
    server: MetricsServer, tmp_path: Path
) -> None:
    venue = Venue(server)
    client = venue.client("CLIENT4", "FIX.4.4")
    cl_ord_id = rest(client, "IBM", BUY, 3, "179.00")
    time.sleep(0.6)  # the throttle's token back
    client.cancel(cl_ord_id, "IBM", BUY)
    client.expect("8", {150: "4"})
    answered = "arrived to answered"
    plot = tmp_path / "latency.png"
    deadline = time.monotonic() + 15
    while True:  # the FIX gateway writes its histograms every second
        run = subprocess.run(
            [sys.executable, "-m", "nyquestro", "stats", "--config", str(server.config_path),
             "--plot", str(plot)], capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if run.returncode == 0 and "durable to answered" in run.stdout:
            break
        assert time.monotonic() < deadline, run.stdout + run.stderr
        time.sleep(0.3)
    for stage in ("arrived to sequenced", "sequenced to durable", answered):
        assert stage in run.stdout
    assert plot.read_bytes().startswith(b"\x89PNG")

    with ControlClient(f"127.0.0.1:{server.control_port}", OPERATOR) as ops:
        stats = ops.stub.GetEngineStats(pb.GetEngineStatsRequest(), **ops.call())
    whole = next(s for s in stats.latency if s.stage == answered)
    assert whole.requests >= 2 and 0 < whole.p50_us <= whole.p99_us <= whole.max_us

    def traced() -> list[dict[str, Any]]:
        path = server.store / "trace.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [t for t in map(json.loads, lines) if t["cl_ord_id"] == cl_ord_id]

    while not [t for t in traced() if t["msg_type"] == "D"]:
        assert time.monotonic() < deadline + 10, "no trace of the order"
        time.sleep(0.3)
    (trace,) = [t for t in traced() if t["msg_type"] == "D"]
    assert set(trace["us"]) == {"arrived to sequenced", "sequenced to durable",
                                "durable to answered", answered}  # fmt: skip
    times = [trace[f"{stage}_ns"] for stage in ("arrived", "sequenced", "durable", "answered")]
    assert times == sorted(times) and times[0] > 0
    venue.cleanup()
