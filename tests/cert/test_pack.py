"""Loading packs: every built-in and example pack loads, and a mistake names its place."""

from pathlib import Path

import pytest

from nyquestro.cert.matching import MissingValue, substitute, verdict
from nyquestro.cert.pack import Check, PackError, builtin_packs, find_pack, load_pack, parse_pack
from nyquestro.codec.fix_wire import Splitter, encode

EXAMPLES = Path(__file__).parents[2] / "examples" / "cert"


def test_the_built_in_and_example_packs_load() -> None:
    paths = [*builtin_packs().values(), *EXAMPLES.glob("*.toml")]
    assert {"session", "orders"} <= set(builtin_packs())
    for path in paths:
        pack = load_pack(path)
        assert pack.scenarios, path


def test_versions_run_each_scenario_once_per_version() -> None:
    pack = load_pack(find_pack("session"))
    versions = {scenario.begin_string for scenario in pack.scenarios}
    assert versions == {"FIX.4.2", "FIX.4.4"}
    assert pack.scenarios[0].name.endswith("[FIX.4.2]")


def minimal(**step: object) -> dict[str, object]:
    return {
        "name": "p",
        "clients": {"c": {"sender": "A", "target": "B", "fix": "FIX.4.4"}},
        "scenario": [{"name": "s", "step": [step]}],
    }


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"send": "D", "expect": "8"}, "exactly one of"),
        ({"send": "D", "fields": {"x": 1}}, "'x' is not a FIX tag number"),
        ({"send": "D", "fields": {"44": 1.5}}, "a decimal goes in quotes"),
        ({"expect": "8", "fields": {"150": {"regexp": "x"}}}, "tag 150 needs one of"),
        ({"expect": "8", "fields": {"14": {"gt": "many"}}}, "tag 14 `gt` needs a number"),
        ({"expect": "8", "fields": {"58": {"absent": True, "capture": "t"}}}, "nothing to capture"),
        ({"send": "D", "seq": "soon"}, "`seq` (MsgSeqNum 34)"),
        ({"venue": "explode"}, "`venue` must be one of"),
        ({"send": "D", "client": "ghost"}, "'ghost' is not one of [clients]"),
        ({"wait": -1}, "must be a number of seconds"),
        ({"logon": True, "colour": "red"}, "unknown key(s) colour"),
    ],
)
def test_a_mistake_names_the_scenario_step_and_key(step: dict[str, object], message: str) -> None:
    with pytest.raises(PackError) as caught:
        parse_pack(minimal(**step))
    assert "scenario 's' step 1" in str(caught.value)
    assert message in str(caught.value)


def test_a_missing_pack_lists_the_built_in_ones() -> None:
    with pytest.raises(PackError, match=r"nor a built-in pack .*session"):
        find_pack("no-such-pack")


def test_matchers_say_which_tag_is_wrong_and_how() -> None:
    (msg,) = Splitter().feed(encode("FIX.4.4", [(35, "8"), (150, "8"), (14, "0"), (37, "O7")]))
    checks = (
        Check(150, "eq", "0"),
        Check(14, "gt", "0"),
        Check(58, "any"),
        Check(37, "absent"),
        Check(37, "regex", "X.*"),
    )
    problems = verdict(msg, "8", (*checks, Check(14, "num", "0.00")), {}.get).problems
    assert problems == (
        "tag 150 (ExecType) is '8', expected '0'",
        "tag 14 (CumQty) is 0, expected > 0",
        "tag 58 (Text) is missing",
        "tag 37 (OrderID) should be absent but is 'O7'",
        "tag 37 (OrderID) is 'O7', which does not match /X.*/",
    )
    assert verdict(msg, "9", (), {}.get).problems[0] == (
        "got 35=8 (ExecutionReport) where 35=9 (OrderCancelReject) was expected"
    )
    kept = verdict(msg, "8", (Check(37, "any", capture="order_id"),), {}.get)
    assert kept.ok and kept.captured == (("order_id", "O7"),)


def test_substitution_with_offsets_and_a_clear_error_for_unknown_names() -> None:
    values = {"gap": "7", "client.next_out": "12"}.get
    assert substitute("${gap}..${client.next_out-1}/${gap+3}", values) == "7..11/10"
    with pytest.raises(MissingValue, match=r"\$\{order_id\} has no value"):
        substitute("${order_id}", values)


def test_an_offset_on_a_utc_timestamp_adds_seconds_in_the_same_form() -> None:
    values = {"now": "20261231-23:59:58.250", "sent": "20260301-00:00:01", "id": "O7"}.get
    assert substitute("${now+3}", values) == "20270101-00:00:01.250"
    assert substitute("${sent-2}", values) == "20260228-23:59:59"
    with pytest.raises(MissingValue, match="neither a whole number nor a UTCTimestamp"):
        substitute("${id+1}", values)
