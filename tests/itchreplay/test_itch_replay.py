"""The ITCH replayer: the translation alone, the file framing, and a replay into a real
venue whose book a FIX client then trades against."""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nyquestro.cert.launch import StartedVenue
from nyquestro.codec.fix_wire import Splitter, encode
from nyquestro.gateways.itch.errors import ItchError
from nyquestro.gateways.itch.messages import (
    AddOrder,
    OrderDelete,
    OrderExecuted,
    pack_add_order,
    pack_cancel,
    pack_delete,
    pack_executed,
    pack_replace,
    pack_stock_directory,
    pack_trade,
    stock_field,
)  # fmt: skip
from nyquestro.itchreplay.files import read_messages, write_messages
from nyquestro.itchreplay.translate import Translator
from tests.fix.client import FixClient

SECOND = 1_000_000_000
AAPL = stock_field("AAPL")
NOW = "20261207-12:00:00.000"


def add(ref: int, side: bytes, shares: int, price: str, ts: int) -> bytes:
    ticks = int(float(price) * 10000)
    return pack_add_order(1, 0, ts, ref, side, shares, AAPL, ticks, None)


def day() -> list[bytes]:
    """A small day: what is left is a bid of 60 at 189.00, a bid of 30 at 188.75 and an
    offer of 20 at 189.50."""
    return [
        pack_stock_directory(1, 0, 9 * 3600 * SECOND, AAPL, 100),
        add(1, b"B", 100, "189.00", 10 * SECOND),
        add(2, b"S", 50, "190.00", 11 * SECOND),
        add(3, b"B", 30, "188.50", 12 * SECOND),
        pack_executed(1, 0, 13 * SECOND, 1, 40, 7001),
        pack_cancel(1, 0, 14 * SECOND, 2, 10),
        pack_replace(1, 0, 15 * SECOND, 3, 4, 30, 1887500),
        pack_delete(1, 0, 16 * SECOND, 2),
        pack_trade(1, 0, 16 * SECOND, b"B", 500, AAPL, 1890000, 7002),
        add(5, b"S", 20, "189.50", 17 * SECOND),
    ]


def report(cl_ord_id: str, exec_type: str, status: str, last_qty: int = 0) -> object:
    (msg,) = Splitter().feed(encode("FIX.4.4", [(35, "8"), (11, cl_ord_id), (150, exec_type),
                                                (39, status), (32, str(last_qty))]))  # fmt: skip
    return msg


def test_the_file_is_translated_into_orders_reduced_replaced_and_cancelled() -> None:
    translator = Translator("t")
    sent = []
    for body in day():
        (msg,) = list(read_messages_of([body]))
        sent += [(o.msg_type, dict(o.fields)) for o in translator.message(msg, NOW)]
    kinds = [(kind, f[11], f.get(41), f.get(38), f.get(44)) for kind, f in sent]
    assert kinds == [
        ("D", "It-1", None, "100", "189"),
        ("D", "It-2", None, "50", "190"),
        ("D", "It-3", None, "30", "188.5"),
        ("G", "It-1/1", "It-1", "60", "189"),
        ("G", "It-2/1", "It-2", "40", "190"),
        ("G", "It-3/1", "It-3", "30", "188.75"),
        ("F", "It-2/2", "It-2/1", "40", None),
        ("D", "It-5", None, "20", "189.5"),
    ]


def read_messages_of(bodies: list[bytes], tmp: Path | None = None) -> Iterator[object]:
    path = Path(f"/tmp/itch-{time.monotonic_ns()}.bin") if tmp is None else tmp
    write_messages(path, bodies)
    try:
        yield from read_messages(path)
    finally:
        path.unlink()


def test_shares_users_took_are_not_taken_again() -> None:
    translator = Translator("u")
    (first,) = translator.message(
        AddOrder(locate=1, tracking=0, timestamp=0, ref=9, side="B", shares=100, stock="AAPL",
                 price=1890000, attribution=None), NOW)  # fmt: skip
    assert first.msg_type == "D"
    translator.report(report("Iu-9", "0", "0"))  # type: ignore[arg-type]
    translator.report(report("Iu-9", "F", "1", last_qty=70))  # type: ignore[arg-type]
    # The file executes 40 of its 100: 60 left in the file, but users took 70 already.
    (cancel,) = translator.message(
        OrderExecuted(locate=1, tracking=0, timestamp=1, ref=9, shares=40, match=1), NOW
    )
    assert cancel.msg_type == "F"
    translator.report(report("Iu-9/1", "4", "4"))  # type: ignore[arg-type]
    # Gone at the venue: the file's later delete sends nothing.
    assert translator.message(OrderDelete(locate=1, tracking=0, timestamp=2, ref=9), NOW) == []
    assert translator.counts["fills by other sessions"] == 1


def test_a_file_cut_short_is_named_with_its_offset(tmp_path: Path) -> None:
    path = tmp_path / "cut.bin"
    write_messages(path, day()[:2])
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ItchError, match=r"the message at byte \d+ is cut short"):
        list(read_messages(path))


def test_a_replayed_day_is_a_book_a_fix_client_trades_against(tmp_path: Path) -> None:
    itch = tmp_path / "day.itch"
    write_messages(itch, day())
    with StartedVenue(directory=tmp_path / "venue") as venue:
        host, port = venue.fix_address()
        done = subprocess.run(
            [sys.executable, "-m", "nyquestro", "itch", "replay", str(itch), "--target",
             f"{host}:{port}", "--sender", "CLIENT2"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "orders added" in done.stdout and "orders replaced" in done.stdout
        user = FixClient(port, "CLIENT1", "FIX.4.4")
        user.logon()
        try:
            # The bid left at 189.00 is 60: a sell of 70 fills 60 there, 10 at 188.75.
            user.new_order("AAPL", "2", 70, "188.75")
            fills = [user.expect("8", {150: "F"}) for _ in range(2)]
            assert [(f[32], f[31]) for f in fills] == [("60", "189.00"), ("10", "188.75")]
            # The offer at 190.00 was deleted; the one at 189.50 holds 20.
            user.new_order("AAPL", "1", 30, "190.00")
            fill = user.expect("8", {150: "F"})
            assert (fill[32], fill[31], fill[151]) == ("20", "189.50", "10")
            user.cancel_open_orders()
        finally:
            user.close()
