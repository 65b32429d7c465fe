"""Run the atheris harnesses' check functions on hypothesis-generated inputs.

Inputs are shaped like commands (JSON objects with the real field names and plausible or
hostile values) so the checks reach past the JSON parser into the decoder and the engine.
"""

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

from hypothesis import given, settings
from hypothesis import strategies as st

FUZZ_DIR = Path(__file__).resolve().parents[2] / "fuzz"
# The harnesses import their shared rig as a sibling module, as atheris runs them.
sys.path.insert(0, str(FUZZ_DIR))


def load_harness(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, FUZZ_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


decode_harness = load_harness("fuzz_command_decode")
fix_bytes_harness = load_harness("fuzz_fix_bytes")
fix_semantic_harness = load_harness("fuzz_fix_semantic")

FIELD_NAMES = [
    "type", "session", "account", "cl_ord_id", "symbol", "side", "qty", "ord_type", "px",
    "tif", "display_qty", "peg", "peg_offset", "smp_id", "smp_policy", "orig_cl_ord_id",
    "order_id", "scope_session", "reason", "ts", "seq",
]  # fmt: skip
TYPES = ["new_order", "cancel", "replace", "mass_cancel", "halt", "resume", "end_of_day"]
VALUES = st.one_of(
    st.sampled_from([*TYPES, "AAPL", "ESZ6", "ZZZ", "buy", "sell", "limit", "market", "pegged"]),
    st.sampled_from(["day", "gtc", "ioc", "fok", "midpoint", "primary", "last_sale"]),
    st.sampled_from(["cancel_both", "decrement_and_cancel", "190.00", "190.005", "-1", "NaN"]),
    st.sampled_from(["1e400", "", "S1", "A1", "c1"]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)
COMMANDS = st.dictionaries(st.sampled_from(FIELD_NAMES), VALUES, max_size=12)


@settings(max_examples=400, deadline=None)
@given(COMMANDS)
def test_command_shaped_inputs_decode_or_raise_input_error(obj: dict[str, object]) -> None:
    decode_harness.check_one_input(json.dumps(obj).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_escape(data: bytes) -> None:
    decode_harness.check_one_input(data)


FIX_BODIES = st.lists(
    st.tuples(
        st.sampled_from([35, 49, 56, 34, 52, 11, 21, 55, 54, 60, 38, 40, 44, 59, 41, 37, 18,
                         111, 211, 5001, 5002, 262, 263, 264, 267, 269, 146, 530, 97, 1]),
        st.sampled_from(["D", "F", "G", "H", "q", "V", "x", "NYQUESTRO", "FUZZ", "2",
                         "20261124-12:00:00", "AAPL", "1", "2", "P", "190.00", "190.005",
                         "-1", "0", "M", "", "abc", "1.5"]),
    ),
    max_size=20,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["FIX.4.2", "FIX.4.4"]), FIX_BODIES)
def test_framed_fix_messages_are_rejected_by_quickfix_or_answered(
    begin: str, fields: list[tuple[int, str]]
) -> None:
    body = "".join(f"{tag}={value}\x01" for tag, value in fields)
    # Leading byte 2|v: frame the body correctly for version v (see the harness).
    version = 0 if begin == "FIX.4.2" else 1
    fix_bytes_harness.check_one_input(bytes([2 | version]) + body.encode("latin-1"))


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=1, max_size=300))
def test_semantically_random_fix_messages_never_raise(data: bytes) -> None:
    fix_semantic_harness.check_one_input(data)


def test_semantic_harness_reaches_the_engine() -> None:
    # A run that places an order must produce an ExecutionReport: the harness is live.
    before = len(fix_semantic_harness._RIG.sent)
    fix_semantic_harness.check_one_input(bytes([1, 0]) + bytes([1] * 40))
    assert len(fix_semantic_harness._RIG.sent) > before


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_on_the_fix_path_never_escape(data: bytes) -> None:
    fix_bytes_harness.check_one_input(data)
