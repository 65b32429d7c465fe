"""NYQUESTRO_<PATH> environment overrides of the venue config, and the example config."""

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from nyquestro.config.environment import OverrideError, apply_environment, config_variables
from nyquestro.config.instruments import ConfigError, parse_toml
from nyquestro.config.venue import load_venue, parse_venue

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "nyquestro.toml"

DOC: dict[str, Any] = {
    "store": {"dir": "var"},
    "fix": {
        "port": 9878,
        "sessions": [
            {"begin_string": "FIX.4.4", "target_comp_id": "C1"},
            {"begin_string": "FIX.4.2", "target_comp_id": "C2"},
        ],
    },
    "instruments": {"AAPL": {"tick_size": "0.01"}, "esz6": {"tick_size": "0.25"}},
}

VENUE = """
[fix]
sessions = [{ begin_string = "FIX.4.4", target_comp_id = "C1" }]

[instruments.AAPL]
tick_size = "0.01"
"""


def applied(**environ: str) -> dict[str, Any]:
    return apply_environment(DOC, environ).doc


def test_each_variable_sets_the_field_its_path_names() -> None:
    doc = applied(
        NYQUESTRO_FIX__PORT="9999",
        NYQUESTRO_STORE__DB="postgresql+psycopg://postgres@127.0.0.1/test",
        NYQUESTRO_INSTRUMENTS__AAPL__MAX_QTY="500",
        NYQUESTRO_FIX__SESSIONS__0__ORDERS_PER_SECOND="5",
        NYQUESTRO_RISK__ACCOUNTS__ACC1__MAX_LONG="100",
    )
    assert doc["fix"]["port"] == 9999
    assert doc["store"] == {"dir": "var", "db": "postgresql+psycopg://postgres@127.0.0.1/test"}
    assert doc["instruments"]["AAPL"] == {"tick_size": "0.01", "max_qty": 500}
    assert doc["fix"]["sessions"][0]["orders_per_second"] == 5
    assert doc["fix"]["sessions"][1] == DOC["fix"]["sessions"][1]
    assert doc["risk"] == {"accounts": {"ACC1": {"max_long": 100}}}


def test_the_input_document_is_left_unchanged() -> None:
    before = copy.deepcopy(DOC)
    applied(NYQUESTRO_FIX__PORT="1", NYQUESTRO_FIX__SESSIONS__1__ACCOUNT="A")
    assert before == DOC


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("9999", 9999),
        ("true", True),
        ('"0.01"', "0.01"),
        ("'0.01'", "0.01"),
        ("[1, 2]", [1, 2]),
        ("{ a = 1 }", {"a": 1}),
        ("0.5", 0.5),
        ("NYQ-1", "NYQ-1"),
        ("postgresql+psycopg://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("", ""),
        # Text that parses only as more than one TOML key stays one string.
        ("1\nother = 2", "1\nother = 2"),
    ],
)
def test_a_value_is_toml_when_it_parses_else_a_plain_string(text: str, value: object) -> None:
    assert applied(NYQUESTRO_FIX__COMP_ID=text)["fix"]["comp_id"] == value


def test_segments_match_keys_ignoring_case_and_new_names_keep_their_spelling() -> None:
    doc = applied(
        NYQUESTRO_INSTRUMENTS__ESZ6__MAX_QTY="10",  # the file spells it esz6
        NYQUESTRO_INSTRUMENTS__aapl__LOT_SIZE="2",
        NYQUESTRO_INSTRUMENTS__NewSym__TICK_SIZE='"1"',  # a new symbol keeps its spelling
        NYQUESTRO_RISK__ACCOUNTS__Acc2__MAX_SHORT="3",  # so does a new account
        NYQUESTRO_RISK__SESSIONS__Client9__OFF='["max_qty"]',  # and a new client CompID
        NYQUESTRO_FIX__DROP_COPY_COMP_ID="none",  # a new field is lower case
    )
    assert doc["instruments"]["esz6"]["max_qty"] == 10
    assert doc["instruments"]["AAPL"]["lot_size"] == 2
    assert doc["instruments"]["NewSym"] == {"tick_size": "1"}
    assert doc["risk"] == {
        "accounts": {"Acc2": {"max_short": 3}},
        "sessions": {"Client9": {"off": ["max_qty"]}},
    }
    assert doc["fix"]["drop_copy_comp_id"] == "none"
    assert set(doc["instruments"]) == {"AAPL", "esz6", "NewSym"}


def test_an_exact_spelling_wins_and_a_case_only_ambiguity_is_an_error() -> None:
    doc = {"instruments": {"abc": {}, "ABC": {}, "Abc": {}}}
    exact = apply_environment(doc, {"NYQUESTRO_INSTRUMENTS__abc__MAX_QTY": "1"}).doc
    assert exact["instruments"]["abc"] == {"max_qty": 1}
    with pytest.raises(OverrideError) as caught:
        apply_environment(doc, {"NYQUESTRO_INSTRUMENTS__aBC__MAX_QTY": "1"})
    assert caught.value.field == "NYQUESTRO_INSTRUMENTS__aBC__MAX_QTY"
    assert "one key of instruments" in caught.value.expected


def test_a_whole_list_is_set_before_the_entries_inside_it() -> None:
    doc = applied(
        NYQUESTRO_FIX__SESSIONS__0__ACCOUNT="A9",
        NYQUESTRO_FIX__SESSIONS='[{ begin_string = "FIX.4.2", target_comp_id = "Z" }]',
    )
    assert doc["fix"]["sessions"] == [
        {"begin_string": "FIX.4.2", "target_comp_id": "Z", "account": "A9"}
    ]


def test_other_nyquestro_variables_and_the_rest_of_the_environment_are_ignored() -> None:
    environ = {
        "NYQUESTRO_CRASH_SEED": "7",
        "NYQUESTRO_ACCEPTANCE_DIR": "/tmp/x",
        "NYQUESTRO_FIXED": "1",
        "PATH": "/usr/bin",
        "nyquestro_fix__port": "1",  # the prefix is in capitals
    }
    assert config_variables(environ) == []
    assert apply_environment(DOC, environ).doc == DOC


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("NYQUESTRO_FIX_PORT", "double underscore"),
        ("NYQUESTRO_RISK_ACCOUNTS__A__MAX_LONG", "double underscore"),
        ("NYQUESTRO_FIX____PORT", "non-empty segments"),
        ("NYQUESTRO_FIX__", "non-empty segments"),
        ("NYQUESTRO_FIX__SESSIONS__2__ACCOUNT", "an index of fix.sessions (0 to 1)"),
        ("NYQUESTRO_FIX__SESSIONS__FIRST__ACCOUNT", "an index of fix.sessions (0 to 1)"),
        ("NYQUESTRO_FIX__SESSIONS__-1__ACCOUNT", "an index of fix.sessions (0 to 1)"),
        ("NYQUESTRO_FIX__PORT__HIGH", "but fix.port is 9878"),
        ("NYQUESTRO_STORE__DIR__X__Y", "but store.dir is 'var'"),
    ],
)
def test_a_variable_that_names_no_field_is_an_error_naming_it(name: str, expected: str) -> None:
    with pytest.raises(OverrideError) as caught:
        apply_environment(DOC, {name: "5"})
    assert (caught.value.field, caught.value.value) == (name, "5")
    assert expected in caught.value.expected
    assert isinstance(caught.value, ConfigError)


def test_an_empty_list_has_no_index_to_set() -> None:
    with pytest.raises(OverrideError, match="none: it is empty"):
        apply_environment({"fix": {"sessions": []}}, {"NYQUESTRO_FIX__SESSIONS__0__A": "1"})


def test_two_variables_for_one_field_are_an_error() -> None:
    with pytest.raises(OverrideError, match=r"the only variable setting fix\.port"):
        applied(NYQUESTRO_FIX__PORT="1", NYQUESTRO_fix__Port="2")


def test_parse_venue_applies_only_the_mapping_it_is_given() -> None:
    assert parse_venue(VENUE, "t.toml").fix.port == 9878
    assert parse_venue(VENUE, "t.toml", {"NYQUESTRO_FIX__PORT": "9999"}).fix.port == 9999


@pytest.mark.parametrize(
    ("environ", "field", "value"),
    [
        ({"NYQUESTRO_FIX__PORT": "99999"}, "fix.port (from NYQUESTRO_FIX__PORT)", 99999),
        ({"NYQUESTRO_FIX__PROT": "1"}, "fix.prot (from NYQUESTRO_FIX__PROT)", 1),
        (
            {"NYQUESTRO_INSTRUMENTS__AAPL__TICK_SIZE": "0.01"},  # unquoted: a TOML float
            "instruments.AAPL.tick_size (from NYQUESTRO_INSTRUMENTS__AAPL__TICK_SIZE)",
            0.01,
        ),
        (
            {"NYQUESTRO_FIX__SESSIONS__0__BEGIN_STRING": "FIX.4.3"},
            "fix.sessions[0].begin_string (from NYQUESTRO_FIX__SESSIONS__0__BEGIN_STRING)",
            "FIX.4.3",
        ),
        (
            # A field inside a table a variable set names that variable...
            {
                "NYQUESTRO_RISK": "{ accounts = { A = { max_long = -1 } } }",
                "NYQUESTRO_RISK__ACCOUNTS__A__MAX_SHORT": "1",
            },
            "risk.accounts.A.max_long (from NYQUESTRO_RISK)",
            -1,
        ),
        (
            # ...unless a variable set the field itself.
            {
                "NYQUESTRO_RISK": "{ accounts = { A = { max_long = 1 } } }",
                "NYQUESTRO_RISK__ACCOUNTS__A__MAX_SHORT": "-1",
            },
            "risk.accounts.A.max_short (from NYQUESTRO_RISK__ACCOUNTS__A__MAX_SHORT)",
            -1,
        ),
    ],
)
def test_a_config_error_in_an_overridden_field_names_the_variable(
    environ: dict[str, str], field: str, value: object
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_venue(VENUE, "t.toml", environ)
    assert (caught.value.field, caught.value.value) == (field, value)


def test_a_config_error_elsewhere_names_no_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_venue(VENUE + "lot_size = 0\n", "t.toml", {"NYQUESTRO_FIX__PORT": "1"})
    assert caught.value.field == "instruments.AAPL.lot_size"


def test_load_venue_reads_the_file_and_the_given_environment(tmp_path: Path) -> None:
    path = tmp_path / "venue.toml"
    path.write_text(VENUE, encoding="utf-8")
    venue = load_venue(
        path,
        {
            "NYQUESTRO_STORE__DB": "postgresql+psycopg://postgres@127.0.0.1/test",
            "NYQUESTRO_FIX__SESSIONS__0__ORDERS_PER_SECOND": "5",
            "NYQUESTRO_INSTRUMENTS__AAPL__MAX_QTY": "500",
            "NYQUESTRO_RISK__ACCOUNTS__ACC1__MAX_LONG": "100",
        },
    )
    assert venue.db == "postgresql+psycopg://postgres@127.0.0.1/test"
    assert venue.fix.sessions[0].orders_per_second == 5
    assert venue.instruments[0].max_qty == 500
    assert [(a.account, a.max_long, a.max_short) for a in venue.risk.accounts] == [
        ("ACC1", 100, None)
    ]


def test_load_venue_defaults_to_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "venue.toml"
    path.write_text(VENUE, encoding="utf-8")
    monkeypatch.setenv("NYQUESTRO_FIX__PORT", "9999")
    assert load_venue(path).fix.port == 9999
    assert load_venue(path, {}).fix.port == 9878


def test_the_example_config_loads_and_sets_what_it_documents() -> None:
    venue = load_venue(EXAMPLE, {})
    assert venue.fix.port == 9878
    assert [s.target_comp_id for s in venue.fix.sessions] == ["CLIENT1", "CLIENT1", "CLIENT2",
                                                              "ALGO1"]  # fmt: skip
    assert {i.symbol for i in venue.instruments} == {"AAPL", "ESZ6"}
    assert [(a.account, a.max_long, a.max_short) for a in venue.risk.accounts] == [
        ("ACC1", 10000, 5000)
    ]


def test_every_variable_the_example_names_overrides_one_of_its_fields() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    doc = parse_toml(text, str(EXAMPLE))
    # Concrete names end their line; patterns such as ..._<SYMBOL>__<FIELD> do not.
    named = set(re.findall(r"Env: (NYQUESTRO_[A-Z0-9_]+)$", text, re.MULTILINE))
    assert len(named) >= 25
    for name in named:
        overridden = apply_environment(doc, {name: "0"})
        # An existing field is replaced (a list's items with it); a misspelt name would
        # add a key instead.
        assert _paths(overridden.doc) <= _paths(doc), name


def _paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return {p for key, item in value.items() for p in _paths(item, f"{prefix}.{key}")} | {
            prefix
        }
    if isinstance(value, list):
        return {p for i, item in enumerate(value) for p in _paths(item, f"{prefix}[{i}]")} | {
            prefix
        }
    return {prefix}
