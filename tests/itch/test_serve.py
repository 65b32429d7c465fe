"""End to end: `nyquestro serve` with an [itch] table, FIX clients trading, a FeedClient
listening on loopback whose book is what the FIX reports say rests; after a clean
restart (from the snapshot taken at the stop) a new session shows the same book."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from nyquestro.marketdata.client import FeedClient
from tests.fix.conftest import Server, Venue, free_port, rest

AAPL = "AAPL"


@pytest.fixture
def feed_and_venue(tmp_path: Path) -> Iterator[tuple[FeedClient, Venue, Server]]:
    request_port = free_port()
    client = FeedClient(request=("127.0.0.1", request_port), gap_grace=0.05).start()
    server = Server(
        tmp_path,
        extra_toml=(
            f'\n[itch]\ndestinations = ["127.0.0.1:{client.port}"]\n'
            f"request_port = {request_port}\nheartbeat_seconds = 0.1\nattribution = true\n"
            '[itch.mpids]\nCLIENT2 = "C2"\n'
        ),
    )
    server.start()
    venue = Venue(server)
    try:
        yield client, venue, server
    finally:
        for fix_client in venue.clients:
            fix_client.close()
        server.stop()
        client.stop()


def book(client: FeedClient, side: str) -> list[tuple[int, int]]:
    return client.read(lambda: [(p, s) for _r, p, s in client.builder.orders(AAPL, side)])


def test_the_feed_clients_book_follows_fix_trading_and_survives_a_restart(
    feed_and_venue: tuple[FeedClient, Venue, Server],
) -> None:
    client, venue, server = feed_and_venue
    buyer = venue.client("CLIENT1", "FIX.4.4")
    seller = venue.client("CLIENT2", "FIX.4.2")
    rest(buyer, AAPL, "1", 100, "190.00")
    rest(buyer, AAPL, "1", 40, "189.99")
    iceberg = rest(seller, AAPL, "2", 50, "191.00", extra=[(111, 10)])
    seller.new_order(AAPL, "2", 30, "190.00")  # trades 30 against the 190.00 bid
    seller.sync()
    buyer.sync()
    seller.cancel(iceberg, AAPL, "2")
    rest(seller, AAPL, "2", 25, "190.50")
    seller.sync()

    want_bids = [(1_900_000, 70), (1_899_900, 40)]
    want_asks = [(1_905_000, 25)]
    assert client.wait_for(
        lambda: (
            [(p, s) for _r, p, s in client.builder.orders(AAPL, "B")] == want_bids
            and [(p, s) for _r, p, s in client.builder.orders(AAPL, "S")] == want_asks
        ),
        10.0,
    ), (book(client, "B"), book(client, "S"), server.tail())
    assert client.read(lambda: client.builder.levels(AAPL, "B")) == [
        (1_900_000, 70, 1), (1_899_900, 40, 1),
    ]  # fmt: skip
    mpids = client.read(lambda: {o.attribution for o in client.builder.book.orders.values()})
    assert mpids == {"CLIE", "C2"}

    before = client.read(lambda: client.tracker.session)
    for fix_client in venue.clients:
        fix_client.close()
    server.restart(fresh=False)
    assert client.wait_for(
        lambda: (
            client.tracker.session != before
            and [(p, s) for _r, p, s in client.builder.orders(AAPL, "B")] == want_bids
            and [(p, s) for _r, p, s in client.builder.orders(AAPL, "S")] == want_asks
        ),
        10.0,
    ), (book(client, "B"), book(client, "S"), server.tail())
