"""Binary frames: commands and events as MessagePack, for the journal and the bus.

A command frame is one array: its type's tag, then every field but `seq` and `ts` (the
sequencer stamps those; the journal keeps them in columns of their own) in declaration
order. An events frame is an array of arrays: per event its tag, then every field, `seq`
and `ts` included. Scalars go as they are (prices in ticks, enums as their values, None
as nil); fields that hold records (Configure's instruments and risk settings) go in the
plain form of `nyquestro.codec.plain`, which sorts sets, so one value has one encoding.

Frames are read by other processes and by later versions of this code, so:
- a tag names one class for good: tags are never reused or renumbered;
- fields are only ever added at the end of a class, with a default. A frame with fewer
  fields than its class decodes with the defaults; one with more is from a newer writer
  and is refused.

`msgspec` does the MessagePack in C. Measured here (`benchmarks/README.md`, "Frames"),
encoding a command takes a fraction of a microsecond against ~7 µs for the journal's
former JSON, and an events frame is the input of the event-stream hash
(`nyquestro.runtime.replay`).
"""

import dataclasses
import operator
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from functools import partial
from typing import Any

import msgspec

from nyquestro import declared_hints
from nyquestro.codec.plain import from_plain, to_plain
from nyquestro.domain import commands, events
from nyquestro.domain.errors import NyquestroError
from nyquestro.domain.ids import Seq, Ts


class FrameError(NyquestroError):
    """Bytes that are not a frame this code can read; the message says what is wrong."""


COMMAND_TAGS: Mapping[type[commands.CommandBase], int] = {
    commands.NewOrder: 1,
    commands.Cancel: 2,
    commands.CancelReplace: 3,
    commands.MassCancel: 4,
    commands.Halt: 5,
    commands.Resume: 6,
    commands.EndOfDay: 7,
    commands.Configure: 8,
    commands.KillSwitch: 9,
}

EVENT_TAGS: Mapping[type[events.EventBase], int] = {
    events.Accepted: 1,
    events.Rejected: 2,
    events.CancelRejected: 3,
    events.PartiallyFilled: 4,
    events.Filled: 5,
    events.Cancelled: 6,
    events.Expired: 7,
    events.Replaced: 8,
    events.Restated: 9,
    events.MassCancelled: 10,
    events.Trade: 11,
    events.LevelAdded: 12,
    events.LevelChanged: 13,
    events.LevelRemoved: 14,
    events.Halted: 15,
    events.Resumed: 16,
    events.OperatorRejected: 17,
    events.Configured: 18,
    events.KillSwitchSet: 19,
}

Convert = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True, slots=True)
class _Layout:
    """How one class travels: its tag, its fields in order, and what converts them."""

    cls: type
    tag: int
    names: tuple[str, ...]
    values: Callable[[object], tuple[Any, ...]]
    to_frame: tuple[tuple[int, Convert], ...]
    """(index, conversion) of the fields that do not encode as they are."""
    from_frame: tuple[tuple[str, Convert], ...]
    """(name, conversion) of the fields that do not decode as they are."""


def _layout(cls: type, tag: int, skip: frozenset[str]) -> _Layout:
    hints = declared_hints(cls)
    names = tuple(f.name for f in dataclasses.fields(cls) if f.name not in skip)
    to_frame: list[tuple[int, Convert]] = []
    from_frame: list[tuple[str, Convert]] = []
    for index, name in enumerate(names):
        hint = hints[name]
        base = _strip_optional(hint)
        if isinstance(base, type) and issubclass(base, Enum):
            # msgspec encodes an enum as its value; back, a dict lookup, because calling an
            # enum class runs Python code.
            from_frame.append((name, {member.value: member for member in base}.__getitem__))
        elif not _is_scalar(base):
            to_frame.append((index, to_plain))
            from_frame.append((name, partial(from_plain, hint, name=name)))
    getter = operator.attrgetter(*names) if len(names) > 1 else _single(names)
    return _Layout(cls, tag, names, getter, tuple(to_frame), tuple(from_frame))


def _single(names: tuple[str, ...]) -> Callable[[object], tuple[Any, ...]]:
    # attrgetter of one name returns the value itself, not a 1-tuple.
    return lambda obj: tuple(getattr(obj, name) for name in names)


def _strip_optional(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def _is_scalar(hint: Any) -> bool:
    base = getattr(hint, "__supertype__", hint)  # NewType
    if base in (int, str, bool):
        return True
    # Tuples of scalars (a Configured event's change lines) are MessagePack arrays.
    return typing.get_origin(base) is tuple and all(
        arg is Ellipsis or _is_scalar(arg) for arg in typing.get_args(base)
    )


_STAMPS = frozenset({"seq", "ts"})
_COMMANDS = {cls: _layout(cls, tag, _STAMPS) for cls, tag in COMMAND_TAGS.items()}
_COMMANDS_BY_TAG = {layout.tag: layout for layout in _COMMANDS.values()}
_EVENTS = {cls: _layout(cls, tag, frozenset()) for cls, tag in EVENT_TAGS.items()}
_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder()


def _row(layout: _Layout, record: object) -> list[Any]:
    row = [layout.tag, *layout.values(record)]
    for index, convert in layout.to_frame:
        value = row[index + 1]
        if value is not None:
            row[index + 1] = convert(value)
    return row


def encode_command(command: commands.CommandBase) -> bytes:
    """The command's frame (without `seq` and `ts`)."""
    return _ENCODER.encode(_row(_COMMANDS[type(command)], command))


def decode_command(frame: bytes, seq: Seq, ts: Ts) -> commands.Command:
    """The command `frame` holds, stamped `seq` and `ts`; FrameError if it holds none."""
    try:
        row = _DECODER.decode(frame)
    except msgspec.DecodeError as exc:
        raise FrameError(f"command {seq}: not MessagePack ({exc})") from None
    if not isinstance(row, list) or not row:
        raise FrameError(f"command {seq}: a frame is a non-empty array, got {type(row).__name__}")
    layout = _COMMANDS_BY_TAG.get(row[0])
    if layout is None:
        raise FrameError(f"command {seq}: unknown command tag {row[0]!r}")
    if len(row) - 1 > len(layout.names):
        raise FrameError(
            f"command {seq}: {len(row) - 1} fields for {layout.cls.__name__}, which has "
            f"{len(layout.names)} (a frame from a newer version?)"
        )
    values = dict(zip(layout.names, row[1:], strict=False))
    try:
        for name, convert in layout.from_frame:
            value = values.get(name)
            if value is not None:
                values[name] = convert(value)
        built: commands.Command = layout.cls(seq=seq, ts=ts, **values)
    except (KeyError, TypeError, ValueError, NyquestroError) as exc:
        raise FrameError(f"command {seq}: not a valid {layout.cls.__name__} ({exc})") from None
    return built


def encode_events(produced: Sequence[events.EventBase]) -> bytes:
    """One command's events as one frame: what the event-stream hash folds in."""
    layouts = _EVENTS
    return _ENCODER.encode([_row(layouts[type(event)], event) for event in produced])
