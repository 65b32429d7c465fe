"""SetClock through the real gRPC interface: on a venue with `[clock] mode = "virtual"`
the time moves only when set, commands and the FIX gateway's own rejects carry it, and
it never goes back; a venue on the wall clock refuses to be set."""

import subprocess
import sys
from collections.abc import Iterator

import grpc
import pytest

from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient
from nyquestro.gateways.fix.outbound import fix_time
from tests.control.conftest import OPERATOR, VIEWER, ControlServer
from tests.control.test_control_plane import BUY, status_of
from tests.fix.conftest import Venue, managed

T1 = 1_700_000_000_123_456_789
"""2023-11-14T22:13:20.123456789Z."""
T2 = T1 + 86_400_000_000_000 + 250_000_000
"""A day and a quarter of a second later."""


@pytest.fixture(scope="module")
def virtual(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlServer]:
    srv = ControlServer(tmp_path_factory.mktemp("virtual-clock-venue"))
    srv.extra_toml += '\n[clock]\nmode = "virtual"\n'
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def virtual_venue(virtual: ControlServer) -> Iterator[Venue]:
    yield from managed(Venue(virtual), virtual)


def set_clock(client: ControlClient, ts: int) -> pb.ActionResponse:
    answer: pb.ActionResponse = client.stub.SetClock(pb.SetClockRequest(ts=ts), **client.call())
    return answer


def test_the_virtual_clock_moves_only_when_set_and_never_back(
    virtual: ControlServer, virtual_venue: Venue
) -> None:
    client = virtual_venue.client("CLIENT1", "FIX.4.4")
    with virtual.client() as ops:
        answer = set_clock(ops, T1)
        assert answer.summary == f"the venue's clock is at 2023-11-14T22:13:20.123456789Z ({T1})"
        assert answer.seq == 0
        resting = client.new_order("AAPL", BUY, 10, "180.00")
        ack = client.expect("8", {11: resting, 150: "0"})
        assert ack[60] == fix_time(T1) == "20231114-22:13:20.123"

        set_clock(ops, T2)
        # Refused by the FIX gateway itself (off tick), in its own process: its time too.
        refused = client.new_order("AAPL", BUY, 10, "180.001")
        reject = client.expect("8", {11: refused, 150: "8"})
        assert reject[60] == fix_time(T2) == "20231115-22:13:20.373"

        back = status_of(lambda: set_clock(ops, T2 - 1))
        assert back.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert back.details() == (
            f"2023-11-15T22:13:20.373456788Z ({T2 - 1}) is before the venue's clock, "
            f"2023-11-15T22:13:20.373456789Z ({T2}): a virtual clock never goes back"
        )
        assert set_clock(ops, T2).summary.endswith(f"({T2})"), "the same time is no step back"
        # Still T2: nothing moved it, and the refused step back did not.
        client.cancel(resting, "AAPL", BUY)
        cancelled = client.expect("8", {150: "4"})
        assert cancelled[60] == fix_time(T2)

    with virtual.client(VIEWER) as viewer:
        denied = status_of(lambda: set_clock(viewer, T2 + 1))
        assert denied.code() is grpc.StatusCode.PERMISSION_DENIED


def test_a_venue_on_the_wall_clock_refuses_set_clock(server: ControlServer) -> None:
    with server.client() as ops:
        error = status_of(lambda: set_clock(ops, T1))
    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert error.details() == (
        'the venue runs on the wall clock: SetClock needs [clock] mode = "virtual"'
    )


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nyquestro", *args], capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def test_nyquestro_clock_set_moves_it_and_says_when_it_refuses(virtual: ControlServer) -> None:
    where = ("--connect", virtual.control_address, "--token", OPERATOR)
    later = run_cli("clock", "set", "2023-11-16T00:00:00.000125Z", *where)
    assert later.returncode == 0, later.stdout + later.stderr
    assert later.stderr.strip() == (
        "clock set: the venue's clock is at 2023-11-16T00:00:00.000125000Z (1700092800000125000)"
    )
    back = run_cli("clock", "set", str(T1), *where)
    assert back.returncode == 1
    assert "refused (FAILED_PRECONDITION)" in back.stderr
    assert "a virtual clock never goes back" in back.stderr
    nonsense = run_cli("clock", "set", "tomorrow", *where)
    assert nonsense.returncode == 2
    assert "'tomorrow' is no time" in nonsense.stderr
