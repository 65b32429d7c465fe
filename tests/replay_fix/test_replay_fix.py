"""`nyquestro replay --fix`: a recorded conversation played again against a fresh venue
on a virtual clock gives no difference, TransactTime included, whether it was recorded on
the wall clock or on a virtual one; a venue with a rule changed gives the difference
expected, named."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from nyquestro.cert.launch import StartedVenue, default_config
from nyquestro.cert.session_replay import Window, compare, is_time_traffic, pairs
from nyquestro.store.audit import fix_messages
from nyquestro.store.database import create_db_engine
from tests.fix.client import FixClient


def trade_a_little(port: int, step: Callable[[], None] = lambda: None) -> None:
    """`step` runs before each order message (a test on a virtual clock moves it)."""
    buyer, seller = FixClient(port, "CLIENT1", "FIX.4.4"), FixClient(port, "CLIENT2", "FIX.4.2")
    buyer.logon()
    seller.logon()
    try:
        step()
        resting = buyer.new_order("AAPL", "1", 100, "189.00", cl_ord_id="B1")
        buyer.expect("8", {150: "0"})
        step()
        seller.new_order("AAPL", "2", 40, "188.50", cl_ord_id="S1")
        seller.expect("8", {150: "2"})
        buyer.expect("8", {150: "F"})
        step()
        buyer.replace(resting, "AAPL", "1", 120, "189.10", cl_ord_id="B2")
        buyer.expect("8", {150: "5"})
        step()
        seller.new_order("NOPE", "2", 1, "1.00", cl_ord_id="S2")
        seller.expect("8", {150: "8"})
        step()
        # Refused by the FIX gateway itself (off tick): its reply carries its own time.
        seller.new_order("AAPL", "2", 1, "188.505", cl_ord_id="S3")
        seller.expect("8", {150: "8"})
        buyer.send("1", [(112, "are-you-there")])
        buyer.expect("0", {112: "are-you-there"})
        step()
        buyer.cancel("B2", "AAPL", "1", cl_ord_id="B3")
        buyer.expect("8", {150: "4"})
    finally:
        buyer.logout()
        seller.logout()


def replay(journal: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nyquestro", "replay", "--journal", str(journal), "--fix",
         "--config", str(config)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_a_replay_gives_no_difference_and_a_changed_rule_the_expected_one(tmp_path: Path) -> None:
    with StartedVenue(directory=tmp_path / "recorded") as venue:
        trade_a_little(venue.fix_address()[1])
    journal = tmp_path / "recorded" / "store" / "nyquestro.db"
    same = replay(journal, default_config())
    assert same.returncode == 0, same.stdout + same.stderr
    assert "no difference" in same.stdout
    assert "sent 11 inbound messages again, compared 13 outbound ones" in same.stdout

    # The same venue, but AAPL orders above 50 are refused: the first order differs.
    changed = tmp_path / "changed.toml"
    changed.write_text(default_config().read_text().replace("max_qty = 100000", "max_qty = 50", 1))
    differs = replay(journal, changed)
    assert differs.returncode == 1, differs.stdout + differs.stderr
    assert "DIFFERS at recorded message" in differs.stdout
    assert "FIX.4.4:NYQUESTRO->CLIENT1" in differs.stdout
    # The first field of the recording's order that differs: a refused order has no OrderID.
    assert "tag 37 (OrderID): recorded '1', replayed 'NONE'" in differs.stdout
    replayed = next(line for line in differs.stdout.splitlines() if "replayed:" in line)
    assert "|150=8|" in replayed and "|103=3|" in replayed

    # The same venue with a behaviour rule added that busts the fills: the first message
    # that differs is a bust's report (it names the fill in ExecRefID 19), on whichever
    # session the replay reaches it first.
    busting = tmp_path / "busting.toml"
    busting.write_text(default_config().read_text().replace(
        "[fix]\n",
        '[fix]\nrules = [{ name = "busts", cl_ord_id = "^B", bust_fills = true }]\n', 1,
    ))  # fmt: skip
    busted = replay(journal, busting)
    assert busted.returncode == 1, busted.stdout + busted.stderr
    assert "DIFFERS at recorded message" in busted.stdout
    recorded, replayed = (
        next(line for line in busted.stdout.splitlines() if f"{side}:" in line)
        for side in ("recorded", "replayed")
    )  # fmt: skip
    assert "|19=" in replayed and "|19=" not in recorded, busted.stdout


def test_a_recording_on_a_virtual_clock_replays_with_the_same_transact_times(
    tmp_path: Path,
) -> None:
    moments = iter(range(1_700_000_000_000_000_000, 1_800_000_000_000_000_000, 1_500_000_000))
    with StartedVenue(directory=tmp_path / "recorded", virtual_clock=True) as venue:
        venue.set_clock(next(moments))
        trade_a_little(venue.fix_address()[1], lambda: venue.set_clock(next(moments)))
    journal = tmp_path / "recorded" / "store" / "nyquestro.db"
    stamped = {
        dict(pairs(text))[60]
        for _session, kind, text, _ts in fix_messages(create_db_engine(str(journal)))
        if kind == "outbound" and "|60=" in text
    }
    # Every step's time, each 1.5 s on, from the first order's on: the venue's, not the
    # machine's.
    assert sorted(stamped) == [
        "20231114-22:13:21.500", "20231114-22:13:23.000", "20231114-22:13:24.500",
        "20231114-22:13:26.000", "20231114-22:13:27.500", "20231114-22:13:29.000",
    ]  # fmt: skip
    same = replay(journal, default_config())
    assert same.returncode == 0, same.stdout + same.stderr
    assert "no difference" in same.stdout
    assert "sent 11 inbound messages again, compared 13 outbound ones" in same.stdout


def test_transact_time_is_compared_on_a_virtual_clock_within_the_recording_s_window() -> None:
    recorded = pairs("35=8|37=1|60=20231114-22:13:20.124|150=0|")
    window = Window(set_to="20231114-22:13:20.123", sent="20231114-22:13:20.125")
    assert compare(recorded, pairs("35=8|37=1|60=20231114-22:13:20.124|150=0|"), window) is None
    # The recording's venue stamped while its wall clock moved on from when it saw the
    # message; the replay's stood still at that moment.
    assert compare(recorded, pairs("35=8|37=1|60=20231114-22:13:20.123|150=0|"), window) is None
    assert compare(recorded, pairs("35=8|37=1|60=20231114-22:13:20.122|150=0|"), window) == (
        "tag 60 (TransactTime): recorded '20231114-22:13:20.124', replayed '20231114-22:13:20.122'"
    )
    late = pairs("35=8|37=1|60=20231114-22:13:20.126|150=0|")
    assert compare(late, pairs("35=8|37=1|60=20231114-22:13:20.123|150=0|"), window) is not None
    # On the wall clock (no window) TransactTime is not compared.
    assert compare(recorded, pairs("35=8|37=1|60=19700101-00:00:00.000|150=0|")) is None


def test_the_comparison_names_the_first_field_that_differs() -> None:
    recorded = pairs("8=FIX.4.4|9=70|35=8|34=5|52=X|37=1|150=0|39=0|10=123|")
    assert compare(recorded, pairs("8=FIX.4.4|9=71|35=8|34=9|52=Y|37=1|150=0|39=0|10=001|")) is None
    assert compare(recorded, pairs("8=FIX.4.4|35=8|37=1|150=8|39=8|")) == (
        "tag 150 (ExecType): recorded '0', replayed '8'"
    )
    assert compare(recorded, pairs("8=FIX.4.4|35=8|37=1|39=0|")) == (
        "tag 150 (ExecType) ('0' in the recording) is missing from the replay"
    )
    assert compare(recorded, pairs("8=FIX.4.4|35=8|37=1|39=0|150=0|")) == (
        "the same fields in another order"
    )
    assert compare(recorded, pairs("8=FIX.4.4|35=8|37=1|150=0|39=0|58=late|")) == (
        "only the replay has 58 (Text)"
    )
    assert is_time_traffic(pairs("35=0|34=3|"), inbound=False)
    assert not is_time_traffic(pairs("35=0|112=T|"), inbound=False)
    assert is_time_traffic(pairs("35=1|112=T|"), inbound=False)
