"""The bus benchmark runs end to end at tiny sizes (no timing asserted): every transport
echoes each frame and counts a stream exactly (the benchmark raises on a miscount)."""

import io

import pytest
from rich.console import Console

from benchmarks.bus_bench import main, nats_server_path, run


def test_the_local_transports_echo_and_count() -> None:
    local = ("unix", "tcp", "pipe", "shm")
    results, skipped = run(local, round_trips=50, frames=3_000, size=32)
    assert skipped == {}
    assert tuple(r.transport for r in results) == local
    assert all(0 < r.p50_us <= r.p99_us <= r.max_us and r.frames_per_s > 0 for r in results)


def test_nats_through_a_server_the_benchmark_starts() -> None:
    if nats_server_path() is None:
        pytest.skip("no nats-server on this machine (Debian package nats-server)")
    results, skipped = run(("nats",), round_trips=20, frames=500, size=32)
    assert skipped == {}
    assert [r.transport for r in results] == ["nats"]


def test_the_command_prints_the_table() -> None:
    out = io.StringIO()
    argv = ["--transport", "pipe", "--round-trips", "20", "--frames", "100"]
    assert main(argv, Console(file=out, width=120)) == 0
    assert "Bus transports" in out.getvalue() and "pipe" in out.getvalue()
