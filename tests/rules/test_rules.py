"""Behaviour rules: the config, the seeded delays, their order-keeping delivery, and a
real venue whose rules hold one session's acks and refuse a ClOrdID pattern."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nyquestro.config.instruments import ConfigError
from nyquestro.config.rules import Delay, Rule, rules_from
from nyquestro.gateways.fix.delays import DelayedDelivery, Draws
from nyquestro.gateways.fix.message import OutMessage, ToSession
from tests.fix.client import FixClient
from tests.fix.conftest import Server

KEYS = {"FIX.4.4:NYQUESTRO->CLIENT1": "CLIENT1", "FIX.4.4:NYQUESTRO->CLIENT2": "CLIENT2"}


def test_rules_load_and_a_wrong_one_is_named() -> None:
    (flash,) = rules_from([{"cl_ord_id": "^F", "cancel_after_ack": True}], "fix.rules", KEYS)
    assert flash.cancel_after_ack and flash.name == "fix.rules[0]"
    (rule,) = rules_from([{"name": "slow", "sessions": ["FIX.4.4:NYQUESTRO->CLIENT1"],
                           "delay_acks": {"uniform": [0.1, 0.2], "spike_every": 3, "spike": 1},
                           "seed": 4}], "fix.rules", KEYS)  # fmt: skip
    assert rule.delay_acks == Delay("uniform", 0.1, 0.2, 3, 1.0)
    assert rule.matches("FIX.4.4:NYQUESTRO->CLIENT1", "X") and not rule.matches("other", "X")
    wrong = [
        ({"reject": "explode"}, "fix.rules[0].reject"),
        ({"delay_acks": {"uniform": [0.5, 0.1]}}, "fix.rules[0].delay_acks.uniform"),
        ({"delay_fills": {"fixed": 1, "normal": [1, 1]}}, "fix.rules[0].delay_fills"),
        ({"sessions": ["NOPE"], "reject": "too_late"}, "fix.rules[0].sessions"),
        ({"cl_ord_id": "(", "reject": "too_late"}, "fix.rules[0].cl_ord_id"),
        ({"name": "idle"}, "fix.rules[0]"),
        ({"cancel_after_ack": "yes"}, "fix.rules[0].cancel_after_ack"),
    ]
    for entry, field in wrong:
        with pytest.raises(ConfigError) as caught:
            rules_from([entry], "fix.rules", KEYS)
        assert str(caught.value).startswith(field), caught.value


def test_draws_repeat_for_a_seed_spike_on_schedule_and_never_go_below_zero() -> None:
    uniform = Delay("uniform", 0.1, 0.3, spike_every=4, spike=5.0)
    first = Draws(uniform, "7/acks").next()
    a, b = Draws(uniform, "7/acks"), Draws(uniform, "7/acks")
    series = [a.next() for _ in range(12)]
    assert series == [b.next() for _ in range(12)] and series[0] == first
    assert [i + 1 for i, d in enumerate(series) if d >= 5.0] == [4, 8, 12]
    assert all(0.1 <= d <= 0.3 for i, d in enumerate(series) if (i + 1) % 4)
    normal = Draws(Delay("normal", 0.0, 1.0), "1/fills")
    assert min(normal.next() for _ in range(200)) == 0.0


def report(cl_ord_id: str, exec_type: str) -> OutMessage:
    return OutMessage("8", ((11, cl_ord_id), (150, exec_type)))


def test_a_held_report_keeps_its_sessions_order_and_holds_no_one_else() -> None:
    rule = Rule("slow", ("S1",), None, delay_acks=Delay("fixed", 0.3, 0.3))
    delivered: list[tuple[str, str, float]] = []
    done = threading.Event()
    start = time.monotonic()

    def deliver(key: str, message: ToSession) -> None:
        assert isinstance(message, OutMessage)
        delivered.append((key, message.get(11) or "", time.monotonic() - start))
        if len(delivered) == 4:
            done.set()

    delays = DelayedDelivery((rule,), deliver)
    delays("S1", report("ack", "0"))  # held 0.3 s
    delays("S1", report("fill", "F"))  # no delay of its own, but behind the ack
    delays("S2", report("other", "0"))  # another session: at once
    delays("S1", report("later", "4"))
    assert done.wait(5)
    assert [(k, c) for k, c, _ in delivered] == [
        ("S2", "other"), ("S1", "ack"), ("S1", "fill"), ("S1", "later"),
    ]  # fmt: skip
    assert delivered[1][2] >= 0.3


RULES = """rules = [
    { name = "slow", sessions = ["FIX.4.4:NYQUESTRO->CLIENT1"], delay_acks = { fixed = 0.8 } },
    { name = "no algos", cl_ord_id = "^ALGO", reject = "symbol_halted" },
    { name = "flash", cl_ord_id = "^FLASH", cancel_after_ack = true },
]
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path, fix_settings=RULES)
    srv.start()
    yield srv
    srv.stop()


def test_a_venue_holds_one_sessions_acks_and_refuses_a_pattern(server: Server) -> None:
    slow = FixClient(server.port, "CLIENT1", "FIX.4.4")
    quick = FixClient(server.port, "CLIENT2", "FIX.4.4")
    slow.logon()
    quick.logon()
    try:
        sent = time.monotonic()
        slow.new_order("AAPL", "1", 10, "180.00")
        quick.new_order("AAPL", "1", 10, "180.00")
        quick.expect("8", {150: "0"})
        slow.expect("8", {150: "0"})
        assert time.monotonic() - sent >= 0.7
        quick.new_order("AAPL", "1", 10, "180.00", cl_ord_id="ALGO-7")
        refused = quick.expect("8", {150: "8"})
        assert (refused[103], refused[39]) == ("2", "8")
        assert refused[58] == "refused by the venue's rule 'no algos' (symbol_halted)"
        # Acknowledged, then cancelled unsolicited: its own ClOrdID, no OrigClOrdID.
        quick.new_order("AAPL", "1", 10, "180.00", cl_ord_id="FLASH-1")
        acked = quick.expect("8", {150: "0", 11: "FLASH-1"})
        gone = quick.expect("8", {150: "4", 11: "FLASH-1"})
        assert 41 not in gone and gone[37] == acked[37] and gone[151] == "0"
        slow.cancel_open_orders()
        quick.cancel_open_orders()
    finally:
        slow.close()
        quick.close()
