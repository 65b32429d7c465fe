"""Fat-finger limits over FIX, both versions: RSKY (tests/fix/conftest.py) allows prices
within 5% of its reference 100.00 (95.00 to 105.00 until it trades) and at most
10,000.00 of notional per order. Just inside is accepted; just outside is rejected with
OrdRejReason 3 (order exceeds limit) and a Text naming the limit."""

from tests.fix.conftest import Venue
from tests.fix.test_rejects import rejected

BUY, SELL = "1", "2"


def test_the_price_band_accepts_its_edges_and_rejects_a_tick_beyond(
    venue: Venue, version: str
) -> None:
    a = venue.client("CLIENT1", version)
    for side, inside, outside in ((BUY, "105.00", "105.01"), (SELL, "95.00", "94.99")):
        a.expect("8", {11: a.new_order("RSKY", side, 1, inside), 150: "0"})
        reason, text = rejected(a, a.new_order("RSKY", side, 1, outside))
        assert reason == "3"
        assert text == (
            f"Price (44) {outside} is outside the price band of RSKY: 95.00 to 105.00 "
            "(price_band_pct 5 around the band_reference 100.00)"
        ), text


def test_the_notional_limit_accepts_its_edge_and_rejects_beyond(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    a.expect("8", {11: a.new_order("RSKY", BUY, 100, "100.00"), 150: "0"})  # 10,000.00
    reason, text = rejected(a, a.new_order("RSKY", BUY, 101, "100.00"))
    assert reason == "3"
    assert "notional 101 x 100.00 = 10100.00 is above the max_notional 10000.00" in text


def test_a_replace_out_of_the_band_is_refused_and_the_order_stays(
    venue: Venue, version: str
) -> None:
    a = venue.client("CLIENT1", version)
    order = a.new_order("RSKY", BUY, 10, "100.00")
    a.expect("8", {11: order, 150: "0"})
    refused = a.replace(order, "RSKY", BUY, 10, "106.00")
    reject = a.expect("9", {11: refused})
    assert reject[434] == "2" and "outside the price band of RSKY" in reject[58], reject
    moved = a.replace(order, "RSKY", BUY, 10, "104.00")
    a.expect("8", {11: moved, 150: "5"})
