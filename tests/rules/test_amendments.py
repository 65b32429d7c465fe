"""Behaviour rules that bust or correct a fill once its report has gone out: the config
and its errors, which reports a rule acts on, and a real venue whose rules bust and
correct fills over FIX, with a replay of its journal rendering the same messages."""

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from nyquestro.config.instruments import ConfigError
from nyquestro.config.rules import Amend, rules_from
from nyquestro.gateways.fix.after_fill import AfterFill, after_fill
from nyquestro.gateways.fix.message import OutMessage
from tests.fix.conftest import Server
from tests.rules.test_fills import logged_on, replayed_matches

CLIENT1, CLIENT3 = "FIX.4.4:NYQUESTRO->CLIENT1", "FIX.4.4:NYQUESTRO->CLIENT3"
ACCOUNTS = {CLIENT1: "CLIENT1", CLIENT3: "CLIENT3"}


def test_bust_and_correct_rules_load_and_wrong_ones_are_named() -> None:
    bust, correct = rules_from([
        {"bust_fills": True},
        {"correct_fills": {"ticks": -2, "qty": 5}},
    ], "fix.rules", ACCOUNTS)  # fmt: skip
    assert bust.amend == Amend(bust=True)
    assert correct.amend == Amend(bust=False, ticks=-2, qty=5)
    assert correct.amend.corrected(100, 8) == (98, 5)
    assert correct.amend.corrected(100, 3) == (98, 3)
    for entry, field in (
        ({"bust_fills": "yes"}, "fix.rules[0].bust_fills:"),
        ({"bust_fills": True, "correct_fills": {"ticks": 1}}, "fix.rules[0].correct_fills:"),
        ({"correct_fills": {}}, "fix.rules[0].correct_fills:"),
        ({"correct_fills": {"ticks": 0}}, "fix.rules[0].correct_fills.ticks:"),
        ({"correct_fills": {"qty": 0}}, "fix.rules[0].correct_fills.qty:"),
        ({"correct_fills": {"price": 1}}, "fix.rules[0].correct_fills.price:"),
        ({"bust_fills": False}, "fix.rules[0]:"),  # a rule that does nothing
    ):
        with pytest.raises(ConfigError) as caught:
            rules_from([entry], "fix.rules", ACCOUNTS)
        assert str(caught.value).startswith(field), caught.value


def report(**fields: str) -> OutMessage:
    tags = {"exec_id": 17, "cl_ord_id": 11, "exec_type": 150, "trans": 20, "copy_of": 115}
    return OutMessage("8", [(tags[name], value) for name, value in fields.items()])


def test_a_rule_acts_on_fill_reports_of_the_order_s_own_session_only() -> None:
    rules = rules_from([
        {"name": "b", "sessions": [CLIENT1], "cl_ord_id": "^B", "bust_fills": True},
    ], "fix.rules", ACCOUNTS)  # fmt: skip
    fill44 = report(exec_id="9", cl_ord_id="B1", exec_type="F")
    assert after_fill(rules, CLIENT1, fill44) == AfterFill("9", "b", Amend(bust=True))
    fill42 = report(exec_id="9", cl_ord_id="B1", exec_type="2", trans="0")
    assert after_fill(rules, CLIENT1, fill42) is not None
    for key, message in (
        (CLIENT3, fill44),  # another session's
        (CLIENT1, report(exec_id="9", cl_ord_id="X1", exec_type="F")),  # ClOrdID unmatched
        (CLIENT1, report(exec_id="9", cl_ord_id="B1", exec_type="0")),  # an ack
        (CLIENT1, report(exec_id="9", cl_ord_id="B1", exec_type="1", trans="1")),  # a bust
        (CLIENT1, report(exec_id="9", cl_ord_id="B1", exec_type="F", copy_of="CLIENT1")),
    ):
        assert after_fill(rules, key, message) is None, message


RULES = (
    "rules = [\n"
    f'  {{ name = "busts", cl_ord_id = "^BUST-", '
    "bust_fills = true },\n"
    f'  {{ name = "cheaper", sessions = ["{CLIENT1}"], cl_ord_id = "^CORR-", '
    "correct_fills = { ticks = -1, qty = 5 } },\n"
    "]\n"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path, fix_settings=RULES)
    srv.start()
    yield srv
    srv.stop()


def test_a_fill_is_busted_then_another_corrected_by_the_venue_s_rules(server: Server) -> None:
    user, other = logged_on(server, "CLIENT1"), logged_on(server, "CLIENT3")
    try:
        user.new_order("AAPL", "1", 100, "190.00", cl_ord_id="BUST-1")
        user.expect("8", {11: "BUST-1", 150: "0"})
        # Both sides' fills match the rule: the trade is busted once.
        sold = other.new_order("AAPL", "2", 40, "190.00", cl_ord_id="BUST-S1")
        fill = user.expect("8", {11: "BUST-1", 150: "F"})
        bust = user.expect("8", {11: "BUST-1", 150: "H"})
        assert (bust[19], bust[32], bust[14], bust[151], bust[39]) == (fill[17], "40", "0", "60",
                                                                         "0")  # fmt: skip
        assert bust[58].endswith("busted: the venue's rule 'busts'")
        # The other side hears of it too, its order done and no longer filled.
        other_fill = other.expect("8", {11: sold, 150: "F"})
        assert other.expect("8", {11: sold, 150: "H"})[19] == other_fill[17]

        user.new_order("AAPL", "1", 10, "191.00", cl_ord_id="CORR-1")
        user.expect("8", {11: "CORR-1", 150: "0"})
        other.new_order("AAPL", "2", 10, "191.00")
        fill = user.expect("8", {11: "CORR-1", 150: "F"})
        corrected = user.expect("8", {11: "CORR-1", 150: "G"})
        assert (corrected[19], corrected[32], Decimal(corrected[31])) == (
            fill[17], "5", Decimal("190.99")
        )  # fmt: skip
        assert (corrected[14], corrected[151], corrected[39]) == ("5", "0", "4")
        assert other.expect("8", {150: "G"})[32] == "5"
        # Once per trade: nothing more came for either fill.
        time.sleep(0.5)
        for client in (user, other):
            assert not [m for m in client.drain() if m.get(150) in ("G", "H")]
        user.cancel_open_orders()
    finally:
        user.close()
        other.close()


def test_a_replay_of_the_journal_renders_the_rules_busts_as_they_were_sent(
    tmp_path: Path,
) -> None:
    server = Server(tmp_path, fix_settings=RULES)
    server.start()
    try:
        user, other = logged_on(server, "CLIENT1"), logged_on(server, "CLIENT3")
        user.new_order("AAPL", "1", 10, "190.00", cl_ord_id="BUST-2")
        other.new_order("AAPL", "2", 10, "190.00")
        user.expect("8", {11: "BUST-2", 150: "H"})
        other.expect("8", {150: "H"})
        user.logout()
        other.logout()
    finally:
        server.stop()
    matched = replayed_matches(tmp_path, server)
    # Each side: ack, fill, bust; and the drop copy's copy of each.
    assert matched == 2 * 6
