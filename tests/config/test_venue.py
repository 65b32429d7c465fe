"""The venue TOML's [store] fields: defaults, and errors that name the field."""

from decimal import Decimal

import pytest

from nyquestro.config.instruments import ConfigError
from nyquestro.config.venue import default_venue, parse_venue
from nyquestro.domain.ids import Account, Qty
from nyquestro.domain.risk import AccountRisk, OrderLimits, RiskCheck

BASE = """
[store]
{store}

[fix]
sessions = [{{ begin_string = "FIX.4.4", target_comp_id = "C1" }}]

[instruments.AAPL]
tick_size = "0.01"
"""


def test_store_defaults() -> None:
    venue = parse_venue(BASE.format(store=""), "t.toml")
    assert (venue.durability, venue.snapshot_every, venue.audit) == ("group", 100_000, True)
    assert venue.shutdown_timeout == 10.0
    assert default_venue().audit


def test_store_fields_are_read() -> None:
    store = 'durability = "sync"\nsnapshot_every = 0\naudit = false\nshutdown_timeout = 2.5'
    venue = parse_venue(BASE.format(store=store), "t.toml")
    assert (venue.durability, venue.snapshot_every, venue.audit) == ("sync", 0, False)
    assert venue.shutdown_timeout == 2.5


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("snapshot_every = -1", "store.snapshot_every"),
        ('snapshot_every = "1000"', "store.snapshot_every"),
        ("snapshot_every = true", "store.snapshot_every"),
        ('audit = "yes"', "store.audit"),
        ('durability = "fast"', "store.durability"),
        ("snapshots = 5", "store.snapshots"),
        ("shutdown_timeout = 0", "store.shutdown_timeout"),
        ("shutdown_timeout = -1", "store.shutdown_timeout"),
        ('shutdown_timeout = "10"', "store.shutdown_timeout"),
        ("shutdown_timeout = true", "store.shutdown_timeout"),
        ("shutdown_timeout = 10000", "store.shutdown_timeout"),
        ("shutdown_timeout = nan", "store.shutdown_timeout"),
        ("shutdown_timeout = inf", "store.shutdown_timeout"),
    ],
)
def test_bad_store_fields_are_named(line: str, field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_venue(BASE.format(store=line), "t.toml")
    assert field in str(caught.value)


def test_the_drop_copy_session_is_on_by_default_and_can_be_renamed_or_turned_off() -> None:
    assert parse_venue(BASE.format(store=""), "t.toml").fix.drop_copy == "DROPCOPY"
    for value, expected in (('"COMPLIANCE"', "COMPLIANCE"), ('"none"', None)):
        text = BASE.format(store="").replace("[fix]\n", f"[fix]\ndrop_copy_comp_id = {value}\n")
        assert parse_venue(text, "t.toml").fix.drop_copy == expected


def test_the_fix_gateway_runs_in_its_own_process_unless_turned_off() -> None:
    assert parse_venue(BASE.format(store=""), "t.toml").fix.own_process is True
    assert default_venue().fix.own_process is True
    text = BASE.format(store="").replace("[fix]\n", "[fix]\nown_process = false\n")
    assert parse_venue(text, "t.toml").fix.own_process is False
    with pytest.raises(ConfigError) as caught:
        parse_venue(BASE.format(store="").replace("[fix]\n", '[fix]\nown_process = "no"\n'),
                    "t.toml")  # fmt: skip
    assert "fix.own_process" in str(caught.value)


def test_the_fault_relay_is_off_by_default_and_needs_the_gateways_own_process() -> None:
    assert parse_venue(BASE.format(store=""), "t.toml").fix.faults is False
    text = BASE.format(store="").replace("[fix]\n", "[fix]\nfaults = true\n")
    assert parse_venue(text, "t.toml").fix.faults is True
    with pytest.raises(ConfigError) as caught:
        parse_venue(text.replace("[fix]\n", "[fix]\nown_process = false\n"), "t.toml")
    assert "fix.faults" in str(caught.value) and "own_process" in str(caught.value)


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ('{ session = "FIX.4.4:NYQUESTRO->NOBODY", fault = "duplicate", after = 1 }', ".session"),
        ('{ session = "FIX.4.4:NYQUESTRO->C1", fault = "explode", after = 1 }', ".fault"),
        ('{ session = "FIX.4.4:NYQUESTRO->C1", fault = "silence", after = 0 }', ".after"),
        ('{ session = "FIX.4.4:NYQUESTRO->C1", fault = "silence", after = 1, amount = -1 }',
         ".amount"),
    ],
)  # fmt: skip
def test_a_fault_schedule_entry_that_is_wrong_is_named(entry: str, named: str) -> None:
    text = BASE.format(store="").replace(
        "[fix]\n", f"[fix]\nfaults = true\nfault_schedule = [{entry}]\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_venue(text, "t.toml")
    assert f"fix.fault_schedule[0]{named}" in str(caught.value)


def test_the_drop_copy_cannot_take_an_order_entry_sessions_comp_id() -> None:
    text = BASE.format(store="").replace("[fix]\n", '[fix]\ndrop_copy_comp_id = "C1"\n')
    with pytest.raises(ConfigError) as caught:
        parse_venue(text, "t.toml")
    assert "fix.drop_copy_comp_id" in str(caught.value)


def test_account_limits_are_read_and_bad_ones_named() -> None:
    base = BASE.format(store="")
    text = base + "\n[risk.accounts.ACC1]\nmax_long = 100\n\n[risk.accounts.ACC2]\nmax_short = 0\n"
    assert parse_venue(text, "t.toml").risk.accounts == (
        AccountRisk(account=Account("ACC1"), max_long=Qty(100)),
        AccountRisk(account=Account("ACC2"), max_short=Qty(0)),
    )
    assert parse_venue(base, "t.toml").risk.accounts == ()
    for extra, field in (
        ("[risk.accounts.A]\nmax_long = -1\n", "risk.accounts.A.max_long"),
        ('[risk.accounts.A]\nmax_short = "5"\n', "risk.accounts.A.max_short"),
        ("[risk.accounts.A]\nmax_lung = 5\n", "risk.accounts.A.max_lung"),
        ("[risk]\naccounts = 3\n", "risk.accounts"),
        ("[risk]\nlimits = 3\n", "risk.limits"),
        ("[risk]\nvar_window = 1\n", "risk.var_window"),
        ("[risk.accounts.A]\nmax_gross_notional = 5.5\n", "risk.accounts.A.max_gross_notional"),
        ('[risk.accounts.A]\nmax_pnl_variance = "0"\n', "risk.accounts.A.max_pnl_variance"),
        ('[risk.accounts.A]\nprice_band_pct = "x"\n', "risk.accounts.A.price_band_pct"),
        ('[risk.sessions.C1]\noff = ["price_bnd"]\n', "risk.sessions.C1.off"),
        ("[risk.sessions.C1]\nmax_long = 5\n", "risk.sessions.C1.max_long"),
        ("[risk.sessions.NOBODY]\nmax_qty = 5\n", "risk.sessions.NOBODY"),
    ):
        with pytest.raises(ConfigError) as caught:
            parse_venue(base + "\n" + extra, "t.toml")
        assert field in str(caught.value), (extra, str(caught.value))


def test_risk_overrides_switches_and_monitors_are_read() -> None:
    base = BASE.format(store="")
    text = base + (
        "\n[risk]\nvar_window = 5\n"
        '[risk.accounts.A]\nmax_gross_notional = "1000"\nmax_pnl_variance = "2.5"\n'
        'max_qty = 7\nprice_band_pct = "2"\n'
        '[risk.sessions.C1]\nmax_notional = "300"\noff = ["price_band", "position"]\n'
    )
    risk = parse_venue(text, "t.toml").risk
    assert risk.var_window == 5
    assert risk.accounts == (
        AccountRisk(
            account=Account("A"), max_gross_notional=Decimal("1000"),
            max_pnl_variance=Decimal("2.5"),
            limits=OrderLimits(max_qty=Qty(7), price_band_pct=Decimal("2")),
        ),
    )  # fmt: skip
    assert risk.sessions == (
        ("C1", OrderLimits(max_notional=Decimal("300")),
         frozenset({RiskCheck.PRICE_BAND, RiskCheck.POSITION})),
    )  # fmt: skip


def test_throttles_default_per_venue_and_override_per_session() -> None:
    base = BASE.format(store="")
    assert parse_venue(base, "t.toml").fix.sessions[0].orders_per_second is None
    text = base.replace("[fix]\n", "[fix]\norders_per_second = 50\nmessages_per_second = 80\n")
    text = text.replace('target_comp_id = "C1" }]', 'target_comp_id = "C1" }, '
                        '{ begin_string = "FIX.4.2", target_comp_id = "C2", '
                        "orders_per_second = 5 }]")  # fmt: skip
    first, second = parse_venue(text, "t.toml").fix.sessions
    assert (first.orders_per_second, first.messages_per_second) == (50, 80)
    assert (second.orders_per_second, second.messages_per_second) == (5, 80)
    for bad in ("orders_per_second = 0", "messages_per_second = 2.5"):
        with pytest.raises(ConfigError) as caught:
            parse_venue(base.replace("[fix]\n", f"[fix]\n{bad}\n"), "t.toml")
        assert f"fix.{bad.split()[0]}" in str(caught.value)


def test_throttle_mode_and_queue_limit_default_per_venue_and_override_per_session() -> None:
    base = BASE.format(store="")
    session = parse_venue(base, "t.toml").fix.sessions[0]
    assert (session.throttle_mode, session.throttle_queue_limit) == ("reject", 1000)
    text = base.replace("[fix]\n", '[fix]\nthrottle_mode = "queue"\nthrottle_queue_limit = 50\n')
    text = text.replace('target_comp_id = "C1" }]', 'target_comp_id = "C1" }, '
                        '{ begin_string = "FIX.4.2", target_comp_id = "C2", '
                        'throttle_mode = "reject" }, '
                        '{ begin_string = "FIX.4.2", target_comp_id = "C3", '
                        "throttle_queue_limit = 7 }]")  # fmt: skip
    first, second, third = parse_venue(text, "t.toml").fix.sessions
    assert (first.throttle_mode, first.throttle_queue_limit) == ("queue", 50)
    assert (second.throttle_mode, second.throttle_queue_limit) == ("reject", 50)
    assert (third.throttle_mode, third.throttle_queue_limit) == ("queue", 7)


@pytest.mark.parametrize(
    ("line", "field", "value", "expected"),
    [
        ('throttle_mode = "delay"', "fix.throttle_mode", "delay", "one of reject, queue"),
        ("throttle_mode = 1", "fix.throttle_mode", 1, "a non-empty string"),
        ("throttle_queue_limit = 0", "fix.throttle_queue_limit", 0, "messages >= 1"),
        ('throttle_queue_limit = "9"', "fix.throttle_queue_limit", "9", "messages >= 1"),
        ("throttle_queue_limit = true", "fix.throttle_queue_limit", True, "messages >= 1"),
    ],
)
def test_bad_throttle_mode_and_queue_limit_are_named(
    line: str, field: str, value: object, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_venue(BASE.format(store="").replace("[fix]\n", f"[fix]\n{line}\n"), "t.toml")
    assert (caught.value.field, caught.value.value) == (field, value)
    assert expected in caught.value.expected


def test_a_bad_per_session_throttle_mode_names_the_session() -> None:
    text = BASE.format(store="").replace(
        'target_comp_id = "C1" }', 'target_comp_id = "C1", throttle_mode = "drop" }'
    )
    with pytest.raises(ConfigError) as caught:
        parse_venue(text, "t.toml")
    assert "fix.sessions[0].throttle_mode" in str(caught.value)
