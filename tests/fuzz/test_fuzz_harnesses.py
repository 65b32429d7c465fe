"""Run the atheris harnesses' check functions on hypothesis-generated inputs.

Inputs are shaped like commands (JSON objects with the real field names and plausible or
hostile values) so the checks reach past the JSON parser into the decoder and the engine.
"""

import importlib.util
import json
import struct
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
itch_harness = load_harness("fuzz_itch_decode")
ws_message_harness = load_harness("fuzz_ws_message")
udp_frame_harness = load_harness("fuzz_udp_frame")

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


# UDP frames: a header that is mostly right (length, version, the configured session) in
# front of a body of the type's size, so the checks reach the field ranges and the engine.
UDP_SIZES = {1: 44, 2: 24, 3: 40, 4: 24, 0x81: 32, 9: 24}


@st.composite
def udp_frames(draw: st.DrawFn) -> bytes:
    msg_type = draw(st.sampled_from(sorted(UDP_SIZES)))
    size = UDP_SIZES[msg_type]
    symbol = draw(st.sampled_from([b"AAPL", b"ESZ6", b"IBM", b"ZZZ", b"A B", b"\x00AAPL", b""]))
    fields = {
        1: lambda: struct.pack("<8sBBBBIqI", symbol, draw(st.integers(0, 3)),
                               draw(st.integers(0, 3)), draw(st.sampled_from([0, 1, 2, 3, 4])),
                               draw(st.sampled_from([0, 0, 0, 1])), draw(st.integers(0, 2000)),
                               draw(st.sampled_from([0, 1, 19000, 19001, -1, 2**40])),
                               draw(st.integers(0, 50))),
        2: lambda: struct.pack("<Q", draw(st.integers(0, 20))),
        3: lambda: struct.pack("<QIIq", draw(st.integers(0, 20)), draw(st.integers(0, 2000)),
                               draw(st.integers(0, 50)), draw(st.sampled_from([0, -1, 19000]))),
        4: lambda: struct.pack("<8s", symbol),
    }  # fmt: skip
    body = fields.get(msg_type, lambda: bytes(size - 16))()
    length = draw(st.sampled_from([size, size, size, size - 1, size + 8]))
    header = struct.pack(
        "<HBBIQ", length, msg_type, draw(st.sampled_from([1, 1, 1, 2])),
        draw(st.sampled_from([1, 1, 2])), draw(st.integers(0, 70_000)),
    )  # fmt: skip
    data = header + body
    return data + bytes(max(0, length - len(data))) if draw(st.booleans()) else data


@settings(max_examples=400, deadline=None)
@given(udp_frames())
def test_udp_frames_decode_or_are_refused_and_valid_ones_reach_the_engine(data: bytes) -> None:
    udp_frame_harness.check_one_input(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_arbitrary_bytes_on_the_udp_port_never_escape(data: bytes) -> None:
    udp_frame_harness.check_one_input(data)


WS_MESSAGES = st.dictionaries(
    st.sampled_from(ws_message_harness.FIELDS),
    st.sampled_from(ws_message_harness.VALUES),
    max_size=10,
)


@settings(max_examples=300, deadline=None)
@given(WS_MESSAGES)
def test_websocket_shaped_messages_parse_or_raise_protocol_error(obj: dict[str, object]) -> None:
    ws_message_harness.check_one_input(bytes([1]) + json.dumps(obj).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_websocket_messages_never_escape(data: bytes) -> None:
    ws_message_harness.check_one_input(data)


ITCH_MESSAGES = st.builds(
    lambda kind, body: kind + body,
    st.sampled_from([b"A", b"F", b"E", b"C", b"X", b"D", b"U", b"P", b"S", b"R", b"H", b"Q"]),
    st.binary(max_size=45),
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=10), st.integers(0, 2**64 - 1), st.lists(ITCH_MESSAGES, max_size=8))
def test_moldudp64_packets_of_itch_shaped_messages_decode_or_raise_itch_error(
    session: bytes, sequence: int, messages: list[bytes]
) -> None:
    body = b"".join(len(m).to_bytes(2, "big") + m for m in messages)
    header = session.ljust(10) + sequence.to_bytes(8, "big") + len(messages).to_bytes(2, "big")
    itch_harness.check_one_input(header + body)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_on_the_itch_path_never_escape(data: bytes) -> None:
    itch_harness.check_one_input(data)
