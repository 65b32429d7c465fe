"""`nyquestro replay --fix`: a recorded conversation played again against a fresh venue
gives no difference; a venue with a rule changed gives the difference expected, named."""

import subprocess
import sys
from pathlib import Path

from nyquestro.cert.launch import StartedVenue, default_config
from nyquestro.cert.session_replay import compare, is_time_traffic, pairs
from tests.fix.client import FixClient


def trade_a_little(port: int) -> None:
    buyer, seller = FixClient(port, "CLIENT1", "FIX.4.4"), FixClient(port, "CLIENT2", "FIX.4.2")
    buyer.logon()
    seller.logon()
    try:
        resting = buyer.new_order("AAPL", "1", 100, "189.00", cl_ord_id="B1")
        buyer.expect("8", {150: "0"})
        seller.new_order("AAPL", "2", 40, "188.50", cl_ord_id="S1")
        seller.expect("8", {150: "2"})
        buyer.expect("8", {150: "F"})
        buyer.replace(resting, "AAPL", "1", 120, "189.10", cl_ord_id="B2")
        buyer.expect("8", {150: "5"})
        seller.new_order("NOPE", "2", 1, "1.00", cl_ord_id="S2")
        seller.expect("8", {150: "8"})
        buyer.send("1", [(112, "are-you-there")])
        buyer.expect("0", {112: "are-you-there"})
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
    assert "sent 10 inbound messages again, compared 12 outbound ones" in same.stdout

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
