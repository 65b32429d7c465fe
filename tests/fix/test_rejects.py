"""What the venue refuses, and how: business rejects stay inside the session (an
ExecutionReport Rejected, a BusinessMessageReject), malformed messages get a session
Reject, and none of it disturbs the session or any other session.

OrdRejReason: 4.4 has specific codes (11 unsupported characteristic, 13 incorrect
quantity); 4.2 lacks them and must say 0 (exchange option), never a 4.4-only value.
"""

from decimal import Decimal

import pytest

from tests.fix.client import FixClient, fix_now
from tests.fix.conftest import Venue, fills, rest

BUY, SELL = "1", "2"


def rejected(client: FixClient, cl_ord_id: str) -> tuple[str, str]:
    """Wait for the order's report; assert it is a reject; return (OrdRejReason, Text)."""
    er = client.expect("8", {11: cl_ord_id})
    assert (er[150], er[39]) == ("8", "8"), er
    assert Decimal(er[151]) == 0 and Decimal(er[14]) == 0, er
    if client.begin_string == "FIX.4.2":
        assert er[20] == "0", er
    text = er.get(58)
    assert text, f"a reject must say why: {er}"
    return er[103], text


def by_version(version: str, fix44: str) -> str:
    return fix44 if version == "FIX.4.4" else "0"


def test_unknown_symbol(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    reason, text = rejected(a, a.new_order("NOPE", BUY, 10, "1.00"))
    assert reason == "1"
    assert "NOPE" in text


@pytest.mark.parametrize(
    ("symbol", "price", "tick"),
    [("AAPL", "190.001", "0.01"), ("ESZ6", "6000.10", "0.25")],
)
def test_off_tick_price(venue: Venue, version: str, symbol: str, price: str, tick: str) -> None:
    a = venue.client("CLIENT1", version)
    reason, text = rejected(a, a.new_order(symbol, BUY, 1, price))
    assert "44" in text and tick in text, text
    assert reason == by_version(version, "11")


@pytest.mark.parametrize(
    ("symbol", "qty", "mentions"),
    [
        ("AAPL", "0", "0"),
        ("AAPL", "1.5", "1.5"),
        ("XLOT", "150", "100"),  # lot size 100
    ],
    ids=["zero", "fractional", "not-a-lot-multiple"],
)
def test_bad_quantity(venue: Venue, version: str, symbol: str, qty: str, mentions: str) -> None:
    a = venue.client("CLIENT1", version)
    reason, text = rejected(a, a.new_order(symbol, BUY, qty, "50.00"))
    assert reason == by_version(version, "13")
    assert "qty" in text.lower() and mentions in text, text


@pytest.mark.parametrize("price", ["-1.00", "0", None], ids=["negative", "zero", "missing"])
def test_limit_price_problems_name_the_price(venue: Venue, version: str, price: str | None) -> None:
    a = venue.client("CLIENT1", version)
    _, text = rejected(a, a.new_order("AAPL", BUY, 10, price, ord_type="2"))
    # The client wrote Price (44) in decimals; the Text must speak of that field and value,
    # not of the venue's internal tick units.
    assert "44" in text or "price" in text.lower(), text
    if price is not None:
        assert price in text, text


@pytest.mark.parametrize(("tif", "max_floor"), [(None, 20), ("3", 5)], ids=["above-qty", "on-ioc"])
def test_bad_iceberg(venue: Venue, version: str, tif: str | None, max_floor: int) -> None:
    a = venue.client("CLIENT1", version)
    cl_ord_id = a.new_order("AAPL", BUY, 10, "150.00", tif=tif, extra=[(111, max_floor)])
    reason, text = rejected(a, cl_ord_id)
    assert reason == by_version(version, "11") or reason == by_version(version, "13")
    assert text


def test_peg_without_a_reference_is_rejected(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    _, text = rejected(a, a.new_order("MSFT", BUY, 10, ord_type="P", extra=[(18, "M")]))
    assert "MSFT" in text and "peg" in text.lower(), text


def test_quantity_above_the_maximum_exceeds_limit(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    reason, text = rejected(a, a.new_order("ESZ6", BUY, 5001, "6000.00"))
    assert reason == "3"
    assert "5000" in text, text


@pytest.mark.parametrize(
    ("ord_type", "tif", "price", "extra", "tag"),
    [
        ("D", None, "150.00", [], "40"),  # previously quoted (stops: test_stop_orders.py)
        ("2", "5", "150.00", [], "59"),  # good till crossing (GTD, OPG, ATC are supported)
    ],
    ids=["previously-quoted", "good-till-crossing"],
)
def test_unsupported_order_characteristics(
    venue: Venue,
    version: str,
    ord_type: str,
    tif: str | None,
    price: str | None,
    extra: list[tuple[int, object]],
    tag: str,
) -> None:
    a = venue.client("CLIENT1", version)
    cl_ord_id = a.new_order("AAPL", BUY, 10, price, ord_type=ord_type, tif=tif, extra=extra)
    reason, text = rejected(a, cl_ord_id)
    assert reason == by_version(version, "11")
    assert tag in text, text


QUOTE_REQUEST = ("R", [(131, "QR1"), (146, 1), (55, "AAPL")])
# NewOrderList (4.4): one list holding one limit order.
NEW_ORDER_LIST = (
    "E",
    [(66, "L1"), (394, "3"), (68, 1), (73, 1), (11, "LO1"), (67, 1), (55, "AAPL"), (54, BUY),
     (38, 10), (40, "2"), (44, "150.00")],
)  # fmt: skip
UNSUPPORTED = {"FIX.4.2": [QUOTE_REQUEST], "FIX.4.4": [QUOTE_REQUEST, NEW_ORDER_LIST]}


def test_unsupported_message_type_gets_business_message_reject(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    for msg_type, fields in UNSUPPORTED[version]:
        seq = a.send(msg_type, fields)
        rej = a.expect("j")
        assert (rej[372], rej[380], rej[45]) == (msg_type, "3", str(seq)), rej
    # Nothing of the list order reached the book.
    assert not [m for m in a.drain() if m.type == "8"]


MALFORMED: dict[str, tuple[list[tuple[int, object]], str, str]] = {
    "missing-side": ([(21, "1"), (55, "AAPL"), (38, 10), (40, "2"), (44, "150.00")], "54", "1"),
    "bad-side-value": (
        [(21, "1"), (55, "AAPL"), (54, "Z"), (38, 10), (40, "2"), (44, "150.00")], "54", "5",
    ),
    "qty-not-a-number": (
        [(21, "1"), (55, "AAPL"), (54, BUY), (38, "ten"), (40, "2"), (44, "150.00")], "38", "6",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_order_gets_session_reject_and_session_stays_up(
    venue: Venue, version: str, case: str
) -> None:
    fields, bad_tag, reason = MALFORMED[case]
    a = venue.client("CLIENT1", version)
    body: list[tuple[int, object]] = [(11, "MALFORMED-" + case), (60, fix_now()), *fields]
    if version == "FIX.4.4":
        body = [f for f in body if f[0] != 21]
    seq = a.send("D", body)
    rej = a.expect("3")
    assert (rej[45], rej[372], rej[371], rej[373]) == (str(seq), "D", bad_tag, reason), rej
    assert not [m for m in a.drain() if m.type == "8"], "a malformed order must not be processed"
    # Same connection, next sequence number: business as usual.
    rest(a, "AAPL", BUY, 10, "150.00")


def stranger_logon(port: int, sender: str, begin_string: str) -> FixClient:
    """A second connection that sends a Logon as `sender`."""
    stranger = FixClient(port, sender, begin_string)
    stranger.connect()
    stranger.send("A", [(98, 0), (108, 30), (141, "Y")])
    return stranger


def test_a_misbehaving_session_does_not_affect_another(venue: Venue, version: str) -> None:
    good = venue.client("CLIENT2", version)
    resting = rest(good, "MSFT", SELL, 10, "420.00")

    bad = venue.client("CLIENT1", version)
    # Garbage bytes and a garbled message (wrong checksum) are dropped; a MsgSeqNum lower
    # than expected is fatal for that session under FIX rules.
    bad.send_raw(b"this is not FIX\x01")
    bad.send_raw(b"8=" + version.encode() + b"\x019=5\x0135=0\x0110=000\x01")
    bad.send("0", [], seq=1)
    logout = bad.expect("5")
    assert "MsgSeqNum" in (logout.get(58) or ""), logout
    bad.close()
    # A CompID the venue does not know is turned away, and so is a second connection
    # for a session that is already logged on.
    assert stranger_logon(venue.port, "INTRUDER", version).hung_up()
    assert stranger_logon(venue.port, "CLIENT2", version).hung_up()

    other = venue.client("CLIENT3", version)
    buy = other.new_order("MSFT", BUY, 4, "420.00")
    done = other.expect("8", {11: buy}, check=lambda m: 32 in m)
    assert done[39] == "2"
    good_fill = good.expect("8", {11: resting}, check=lambda m: 32 in m)
    assert Decimal(good_fill[151]) == 6
    assert not fills(good.drain())
