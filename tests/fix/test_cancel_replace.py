"""OrderCancelRequest (F), OrderCancelReplaceRequest (G) and duplicate ClOrdIDs.

Priority after a replace is checked the way a client would notice it: two orders rest at
one price, a later aggressor takes only one of them, and the one it takes must be the
order that kept (or gained) time priority.
"""

from decimal import Decimal

import pytest

from tests.fix.client import FixClient, Msg
from tests.fix.conftest import Venue, fill_exec_type, fills, reports, rest

BUY, SELL = "1", "2"


def status_order_id(client: FixClient, cl_ord_id: str) -> str:
    """The OrderID of a live AAPL buy, asked for the way a client would: a status request."""
    client.status(cl_ord_id, "AAPL", BUY)
    return client.expect("8", {11: cl_ord_id})[37]


def replaced_status(version: str, partially_filled: bool = False) -> str:
    """OrdStatus on a Replaced report: 4.2 has 5 (Replaced); 4.3+ report the order's state."""
    if version == "FIX.4.2":
        return "5"
    return "1" if partially_filled else "0"


def test_cancel_by_orig_cl_ord_id(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    order = a.new_order("AAPL", BUY, 10, "150.00")
    ack = a.expect("8", {11: order})
    cxl = a.cancel(order, "AAPL", BUY, 10)
    er = a.expect("8", {11: cxl})
    assert (er[150], er[39], er[41], er[37]) == ("4", "4", order, ack[37]), er
    assert (Decimal(er[151]), Decimal(er[14])) == (0, 0)
    if version == "FIX.4.2":
        assert er[20] == "0"


def test_cancel_of_an_unknown_order_is_rejected(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    cxl = a.cancel("NO-SUCH-ORDER", "AAPL", BUY, 10)
    rej = a.expect("9", {11: cxl})
    assert rej[41] == "NO-SUCH-ORDER"
    assert (rej[102], rej[434]) == ("1", "1"), rej
    assert rej[37] == "NONE" and rej[39] == "8", rej
    assert rej.get(58)


def test_replace_of_an_unknown_order_is_rejected_as_a_replace(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    rpl = a.replace("NO-SUCH-ORDER", "AAPL", BUY, 10, "150.00")
    rej = a.expect("9", {11: rpl})
    assert (rej[102], rej[434], rej[41]) == ("1", "2", "NO-SUCH-ORDER"), rej


def test_cancel_of_a_filled_order_is_too_late(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    order = rest(a, "AAPL", SELL, 5, "150.00")
    b.new_order("AAPL", BUY, 5, "150.00")
    a.expect("8", {11: order, 39: "2"})
    cxl = a.cancel(order, "AAPL", SELL, 5)
    rej = a.expect("9", {11: cxl})
    assert (rej[102], rej[434], rej[39], rej[41]) == ("0", "1", "2", order), rej
    assert rej[37] not in ("", "NONE")


def test_cancel_after_replace_uses_the_newest_cl_ord_id(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    order = rest(a, "AAPL", BUY, 10, "150.00")
    rpl = a.replace(order, "AAPL", BUY, 8, "150.00")
    a.expect("8", {11: rpl, 150: "5"})
    cxl = a.cancel(rpl, "AAPL", BUY, 8)
    er = a.expect("8", {11: cxl})
    assert (er[150], er[41]) == ("4", rpl)


def three_clients(venue: Venue, version: str) -> tuple[FixClient, FixClient, FixClient]:
    return (
        venue.client("CLIENT1", version),
        venue.client("CLIENT2", version),
        venue.client("CLIENT3", version),
    )


def who_trades_first(a: FixClient, b: FixClient, c: FixClient, qty: int) -> tuple[Msg, ...]:
    """CLIENT3 sells `qty` at 150.00; returns the fills A and B got, in that order."""
    c.new_order("AAPL", SELL, qty, "150.00")
    c.sync()
    return tuple(fills(a.drain())) + tuple(fills(b.drain()))


def test_replace_qty_down_keeps_time_priority(venue: Venue, version: str) -> None:
    a, b, c = three_clients(venue, version)
    first = a.new_order("AAPL", BUY, 10, "150.00")
    order_id = a.expect("8", {11: first, 150: "0"})[37]
    rest(b, "AAPL", BUY, 10, "150.00")
    rpl = a.replace(first, "AAPL", BUY, 6, "150.00")
    er = a.expect("8", {11: rpl})
    assert (er[150], er[39], er[41], er[37]) == ("5", replaced_status(version), first, order_id)
    assert (Decimal(er[38]), Decimal(er[151]), Decimal(er[44])) == (6, 6, Decimal("150.00"))

    got = who_trades_first(a, b, c, 6)
    assert [(m[56], m[11], m[39]) for m in got] == [("CLIENT1", rpl, "2")], got
    assert got[0][150] == fill_exec_type(version, True)


def test_replace_price_change_loses_time_priority(venue: Venue, version: str) -> None:
    a, b, c = three_clients(venue, version)
    first = rest(a, "AAPL", BUY, 10, "149.99")
    rest(b, "AAPL", BUY, 10, "150.00")
    rpl = a.replace(first, "AAPL", BUY, 10, "150.00")  # now at B's price, but behind B
    assert Decimal(a.expect("8", {11: rpl, 150: "5"})[44]) == Decimal("150.00")

    got = who_trades_first(a, b, c, 10)
    assert [m[56] for m in got] == ["CLIENT2"], got


def test_replace_qty_up_loses_time_priority(venue: Venue, version: str) -> None:
    a, b, c = three_clients(venue, version)
    first = rest(a, "AAPL", BUY, 10, "150.00")
    rest(b, "AAPL", BUY, 10, "150.00")
    rpl = a.replace(first, "AAPL", BUY, 15, "150.00")
    assert Decimal(a.expect("8", {11: rpl, 150: "5"})[151]) == 15

    got = who_trades_first(a, b, c, 10)
    assert [m[56] for m in got] == ["CLIENT2"], got


def test_replace_of_a_partially_filled_order_reports_its_state(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    c = venue.client("CLIENT3", version)
    order = rest(a, "AAPL", BUY, 10, "150.00")
    c.new_order("AAPL", SELL, 4, "150.00")
    a.expect("8", {11: order, 39: "1"})
    rpl = a.replace(order, "AAPL", BUY, 8, "150.00")  # new total 8: 4 done, 4 left
    er = a.expect("8", {11: rpl})
    assert (er[150], er[39]) == ("5", replaced_status(version, partially_filled=True)), er
    assert (Decimal(er[38]), Decimal(er[14]), Decimal(er[151])) == (8, 4, 4), er


@pytest.mark.parametrize("new_qty", [6, 4], ids=["at-filled", "below-filled"])
def test_replace_to_at_or_below_the_filled_qty_cancels(
    venue: Venue, version: str, new_qty: int
) -> None:
    a = venue.client("CLIENT1", version)
    c = venue.client("CLIENT3", version)
    order = rest(a, "AAPL", BUY, 10, "150.00")
    c.new_order("AAPL", SELL, 6, "150.00")
    a.expect("8", {11: order, 39: "1"})
    rpl = a.replace(order, "AAPL", BUY, new_qty, "150.00")
    a.sync()
    got = [m for m in a.drain() if m.type in ("8", "9")]
    assert len(got) == 1, got
    er = got[0]
    assert (er.type, er[150], er[39]) == ("8", "4", "4"), er
    assert er[11] == rpl
    assert (Decimal(er[14]), Decimal(er[151])) == (6, 0), er
    # Nothing of the order is left to trade with.
    more = c.new_order("AAPL", SELL, 4, "150.00")
    c.sync()
    assert not fills(reports(c.drain(), more))


def test_duplicate_cl_ord_id_is_rejected_and_names_it(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    order = rest(a, "AAPL", BUY, 10, "150.00")
    a.new_order("AAPL", BUY, 5, "150.01", cl_ord_id=order)
    er = a.expect("8", {11: order})
    assert (er[150], er[39], er[103]) == ("8", "8", "6"), er
    assert order in er[58], er
    # The original is untouched and still cancellable.
    cxl = a.cancel(order, "AAPL", BUY, 10)
    done = a.expect("8", {11: cxl})
    assert (done[150], Decimal(done[38])) == ("4", 10)


def test_replace_of_a_filled_order_is_too_late(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    order = rest(a, "AAPL", SELL, 5, "150.00")
    b.new_order("AAPL", BUY, 5, "150.00")
    a.expect("8", {11: order, 39: "2"})
    rpl = a.replace(order, "AAPL", SELL, 8, "150.00")
    rej = a.expect("9", {11: rpl})
    assert (rej[102], rej[434], rej[39], rej[41]) == ("0", "2", "2", order), rej


def test_cancel_of_another_sessions_order_is_unknown(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    order = rest(a, "AAPL", BUY, 10, "150.00")
    cxl = b.cancel(order, "AAPL", BUY, 10)
    rej = b.expect("9", {11: cxl})
    assert (rej[102], rej[434]) == ("1", "1"), rej
    b.sync()
    a.sync()
    assert not [m for m in a.drain() if m.type == "8"], "A's order must stay untouched"


def test_cancel_request_reusing_a_cl_ord_id_is_rejected(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    order = rest(a, "AAPL", BUY, 10, "150.00")
    other = rest(a, "AAPL", BUY, 10, "149.00")
    order_id = status_order_id(a, order)
    cxl = a.cancel(order, "AAPL", BUY, 10, cl_ord_id=other)
    rej = a.expect("9", {11: cxl})
    # 4.4 has 6 (duplicate ClOrdID); 4.2 only 2 (broker option) for this.
    assert rej[102] == ("6" if version == "FIX.4.4" else "2"), rej
    assert rej[434] == "1"
    # The order named by OrigClOrdID exists and is live: the reject says so.
    assert (rej[41], rej[37], rej[39]) == (order, order_id, "0"), rej
    a.sync()
    assert not [m for m in a.drain() if m.type == "8"], "neither order is cancelled"


def test_replace_request_reusing_a_cl_ord_id_is_rejected(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    order = rest(a, "AAPL", BUY, 10, "150.00")
    other = rest(a, "AAPL", BUY, 10, "149.00")
    order_id = status_order_id(a, order)
    rpl = a.replace(order, "AAPL", BUY, 5, "150.00", cl_ord_id=other)
    rej = a.expect("9", {11: rpl})
    assert rej[102] == ("6" if version == "FIX.4.4" else "2"), rej
    assert rej[434] == "2"
    assert (rej[41], rej[37], rej[39]) == (order, order_id, "0"), rej
    a.sync()
    assert not [m for m in a.drain() if m.type == "8"], "neither order changes"


def test_replace_cannot_change_the_side(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    order = rest(a, "AAPL", BUY, 10, "150.00")
    rpl = a.replace(order, "AAPL", SELL, 10, "150.00")
    rej = a.expect("9", {11: rpl})
    assert (rej[434], rej[39], rej[41]) == ("2", "0", order), rej
    assert "side" in rej[58].lower()


def test_replace_to_a_crossing_price_trades_at_the_resting_price(
    venue: Venue, version: str
) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    order = rest(a, "AAPL", BUY, 10, "150.00")
    offer = rest(b, "AAPL", SELL, 4, "150.03")
    rpl = a.replace(order, "AAPL", BUY, 10, "150.05")
    a.sync()
    got = reports(a.drain(), rpl)
    assert [m[150] for m in got] == ["5", fill_exec_type(version, False)], got
    fill = got[1]
    assert (Decimal(fill[31]), Decimal(fill[32]), Decimal(fill[151])) == (
        Decimal("150.03"), 4, 6
    ), fill  # fmt: skip
    assert fill[39] == "1"
    b_fill = b.expect("8", {11: offer}, check=lambda m: 32 in m)
    assert (b_fill[39], Decimal(b_fill[31])) == ("2", Decimal("150.03"))


def test_poss_resend_of_a_known_order_creates_no_second_order(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    order = a.new_order("AAPL", SELL, 10, "150.00")
    order_id = a.expect("8", {11: order})[37]
    a.new_order("AAPL", SELL, 10, "150.00", cl_ord_id=order, header=[(97, "Y")])
    answer = a.expect("8", {11: order})
    assert answer[150] != "8", f"a PossResend of a known order is not a duplicate: {answer}"
    assert (answer[37], answer[39]) == (order_id, "0"), answer
    if version == "FIX.4.4":
        assert answer[150] == "I", answer
    else:
        assert answer[20] == "3", answer
    # Only one order of 10 rests: a buyer of 20 gets 10.
    buy = b.new_order("AAPL", BUY, 20, "150.00", tif="3")
    b.sync()
    assert sum(Decimal(m[32]) for m in fills(reports(b.drain(), buy))) == 10
