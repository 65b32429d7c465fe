"""Which reports reached quickfix before a stop is worked out per session: one command's
reports go to several sessions, and a crash can fall between two of them."""

from pathlib import Path

from nyquestro.runtime.fix_settings import frontiers_of

SOH = "\x01"


def report(exec_id: int) -> str:
    return f"8=FIX.4.4{SOH}35=8{SOH}17={exec_id}{SOH}150=0{SOH}10=000{SOH}"


def test_each_session_has_its_own_frontier(tmp_path: Path) -> None:
    buyer, copy, idle = (tmp_path / f"{name}.body" for name in ("buyer", "copy", "idle"))
    # Command 4's report reached the buyer's store; its drop copy did not.
    buyer.write_text(report(3_000_001) + report(4_000_001))
    copy.write_text(report(3_000_001) + report(3_000_002) + report(3_500_000))
    idle.write_text("")
    frontiers = frontiers_of(
        {"buyer": buyer, "copy": copy, "idle": idle, "new": tmp_path / "missing.body"}
    )
    assert frontiers == {"buyer": 4, "copy": 3, "idle": 0, "new": 0}
