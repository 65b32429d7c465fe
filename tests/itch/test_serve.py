"""End to end: `nyquestro serve` with an [itch] table, FIX clients trading, a FeedClient
listening on loopback whose book is what the FIX reports say rests; after a clean
restart (from the snapshot taken at the stop) a new session shows the same book."""

import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nyquestro.marketdata.client import FeedClient
from tests.fix.client import FixClient
from tests.fix.conftest import Server, Venue, free_port, gateway_pids, rest

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


def traders(venue: Venue) -> tuple[FixClient, FixClient]:
    """A buyer on FIX 4.4 and a seller on FIX 4.2."""
    return venue.client("CLIENT1", "FIX.4.4"), venue.client("CLIENT2", "FIX.4.2")


WANT_BIDS = [(1_900_000, 70), (1_899_900, 40)]
WANT_ASKS = [(1_905_000, 25)]


def shows(
    client: FeedClient, bids: list[tuple[int, int]], asks: list[tuple[int, int]], timeout: float
) -> bool:
    """Whether the client's AAPL book comes to be `bids` and `asks` (Price(4), size)."""
    return client.wait_for(
        lambda: (
            [(p, s) for _r, p, s in client.builder.orders(AAPL, "B")] == bids
            and [(p, s) for _r, p, s in client.builder.orders(AAPL, "S")] == asks
        ),
        timeout,
    )


def test_the_feed_clients_book_follows_fix_trading_and_survives_a_restart(
    feed_and_venue: tuple[FeedClient, Venue, Server],
) -> None:
    client, venue, server = feed_and_venue
    buyer, seller = traders(venue)
    rest(buyer, AAPL, "1", 100, "190.00")
    rest(buyer, AAPL, "1", 40, "189.99")
    iceberg = rest(seller, AAPL, "2", 50, "191.00", extra=[(111, 10)])
    seller.new_order(AAPL, "2", 30, "190.00")  # trades 30 against the 190.00 bid
    seller.sync()
    buyer.sync()
    seller.cancel(iceberg, AAPL, "2")
    rest(seller, AAPL, "2", 25, "190.50")
    seller.sync()

    assert shows(client, WANT_BIDS, WANT_ASKS, 10.0), (
        book(client, "B"), book(client, "S"), server.tail(),
    )  # fmt: skip
    assert client.read(lambda: client.builder.levels(AAPL, "B")) == [
        (1_900_000, 70, 1), (1_899_900, 40, 1),
    ]  # fmt: skip
    mpids = client.read(lambda: {o.attribution for o in client.builder.book.orders.values()})
    assert mpids == {"CLIE", "C2"}

    before = client.read(lambda: client.tracker.session)
    for fix_client in venue.clients:
        fix_client.close()
    server.restart(fresh=False)
    assert client.wait_for(lambda: client.tracker.session != before, 10.0), server.tail()
    assert shows(client, WANT_BIDS, WANT_ASKS, 10.0), (
        book(client, "B"), book(client, "S"), server.tail(),
    )  # fmt: skip


def test_a_killed_feed_process_is_restarted_and_its_session_goes_on_without_a_hole(
    feed_and_venue: tuple[FeedClient, Venue, Server],
) -> None:
    client, venue, server = feed_and_venue
    buyer, seller = traders(venue)
    rest(buyer, AAPL, "1", 100, "190.00")
    assert client.wait_for(lambda: client.builder.orders(AAPL, "B") != [], 10.0), server.tail()
    session = client.read(lambda: client.tracker.session)
    (first,) = gateway_pids(server, "itch")
    assert server.pid is not None and first != server.pid
    os.kill(first, signal.SIGKILL)
    # Orders keep coming while the feed is down: acknowledged by the core all the same.
    rest(buyer, AAPL, "1", 40, "189.99")
    rest(seller, AAPL, "2", 25, "190.50")
    deadline = time.monotonic() + 20
    while len(gateway_pids(server, "itch")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(gateway_pids(server, "itch")) == 2, server.tail()
    seller.new_order(AAPL, "2", 30, "190.00")  # trades 30 against the 190.00 bid
    seller.sync()
    # What the dead process never published, the client asks the new one for (a gap in
    # the same session, not a new session).
    assert shows(client, WANT_BIDS, WANT_ASKS, 15.0), (
        book(client, "B"), book(client, "S"), server.tail(),
    )  # fmt: skip
    assert client.read(lambda: client.tracker.session) == session
    assert "ended with exit status -9; restarting it" in server.log.read_text()


def test_serve_exits_non_zero_and_says_why_when_the_feed_process_cannot_start(
    tmp_path: Path,
) -> None:
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    server = Server(tmp_path, extra_toml=f"\n[itch]\nrequest_port = {port}\n")
    try:
        # With the FIX gateway in a process of its own its port may open before the core
        # has heard from the feed: then start() returns, and the venue exits all the same.
        try:
            server.start()
        except RuntimeError as exc:
            assert "exited early" in str(exc), exc
        server.wait_stopped()
        assert server.returncode == 1
        log = server.log.read_text()
        assert "the venue cannot start: the itch process ended with exit status 1" in log, log
        assert "Address already in use" in log
    finally:
        server.stop()
        taken.close()
