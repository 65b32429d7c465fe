"""New orders end to end: acknowledgements, fills on both sides, order types, icebergs,
pegs and self-match prevention, in FIX 4.2 and 4.4.

CLIENT1 and CLIENT2 trade with each other, CLIENT3 watches market data. A session's
account defaults to its CompID, so CLIENT1 and CLIENT2 only self-match when the test
gives both the same Account (1).
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fix.client import FixClient, Msg
from tests.fix.conftest import (
    Levels,
    Server,
    Venue,
    apply_incremental,
    fill_exec_type,
    fills,
    reports,
    rest,
    snapshot,
)

BUY, SELL = "1", "2"


def qty(msg: Msg, tag: int) -> Decimal:
    return Decimal(msg[tag])


def assert_fill(
    er: Msg,
    version: str,
    *,
    last_qty: int,
    last_px: str,
    cum: int,
    leaves: int,
    avg_px: str,
) -> None:
    """One execution report, checked against what FIX says each field must be."""
    filled = leaves == 0
    assert er[150] == fill_exec_type(version, filled), er
    assert er[39] == ("2" if filled else "1"), er
    if version == "FIX.4.2":
        assert er[20] == "0", er
    assert qty(er, 32) == last_qty, er
    assert qty(er, 31) == Decimal(last_px), er
    assert qty(er, 14) == cum, er
    assert qty(er, 151) == leaves, er
    assert qty(er, 6) == Decimal(avg_px), er


def test_new_order_is_acknowledged_with_every_required_field(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    cl_ord_id = a.new_order("IBM", BUY, 10, "170.00")
    er = a.expect("8", {11: cl_ord_id})
    assert er[150] == "0"
    assert er[39] == "0"
    assert er[37] not in ("", "NONE")
    assert er[17]
    assert (er[55], er[54], er[40]) == ("IBM", BUY, "2")
    assert qty(er, 38) == 10
    assert qty(er, 44) == Decimal("170.00")
    assert (qty(er, 14), qty(er, 151), qty(er, 6)) == (0, 10, 0)
    if version == "FIX.4.2":
        assert er[20] == "0"
    transact = datetime.strptime(er[60], "%Y%m%d-%H:%M:%S.%f").replace(tzinfo=UTC)
    # TransactTime is UTC: a venue stamping local time would be hours off.
    assert abs(transact - datetime.now(UTC)) < timedelta(minutes=5)


def test_order_and_exec_ids_are_unique_and_exec_ids_increase(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    a.new_order("IBM", SELL, 5, "171.00")
    a.new_order("IBM", SELL, 5, "171.01")
    a.sync()
    b.new_order("IBM", BUY, 10, "171.01")
    b.sync()
    a.new_order("IBM", BUY, 3, "169.00")
    seen = a.drain() + b.drain()
    ers = reports(seen)
    assert len(ers) == 8, seen  # A: 3 New + 2 fills; B: New + 2 fills
    exec_ids = [m[17] for m in ers]
    assert len(set(exec_ids)) == len(exec_ids), exec_ids
    # Within one session, in arrival order, ExecIDs increase.
    for session in ("CLIENT1", "CLIENT2"):
        ids = [int(m[17]) for m in ers if m[56] == session]
        assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
    order_ids = {m[11]: m[37] for m in ers}
    assert len(set(order_ids.values())) == len(order_ids) == 4


def test_partial_fills_across_two_sessions(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    sell = rest(a, "MSFT", SELL, 100, "420.00")

    buy1 = b.new_order("MSFT", BUY, 30, "420.00")
    b_fill = b.expect("8", {11: buy1}, check=lambda m: 32 in m)
    assert_fill(b_fill, version, last_qty=30, last_px="420.00", cum=30, leaves=0, avg_px="420")
    a_fill = a.expect("8", {11: sell}, check=lambda m: 32 in m)
    assert_fill(a_fill, version, last_qty=30, last_px="420.00", cum=30, leaves=70, avg_px="420")

    # Priced through the resting order: executes at the resting price, 420.00.
    buy2 = b.new_order("MSFT", BUY, 70, "420.05")
    b_fill = b.expect("8", {11: buy2}, check=lambda m: 32 in m)
    assert_fill(b_fill, version, last_qty=70, last_px="420.00", cum=70, leaves=0, avg_px="420")
    assert qty(b_fill, 44) == Decimal("420.05")
    a_fill2 = a.expect("8", {11: sell}, check=lambda m: 32 in m)
    assert_fill(a_fill2, version, last_qty=70, last_px="420.00", cum=100, leaves=0, avg_px="420")
    assert a_fill2[37] == a_fill[37]
    # Both sides of one execution are reported under different ExecIDs.
    assert len({a_fill[17], a_fill2[17], b_fill[17]}) == 3
    assert not fills(a.drain() + b.drain())


def test_aggressor_sweeps_levels_at_each_resting_price_with_exact_avg_px(
    venue: Venue, version: str
) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    near = rest(a, "AAPL", SELL, 10, "190.01")
    far = rest(a, "AAPL", SELL, 30, "190.02")
    buy = b.new_order("AAPL", BUY, 40, "190.05")
    b.sync()
    got = reports(b.drain(), buy)
    assert [m[150] for m in got] == [
        "0",
        fill_exec_type(version, False),
        fill_exec_type(version, True),
    ]
    assert_fill(got[1], version, last_qty=10, last_px="190.01", cum=10, leaves=30, avg_px="190.01")
    # (10 * 190.01 + 30 * 190.02) / 40 = 190.0175, exactly.
    assert_fill(got[2], version, last_qty=30, last_px="190.02", cum=40, leaves=0, avg_px="190.0175")
    a_msgs = a.drain()
    (near_fill,) = fills(reports(a_msgs, near))
    (far_fill,) = fills(reports(a_msgs, far))
    assert_fill(
        near_fill, version, last_qty=10, last_px="190.01", cum=10, leaves=0, avg_px="190.01"
    )
    assert_fill(far_fill, version, last_qty=30, last_px="190.02", cum=30, leaves=0, avg_px="190.02")


def test_ioc_remainder_is_cancelled_with_text(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    rest(a, "IBM", SELL, 5, "180.00")
    ioc = b.new_order("IBM", BUY, 8, "180.00", tif="3")
    b.sync()
    got = reports(b.drain(), ioc)
    (fill,) = fills(got)
    assert_fill(fill, version, last_qty=5, last_px="180.00", cum=5, leaves=3, avg_px="180")
    last = got[-1]
    assert (last[150], last[39]) == ("4", "4"), got
    assert (qty(last, 14), qty(last, 151)) == (5, 0)
    assert last.get(58), "a cancelled IOC remainder needs a Text saying why"
    assert got.index(fill) < got.index(last)


def test_fok_that_cannot_fill_is_cancelled_without_any_fill(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    resting = rest(a, "IBM", SELL, 5, "180.00")
    fok = b.new_order("IBM", BUY, 8, "180.00", tif="4")
    b.sync()
    got = reports(b.drain(), fok)
    assert not fills(got)
    assert (got[-1][150], got[-1][39]) == ("4", "4"), got
    assert (qty(got[-1], 14), qty(got[-1], 151)) == (0, 0)
    assert got[-1].get(58)
    assert not fills(a.drain())
    # The resting order was untouched: a FOK it can satisfy takes it whole.
    fok2 = b.new_order("IBM", BUY, 5, "180.00", tif="4")
    done = b.expect("8", {11: fok2}, check=lambda m: 32 in m)
    assert_fill(done, version, last_qty=5, last_px="180.00", cum=5, leaves=0, avg_px="180")
    a_fill = a.expect("8", {11: resting}, check=lambda m: 32 in m)
    assert a_fill[39] == "2"


def test_market_order_sweeps_and_cancels_the_remainder(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    rest(a, "ESZ6", SELL, 10, "6000.00")
    rest(a, "ESZ6", SELL, 10, "6000.25")
    mkt = b.new_order("ESZ6", BUY, 25)
    b.sync()
    got = reports(b.drain(), mkt)
    done = fills(got)
    assert [(qty(m, 32), qty(m, 31)) for m in done] == [
        (10, Decimal("6000.00")),
        (10, Decimal("6000.25")),
    ]
    assert_fill(done[1], version, last_qty=10, last_px="6000.25", cum=20, leaves=5,
                avg_px="6000.125")  # fmt: skip
    last = got[-1]
    assert (last[150], last[39], qty(last, 14), qty(last, 151)) == ("4", "4", 20, 0), got
    assert last.get(58)
    assert all(m[40] == "1" and 44 not in m for m in got), "a market order has no Price"


def test_market_order_on_an_empty_side_is_rejected(venue: Venue, version: str) -> None:
    b = venue.client("CLIENT2", version)
    mkt = b.new_order("ESZ6", SELL, 5)
    er = b.expect("8", {11: mkt})
    assert (er[150], er[39]) == ("8", "8")
    assert er.get(58)
    assert not reports(b.drain(), mkt)


def test_iceberg_shows_only_max_floor_and_replenishes(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    watcher = venue.client("CLIENT3", version)
    md = watcher.subscribe(["AAPL"])
    levels: Levels = {}
    assert not watcher.expect("W", {262: md}).groups(268, 269)

    berg = a.new_order("AAPL", SELL, 100, "190.00", extra=[(111, 10)])
    ack = a.expect("8", {11: berg})
    assert (ack[150], ack[111], qty(ack, 151)) == ("0", "10", 100)
    b.new_order("AAPL", BUY, 10, "190.00")
    b.sync()
    a.sync()
    b.new_order("AAPL", BUY, 25, "190.00")  # crosses two replenished slices and part of a third
    b.sync()

    for update in [m for m in watcher.drain() if m.type == "X"]:
        assert update[262] == md
        for entry in update.groups(268, 279):
            assert entry[279] == "2" or int(entry[271]) <= 10, f"hidden size leaked: {update}"
        apply_incremental(levels, update)
    assert levels == {("1", Decimal("190.00")): 5}
    assert snapshot(watcher, "AAPL") == {("1", Decimal("190.00")): 5}

    berg_fills = fills(reports(a.drain(), berg))
    assert sum(qty(m, 32) for m in berg_fills) == 35
    assert (qty(berg_fills[-1], 14), qty(berg_fills[-1], 151)) == (35, 65)
    assert all(m[39] == "1" for m in berg_fills)


def test_midpoint_peg_is_priced_at_the_mid_and_restated_when_it_moves(
    venue: Venue, version: str
) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    rest(a, "IBM", BUY, 10, "100.00")
    rest(a, "IBM", SELL, 10, "101.00")
    peg = b.new_order("IBM", BUY, 5, ord_type="P", extra=[(18, "M")])
    ack = b.expect("8", {11: peg})
    assert (ack[150], ack[40], ack[18]) == ("0", "P", "M"), ack
    assert qty(ack, 44) == Decimal("100.50")

    rest(a, "IBM", BUY, 10, "100.20")  # mid (100.20 + 101.00) / 2 = 100.60
    moved = b.expect("8", {11: peg})
    assert (moved[150], moved[39]) == ("D", "0"), moved
    assert qty(moved, 44) == Decimal("100.60")
    assert moved.get(378), "a restatement carries ExecRestatementReason"
    assert (qty(moved, 151), qty(moved, 14)) == (5, 0)
    assert not reports(b.drain(), peg)


def test_primary_peg_with_offset_follows_its_own_side(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    rest(a, "MSFT", BUY, 10, "400.00")
    rest(a, "MSFT", SELL, 10, "401.00")
    peg = b.new_order("MSFT", BUY, 5, ord_type="P", extra=[(18, "R"), (211, "-0.03")])
    ack = b.expect("8", {11: peg})
    assert (ack[150], ack[18]) == ("0", "R"), ack
    assert qty(ack, 44) == Decimal("399.97")

    rest(a, "MSFT", BUY, 10, "400.10")
    moved = b.expect("8", {11: peg})
    assert (moved[150], moved[39]) == ("D", "0"), moved
    assert qty(moved, 44) == Decimal("400.07")

    rest(a, "MSFT", SELL, 10, "402.00")  # the other side moving does not touch a primary peg
    assert not reports(b.drain(), peg)


SMP_ACCOUNT = "SHARED-ACCT"


@pytest.mark.parametrize(
    ("instruction", "resting_cancelled", "incoming_cancelled"),
    [("1", True, False), ("2", False, True), ("3", True, True)],
    ids=["cancel-resting", "cancel-incoming", "cancel-both"],
)
def test_self_match_prevention_across_sessions_of_one_account(
    venue: Venue, version: str, instruction: str, resting_cancelled: bool, incoming_cancelled: bool
) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    resting = rest(a, "MSFT", SELL, 10, "410.00", extra=[(1, SMP_ACCOUNT)])
    incoming = b.new_order("MSFT", BUY, 10, "410.00", extra=[(1, SMP_ACCOUNT), (5002, instruction)])
    b.sync()
    a.sync()
    a_got, b_got = reports(a.drain(), resting), reports(b.drain(), incoming)
    assert not fills(a_got) and not fills(b_got), "orders of one account must not trade"
    assert bool(a_got and a_got[-1][150] == "4") == resting_cancelled, a_got
    assert b_got, "the incoming order gets a report"
    assert (b_got[-1][150] == "4") == incoming_cancelled, b_got
    if not incoming_cancelled:
        assert b_got[-1][150] == "0" and qty(b_got[-1], 151) == 10
    for er in a_got + b_got:
        if er[150] == "4":
            assert er[39] == "4" and qty(er, 151) == 0 and er.get(58), er


def test_self_match_decrement_and_cancel(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    resting = rest(a, "MSFT", SELL, 10, "410.00", extra=[(1, SMP_ACCOUNT)])
    incoming = b.new_order("MSFT", BUY, 4, "410.00", extra=[(1, SMP_ACCOUNT), (5002, "4")])
    b.sync()
    a.sync()
    a_got, b_got = reports(a.drain(), resting), reports(b.drain(), incoming)
    assert not fills(a_got + b_got)
    assert (b_got[-1][150], b_got[-1][39], qty(b_got[-1], 151)) == ("4", "4", 0), b_got
    (restated,) = a_got
    assert (restated[150], restated[39]) == ("D", "0"), restated
    assert qty(restated, 151) == 6


def test_other_accounts_trade_normally(venue: Venue, version: str) -> None:
    # Control for the SMP tests: without a shared Account the same orders trade.
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    rest(a, "MSFT", SELL, 10, "410.00")
    buy = b.new_order("MSFT", BUY, 10, "410.00", extra=[(5002, "2")])
    done = b.expect("8", {11: buy}, check=lambda m: 32 in m)
    assert done[39] == "2"
    assert done[1] == "CLIENT2", "Account defaults to the session's CompID"


def test_sigterm_logs_out_and_exec_ids_stay_unique_across_a_restart(tmp_path: Path) -> None:
    # Its own venue, stopped and restarted on the same store, as an operator would restart
    # a venue that keeps sequence numbers (reset_on_logon false) overnight. One version
    # is enough: ExecIDs come from one venue-wide source.
    server = Server(tmp_path)
    before = FixClient(0, "CLIENT1", "FIX.4.4")
    after = FixClient(0, "CLIENT1", "FIX.4.4")
    server.start()
    try:
        before.port = server.port
        before.logon()
        for _ in range(3):
            before.new_order("IBM", BUY, 10, "170.00")
        ids_before = {m[17] for m in reports(before.drain())}
        server.signal_stop()
        before.expect("5")  # SIGTERM logs every session out
        before.send("5", [])  # and a polite client confirms, so the venue need not wait
        before.close()
        server.wait_stopped()
        assert server.returncode == 0

        server.start(fresh=False)
        after.port = server.port
        after.logon()
        for _ in range(3):
            after.new_order("IBM", BUY, 10, "170.00")
        ids_after = {m[17] for m in reports(after.drain())}
        assert len(ids_before) == len(ids_after) == 3
        # ExecIDs identify executions for the whole trading day, restarts included.
        assert not ids_before & ids_after, f"ExecIDs issued twice: {ids_before & ids_after}"
    finally:
        # Closed sockets let the venue finish its logout at once instead of waiting.
        before.close()
        after.close()
        server.stop()
