"""Which reports reached quickfix before a stop is worked out per session, and per report
by its ExecID: one command's reports go to several sessions, or several to one (two
fills of one order), and a crash can fall between any two of them."""

from pathlib import Path

from nyquestro.gateways.fix.message import OutMessage
from nyquestro.runtime.fix_settings import highest_exec_ids, in_store

SOH = "\x01"


def report(exec_id: int) -> str:
    return f"8=FIX.4.4{SOH}35=8{SOH}17={exec_id}{SOH}150=0{SOH}10=000{SOH}"


def test_each_session_has_its_own_frontier(tmp_path: Path) -> None:
    buyer, copy, idle = (tmp_path / f"{name}.body" for name in ("buyer", "copy", "idle"))
    # Command 4's report reached the buyer's store; its drop copy did not.
    buyer.write_text(report(3_000_001) + report(4_000_001))
    copy.write_text(report(3_000_001) + report(3_000_002) + report(3_500_000))
    idle.write_text("")
    highest = highest_exec_ids(
        {"buyer": buyer, "copy": copy, "idle": idle, "new": tmp_path / "missing.body"}
    )
    assert highest == {"buyer": 4_000_001, "copy": 3_500_000, "idle": 0, "new": 0}


def test_a_report_counts_by_its_exec_id_anything_else_by_its_command() -> None:
    first_fill = OutMessage("8", [(17, "4000001"), (150, "F")])
    second_fill = OutMessage("8", [(17, "4000002"), (150, "F")])
    cancel_reject = OutMessage("9", [(11, "C9")])
    # The store got command 4's first fill; the kill fell before its second.
    assert in_store(4_000_001, 4, first_fill)
    assert not in_store(4_000_001, 4, second_fill)
    assert in_store(4_000_001, 4, cancel_reject) and in_store(4_000_001, 3, cancel_reject)
    assert not in_store(4_000_001, 5, cancel_reject)
    assert not in_store(0, 1, first_fill)
