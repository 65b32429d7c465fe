"""Binary frames: every command survives a round trip; a bad frame is a FrameError that
says what is wrong; an events frame holds every field of every event, in order."""

import dataclasses
import types
import typing
from enum import Enum
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.flow import Flow, FlowConfig
from nyquestro import BUILD_KIND, declared_hints
from nyquestro.codec.frames import (
    FrameError,
    decode_command,
    decode_events,
    encode_command,
    encode_events,
)
from nyquestro.config.instruments import default_instruments
from nyquestro.domain import commands, events
from nyquestro.domain.commands import Cancel, Configure, NewOrder
from nyquestro.domain.enums import Side
from nyquestro.domain.ids import Account, ClOrdId, Qty, Seq, SessionKey, Symbol, Ts
from nyquestro.domain.rows import COMMAND_TAGS, EVENT_TAGS
from nyquestro.engine import Engine
from tests.store.test_journal import example_commands

SCALAR_COMMANDS = [cls for cls in typing.get_args(commands.Command) if cls is not Configure]


def _values(hint: Any) -> st.SearchStrategy[Any]:
    """Any value of a scalar field's declared type."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return st.none() | _values(inner)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return st.sampled_from(list(hint))
    if typing.get_origin(hint) is tuple:
        return st.lists(st.text(max_size=20), max_size=3).map(tuple)
    base = getattr(hint, "__supertype__", hint)
    if base is bool:
        return st.booleans()
    if base is int:
        return st.integers(-(2**63), 2**63 - 1)
    assert base is str, f"no strategy for {hint}"
    return st.text(min_size=1, max_size=40)


def _records_of(cls: type) -> st.SearchStrategy[Any]:
    hints = declared_hints(cls)
    fields = {f.name: _values(hints[f.name]) for f in dataclasses.fields(cls)}
    fields["seq"] = st.integers(1, 2**63 - 1)
    fields["ts"] = st.integers(0, 2**63 - 1)
    return st.builds(cls, **fields)


ANY_SCALAR_COMMAND = st.one_of([_records_of(cls) for cls in SCALAR_COMMANDS])
ANY_EVENT = st.one_of([_records_of(cls) for cls in typing.get_args(events.Event)])


@settings(max_examples=400, deadline=None)
@given(ANY_SCALAR_COMMAND)
def test_every_command_type_round_trips(command: commands.Command) -> None:
    frame = encode_command(command)
    assert decode_command(frame, command.seq, command.ts) == command


def test_configure_and_the_examples_round_trip() -> None:
    flow = Flow(FlowConfig(ops=10, risk="full"))
    configures = [
        *flow.setup(),
        Configure(seq=Seq(1), ts=Ts(2), instruments=tuple(default_instruments())),
    ]
    for command in [*configures, *example_commands()]:
        assert decode_command(encode_command(command), command.seq, command.ts) == command


def test_every_class_has_its_own_tag() -> None:
    assert set(COMMAND_TAGS) == set(typing.get_args(commands.Command))
    assert set(EVENT_TAGS) == set(typing.get_args(events.Event))
    assert len(set(COMMAND_TAGS.values())) == len(COMMAND_TAGS)
    assert len(set(EVENT_TAGS.values())) == len(EVENT_TAGS)


ORDER = NewOrder(
    seq=Seq(7), ts=Ts(8), session=SessionKey("S"), account=Account("A"),
    cl_ord_id=ClOrdId("c1"), symbol=Symbol("AAPL"), side=Side.BUY, qty=Qty(100),
)  # fmt: skip


def test_a_frame_from_an_older_writer_takes_the_defaults_of_what_it_lacks() -> None:
    row = msgspec.msgpack.decode(encode_command(ORDER))
    # An older NewOrder that ended at qty: everything after it takes its default.
    older = msgspec.msgpack.encode(row[:7])
    assert decode_command(older, Seq(7), Ts(8)) == ORDER


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"\xc1", "command 7: not MessagePack"),
        (msgspec.msgpack.encode({"tag": 1}), "a frame is a non-empty array, got dict"),
        (msgspec.msgpack.encode([]), "a frame is a non-empty array"),
        (msgspec.msgpack.encode([99, "x"]), "unknown command tag 99"),
        (msgspec.msgpack.encode([1, "S", "A"]), "NewOrder frame without its required field"),
        (msgspec.msgpack.encode([2, "S", "c1", None, None, "extra"]),
         "5 fields for Cancel, which has 4 (a frame from a newer version?)"),
        pytest.param(
            msgspec.msgpack.encode([2, "S", 5, None, None]), "not a valid Cancel",
            marks=pytest.mark.skipif(
                BUILD_KIND != "compiled",
                reason="value types are checked by the compiled core's run-time checks only",
            ),
        ),
        (msgspec.msgpack.encode([1, "S", "A", "c", "AAPL", 3, 100, "limit", None, "day",
                                 None, None, 0, None, None]), "not a valid NewOrder"),
        (msgspec.msgpack.encode([8, [{"symbol": "X"}], [], [], 20]), "not a valid Configure"),
    ],
)  # fmt: skip
def test_a_bad_frame_says_what_is_wrong(frame: bytes, message: str) -> None:
    with pytest.raises(FrameError) as caught:
        decode_command(frame, Seq(7), Ts(8))
    assert str(caught.value).startswith("command 7: ")
    assert message in str(caught.value)


def _expected_rows(produced: list[events.EventBase]) -> list[list[Any]]:
    """Tag, then every field as `dataclasses.fields` orders them, enums as values."""
    rows = []
    for event in produced:
        values = [getattr(event, f.name) for f in dataclasses.fields(event)]
        plain = [v.value if isinstance(v, Enum) else list(v) if isinstance(v, tuple) else v
                 for v in values]  # fmt: skip
        rows.append([EVENT_TAGS[type(event)], *plain])
    return rows


@settings(max_examples=300, deadline=None)
@given(st.lists(ANY_EVENT, max_size=4))
def test_an_events_frame_is_every_field_of_every_event_in_order(
    produced: list[events.EventBase],
) -> None:
    assert msgspec.msgpack.decode(encode_events(produced)) == _expected_rows(produced)


@settings(max_examples=300, deadline=None)
@given(st.lists(ANY_EVENT, max_size=4), st.integers(1, 2**40))
def test_every_event_class_round_trips(produced: list[events.EventBase], seq: int) -> None:
    decoded = decode_events(encode_events(produced), seq)
    assert decoded == produced
    assert [type(e) for e in decoded] == [type(e) for e in produced]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"\xc1", "events of command 7: not MessagePack"),
        (msgspec.msgpack.encode(3), "events of command 7: not valid events"),
        (msgspec.msgpack.encode([[99, 1, 2]]), "unknown event tag 99"),
        (msgspec.msgpack.encode([[16, 1, 2]]), "events of command 7: not valid events"),
    ],
)
def test_a_bad_events_frame_says_what_is_wrong(frame: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        decode_events(frame, 7)


def test_the_engine_s_events_encode_the_same_twice() -> None:
    engine = Engine(default_instruments())
    produced: list[events.EventBase] = []
    for command in example_commands():
        produced.extend(engine.process(command))
    assert len({type(e) for e in produced}) >= 8
    assert msgspec.msgpack.decode(encode_events(produced)) == _expected_rows(produced)
    # The same events, encoded again, give the same bytes (the hash depends on it).
    assert encode_events(produced) == encode_events(tuple(produced))


def test_one_field_changed_changes_the_events_frame() -> None:
    cancel = Cancel(seq=Seq(1), ts=Ts(2), session=SessionKey("S"), cl_ord_id=ClOrdId("c"))
    engine = Engine(default_instruments())
    (rejected,) = engine.process(cancel)
    other = dataclasses.replace(rejected, ts=Ts(3))
    assert encode_events([rejected]) != encode_events([other])
