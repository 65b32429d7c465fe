"""Fat-finger limits over FIX, both versions: RSKY (tests/fix/conftest.py) allows prices
within 5% of its reference 100.00 (95.00 to 105.00 until it trades) and at most
10,000.00 of notional per order. Just inside is accepted; just outside is rejected with
OrdRejReason 3 (order exceeds limit) and a Text naming the limit."""

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fix.client import FixClient
from tests.fix.conftest import Server, Venue
from tests.fix.test_audit import export
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


LIMITS = """
[risk.accounts.LIMITED]
max_long = 100
max_short = 50
"""
"""Account LIMITED (CLIENT5's sessions) may be at most 100 long and 50 short per symbol."""


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("limited"), extra_toml=LIMITS)
    server.start()
    yield server
    server.stop()


def test_position_limits_count_open_orders_per_account(limited: Server, version: str) -> None:
    venue = Venue(limited)
    try:
        a = venue.client("CLIENT5", version)
        a.expect("8", {11: a.new_order("AAPL", BUY, 60, "180.00"), 150: "0"})
        a.expect("8", {11: a.new_order("AAPL", BUY, 40, "179.00"), 150: "0"})  # open: 100
        reason, text = rejected(a, a.new_order("AAPL", BUY, 1, "178.00"))
        assert reason == "3"
        assert text == (
            "buy 1 AAPL could take account LIMITED long 101 (position 0, open buys 100): "
            "above its max_long 100"
        ), text
        a.expect("8", {11: a.new_order("MSFT", SELL, 50, "430.00"), 150: "0"})
        reason, text = rejected(a, a.new_order("MSFT", SELL, 1, "431.00"))
        assert reason == "3" and "above its max_short 50" in text
        # Another account is not limited.
        b = venue.client("CLIENT1", version)
        b.expect("8", {11: b.new_order("AAPL", BUY, 500, "170.00"), 150: "0"})
    finally:
        venue.cleanup()
        for client in venue.clients:
            client.close()


SWITCHED = (
    LIMITS
    + """
[risk.sessions.CLIENT5]
off = ["position"]
max_notional = "20000.00"
"""
)
"""CLIENT5's sessions: no position check, and twice RSKY's notional limit."""


@pytest.fixture(scope="module")
def switched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("switched"), extra_toml=SWITCHED)
    server.start()
    yield server
    server.stop()


def test_a_client_can_have_checks_off_and_its_own_limits(switched: Server, version: str) -> None:
    venue = Venue(switched)
    try:
        a = venue.client("CLIENT5", version)
        a.expect("8", {11: a.new_order("IBM", BUY, 110, "170.00"), 150: "0"})  # max_long 100
        a.expect("8", {11: a.new_order("RSKY", BUY, 200, "100.00"), 150: "0"})  # 20,000.00
        reason, text = rejected(a, a.new_order("RSKY", BUY, 201, "100.00"))
        assert reason == "3" and "above the max_notional 20000.00 of RSKY" in text, text
        # Another client keeps the instrument's limit.
        b = venue.client("CLIENT1", version)
        assert rejected(b, b.new_order("RSKY", BUY, 101, "100.00"))[0] == "3"
    finally:
        venue.cleanup()
        for client in venue.clients:
            client.close()


def test_configured_limits_are_journaled_once_and_replay_to_the_same_events(
    tmp_path: Path,
) -> None:
    with at_the_limit(tmp_path, "FIX.4.4", 1) as (server, client):
        client.logout()
        server.restart(fresh=False)  # same config: nothing new to journal
        client.port = server.port
        client.logon()
        assert rejected(client, client.new_order("IBM", BUY, 1, "169.00"))[0] == "3"
        client.logout()
    db = str(server.root / "store1" / "nyquestro.db")
    assert len(configures(db)) == 1
    assert_replay_matches(db)


@contextmanager
def at_the_limit(tmp_path: Path, version: str, more: int) -> Iterator[tuple[Server, FixClient]]:
    """A venue with LIMITS and CLIENT5 logged on, 100 IBM bought (its max_long) and `more`
    refused."""
    server = Server(tmp_path, extra_toml=LIMITS)
    client = FixClient(0, "CLIENT5", version)
    server.start()
    try:
        client.port = server.port
        client.logon()
        client.expect("8", {11: client.new_order("IBM", BUY, 100, "170.00"), 150: "0"})
        assert rejected(client, client.new_order("IBM", BUY, more, "169.00"))[0] == "3"
        yield server, client
    finally:
        client.close()
        server.stop()


def configures(db: str) -> list[dict[str, object]]:
    trail = export(Path(db))
    return [r for r in trail if r["kind"] == "decision"
            and r["payload"]["command"]["type"] == "configure"]  # type: ignore[index]  # fmt: skip


def assert_replay_matches(db: str) -> None:
    """The event-stream hash and the FIX messages (given the venue's config) reproduce."""
    config = Path(db).parents[1] / "venue1.toml"
    replay = subprocess.run(
        [sys.executable, "-m", "nyquestro", "replay", "--journal", db, "--config", str(config)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "matches the hash recorded live" in replay.stdout


RELOADED = """
[risk.accounts.LIMITED]
max_long = 150
max_gross_notional = "30000"

[risk.sessions.CLIENT5]
max_qty = 20
"""


def test_sighup_applies_a_good_file_live_and_keeps_the_old_config_on_a_bad_one(
    tmp_path: Path, version: str
) -> None:
    with at_the_limit(tmp_path, version, 20) as (server, client):
        log = server.reload(RELOADED.replace("[risk.sessions", "x = 1\n[risk.sessions"))
        assert "config reload refused" in log and "risk.accounts.LIMITED.x" in log, log
        assert rejected(client, client.new_order("IBM", BUY, 20, "169.00"))[0] == "3"
        server.extra_toml = RELOADED
        port_moved = server.config_text().replace(f"port = {server.port}", "port = 1")
        log = server.reload(RELOADED, raw=port_moved)
        assert "fix.port: " in log and "needs a restart" in log, log
        assert "settings: account LIMITED: max_long 100 -> 150" in log, log
        # max_long 150 (100 open + 20 + 20 + 10), max_qty 20, gross notional 30,000.00.
        client.expect("8", {11: client.new_order("IBM", BUY, 20, "169.00"), 150: "0"})
        reason, text = rejected(client, client.new_order("IBM", BUY, 21, "169.00"))
        assert reason == "3" and "21" in text and "20" in text, text
        client.expect("8", {11: client.new_order("IBM", BUY, 20, "100.00"), 150: "0"})
        # Open IBM buys are now 17,000 + 3,380 + 2,000 = 22,380.00: selling 20 MSFT at
        # 400.00 would take the gross notional to 30,380.00; 10 more IBM at 170.00 stay
        # within it and reach max_long exactly.
        reason, text = rejected(client, client.new_order("MSFT", SELL, 20, "400.00"))
        assert reason == "3" and "max_gross_notional 30000" in text, text
        client.expect("8", {11: client.new_order("IBM", BUY, 10, "170.00"), 150: "0"})
        reason, text = rejected(client, client.new_order("IBM", BUY, 1, "100.00"))
        assert "max_long 150" in text, text
        # Throttles change live too: two orders a second, in bursts of two.
        server.fix_settings = "orders_per_second = 2\n"
        assert "throttles of " in server.reload(RELOADED)
        reports = [client.expect("8", {11: client.new_order("MSFT", SELL, 1, "400.00")})
                   for _ in range(4)]  # fmt: skip
        refused = [r for r in reports if r[150] == "8"]
        assert refused and all("throttled" in r[58] for r in refused), reports
        client.logout()
    db = str(server.root / "store1" / "nyquestro.db")
    assert len(configures(db)) == 2  # the start's and the good reload's
    assert_replay_matches(db)


BREAKER = """
[instruments.CIRC]
tick_size = "0.01"
band_reference = "100.00"
max_price_variance = "0.5"

[risk]
var_window = 4
"""
"""CIRC halts when the variance of its last four trade prices exceeds 0.5."""


def test_the_circuit_breaker_halts_until_the_operator_resumes(tmp_path: Path, version: str) -> None:
    server = Server(tmp_path, extra_toml=BREAKER)
    server.start()
    venue = Venue(server)
    try:
        buyer, seller = venue.client("CLIENT1", version), venue.client("CLIENT2", version)
        for px in ("100.00", "101.00", "99.00", "102.00"):  # variance 1.25 at the fourth
            seller.expect("8", {11: seller.new_order("CIRC", SELL, 1, px), 150: "0"})
            buyer.expect("8", {11: buyer.new_order("CIRC", BUY, 1, px), 39: "2"})
        reason, text = rejected(buyer, buyer.new_order("CIRC", BUY, 1, "100.00"))
        assert reason == "2" and "CIRC is halted" in text, (reason, text)
        db = str(server.root / "store1" / "nyquestro.db")
        queued = subprocess.run(
            [sys.executable, "-m", "nyquestro", "resume", "CIRC", "--db", db],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert queued.returncode == 0, queued.stderr
        deadline = time.monotonic() + 10.0
        while True:
            report = buyer.expect("8", {11: buyer.new_order("CIRC", BUY, 1, "90.00")})
            if report[150] == "0" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert report[150] == "0", report
    finally:
        venue.cleanup()
        for client in venue.clients:
            client.close()
        server.stop()
    halts = [
        event
        for row in export(Path(db)) if row["kind"] == "decision"
        for event in row["payload"]["events"]  # type: ignore[index]
        if event["type"] == "halted"
    ]  # fmt: skip
    assert len(halts) == 1 and halts[0]["reason"] == (
        "circuit breaker: variance 1.25 of the last 4 trade prices is above the "
        "max_price_variance 0.5 of CIRC"
    ), halts
