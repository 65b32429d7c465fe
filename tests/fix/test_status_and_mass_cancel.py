"""OrderStatusRequest (H), OrderMassCancelRequest (q, 4.4 only) and cancel-on-disconnect.

A status answer is an ExecutionReport that changes nothing: 4.4 marks it ExecType I;
4.2 has no I and marks it ExecTransType 3 (Status), with the order's current ExecType.
"""

from decimal import Decimal

import pytest

from tests.fix.client import FixClient, Msg, fix_now, next_id
from tests.fix.conftest import Levels, Venue, apply_incremental, rest, snapshot

BUY, SELL = "1", "2"
FIX44 = "FIX.4.4"


def status_of(client: FixClient, cl_ord_id: str, symbol: str, side: str) -> Msg:
    """Ask for an order's status and return the answer.

    The answer may carry the order's newest ClOrdID (a cancel's or replace's) rather than
    the one asked about, so it is recognised as a status report or a report on that ID.
    """
    client.status(cl_ord_id, symbol, side)

    def is_answer(msg: Msg) -> bool:
        return msg[11] == cl_ord_id or msg.get(150) == "I" or msg.get(20) == "3"

    return client.expect("8", check=is_answer)


def assert_status_report(er: Msg, version: str, ord_status: str, exec_type_42: str) -> None:
    assert er[39] == ord_status, er
    if version == FIX44:
        assert er[150] == "I", er
    else:
        assert (er[20], er[150]) == ("3", exec_type_42), er


def test_status_of_a_live_partially_filled_and_filled_order(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    order = a.new_order("AAPL", BUY, 10, "150.00")
    order_id = a.expect("8", {11: order})[37]

    live = status_of(a, order, "AAPL", BUY)
    assert_status_report(live, version, "0", "0")
    assert (live[37], Decimal(live[151]), Decimal(live[14])) == (order_id, 10, 0)

    b.new_order("AAPL", SELL, 4, "150.00")
    a.expect("8", {11: order, 39: "1"})
    part = status_of(a, order, "AAPL", BUY)
    assert_status_report(part, version, "1", "1")
    assert (Decimal(part[151]), Decimal(part[14]), Decimal(part[6])) == (6, 4, 150)

    b.new_order("AAPL", SELL, 6, "150.00")
    a.expect("8", {11: order, 39: "2"})
    done = status_of(a, order, "AAPL", BUY)
    assert_status_report(done, version, "2", "2")
    assert (Decimal(done[151]), Decimal(done[14])) == (0, 10)
    assert len({live[17], part[17], done[17]}) == 3


def test_status_of_a_cancelled_order(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    order = a.new_order("AAPL", BUY, 10, "150.00")
    order_id = a.expect("8", {11: order})[37]
    cxl = a.cancel(order, "AAPL", BUY, 10)
    a.expect("8", {11: cxl})
    er = status_of(a, order, "AAPL", BUY)
    assert_status_report(er, version, "4", "4")
    assert er[37] == order_id and er[11] in (order, cxl), er
    assert Decimal(er[151]) == 0


def test_status_of_an_unknown_order(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    er = status_of(a, "NEVER-SENT", "AAPL", BUY)
    assert er[39] == "8", er
    assert er.get(103) == "5", er  # unknown order
    assert er.get(58), er
    if version == FIX44:
        assert er[150] == "I", er
    else:
        assert er[20] == "3", f"a 4.2 status answer has ExecTransType 3 (Status): {er}"


def test_status_of_another_sessions_order_is_unknown(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    order = rest(a, "AAPL", BUY, 10, "150.00")
    er = status_of(b, order, "AAPL", BUY)
    assert er[39] == "8" and er.get(103) == "5", er


def mass_cancel(client: FixClient, request_type: str, symbol: str | None = None) -> str:
    cl_ord_id = next_id("MC")
    fields: list[tuple[int, object]] = [(11, cl_ord_id), (530, request_type)]
    if symbol is not None:
        fields.append((55, symbol))
    fields.append((60, fix_now()))
    client.send("q", fields)
    return cl_ord_id


@pytest.mark.parametrize(
    ("request_type", "symbol", "cancelled"),
    [("7", None, {"AAPL", "MSFT"}), ("1", "AAPL", {"AAPL"})],
    ids=["all-orders", "by-symbol"],
)
def test_mass_cancel(
    venue: Venue, request_type: str, symbol: str | None, cancelled: set[str]
) -> None:
    a = venue.client("CLIENT1", FIX44)
    b = venue.client("CLIENT2", FIX44)
    mine = {
        rest(a, "AAPL", BUY, 10, "150.00"): "AAPL",
        rest(a, "AAPL", SELL, 10, "155.00"): "AAPL",
        rest(a, "MSFT", BUY, 10, "400.00"): "MSFT",
    }
    theirs = rest(b, "AAPL", BUY, 10, "149.00")

    req = mass_cancel(a, request_type, symbol)
    report = a.expect("r", {11: req})
    a.sync()
    cancels = [m for m in a.drain() if m.type == "8" and m[150] == "4"]
    expected = {cid for cid, sym in mine.items() if sym in cancelled}
    assert sorted(m[11] for m in cancels) == sorted(expected), cancels
    assert all(m[39] == "4" and Decimal(m[151]) == 0 for m in cancels)
    assert (report[530], report[531], report[533]) == (
        request_type, request_type, str(len(expected))
    ), report  # fmt: skip
    assert report.get(37)

    # Scope is the own session: the other session's order is still live.
    assert status_of(b, theirs, "AAPL", BUY)[39] == "0"
    for cid, sym in mine.items():
        if cid not in expected:
            assert status_of(a, cid, sym, BUY)[39] == "0"


def test_mass_cancel_with_nothing_to_cancel(venue: Venue) -> None:
    a = venue.client("CLIENT1", FIX44)
    req = mass_cancel(a, "7")
    report = a.expect("r", {11: req})
    assert (report[531], report[533]) == ("7", "0"), report


@pytest.mark.parametrize(
    ("request_type", "symbol"), [("3", "AAPL"), ("1", None)], ids=["unsupported-type", "no-symbol"]
)
def test_mass_cancel_with_a_bad_request_is_rejected(
    venue: Venue, request_type: str, symbol: str | None
) -> None:
    a = venue.client("CLIENT1", FIX44)
    order = rest(a, "AAPL", BUY, 10, "150.00")
    req = mass_cancel(a, request_type, symbol)
    report = a.expect("r", {11: req})
    assert report[531] == "0", report
    assert report.get(532), "a rejected mass cancel says why (MassCancelRejectReason)"
    assert report.get(58)
    assert not [m for m in a.drain() if m.type == "8"]
    assert status_of(a, order, "AAPL", BUY)[39] == "0"


@pytest.mark.parametrize("how", ["logout", "drop"])
def test_cancel_on_disconnect(venue: Venue, version: str, how: str) -> None:
    cod = venue.client("CLIENT4", version)
    watcher = venue.client("CLIENT3", version)
    bid = rest(cod, "IBM", BUY, 10, "175.00")
    ask = rest(cod, "IBM", SELL, 7, "185.00")
    md = watcher.subscribe(["IBM"])
    levels: Levels = {
        (e[269], Decimal(e[270])): int(e[271])
        for e in watcher.expect("W", {262: md}).groups(268, 269)
    }
    assert levels == {("0", Decimal("175.00")): 10, ("1", Decimal("185.00")): 7}

    if how == "logout":
        cod.logout()
    else:
        cod.close()
    update = watcher.expect("X", {262: md})
    apply_incremental(levels, update)
    while levels:  # the two deletes may come in one message or two
        apply_incremental(levels, watcher.expect("X", {262: md}))
    assert snapshot(watcher, "IBM") == {}

    # Back online, the session finds its orders cancelled.
    again = venue.client("CLIENT4", version)
    assert status_of(again, bid, "IBM", BUY)[39] == "4"
    assert status_of(again, ask, "IBM", SELL)[39] == "4"


def test_without_cancel_on_disconnect_orders_survive_a_logout(venue: Venue, version: str) -> None:
    keeper = venue.client("CLIENT1", version)
    watcher = venue.client("CLIENT3", version)
    order = rest(keeper, "IBM", BUY, 10, "175.00")
    keeper.logout()
    watcher.sync()
    assert snapshot(watcher, "IBM") == {("0", Decimal("175.00")): 10}
    again = venue.client("CLIENT1", version)
    again.orders.update(keeper.orders)  # so the teardown cancels it
    assert status_of(again, order, "IBM", BUY)[39] == "0"
