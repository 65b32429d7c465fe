"""A whole trading day through `nyquestro serve`, on a schedule and a virtual clock the
test moves with the control plane's SetClock: FIX clients see the venue closed, the
opening auction uncross their orders, continuous trading, the closing auction, the
post-close refusing orders, and the end of the day expiring DAY orders."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nyquestro.control import control_pb2 as pb
from tests.control.conftest import ControlServer
from tests.fix.client import FixClient, Msg
from tests.fix.conftest import Venue, managed

BUY, SELL = "1", "2"
SCHEDULE = """
[clock]
mode = "virtual"

[schedule]
phases = [
    {at = "08:00", phase = "pre_open"},
    {at = "09:00", phase = "opening_auction"},
    {at = "09:30", phase = "continuous"},
    {at = "16:00", phase = "closing_auction"},
    {at = "16:05", phase = "post_close"},
    {at = "18:00", phase = "closed"},
]
"""


def at(clock: str) -> int:
    """2026-12-08 at `clock` UTC, in ns."""
    moment = datetime.fromisoformat(f"2026-12-08T{clock}").replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlServer]:
    srv = ControlServer(tmp_path_factory.mktemp("trading-day"))
    srv.extra_toml += SCHEDULE
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def day_venue(day: ControlServer) -> Iterator[Venue]:
    yield from managed(Venue(day), day)


def refused(client: FixClient, side: str, qty: int, price: str, text: str) -> None:
    order = client.new_order("AAPL", side, qty, price)
    reject = client.expect("8", {11: order, 150: "8"})
    assert text in reject[58], reject


# SecurityTradingStatus (326) per phase, in 4.2 (the buyer's) and 4.4 (the seller's).
STATUS = {
    "pre_open": ("14", "21"),
    "opening_auction": ("5", "5"),
    "continuous": ("17", "17"),
    "closing_auction": ("5", "5"),
    "post_close": ("18", "18"),
    "closed": ("18", "18"),
}


def sees(buyer: FixClient, seller: FixClient, phase: str) -> None:
    """Both clients are told AAPL's new phase (SecurityStatus, unsolicited)."""
    for client, code in zip((buyer, seller), STATUS[phase], strict=True):
        status = client.expect("f", {55: "AAPL", 325: "Y", 326: code})
        assert 58 not in status or phase in status[58], status


def fill(client: FixClient, order: str) -> Msg:
    """The order's next execution report that reports a fill (ExecType 1/2 or F)."""
    return client.expect("8", {11: order}, check=lambda m: 32 in m)


def test_a_trading_day_on_the_schedule(day: ControlServer, day_venue: Venue) -> None:
    buyer = day_venue.client("CLIENT1", "FIX.4.2")
    seller = day_venue.client("CLIENT2", "FIX.4.4")  # ATC (TimeInForce 7) is 4.3's on
    with day.client() as ops:

        def clock(time_of_day: str) -> None:
            ops.stub.SetClock(pb.SetClockRequest(ts=at(time_of_day)), **ops.call())

        # A new store's virtual clock starts at the epoch, before the day: closed.
        refused(buyer, BUY, 1, "180.00", "phase closed")
        clock("07:00")
        clock("08:00")
        sees(buyer, seller, "pre_open")
        opg = buyer.new_order("AAPL", BUY, 10, "181.00", tif="2")  # at the opening
        assert buyer.expect("8", {11: opg})[150] == "0"
        offer = seller.new_order("AAPL", SELL, 6, "179.00")
        assert seller.expect("8", {11: offer})[150] == "0"
        clock("09:00")
        sees(buyer, seller, "opening_auction")
        assert not [m for m in buyer.drain() + seller.drain() if m.get(150) in ("1", "2", "F")]

        # The open: 6 trade at one price, 181.00 (the buy side's surplus presses up),
        # and what the OPG order has left expires with the auction.
        clock("09:30")
        sees(buyer, seller, "continuous")
        bought = fill(buyer, opg)
        sold = fill(seller, offer)
        assert bought[31] == sold[31] == "181.00" and bought[32] == sold[32] == "6"
        left = buyer.expect("8", {11: opg, 150: "4"})
        assert left[151] == "0" and "auction" in left[58], left

        # Continuous: a marketable order trades at once.
        day_order = buyer.new_order("AAPL", BUY, 5, "180.00")
        buyer.expect("8", {11: day_order, 150: "0"})
        seller.new_order("AAPL", SELL, 2, "180.00")
        assert fill(buyer, day_order)[32] == "2"
        night = buyer.new_order("AAPL", BUY, 1, "150.00")  # rests until the day ends
        buyer.expect("8", {11: night, 150: "0"})

        # The close: an ATC sell meets the DAY bid's remaining 3. 3 trade at 179.50 or
        # 180.00, with 1 left to sell at both: the sell side presses down, 179.50.
        clock("16:00")
        sees(buyer, seller, "closing_auction")
        atc = seller.new_order("AAPL", SELL, 4, "179.50", tif="7")
        seller.expect("8", {11: atc, 150: "0"})
        clock("16:05")
        sees(buyer, seller, "post_close")
        closing = fill(seller, atc)
        assert (closing[31], closing[32]) == ("179.50", "3")
        assert fill(buyer, day_order)[32] == "3"
        seller.expect("8", {11: atc, 150: "4"})  # its last 1 expires with the auction
        refused(seller, SELL, 1, "180.00", "phase post_close")

        # The end of the day: the resting DAY order expires.
        clock("18:00")
        sees(buyer, seller, "closed")
        expired = buyer.expect("8", {11: night, 150: "C"})
        assert expired[39] == "C", expired
        refused(buyer, BUY, 1, "150.00", "phase closed")


FAST = """
[schedule]
speed = 30
start = "07:59"
phases = [
    {at = "08:00", phase = "pre_open"},
    {at = "08:01", phase = "opening_auction"},
    {at = "08:02", phase = "continuous"},
    {at = "08:03", phase = "closing_auction"},
    {at = "08:04", phase = "post_close"},
    {at = "08:05", phase = "closed"},
]
"""


def test_a_fast_schedule_runs_the_day_on_the_machines_clock(tmp_path: Path) -> None:
    """At speed 30 a minute of the schedule is two seconds: a client logged on at the start
    is told every phase in order, and the venue-wide session status with them."""
    srv = ControlServer(tmp_path)
    srv.extra_toml += FAST
    srv.start()
    try:
        client = FixClient(srv.port, "CLIENT1", "FIX.4.4")
        client.logon()
        for phase, code in (("pre_open", "21"), ("opening_auction", "5"),
                            ("continuous", "17"), ("closing_auction", "5"),
                            ("post_close", "18"), ("closed", "18")):  # fmt: skip
            status = client.expect("f", {55: "AAPL", 326: code}, timeout=10)
            assert phase in status[58], status
        assert client.expect("h", {340: "3"}, timeout=10)  # closed
        client.close()
    finally:
        srv.stop()
