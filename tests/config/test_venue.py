"""The venue TOML's [store] fields: defaults, and errors that name the field."""

import pytest

from nyquestro.config.instruments import ConfigError
from nyquestro.config.venue import default_venue, parse_venue

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
    assert default_venue().audit


def test_store_fields_are_read() -> None:
    store = 'durability = "sync"\nsnapshot_every = 0\naudit = false'
    venue = parse_venue(BASE.format(store=store), "t.toml")
    assert (venue.durability, venue.snapshot_every, venue.audit) == ("sync", 0, False)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("snapshot_every = -1", "store.snapshot_every"),
        ('snapshot_every = "1000"', "store.snapshot_every"),
        ("snapshot_every = true", "store.snapshot_every"),
        ('audit = "yes"', "store.audit"),
        ('durability = "fast"', "store.durability"),
        ("snapshots = 5", "store.snapshots"),
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


def test_the_drop_copy_cannot_take_an_order_entry_sessions_comp_id() -> None:
    text = BASE.format(store="").replace("[fix]\n", '[fix]\ndrop_copy_comp_id = "C1"\n')
    with pytest.raises(ConfigError) as caught:
        parse_venue(text, "t.toml")
    assert "fix.drop_copy_comp_id" in str(caught.value)


def test_account_limits_are_read_and_bad_ones_named() -> None:
    base = BASE.format(store="")
    text = base + "\n[risk.accounts.ACC1]\nmax_long = 100\n\n[risk.accounts.ACC2]\nmax_short = 0\n"
    assert parse_venue(text, "t.toml").account_limits == {
        "ACC1": (100, None),
        "ACC2": (None, 0),
    }
    assert parse_venue(base, "t.toml").account_limits == {}
    for extra, field in (
        ("[risk.accounts.A]\nmax_long = -1\n", "risk.accounts.A.max_long"),
        ('[risk.accounts.A]\nmax_short = "5"\n', "risk.accounts.A.max_short"),
        ("[risk.accounts.A]\nmax_lung = 5\n", "risk.accounts.A.max_lung"),
        ("[risk]\naccounts = 3\n", "risk.accounts"),
        ("[risk]\nlimits = 3\n", "risk.limits"),
    ):
        with pytest.raises(ConfigError) as caught:
            parse_venue(base + "\n" + extra, "t.toml")
        assert field in str(caught.value), (extra, str(caught.value))


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
