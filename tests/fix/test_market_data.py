"""Market data: MarketDataRequest (V) → snapshot (W) then incrementals (X), rejects (Y),
and the 4.4 SecurityList.

CLIENT1 and CLIENT2 make the book move; CLIENT3 watches. A watcher's book is rebuilt
from the snapshot plus every incremental and compared with what the orders imply.
"""

from decimal import Decimal

from tests.fix.client import FixClient, Msg
from tests.fix.conftest import VENUE_TOML, Levels, Venue, apply_incremental, rest, snapshot

BUY, SELL = "1", "2"
BID, OFFER, TRADE = "0", "1", "2"


def px(text: str) -> Decimal:
    return Decimal(text)


def levels_of(snap: Msg) -> Levels:
    return {(e[269], px(e[270])): int(e[271]) for e in snap.groups(268, 269)}


def updates(watcher: FixClient, md_req_id: str, book: Levels | None = None) -> list[dict[int, str]]:
    """Every X entry the watcher has been sent so far for `md_req_id`, in order; folded
    into `book` when given."""
    entries = []
    for msg in watcher.drain():
        if msg.type == "X" and msg[262] == md_req_id:
            entries += msg.groups(268, 279)
            if book is not None:
                apply_incremental(book, msg)
    return entries


def actions(entries: list[dict[int, str]]) -> list[tuple[str, str, Decimal, int]]:
    return [(e[279], e[269], px(e[270]), int(e[271])) for e in entries]


def test_full_depth_snapshot_then_incrementals(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    watcher = venue.client("CLIENT3", version)
    rest(a, "MSFT", BUY, 10, "419.00")
    low = rest(a, "MSFT", BUY, 5, "418.00")
    rest(a, "MSFT", SELL, 7, "421.00")

    md = watcher.subscribe(["MSFT"])
    snap = watcher.expect("W", {262: md})
    assert snap[55] == "MSFT"
    book = levels_of(snap)
    assert book == {
        (BID, px("419.00")): 10,
        (BID, px("418.00")): 5,
        (OFFER, px("421.00")): 7,
    }
    bids = [px(e[270]) for e in snap.groups(268, 269) if e[269] == BID]
    assert bids == sorted(bids, reverse=True), "bids best first"

    rest(a, "MSFT", BUY, 3, "419.00")  # size change at an existing level
    assert actions(updates(watcher, md, book)) == [("1", BID, px("419.00"), 13)]
    rest(a, "MSFT", SELL, 2, "422.00")  # a new level
    assert actions(updates(watcher, md, book)) == [("0", OFFER, px("422.00"), 2)]
    a.expect("8", {11: a.cancel(low, "MSFT", BUY, 5)})  # a level disappears
    got = updates(watcher, md, book)
    assert [(e[279], e[269], px(e[270])) for e in got] == [("2", BID, px("418.00"))]
    b.new_order("MSFT", SELL, 4, "419.00")  # a trade takes size off the best bid
    b.sync()
    got = updates(watcher, md, book)
    assert actions(got) == [("1", BID, px("419.00"), 9)], "no trade entries unless asked for"
    assert all(e[55] == "MSFT" for e in got)

    # What the incrementals said adds up to what a fresh snapshot shows.
    expected = {(BID, px("419.00")): 9, (OFFER, px("421.00")): 7, (OFFER, px("422.00")): 2}
    assert book == expected
    assert snapshot(watcher, "MSFT") == expected


def test_trade_entries_when_requested(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    b = venue.client("CLIENT2", version)
    watcher = venue.client("CLIENT3", version)
    md = watcher.subscribe(["IBM"], entry_types=(BID, OFFER, TRADE))
    watcher.expect("W", {262: md})
    rest(a, "IBM", SELL, 10, "180.00")
    b.new_order("IBM", BUY, 4, "180.05")
    b.sync()
    got = actions(updates(watcher, md))
    assert ("0", TRADE, px("180.00"), 4) in got, got
    assert ("1", OFFER, px("180.00"), 6) in got, got
    assert len([g for g in got if g[1] == TRADE]) == 1, got
    # A new snapshot for a trade subscriber carries the last trade.
    md2 = watcher.subscribe(["IBM"], entry_types=(TRADE,), kind="0")
    last = watcher.expect("W", {262: md2}).groups(268, 269)
    assert [(e[269], px(e[270]), int(e[271])) for e in last] == [(TRADE, px("180.00"), 4)]


def test_top_of_book_subscription_reports_only_the_best_level(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    watcher = venue.client("CLIENT3", version)
    rest(a, "AAPL", BUY, 10, "100.00")
    rest(a, "AAPL", BUY, 5, "99.00")
    md = watcher.subscribe(["AAPL"], depth=1)
    book = levels_of(watcher.expect("W", {262: md}))
    assert book == {(BID, px("100.00")): 10}

    rest(a, "AAPL", BUY, 5, "98.00")  # worse than the best: nothing to say
    assert updates(watcher, md) == []
    better = rest(a, "AAPL", BUY, 2, "101.00")
    got = updates(watcher, md)
    assert sorted(actions(got)) == [
        ("0", BID, px("101.00"), 2),
        ("2", BID, px("100.00"), 10),
    ], got
    a.expect("8", {11: a.cancel(better, "AAPL", BUY, 2)})
    got = updates(watcher, md)
    assert sorted(actions(got)) == [("0", BID, px("100.00"), 10), ("2", BID, px("101.00"), 2)]


def test_unsubscribe_stops_updates(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    watcher = venue.client("CLIENT3", version)
    md = watcher.subscribe(["AAPL"])
    watcher.expect("W", {262: md})
    rest(a, "AAPL", BUY, 10, "100.00")
    assert len(updates(watcher, md)) == 1
    watcher.unsubscribe(md, ["AAPL"])
    watcher.sync()
    rest(a, "AAPL", BUY, 10, "100.01")
    a.sync()
    assert [m for m in watcher.drain() if m.type in ("X", "W", "Y")] == []
    # The MDReqID is free again after unsubscribing.
    again = watcher.subscribe(["AAPL"], md_req_id=md)
    assert len(watcher.expect("W", {262: again}).groups(268, 269)) == 2


def test_unknown_symbol_is_rejected(venue: Venue, version: str) -> None:
    watcher = venue.client("CLIENT3", version)
    md = watcher.subscribe(["NOPE"])
    rej = watcher.expect("Y", {262: md})
    assert rej[281] == "0", rej
    assert "NOPE" in (rej.get(58) or "")


def test_duplicate_md_req_id_is_rejected(venue: Venue, version: str) -> None:
    watcher = venue.client("CLIENT3", version)
    md = watcher.subscribe(["AAPL"])
    watcher.expect("W", {262: md})
    watcher.subscribe(["MSFT"], md_req_id=md)
    rej = watcher.expect("Y", {262: md})
    assert rej[281] == "1", rej
    assert [m for m in watcher.drain() if m.type == "W"] == []


def test_security_list_lists_every_instrument(venue: Venue) -> None:
    client = venue.client("CLIENT3", "FIX.4.4")
    client.send("x", [(320, "SL1"), (559, "4")])
    reply = client.expect("y", {320: "SL1"})
    assert reply.get(560) == "0", reply
    listed = sorted(e[55] for e in reply.groups(146, 55))
    configured = sorted(
        line.removeprefix("[instruments.").removesuffix("]")
        for line in VENUE_TOML.splitlines()
        if line.startswith("[instruments.")
    )
    assert listed == configured == ["AAPL", "ESZ6", "IBM", "MSFT", "RSKY", "XLOT"]


def test_snapshot_of_an_empty_book_says_it_has_no_entries(venue: Venue, version: str) -> None:
    # NoMDEntries (268) is required in W in both versions, even when it is 0.
    watcher = venue.client("CLIENT3", version)
    md = watcher.subscribe(["ESZ6"], kind="0")
    snap = watcher.expect("W", {262: md})
    assert snap.get(268) == "0", snap


def test_one_snapshot_per_symbol_and_only_the_requested_sides(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    watcher = venue.client("CLIENT3", version)
    rest(a, "AAPL", BUY, 10, "100.00")
    rest(a, "MSFT", BUY, 5, "400.00")
    rest(a, "MSFT", SELL, 5, "401.00")
    md = watcher.subscribe(["AAPL", "MSFT"], entry_types=(BID,))
    snaps = {m[55]: levels_of(m) for m in (watcher.expect("W", {262: md}) for _ in range(2))}
    assert snaps == {
        "AAPL": {(BID, px("100.00")): 10},
        "MSFT": {(BID, px("400.00")): 5},
    }
    rest(a, "MSFT", SELL, 5, "402.00")  # an offer: not subscribed to
    assert updates(watcher, md) == []
    rest(a, "AAPL", BUY, 1, "100.00")
    got = updates(watcher, md)
    assert [(e[55], *a) for e, a in zip(got, actions(got), strict=True)] == [
        ("AAPL", "1", BID, px("100.00"), 11)
    ]


def test_snapshot_only_request_does_not_subscribe(venue: Venue, version: str) -> None:
    a = venue.client("CLIENT1", version)
    watcher = venue.client("CLIENT3", version)
    rest(a, "AAPL", BUY, 10, "100.00")
    assert snapshot(watcher, "AAPL") == {(BID, px("100.00")): 10}
    rest(a, "AAPL", BUY, 10, "100.01")
    a.sync()
    assert [m for m in watcher.drain() if m.type == "X"] == []
