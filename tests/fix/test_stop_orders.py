"""Stop (OrdType 3) and stop-limit (OrdType 4) orders end to end, in FIX 4.2 and 4.4.

CLIENT1 and CLIENT2 trade with each other to move the last trade price; CLIENT3 owns the
stop orders, so its inbox holds only their reports. A stop waits off the book until the
last trade price reaches its StopPx (99); its trigger is reported as ExecType D
(Restated) in both versions (ExecType L is FIX 5.0's), then it trades as a market order
(stop) or a limit order at its Price (stop-limit). The last trade price outlives a test
on the module's shared venue, so every test sets it first.
"""

from decimal import Decimal

import pytest

from tests.fix.client import FixClient, Msg
from tests.fix.conftest import Venue, fill_exec_type, reports, rest, snapshot

BUY, SELL = "1", "2"
STOP, STOP_LIMIT = "3", "4"
SYMBOL = "IBM"


def px(msg: Msg, tag: int) -> Decimal:
    return Decimal(msg[tag])


def trade_at(a: FixClient, b: FixClient, price: str) -> None:
    """One lot of SYMBOL traded between CLIENT1 and CLIENT2 at `price` (the last price)."""
    rest(a, SYMBOL, SELL, 1, price)
    taker = b.new_order(SYMBOL, BUY, 1, price)
    b.expect("8", {11: taker}, check=lambda m: 32 in m)
    a.drain()
    b.drain()


def assert_triggered(er: Msg, version: str, stop_px: str, last_px: str, leaves: int) -> None:
    """The report of a stop's trigger: Restated, still working, nothing filled yet."""
    assert (er[150], er[39]) == ("D", "0"), er
    assert px(er, 99) == Decimal(stop_px), er
    assert (Decimal(er[151]), Decimal(er[14])) == (leaves, 0), er
    assert "triggered" in er[58] and last_px in er[58], er
    assert 32 not in er, "a trigger is no execution"
    if version == "FIX.4.2":
        assert er[20] == "0", er
        assert 378 not in er, "no 4.2 ExecRestatementReason fits a trigger"
    else:
        assert er[378] == "8", er


@pytest.fixture
def clients(venue: Venue, version: str) -> tuple[FixClient, FixClient, FixClient]:
    """CLIENT1 and CLIENT2 (traders) and CLIENT3 (the stops' owner), last price 180.00."""
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    c = venue.client("CLIENT3", version)
    trade_at(a, b, "180.00")
    return a, b, c


def test_buy_stop_is_acknowledged_and_waits_off_the_book(
    clients: tuple[FixClient, FixClient, FixClient], version: str
) -> None:
    a, b, c = clients
    stop = c.new_order(SYMBOL, BUY, 10, ord_type=STOP, extra=[(99, "181.00")])
    ack = c.expect("8", {11: stop})
    assert (ack[150], ack[39], ack[40]) == ("0", "0", STOP), ack
    assert px(ack, 99) == Decimal("181.00")
    assert 44 not in ack, ack
    assert (Decimal(ack[151]), Decimal(ack[14])) == (10, 0), ack
    assert snapshot(c, SYMBOL) == {}, "an untriggered stop is not in the book"

    trade_at(a, b, "180.99")  # below a buy stop's price: it keeps waiting
    assert not reports(c.drain(), stop)

    c.status(stop, SYMBOL, BUY)
    status = c.expect("8", {11: stop})
    assert (status[39], status[40]) == ("0", STOP), status
    assert px(status, 99) == Decimal("181.00")
    if version == "FIX.4.2":
        assert (status[20], status[150]) == ("3", "0"), status
    else:
        assert status[150] == "I", status


def test_trade_at_the_stop_price_triggers_it_and_it_trades_at_market(
    clients: tuple[FixClient, FixClient, FixClient], version: str
) -> None:
    a, b, c = clients
    stop = c.new_order(SYMBOL, BUY, 10, ord_type=STOP, extra=[(99, "181.00")])
    c.expect("8", {11: stop})
    rest(a, SYMBOL, SELL, 10, "181.50")  # what the stop will buy once triggered

    trade_at(a, b, "181.00")
    triggered = c.expect("8", {11: stop})
    assert_triggered(triggered, version, stop_px="181.00", last_px="181.00", leaves=10)
    assert triggered[40] == STOP
    fill = c.expect("8", {11: stop})
    assert (fill[150], fill[39]) == (fill_exec_type(version, True), "2"), fill
    assert (px(fill, 31), Decimal(fill[32])) == (Decimal("181.50"), 10), fill
    assert px(fill, 99) == Decimal("181.00"), "StopPx is on every report of a stop"
    assert int(triggered[17]) < int(fill[17])
    assert not reports(c.drain(), stop)


def test_stop_limit_triggered_through_its_stop_rests_at_its_limit(
    clients: tuple[FixClient, FixClient, FixClient], version: str
) -> None:
    a, b, c = clients
    stop = c.new_order(SYMBOL, SELL, 10, "178.50", ord_type=STOP_LIMIT, extra=[(99, "179.00")])
    ack = c.expect("8", {11: stop})
    assert (ack[150], ack[40]) == ("0", STOP_LIMIT), ack
    assert (px(ack, 44), px(ack, 99)) == (Decimal("178.50"), Decimal("179.00")), ack
    rest(a, SYMBOL, BUY, 5, "178.40")  # below its limit: the triggered sell must not hit it

    rest(a, SYMBOL, BUY, 1, "178.80")
    taker = b.new_order(SYMBOL, SELL, 1, "178.80")  # through a sell stop at 179.00
    b.expect("8", {11: taker}, check=lambda m: 32 in m)
    assert_triggered(c.expect("8", {11: stop}), version, "179.00", "178.80", leaves=10)
    assert not reports(c.drain(), stop), "a stop-limit does not trade through its limit"
    assert snapshot(c, SYMBOL) == {
        ("0", Decimal("178.40")): 5,
        ("1", Decimal("178.50")): 10,
    }

    b.new_order(SYMBOL, BUY, 4, "178.50")
    fill = c.expect("8", {11: stop})
    assert (fill[150], fill[39], fill[40]) == (fill_exec_type(version, False), "1", STOP_LIMIT)
    assert (px(fill, 31), Decimal(fill[32]), Decimal(fill[151])) == (Decimal("178.50"), 4, 6)


def test_untriggered_stop_is_cancelled_and_then_never_triggers(
    clients: tuple[FixClient, FixClient, FixClient], version: str
) -> None:
    a, b, c = clients
    stop = c.new_order(SYMBOL, BUY, 10, ord_type=STOP, extra=[(99, "181.00")])
    c.expect("8", {11: stop})
    cancel = c.cancel(stop, SYMBOL, BUY)
    done = c.expect("8", {11: cancel})
    assert (done[150], done[39], done[40], done[41]) == ("4", "4", STOP, stop), done
    assert px(done, 99) == Decimal("181.00")
    assert Decimal(done[151]) == 0, done

    trade_at(a, b, "181.00")
    assert not reports(c.drain())


def test_replace_moves_an_untriggered_stop_to_its_new_stop_price(
    clients: tuple[FixClient, FixClient, FixClient], version: str
) -> None:
    a, b, c = clients
    stop = c.new_order(SYMBOL, BUY, 10, ord_type=STOP, extra=[(99, "181.00")])
    c.expect("8", {11: stop})
    moved = c.replace(stop, SYMBOL, BUY, 10, ord_type=STOP, extra=[(99, "182.00")])
    replaced = c.expect("8", {11: moved})
    assert (replaced[150], replaced[40], replaced[41]) == ("5", STOP, stop), replaced
    assert replaced[39] == ("5" if version == "FIX.4.2" else "0"), replaced
    assert px(replaced, 99) == Decimal("182.00")
    rest(a, SYMBOL, SELL, 10, "183.00")  # what the stop will buy once triggered

    trade_at(a, b, "181.00")  # the old stop price: no longer a trigger
    assert not reports(c.drain())

    trade_at(a, b, "182.00")
    triggered = c.expect("8", {11: moved})
    assert_triggered(triggered, version, stop_px="182.00", last_px="182.00", leaves=10)
    fill = c.expect("8", {11: moved})
    assert (px(fill, 31), Decimal(fill[32]), fill[39]) == (Decimal("183.00"), 10, "2"), fill


def test_stop_already_reached_triggers_on_arrival_and_its_remainder_is_cancelled(
    clients: tuple[FixClient, FixClient, FixClient], version: str
) -> None:
    a, _, c = clients
    rest(a, SYMBOL, SELL, 3, "180.10")
    stop = c.new_order(SYMBOL, BUY, 10, ord_type=STOP, extra=[(99, "179.50")])
    assert c.expect("8", {11: stop})[150] == "0"
    assert_triggered(c.expect("8", {11: stop}), version, "179.50", "180.00", leaves=10)
    fill = c.expect("8", {11: stop})
    assert (px(fill, 31), Decimal(fill[32]), fill[39]) == (Decimal("180.10"), 3, "1"), fill
    rest_of = c.expect("8", {11: stop})
    assert (rest_of[150], rest_of[39], Decimal(rest_of[151])) == ("4", "4", 0), rest_of
    assert "market order remainder" in rest_of[58], rest_of


@pytest.mark.parametrize(
    ("ord_type", "price", "stop_px", "names"),
    [
        (STOP, None, None, "StopPx (99)"),
        (STOP_LIMIT, "181.00", None, "StopPx (99)"),
        ("2", "181.00", "181.00", "StopPx (99)"),
        (STOP, "181.00", "181.00", "Price (44)"),
        (STOP_LIMIT, None, "181.00", "Price (44)"),
    ],
    ids=["stop-without-stop-px", "stop-limit-without-stop-px", "limit-with-stop-px",
         "stop-with-price", "stop-limit-without-price"],
)  # fmt: skip
def test_stop_fields_that_do_not_fit_the_ord_type_are_rejected(
    venue: Venue, version: str, ord_type: str, price: str | None, stop_px: str | None, names: str
) -> None:
    c = venue.client("CLIENT3", version)
    extra = [] if stop_px is None else [(99, stop_px)]
    order = c.new_order(SYMBOL, BUY, 10, price, ord_type=ord_type, extra=extra)
    er = c.expect("8", {11: order})
    assert (er[150], er[39]) == ("8", "8"), er
    # 4.4: 11 Unsupported order characteristic; 4.2 has nothing finer than 0.
    assert er[103] == ("0" if version == "FIX.4.2" else "11"), er
    assert names in er[58], er


def test_stop_px_on_a_replace_of_a_limit_order_is_refused(venue: Venue, version: str) -> None:
    c = venue.client("CLIENT3", version)
    limit = rest(c, SYMBOL, BUY, 10, "150.00")
    moved = c.replace(limit, SYMBOL, BUY, 10, "150.00", extra=[(99, "151.00")])
    refused = c.expect("9", {11: moved})
    assert (refused[39], refused[434]) == ("0", "2"), refused
    assert refused[102] == ("2" if version == "FIX.4.2" else "99"), refused
    assert "StopPx (99)" in refused[58], refused
