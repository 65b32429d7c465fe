"""The auctions' indicative price and imbalance over FIX market data, 4.2 and 4.4.

A subscriber that asks for MDEntryType 4 (Opening Price), 5 (Closing Price) and, in 4.4,
A (Imbalance) gets them in the snapshot (W) of a symbol in a call and as incrementals (X)
when the engine's AuctionIndicative moves them (docs/phases.md, "FIX market data: the
indicative price"). One venue per mode (the FIX gateway in the core, and in its own
process) with the control plane on to move phases; every test leaves every symbol
continuous. The clients check each message against the stock dictionary of their version.
"""

from collections.abc import Iterator

import pytest

from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient
from tests.control.conftest import ControlServer, both_placements
from tests.fix.client import FixClient, Msg
from tests.fix.conftest import VERSIONS, Venue, managed, rest

BUY, SELL = "1", "2"
BID, OFFER, OPENING, CLOSING, IMBALANCE = "0", "1", "4", "5", "A"
NEW, CHANGE, DELETE = "0", "1", "2"
MD_REQ_ID, MD_REQ_REJ_REASON, TEXT = 262, 281, 58

Entry = tuple[str, str, str, str, str | None, str | None, str | None]
"""(MDUpdateAction or "", MDEntryType, MDEntryPx, MDEntrySize, TradeCondition 277,
OpenCloseSettlFlag 286, Text 58) of one indicative entry."""


server = both_placements("md-indicative")


@pytest.fixture
def venue(server: ControlServer) -> Iterator[Venue]:
    yield from managed(Venue(server), server)


@pytest.fixture
def ops(server: ControlServer) -> Iterator[ControlClient]:
    with server.client() as client:
        yield client
        client.stub.SetPhase(pb.SetPhaseRequest(phase="continuous"), **client.call())


def set_phase(ops: ControlClient, phase: str, symbol: str) -> None:
    ops.stub.SetPhase(pb.SetPhaseRequest(phase=phase, symbol=symbol), **ops.call())


def types_for(client: FixClient) -> tuple[str, ...]:
    return (BID, OFFER, OPENING, CLOSING) + ((IMBALANCE,) if client.is44 else ())


def indicative(entries: list[dict[int, str]]) -> list[Entry]:
    return [
        (e.get(279, ""), e[269], e[270], e[271], e.get(277), e.get(286), e.get(TEXT))
        for e in entries
        if e[269] in (OPENING, CLOSING, IMBALANCE)
    ]


def next_update(watcher: FixClient, md_req_id: str) -> list[dict[int, str]]:
    """The entries of the next X for `md_req_id` (one per command that moved something)."""
    return watcher.expect("X", {MD_REQ_ID: md_req_id}).groups(268, 279)


def snapshot_entries(watcher: FixClient, symbol: str) -> list[Entry]:
    md = watcher.subscribe([symbol], entry_types=types_for(watcher), kind="0")
    snap: Msg = watcher.expect("W", {MD_REQ_ID: md})
    return indicative(snap.groups(268, 269))


def price_entry(
    client: FixClient, action: str, entry_type: str, px: str, qty: int, imbalance: str
) -> Entry:
    """The Opening/Closing Price entry as each version shows it: 4.4 marks it theoretical
    (286=5), 4.2 says so and gives the imbalance in Text."""
    if client.is44:
        return (action, entry_type, px, str(qty), None, "5", None)
    return (action, entry_type, px, str(qty), None, None, f"indicative; {imbalance}")


def imbalance_entry(action: str, px: str, qty: int, condition: str | None) -> Entry:
    return (action, IMBALANCE, px, str(qty), condition, None, None)


@pytest.mark.parametrize("version", VERSIONS)
def test_opening_call_indicative_in_snapshot_incrementals_and_deleted_at_the_uncross(
    venue: Venue, ops: ControlClient, version: str
) -> None:
    buyer = venue.client("CLIENT1", version)
    seller = venue.client("CLIENT2", version)
    watcher = venue.client("CLIENT3", version)
    set_phase(ops, "opening_auction", "MSFT")
    md = watcher.subscribe(["MSFT"], entry_types=types_for(watcher))
    assert indicative(watcher.expect("W", {MD_REQ_ID: md}).groups(268, 269)) == []

    rest(buyer, "MSFT", BUY, 10, "400.00")  # nothing would trade yet
    assert indicative(next_update(watcher, md)) == []

    # 4 would trade at 400.00 (the buy surplus of 6 takes the highest price), 6 left to buy.
    rest(seller, "MSFT", SELL, 4, "399.00")
    got = indicative(next_update(watcher, md))
    want = [price_entry(watcher, NEW, OPENING, "400.00", 4, "imbalance 6 buy")]
    if watcher.is44:
        want.append(imbalance_entry(NEW, "400.00", 6, "P"))
    assert got == want
    # A fresh snapshot shows the same, without the update action.
    assert snapshot_entries(watcher, "MSFT") == [("", *e[1:]) for e in want]

    # Now 10 would trade at 400.00, nothing left over: the entries change in place.
    rest(seller, "MSFT", SELL, 6, "400.00")
    got = indicative(next_update(watcher, md))
    want = [price_entry(watcher, CHANGE, OPENING, "400.00", 10, "no imbalance")]
    if watcher.is44:
        want.append(imbalance_entry(CHANGE, "400.00", 0, None))
    assert got == want

    # The call ends: the book uncrosses and what was indicated is deleted.
    set_phase(ops, "continuous", "MSFT")
    got = indicative(next_update(watcher, md))
    want = [(DELETE, OPENING, "400.00", "10", None, None, None)]
    if watcher.is44:
        want.append((DELETE, IMBALANCE, "400.00", "0", None, None, None))
    assert got == want
    assert snapshot_entries(watcher, "MSFT") == []


@pytest.mark.parametrize("version", VERSIONS)
def test_the_closing_call_uses_closing_price_and_nothing_to_trade_deletes(
    venue: Venue, ops: ControlClient, version: str
) -> None:
    buyer = venue.client("CLIENT1", version)
    seller = venue.client("CLIENT2", version)
    watcher = venue.client("CLIENT3", version)
    set_phase(ops, "opening_auction", "AAPL")
    md = watcher.subscribe(["AAPL"], entry_types=types_for(watcher))
    watcher.expect("W", {MD_REQ_ID: md})
    rest(buyer, "AAPL", BUY, 10, "190.00")
    assert indicative(next_update(watcher, md)) == []
    sell = rest(seller, "AAPL", SELL, 4, "189.00")
    got = indicative(next_update(watcher, md))
    assert got[0] == price_entry(watcher, NEW, OPENING, "190.00", 4, "imbalance 6 buy")

    # Straight from one call to the other: no uncross, the price moves to entry type 5;
    # the imbalance entry says the same as before, so nothing is sent for it.
    set_phase(ops, "closing_auction", "AAPL")
    got = indicative(next_update(watcher, md))
    assert got == [
        (DELETE, OPENING, "190.00", "4", None, None, None),
        price_entry(watcher, NEW, CLOSING, "190.00", 4, "imbalance 6 buy"),
    ]
    assert snapshot_entries(watcher, "AAPL")[0] == price_entry(
        watcher, "", CLOSING, "190.00", 4, "imbalance 6 buy"
    )

    # Without the sell nothing would trade (px None): the entries go.
    seller.expect("8", {11: seller.cancel(sell, "AAPL", SELL, 4)})
    got = indicative(next_update(watcher, md))
    want = [(DELETE, CLOSING, "190.00", "4", None, None, None)]
    if watcher.is44:
        want.append((DELETE, IMBALANCE, "190.00", "6", None, None, None))
    assert got == want


@pytest.mark.parametrize("version", VERSIONS)
def test_only_the_requested_indicative_entry_types_are_sent(
    venue: Venue, ops: ControlClient, version: str
) -> None:
    buyer = venue.client("CLIENT1", version)
    seller = venue.client("CLIENT2", version)
    watcher = venue.client("CLIENT3", version)
    set_phase(ops, "closing_auction", "IBM")
    opening_only = watcher.subscribe(["IBM"], entry_types=(OPENING,))
    closing_only = watcher.subscribe(["IBM"], entry_types=(CLOSING,))
    for md in (opening_only, closing_only):
        assert watcher.expect("W", {MD_REQ_ID: md}).get(268) == "0"
    rest(buyer, "IBM", BUY, 5, "180.00")
    buyer.sync()  # a bid, which neither subscription asked for
    rest(seller, "IBM", SELL, 5, "180.00")
    got = indicative(next_update(watcher, closing_only))
    assert got == [price_entry(watcher, NEW, CLOSING, "180.00", 5, "no imbalance")]
    watcher.sync()
    assert [m for m in watcher.drain() if m.get(MD_REQ_ID) == opening_only] == []
    # Leave nothing to uncross when the ops fixture ends the call.
    buyer.cancel_open_orders()
    seller.cancel_open_orders()


@pytest.mark.parametrize("version", VERSIONS)
def test_entry_types_accepted_per_version(venue: Venue, version: str) -> None:
    watcher = venue.client("CLIENT3", version)
    md = watcher.subscribe(["MSFT"], entry_types=(OPENING, CLOSING), kind="0")
    assert watcher.expect("W", {MD_REQ_ID: md}).get(268) == "0"  # continuous: no entries
    md = watcher.subscribe(["MSFT"], entry_types=("6",), kind="0")  # settlement price
    refused = watcher.expect("Y", {MD_REQ_ID: md})
    assert refused[MD_REQ_REJ_REASON] == "8"
    assert "4 opening and 5 closing price" in refused[TEXT]
    assert ("A imbalance" in refused[TEXT]) == watcher.is44
    md = watcher.subscribe(["MSFT"], entry_types=(IMBALANCE,), kind="0")
    if watcher.is44:
        assert watcher.expect("W", {MD_REQ_ID: md}).get(268) == "0"
    else:  # 4.2 has no A
        assert watcher.expect("Y", {MD_REQ_ID: md})[MD_REQ_REJ_REASON] == "8"
