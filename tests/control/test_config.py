"""The [control] table."""

import pytest

from nyquestro.config.control import ControlConfig, ControlToken, control_from
from nyquestro.config.instruments import ConfigError
from nyquestro.config.venue import default_venue, parse_venue

BASE = """
[fix]
sessions = [{ begin_string = "FIX.4.4", target_comp_id = "C1" }]
[instruments.AAPL]
tick_size = "0.01"
"""


def test_absent_means_off() -> None:
    assert control_from(None) is None
    assert parse_venue(BASE, "t").control is None


def test_the_default_venue_has_a_local_control_plane_with_demo_tokens() -> None:
    config = default_venue().control
    assert config is not None
    assert (config.host, config.port) == ("127.0.0.1", 9881)
    assert [(t.token, t.name, t.actions) for t in config.tokens] == [
        ("demo-operator", "operator", True),
        ("demo-viewer", "viewer", False),
    ]


def test_full_table_and_token_lookup() -> None:
    text = (
        BASE
        + """
[control]
port = 7001
host = "0.0.0.0"
history = 500
[control.tokens]
s3cret = { name = "alice", actions = true }
look = { name = "bob" }
"""
    )
    config = parse_venue(text, "t").control
    assert config == ControlConfig(
        port=7001, host="0.0.0.0", history=500,
        tokens=(ControlToken(token="s3cret", name="alice", actions=True),
                ControlToken(token="look", name="bob", actions=False)),
    )  # fmt: skip
    assert config.token("look") == config.tokens[1]
    assert config.token("guess") is None


@pytest.mark.parametrize(
    ("table", "field", "expected"),
    [
        ({}, "control.port", "port number"),
        ({"port": 0}, "control.port", "port number"),
        ({"port": 1, "host": ""}, "control.host", "host"),
        ({"port": 1, "history": 0}, "control.history", "positive integer"),
        ({"port": 1, "colour": "red"}, "control.colour", "a known field"),
        ({"port": 1, "tokens": []}, "control.tokens", "a table"),
        ({"port": 1, "tokens": {"t": "alice"}}, "control.tokens.t", "name"),
        ({"port": 1, "tokens": {"t": {}}}, "control.tokens.t.name", "non-empty"),
        ({"port": 1, "tokens": {"t": {"name": "a", "actions": "yes"}}},
         "control.tokens.t.actions", "true or false"),
        ({"port": 1, "tokens": {"t": {"name": "a", "role": "admin"}}},
         "control.tokens.t.role", "a known field"),
    ],
)  # fmt: skip
def test_errors_name_field_value_and_expectation(
    table: dict[str, object], field: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        control_from(table)
    assert caught.value.field == field
    assert expected in caught.value.expected


def test_environment_overrides_reach_the_table() -> None:
    environ = {
        "NYQUESTRO_CONTROL__PORT": "9991",
        "NYQUESTRO_CONTROL__TOKENS__Ops-Token": '{ name = "ci", actions = true }',
    }
    config = default_venue(environ).control
    assert config is not None
    assert config.port == 9991
    assert ControlToken(token="Ops-Token", name="ci", actions=True) in config.tokens
