"""The venue TOML's [udp] table: defaults, environment overrides, and errors naming the field."""

import pytest

from nyquestro.config.instruments import ConfigError
from nyquestro.config.udp import UdpConfig
from nyquestro.config.venue import parse_venue

BASE = """
[fix]
sessions = [{ begin_string = "FIX.4.4", target_comp_id = "C1" }]

[instruments.AAPL]
tick_size = "0.01"
"""


def test_no_udp_table_means_no_udp_gateway() -> None:
    assert parse_venue(BASE, "t.toml").udp is None


def test_defaults_and_sessions() -> None:
    venue = parse_venue(BASE + '[udp]\nport = 9879\nsessions = { 1 = "A1", 7 = "A7" }\n', "t")
    assert venue.udp == UdpConfig(
        port=9879, host="127.0.0.1", workers=1, sessions=((1, "A1"), (7, "A7"))
    )


def test_an_environment_variable_sets_a_udp_field() -> None:
    text = BASE + '[udp]\nport = 9879\nsessions = { 1 = "A1" }\n'
    venue = parse_venue(text, "t", {"NYQUESTRO_UDP__WORKERS": "2"})
    assert venue.udp is not None and venue.udp.workers == 2


@pytest.mark.parametrize(
    ("udp", "field"),
    [
        ('sessions = { 1 = "A" }', "udp.port"),
        ('port = 70000\nsessions = { 1 = "A" }', "udp.port"),
        ('port = 1\nworkers = 0\nsessions = { 1 = "A" }', "udp.workers"),
        ('port = 1\nhost = "localhost"\nsessions = { 1 = "A" }', "udp.host"),
        ("port = 1", "udp.sessions"),
        ('port = 1\nsessions = { x = "A" }', "udp.sessions.x"),
        ('port = 1\nsessions = { 0 = "A" }', "udp.sessions.0"),
        ("port = 1\nsessions = { 1 = 5 }", "udp.sessions.1"),
        ('port = 1\nsessions = { 1 = "A", 01 = "B" }', "udp.sessions"),
        ('port = 1\nspeed = 3\nsessions = { 1 = "A" }', "udp.speed"),
    ],
)
def test_errors_name_the_field(udp: str, field: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_venue(BASE + f"[udp]\n{udp}\n", "t.toml")
    assert error.value.field == field
