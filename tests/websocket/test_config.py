"""The [websocket] table."""

import pytest

from nyquestro.config.instruments import ConfigError
from nyquestro.config.venue import default_venue, parse_venue
from nyquestro.config.websocket import TokenConfig, WebSocketConfig, websocket_from

BASE = """
[fix]
sessions = [{ begin_string = "FIX.4.4", target_comp_id = "C1" }]
[instruments.AAPL]
tick_size = "0.01"
"""


def test_absent_means_off() -> None:
    assert websocket_from(None) is None
    assert parse_venue(BASE, "t").websocket is None


def test_the_default_venue_serves_the_demo_page_with_a_demo_token() -> None:
    config = default_venue().websocket
    assert config is not None
    assert (config.host, config.port) == ("127.0.0.1", 9880)
    assert [(t.token, t.account) for t in config.tokens] == [("demo", "DEMO")]


def test_full_table() -> None:
    text = (
        BASE
        + """
[websocket]
port = 9880
host = "0.0.0.0"
max_message_bytes = 1024
client_queue = 50
[websocket.tokens]
s3cret = { account = "ACC1", name = "alice" }
"""
    )
    config = parse_venue(text, "t").websocket
    assert config == WebSocketConfig(
        port=9880, host="0.0.0.0", max_message_bytes=1024, client_queue=50,
        tokens=(TokenConfig(token="s3cret", name="alice", account="ACC1"),),
    )  # fmt: skip
    assert config.tokens[0].session == "WS:alice"


def test_defaults() -> None:
    assert websocket_from({"port": 9880}) == WebSocketConfig(port=9880)


@pytest.mark.parametrize(
    ("table", "field", "expected"),
    [
        ({}, "websocket.port", "port number"),
        ({"port": 70000}, "websocket.port", "port number"),
        ({"port": 1, "host": ""}, "websocket.host", "host"),
        ({"port": 1, "client_queue": 0}, "websocket.client_queue", "positive integer"),
        ({"port": 1, "max_message_bytes": "4k"}, "websocket.max_message_bytes", "positive"),
        ({"port": 1, "colour": "red"}, "websocket.colour", "a known field"),
        ({"port": 1, "tokens": []}, "websocket.tokens", "a table"),
        ({"port": 1, "tokens": {"t": {"name": "a"}}}, "websocket.tokens.t.account", "non-empty"),
        ({"port": 1, "tokens": {"t": {"account": "A", "name": "a", "x": 1}}},
         "websocket.tokens.t.x", "a known field"),
        ({"port": 1, "tokens": {"t": {"account": "A", "name": "a"},
                                "u": {"account": "B", "name": "a"}}},
         "websocket.tokens.u.name", "no other token"),
    ],
)  # fmt: skip
def test_errors_name_field_value_and_expectation(
    table: dict[str, object], field: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        websocket_from(table)
    assert caught.value.field == field
    assert expected in caught.value.expected


def test_environment_overrides_reach_the_table() -> None:
    environ = {
        "NYQUESTRO_WEBSOCKET__PORT": "9990",
        "NYQUESTRO_WEBSOCKET__TOKENS__MyToken": '{ account = "A", name = "n" }',
    }
    config = default_venue(environ).websocket
    assert config is not None
    assert config.port == 9990
    assert TokenConfig(token="MyToken", name="n", account="A") in config.tokens
