"""Behaviour rules' fills: the slices, the config and its errors, which orders a rule
fills, and a real venue whose house session fills a client's order in partials and in a
pattern over FIX, with a replay of its journal rendering the same messages."""

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from nyquestro.config.instruments import ConfigError
from nyquestro.config.rules import MAX_SLICES, Fill, Rule, rules_from
from nyquestro.config.venue import VenueConfig, parse_venue
from nyquestro.domain.commands import NewOrder
from nyquestro.domain.enums import OrdType, Side, TimeInForce
from nyquestro.domain.ids import Account, ClOrdId, OrderId, Seq, SessionKey, Symbol, Ts
from nyquestro.gateways.fix.after_ack import after_ack, fill_orders
from nyquestro.gateways.fix.message import OutMessage
from nyquestro.gateways.fix.orders import OrderState
from tests.fix.client import FixClient, Msg
from tests.fix.conftest import Server, check_against_dictionary

CLIENT1, CLIENT2 = "FIX.4.4:NYQUESTRO->CLIENT1", "FIX.4.2:NYQUESTRO->CLIENT1"
HOUSE = "FIX.4.4:NYQUESTRO->CLIENT3"
ACCOUNTS = {CLIENT1: "CLIENT1", CLIENT2: "CLIENT1", HOUSE: "CLIENT3"}


def test_slices_are_partials_with_the_remainder_last_or_the_pattern_cut_where_filled() -> None:
    assert Fill(HOUSE, partials=30).slices(100) == (30, 30, 30, 10)
    assert Fill(HOUSE, partials=25).slices(100) == (25, 25, 25, 25)
    assert Fill(HOUSE, pattern=(10, 20, 70)).slices(100) == (10, 20, 70)
    assert Fill(HOUSE, pattern=(10, 20, 70)).slices(50) == (10, 20, 20)
    assert Fill(HOUSE, pattern=(10, 20)).slices(100) == (10, 20)  # the rest rests
    assert Fill(HOUSE, partials=1).slices(5000) == (1,) * MAX_SLICES
    assert Fill(HOUSE, partials=30).slices(0) == ()


def test_fill_rules_load_and_wrong_ones_are_named() -> None:
    (rule,) = rules_from([{"sessions": [CLIENT1], "fill": {"partials": 30}, "fill_from": HOUSE}],
                         "fix.rules", ACCOUNTS)  # fmt: skip
    assert rule.fill == Fill(HOUSE, partials=30)
    (rule,) = rules_from([{"fill": {"pattern": [10, 20, 70]}, "fill_from": HOUSE}],
                         "fix.rules", ACCOUNTS)  # fmt: skip
    assert rule.fill == Fill(HOUSE, pattern=(10, 20, 70))
    house = {"fill_from": HOUSE}
    wrong = [
        ({"fill": {"partials": 0}, **house}, "fix.rules[0].fill.partials"),
        ({"fill": {"partials": 2.5}, **house}, "fix.rules[0].fill.partials"),
        ({"fill": {"partials": True}, **house}, "fix.rules[0].fill.partials"),
        ({"fill": {"pattern": []}, **house}, "fix.rules[0].fill.pattern"),
        ({"fill": {"pattern": [10, 0]}, **house}, "fix.rules[0].fill.pattern"),
        ({"fill": {"pattern": "10,20"}, **house}, "fix.rules[0].fill.pattern"),
        ({"fill": {"partials": 1, "pattern": [1]}, **house}, "fix.rules[0].fill"),
        ({"fill": {"slices": 3}, **house}, "fix.rules[0].fill.slices"),
        ({"fill": 30, **house}, "fix.rules[0].fill"),
        ({"fill": {"partials": 30}}, "fix.rules[0].fill_from"),
        ({"fill": {"partials": 30}, "fill_from": "FIX.4.4:NYQUESTRO->NOBODY"},
         "fix.rules[0].fill_from"),
        ({"fill_from": HOUSE, "reject": "too_late"}, "fix.rules[0].fill_from"),
        # The house among the rule's sessions, or a session sharing its account.
        ({"sessions": [HOUSE], "fill": {"partials": 30}, **house}, "fix.rules[0].fill_from"),
        ({"sessions": [CLIENT2], "fill": {"partials": 30}, "fill_from": CLIENT1},
         "fix.rules[0].fill_from"),
        ({"fill": {"partials": 30}, "cancel_after_ack": True, **house}, "fix.rules[0].fill"),
        ({"fill": {"partials": 30}, "reject": "too_late", **house}, "fix.rules[0].fill"),
    ]  # fmt: skip
    for entry, field in wrong:
        with pytest.raises(ConfigError) as caught:
            rules_from([entry], "fix.rules", ACCOUNTS)
        assert str(caught.value).startswith(field + ":"), (entry, caught.value)


VENUE = """
[fix]
sessions = [
    { begin_string = "FIX.4.4", target_comp_id = "C1", account = "SHARED" },
    { begin_string = "FIX.4.4", target_comp_id = "C2", account = "SHARED" },
    { begin_string = "FIX.4.4", target_comp_id = "C3" },
]

[[fix.rules]]
sessions = ["FIX.4.4:NYQUESTRO->C1"]
fill = { partials = 5 }
fill_from = "FIX.4.4:NYQUESTRO->HOUSE"

[instruments.AAPL]
tick_size = "0.01"
"""


def test_a_venue_config_checks_the_houses_account_and_needs_the_gateways_process() -> None:
    def parse(house: str, extra: str = "") -> VenueConfig:
        text = VENUE.replace("HOUSE", house).replace("[fix]\n", f"[fix]\n{extra}")
        return parse_venue(text, "t.toml")

    (rule,) = parse("C3").fix.rules
    assert rule.fill == Fill("FIX.4.4:NYQUESTRO->C3", partials=5)
    for house, extra, field in (
        ("C2", "", "fix.rules[0].fill_from:"),  # C2's account is C1's
        ("C3", "own_process = false\n", "fix.rules:"),
    ):
        with pytest.raises(ConfigError) as caught:
            parse(house, extra)
        assert str(caught.value).startswith(field), caught.value


def ack(cl_ord_id: str, order_id: str = "7") -> OutMessage:
    return OutMessage("8", ((37, order_id), (11, cl_ord_id), (150, "0")))


def test_a_cancel_wins_over_a_fill_and_the_first_fill_that_matches_applies() -> None:
    thirty, ten = Fill(HOUSE, partials=30), Fill(HOUSE, partials=10)
    rules = (
        Rule("flash", (), "-FLASH$", cancel_after_ack=True),
        Rule("thirty", (CLIENT1,), "^P", fill=thirty),
        Rule("ten", (), "^P", fill=ten),
    )
    after = after_ack(rules, CLIENT1, ack("P1"))
    assert after is not None and (after.order_id, after.cancel, after.fill) == (7, False, thirty)
    other = after_ack(rules, CLIENT2, ack("P1"))
    assert other is not None and other.fill == ten
    flash = after_ack(rules, CLIENT1, ack("P1-FLASH"))  # matched by all three
    assert flash is not None and (flash.cancel, flash.fill) == (True, None)
    assert after_ack(rules, CLIENT1, ack("X1")) is None
    fill = OutMessage("8", ((37, "7"), (11, "P1"), (150, "F")))
    assert after_ack(rules, CLIENT1, fill) is None
    assert after_ack(rules, CLIENT1, ack("P1", order_id="NONE")) is None


def order(**changes: object) -> OrderState:
    fields: dict[str, object] = {
        "order_id": OrderId(12), "session": SessionKey(CLIENT1), "account": Account("CLIENT1"),
        "cl_ord_id": ClOrdId("P1"), "symbol": Symbol("AAPL"), "side": Side.BUY,
        "ord_type": OrdType.LIMIT, "tif": TimeInForce.DAY, "px": 19000, "qty": 100,
        "leaves_qty": 70, "cum_qty": 30,
    }  # fmt: skip
    fields.update(changes)
    return OrderState(**fields)  # type: ignore[arg-type]


def test_the_house_sends_an_ioc_per_slice_against_a_resting_limit_order_only() -> None:
    fill = Fill(HOUSE, partials=30)
    built = [b(Seq(5), Ts(9)) for b in fill_orders(order(), fill, SessionKey(HOUSE), "CLIENT3")]
    assert all(isinstance(c, NewOrder) for c in built)
    assert [(c.cl_ord_id, c.qty) for c in built if isinstance(c, NewOrder)] == [
        ("RULE-FILL-12-1", 30), ("RULE-FILL-12-2", 30), ("RULE-FILL-12-3", 10),
    ]  # fmt: skip
    first = built[0]
    assert isinstance(first, NewOrder)
    assert (first.session, first.account, first.symbol, first.side, first.px, first.tif) == (
        HOUSE, "CLIENT3", "AAPL", Side.SELL, 19000, TimeInForce.IOC,
    )  # fmt: skip
    assert (first.seq, first.ts, first.ord_type) == (5, 9, OrdType.LIMIT)
    for unfilled in (
        order(ord_type=OrdType.MARKET, px=None),
        order(ord_type=OrdType.PEGGED),
        order(tif=TimeInForce.IOC),
        order(tif=TimeInForce.FOK),
        order(account=Account("CLIENT3")),  # the house's own account: it cannot trade
        order(leaves_qty=0),
    ):
        assert fill_orders(unfilled, fill, SessionKey(HOUSE), "CLIENT3") == []


RULES = (
    "rules = [\n"
    f'  {{ name = "thirties", sessions = ["{CLIENT1}"], cl_ord_id = "^PART", '
    f'fill = {{ partials = 30 }}, fill_from = "{HOUSE}" }},\n'
    f'  {{ name = "pattern", sessions = ["{CLIENT1}"], cl_ord_id = "^PAT-", '
    f'fill = {{ pattern = [10, 20, 70] }}, fill_from = "{HOUSE}" }},\n'
    "]\n"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path, fix_settings=RULES)
    srv.start()
    yield srv
    srv.stop()


def logged_on(server: Server, comp_id: str) -> FixClient:
    client = FixClient(server.port, comp_id, "FIX.4.4")
    client.validate = check_against_dictionary
    client.logon()
    return client


def fills(client: FixClient, cl_ord_id: str, count: int) -> list[Msg]:
    return [client.expect("8", {11: cl_ord_id, 150: "F"}) for _ in range(count)]


def quantities(reports: list[Msg]) -> list[tuple[int, int, int, str]]:
    """(LastQty, CumQty, LeavesQty, OrdStatus) of each report."""
    return [(int(r[32]), int(r[14]), int(r[151]), r[39]) for r in reports]


def test_an_order_of_100_is_filled_in_partials_of_30_by_the_house(server: Server) -> None:
    user, house, drop = (logged_on(server, c) for c in ("CLIENT1", "CLIENT3", "DROPCOPY"))
    try:
        # An order the rule does not match: a fill of it would come before PART-1's, as
        # the writer, the core and the stream each keep their order.
        user.new_order("AAPL", "1", 100, "189.00", cl_ord_id="OTHER-1")
        user.expect("8", {11: "OTHER-1", 150: "0"})
        user.new_order("AAPL", "1", 100, "190.00", cl_ord_id="PART-1")
        order_id = user.expect("8", {11: "PART-1", 150: "0"})[37]
        reports = fills(user, "PART-1", 4)
        assert quantities(reports) == [
            (30, 30, 70, "1"), (30, 60, 40, "1"), (30, 90, 10, "1"), (10, 100, 0, "2"),
        ]  # fmt: skip
        assert all(r[37] == order_id and Decimal(r[31]) == Decimal("190") for r in reports)
        # The house's orders are real: IOCs at the order's price, each filled at once.
        for k, qty in enumerate((30, 30, 30, 10), 1):
            taken = house.expect("8", {11: f"RULE-FILL-{order_id}-{k}", 150: "F"})
            assert (taken[54], taken[59], int(taken[14]), taken[39]) == ("2", "3", qty, "2")
            assert taken[1] == "CLIENT3"  # the house session's configured account
        last = drop.expect("8", {115: "CLIENT1", 11: "PART-1", 39: "2"})
        assert last[17] == reports[-1][17]
        assert not [m for m in user.inbox if m.get(11) == "OTHER-1"]
        user.cancel_open_orders()
    finally:
        for client in (user, house, drop):
            client.close()


def test_a_pattern_fills_its_slices_in_order_until_the_order_is_filled(server: Server) -> None:
    user, house = logged_on(server, "CLIENT1"), logged_on(server, "CLIENT3")
    try:
        user.new_order("AAPL", "2", 50, "191.00", cl_ord_id="PAT-1")
        user.expect("8", {11: "PAT-1", 150: "0"})
        assert quantities(fills(user, "PAT-1", 3)) == [
            (10, 10, 40, "1"), (20, 30, 20, "1"), (20, 50, 0, "2"),
        ]  # fmt: skip
        taken = [house.expect("8", {150: "F", 54: "1"}) for _ in range(3)]
        assert [int(t[14]) for t in taken] == [10, 20, 20]
    finally:
        user.close()
        house.close()


def replayed_matches(tmp_path: Path, server: Server) -> int:
    """`nyquestro replay` of the stopped `server`'s journal: how many outbound messages it
    rendered as the venue sent them (asserting the replay agreed on the event hash)."""
    (db,) = tmp_path.glob("store*/nyquestro.db")
    replayed = subprocess.run(
        [sys.executable, "-m", "nyquestro", "replay", "--journal", str(db),
         "--config", str(server.config_path)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "matches the hash recorded live" in replayed.stdout
    return int(replayed.stdout.split(" outbound messages match")[0].split()[-1])


def test_a_replay_of_the_journal_renders_the_fills_as_they_were_sent(tmp_path: Path) -> None:
    server = Server(tmp_path, fix_settings=RULES)
    server.start()
    try:
        user = logged_on(server, "CLIENT1")
        user.new_order("AAPL", "1", 100, "190.00", cl_ord_id="PART-2")
        user.expect("8", {11: "PART-2", 39: "2"})
        user.logout()
    finally:
        server.stop()
    matched = replayed_matches(tmp_path, server)
    # The ack and four fills to the client, four IOCs' acks and fills to the house (not
    # logged on: quickfix keeps them), and the drop copy of each.
    assert matched == 2 * (5 + 8)
