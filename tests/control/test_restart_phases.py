"""kill -9 in the middle of an opening auction loses nothing acknowledged.

A real `nyquestro serve` on a virtual clock (`[clock] mode = "virtual"`, set over the
control plane) so every time is exact. IBM is put in `opening_auction`; two FIX clients
(4.4 and 4.2) rest crossing orders, a third (4.4) a buy stop the uncross reaches, one it
does not, and a GTD order expiring an hour later; one order is entered and cancelled. The
venue is killed with SIGKILL and restarted on the same store. Then:

* IBM is still in the call: an IOC is refused naming the phase, SecurityStatusRequest
  answers 5 (Price Indication) since the SetPhase's time, ListInstruments says
  `opening_auction`, and the book is still crossed;
* SetPhase continuous uncrosses exactly the acknowledged orders at the price of the rule
  in docs/phases.md (here its third step, market pressure), the reconnected clients get
  their fills, the stop the uncross price reached triggers and trades, the other waits;
* the GTD order expires when the clock reaches its ExpireTime, not before.

Parametrised over how the venue recovers: a full journal replay (no snapshot), and a
snapshot holding the call (phase, crossed book, stops, GTD order) plus a journal tail
holding the rest, the latter also with the FIX gateway in its own process (which
rebuilds its phase and order state from the core's stream and its own snapshot).
"""

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient
from nyquestro.gateways.fix.outbound import fix_time
from tests.control.conftest import ControlServer, eventually
from tests.fix.client import FixClient, Msg
from tests.fix.conftest import fills, log_matches, snapshot
from tests.fix.test_crash import CrashClient

BUY, SELL = "1", "2"
SYMBOL = "IBM"
T1 = 1_767_603_600_000_000_000
"""2026-01-05T09:00:00Z: the venue's (virtual) time for everything before the restart."""
EXPIRE = T1 + 3_600 * 1_000_000_000
"""The GTD order's ExpireTime, an hour later."""
UNCROSS = Decimal("180.05")
SNAPSHOT_AT = 8
"""The command after which the snapshot variant's snapshot falls: the start's Configure,
SetPhase and six orders (`_enter_the_call`); the three commands after it are its tail."""
IOC_REFUSED = (
    "IOC orders cannot trade while IBM is in phase opening_auction: "
    "nothing matches until the auction uncrosses"
)


@pytest.fixture(
    params=[(0, False), (SNAPSHOT_AT, False), (SNAPSHOT_AT, True)],
    ids=["journal", "snapshot", "snapshot-fix-own-process"],
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ControlServer]:
    """(snapshot_every, the FIX gateway in its own process)."""
    snapshot_every, own_process = request.param
    srv = ControlServer(
        tmp_path_factory.mktemp("restart-phases"),
        fix_settings="own_process = true\n" if own_process else "",
    )
    srv.extra_toml += '\n[clock]\nmode = "virtual"\n'
    srv.snapshot_every = snapshot_every
    yield srv
    srv.stop()


@pytest.fixture
def clients() -> Iterator[tuple[CrashClient, CrashClient, CrashClient]]:
    """Clients that keep their sequence numbers across the restart, as real ones do."""
    made = (
        CrashClient("CLIENT1", "FIX.4.4"),
        CrashClient("CLIENT2", "FIX.4.2"),
        CrashClient("CLIENT3", "FIX.4.4"),
    )
    yield made
    for client in made:
        client.close()


def _ack(client: FixClient, cl_ord_id: str) -> Msg:
    ack = client.expect("8", {11: cl_ord_id})
    assert (ack[150], ack[39]) == ("0", "0"), f"expected New, got {ack}"
    return ack


def _rest(client: FixClient, side: str, qty: int, price: str, cl_ord_id: str) -> None:
    _ack(client, client.new_order(SYMBOL, side, qty, price, cl_ord_id=cl_ord_id))


def _stop(client: FixClient, qty: int, stop_px: str, cl_ord_id: str) -> None:
    client.new_order(SYMBOL, BUY, qty, ord_type="3", cl_ord_id=cl_ord_id, extra=[(99, stop_px)])
    ack = _ack(client, cl_ord_id)
    assert (ack[40], Decimal(ack[99]), 44 in ack) == ("3", Decimal(stop_px), False), ack


def _instrument(ops: ControlClient, phase: str) -> pb.Instrument:
    """IBM as ListInstruments shows it, once it shows `phase` (the projections trail)."""

    def probe() -> pb.Instrument | None:
        answer = ops.stub.ListInstruments(pb.ListInstrumentsRequest(), **ops.call())
        found = {i.symbol: i for i in answer.instruments}
        return found[SYMBOL] if found[SYMBOL].phase == phase else None

    return eventually(probe)


def _set_phase(ops: ControlClient, phase: str) -> int:
    answer = ops.stub.SetPhase(pb.SetPhaseRequest(phase=phase, symbol=SYMBOL), **ops.call())
    seq: int = answer.seq
    return seq


def _set_clock(ops: ControlClient, ts: int) -> None:
    ops.stub.SetClock(pb.SetClockRequest(ts=ts), **ops.call())


def _no_fills(*clients: FixClient) -> None:
    for client in clients:
        traded = fills(client.drain())
        assert not traded, f"{client.sender} traded during the call: {traded}"


def _fill(client: FixClient, cl_ord_id: str, qty: int, cum: int, leaves: int) -> Msg:
    report = client.expect("8", {11: cl_ord_id}, check=lambda m: 32 in m)
    assert (Decimal(report[31]), int(report[32]), int(report[14]), int(report[151])) == (
        UNCROSS, qty, cum, leaves
    ), report  # fmt: skip
    status = "2" if leaves == 0 else "1"
    exec_type = "F" if client.is44 else status
    assert (report[150], report[39]) == (exec_type, status), report
    return report


def _enter_the_call(
    server: ControlServer, ops: ControlClient, clients: tuple[CrashClient, ...]
) -> int:
    """IBM in the opening call with everything acknowledged; returns the last command's seq."""
    first, second, third = clients
    _set_clock(ops, T1)
    call = _set_phase(ops, "opening_auction")
    # The snapshot: the call with a crossed book, the stops and the GTD order.
    _rest(first, BUY, 10, "180.10", "B1")
    _rest(first, BUY, 5, "180.00", "B2")
    _rest(second, SELL, 6, "180.05", "S2")
    _stop(third, 3, "180.05", "STOP1")  # the uncross price reaches it
    _stop(third, 2, "180.50", "STOP2")  # the uncross price does not
    gtd = third.new_order(SYMBOL, SELL, 1, "181.00", tif="6", cl_ord_id="GTD",
                          extra=[(126, fix_time(EXPIRE))])  # fmt: skip
    assert _ack(third, gtd)[126] == fix_time(EXPIRE)
    assert call + 6 == SNAPSHOT_AT, f"SetPhase was command {call}: update SNAPSHOT_AT"
    if server.snapshot_every:
        log_matches(server, rf"snapshot after command {SNAPSHOT_AT} written")
    # The journal's tail after it: an order the uncross fills whole, one cancelled.
    _rest(second, SELL, 8, "179.90", "S1")
    _rest(second, SELL, 5, "179.80", "GONE")
    second.cancel("GONE", SYMBOL, SELL, cl_ord_id="GONE-X")
    assert second.expect("8", {11: "GONE-X"})[150] == "4"
    _no_fills(first, second, third)
    assert snapshot(first, SYMBOL) == {
        ("0", Decimal("180.10")): 10,
        ("0", Decimal("180.00")): 5,
        ("1", Decimal("179.90")): 8,
        ("1", Decimal("180.05")): 6,
        ("1", Decimal("181.00")): 1,
    }, "the call lets the book cross"
    return SNAPSHOT_AT + 3


def test_sigkill_in_the_opening_call_and_the_restarted_venue_uncrosses_what_was_acked(
    server: ControlServer, clients: tuple[CrashClient, CrashClient, CrashClient]
) -> None:
    first, second, third = clients
    server.start()
    for client in clients:
        client.reconnect(server.port)
    with server.client() as ops:
        last = _enter_the_call(server, ops, clients)

    server.kill()
    for client in clients:
        client.drain_dead_socket()
    server.start(fresh=False)
    recovered = log_matches(server, r"recovered from (.*) and (\d+) journaled commands")
    if server.snapshot_every:
        assert recovered.groups() == (f"the snapshot after command {SNAPSHOT_AT}", "3")
    else:
        assert recovered.groups() == ("an empty venue", str(last))
    for client in clients:
        client.reconnect(server.port)

    with server.client() as ops:
        # Still in the call, since the SetPhase's time: the clock went on from the journal.
        ioc = first.new_order(SYMBOL, BUY, 1, "180.10", tif="3")
        refused = first.expect("8", {11: ioc})
        assert (refused[150], refused[103], refused[58]) == ("8", "11", IOC_REFUSED), refused
        assert refused[60] == fix_time(T1)
        ioc = second.new_order(SYMBOL, SELL, 1, "179.90", tif="3")
        refused = second.expect("8", {11: ioc})
        assert (refused[150], refused[103], refused[58]) == ("8", "0", IOC_REFUSED), refused
        for client in (first, second):
            client.send("e", [(324, "SS-" + client.sender), (55, SYMBOL), (263, "0")])
            status = client.expect("f", {324: "SS-" + client.sender})
            assert (status[55], status[326], status[325], status[60]) == (
                SYMBOL, "5", "N", fix_time(T1)
            ), status  # fmt: skip
        assert not _instrument(ops, "opening_auction").HasField("last_trade_px")
        assert snapshot(first, SYMBOL) == {
            ("0", Decimal("180.10")): 10,
            ("0", Decimal("180.00")): 5,
            ("1", Decimal("179.90")): 8,
            ("1", Decimal("180.05")): 6,
            ("1", Decimal("181.00")): 1,
        }, "the recovered book is still crossed"
        _no_fills(first, second, third)

        # Executable: 10 at 180.05 and at 180.10, both leaving 4 to sell: market
        # pressure (a sell surplus) takes the lower, 180.05. The cancelled 179.80 takes
        # no part.
        _set_phase(ops, "continuous")
        _fill(first, "B1", 8, 8, 2)  # against S1, the better sell, first
        _fill(first, "B1", 2, 10, 0)
        _fill(second, "S1", 8, 8, 0)
        _fill(second, "S2", 2, 2, 4)
        # Continuous trading starts with the stop the uncross reached: it buys at once.
        trigger = third.expect("8", {11: "STOP1", 150: "D"})
        assert trigger[58] == "stop triggered: last trade price 180.05 reached StopPx 180.05"
        assert (trigger[378], trigger[39], 32 in trigger) == ("8", "0", False), trigger
        _fill(third, "STOP1", 3, 3, 0)
        _fill(second, "S2", 3, 5, 1)
        for client in clients:
            extra = fills(client.drain())
            assert not extra, f"{client.sender}: fills beyond the uncross and the stop: {extra}"
        assert snapshot(first, SYMBOL) == {
            ("0", Decimal("180.00")): 5,
            ("1", Decimal("180.05")): 1,
            ("1", Decimal("181.00")): 1,
        }
        assert _instrument(ops, "continuous").last_trade_px == 18005
        third.status("STOP2", SYMBOL, BUY)
        waiting = third.expect("8", {11: "STOP2"})
        assert (waiting[150], waiting[39], waiting[99]) == ("I", "0", "180.50"), waiting

        # The GTD order lives until the clock reaches its ExpireTime.
        _set_clock(ops, EXPIRE - 1_000_000_000)
        time.sleep(0.2)  # the venue looks for due GTD orders every 50 ms
        assert not [m for m in third.drain() if m.get(150) == "C"], "expired early"
        _set_clock(ops, EXPIRE)
        expired = third.expect("8", {11: "GTD", 150: "C"})
        assert (expired[39], expired[151], expired[126], expired[58]) == (
            "C", "0", fix_time(EXPIRE), "GTD order expired at its ExpireTime"
        ), expired  # fmt: skip
        assert snapshot(first, SYMBOL) == {
            ("0", Decimal("180.00")): 5,
            ("1", Decimal("180.05")): 1,
        }
    for client in clients:
        assert not client.anomalies, client.anomalies
