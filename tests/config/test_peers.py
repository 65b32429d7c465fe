"""`[fix] allow`: parsing, errors that name the entry, and matching peer addresses."""

import pytest

from nyquestro.config.instruments import ConfigError
from nyquestro.config.peers import AllowList, allow_list_from
from nyquestro.config.venue import default_venue, parse_venue

BASE = """
[fix]
{allow}
sessions = [{{ begin_string = "FIX.4.4", target_comp_id = "C1" }}]

[instruments.AAPL]
tick_size = "0.01"
"""


def allow(*entries: str) -> AllowList:
    return allow_list_from(list(entries), "fix.allow")


def test_the_default_admits_loopback_only() -> None:
    for venue in (parse_venue(BASE.format(allow=""), "t.toml"), default_venue()):
        assert str(venue.fix.allow) == "127.0.0.0/8, ::1"
        assert venue.fix.allow.loopback_only and not venue.fix.allow.everyone


def test_the_field_and_its_environment_variable_are_read() -> None:
    text = BASE.format(allow='allow = ["10.0.0.0/8", "192.168.1.7"]')
    assert str(parse_venue(text, "t.toml").fix.allow) == "10.0.0.0/8, 192.168.1.7"
    environ = {"NYQUESTRO_FIX__ALLOW": '["0.0.0.0/0", "::/0"]'}
    overridden = parse_venue(BASE.format(allow=""), "t.toml", environ).fix.allow
    assert overridden.everyone and not overridden.loopback_only


@pytest.mark.parametrize(
    ("value", "field", "says"),
    [
        ('"127.0.0.1"', "fix.allow", "a non-empty list"),
        ("[]", "fix.allow", "a non-empty list"),
        ('["127.0.0.1", 5]', "fix.allow[1]", "string"),
        ('["localhost"]', "fix.allow[0]", "does not appear to be an IPv4 or IPv6 network"),
        ('["10.1.2.3/8"]', "fix.allow[0]", "has host bits set"),
        ('["10.0.0.0/33"]', "fix.allow[0]", "10.0.0.0/33"),
        ('["::1", "fe80::/200"]', "fix.allow[1]", "fe80::/200"),
    ],
)
def test_a_bad_entry_is_named_with_its_value(value: str, field: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_venue(BASE.format(allow=f"allow = {value}"), "t.toml")
    assert field in str(caught.value)
    assert says in str(caught.value)


@pytest.mark.parametrize(
    ("peer", "admitted"),
    [
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("10.1.2.3", True),
        ("10.2.0.1", False),
        ("192.168.1.7", False),
        ("::1", True),
        ("::2", False),
        ("2001:db8::5", True),
        ("2001:db9::5", False),
        ("::ffff:127.0.0.1", True),  # IPv4 loopback as an IPv6 socket reports it
        ("::ffff:10.1.9.9", True),
        ("::ffff:10.2.0.1", False),
    ],
)
def test_peers_match_ipv4_ipv6_and_ipv4_mapped_addresses(peer: str, admitted: bool) -> None:
    assert allow("127.0.0.0/8", "10.1.0.0/16", "::1", "2001:db8::/32").allows(peer) is admitted


def test_only_both_zero_networks_admit_everyone() -> None:
    assert allow("0.0.0.0/0", "::/0").everyone
    assert allow("::/0", "10.0.0.0/8", "0.0.0.0/0").everyone
    assert not allow("0.0.0.0/0").everyone
    assert not allow("0.0.0.0/1", "128.0.0.0/1", "::/0").everyone
    assert allow("0.0.0.0/0").allows("203.0.113.9")
    assert not allow("0.0.0.0/0").allows("2001:db8::1")
