"""Run the atheris harnesses' check functions on hypothesis-generated inputs.

Inputs are shaped like commands (JSON objects with the real field names and plausible or
hostile values) so the checks reach past the JSON parser into the decoder and the engine.
"""

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from hypothesis import given, settings
from hypothesis import strategies as st

FUZZ_DIR = Path(__file__).resolve().parents[2] / "fuzz"


def load_harness(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, FUZZ_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


decode_harness = load_harness("fuzz_command_decode")

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
