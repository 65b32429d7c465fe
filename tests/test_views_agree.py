"""One flow seen three ways: FIX market data, the ITCH feed and the WebSocket bridge
show the same book, level by level, once the flow is done (issue 6)."""

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from nyquestro.marketdata.client import FeedClient
from tests.fix.client import FixClient
from tests.fix.conftest import free_port, rest
from tests.fix.test_market_data import levels_of
from tests.websocket.client import Book
from tests.websocket.conftest import WsServer, WsVenue

SYMBOL = "ESZ6"
BUY, SELL = "1", "2"
Levels = dict[tuple[str, Decimal], int]


@pytest.fixture
def three_ways(tmp_path: Path) -> Iterator[tuple[WsVenue, FeedClient]]:
    request_port = free_port()
    feed = FeedClient(request=("127.0.0.1", request_port), gap_grace=0.05).start()
    server = WsServer(tmp_path)
    server.extra_toml += (
        f'\n[itch]\ndestinations = ["127.0.0.1:{feed.port}"]\nrequest_port = {request_port}\n'
    )
    server.start()
    venue = WsVenue(server)
    try:
        yield venue, feed
    finally:
        venue.cleanup()
        for client in venue.clients:
            client.close()
        server.stop()
        feed.stop()


def fix_levels(watcher: FixClient) -> Levels:
    return levels_of(watcher.expect("W", {262: watcher.subscribe([SYMBOL], kind="0")}))


def itch_levels(feed: FeedClient) -> Levels:
    return {
        ("0" if side == "B" else "1", Decimal(price) / 10_000): shares
        for side in ("B", "S")
        for price, shares, _orders in feed.builder.levels(SYMBOL, side)
    }


def test_fix_market_data_the_itch_feed_and_the_websocket_view_agree(
    three_ways: tuple[WsVenue, FeedClient],
) -> None:
    venue, feed = three_ways
    a = venue.client("CLIENT1", "FIX.4.4")
    b = venue.client("CLIENT2", "FIX.4.2")
    watcher = venue.client("CLIENT3", "FIX.4.4")
    rest(a, SYMBOL, BUY, 5, "5999.00")
    rest(a, SYMBOL, BUY, 8, "5998.75")
    rest(a, SYMBOL, SELL, 4, "6001.00")
    rest(a, SYMBOL, SELL, 20, "6001.25", extra=[(111, 5)])  # an iceberg showing 5
    gone = rest(a, SYMBOL, SELL, 2, "6002.00")
    sweep = b.new_order(SYMBOL, BUY, 12, "6001.25")  # 6001.00, then the iceberg's slices
    b.expect("8", {11: sweep, 39: "2"})
    a.expect("8", {11: a.cancel(gone, SYMBOL, SELL, 2)})
    partly = b.new_order(SYMBOL, SELL, 6, "5999.00")  # 5 fill, 1 rests
    b.expect("8", {11: partly, 39: "1"})

    fix = fix_levels(watcher)
    assert len(fix) >= 3, fix
    ws = venue.ws()
    ws.send(type="subscribe", symbols=[SYMBOL])
    snapshot = Book(ws.expect("snapshot"))
    as_fix = {
        ("0" if side == "buy" else "1", Decimal(px)): qty
        for (side, px), qty in snapshot.levels.items()
    }
    assert as_fix == fix
    assert feed.wait_for(lambda: itch_levels(feed) == fix, 10.0), (itch_levels(feed), fix)
