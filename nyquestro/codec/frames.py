"""Binary frames: commands and events as MessagePack, for the journal and the bus.

A command frame is one array: its type's tag, then every field but `seq` and `ts` (the
sequencer stamps those; the journal keeps them in columns of their own) in declaration
order. An events frame is an array of arrays: per event its tag, then every field, `seq`
and `ts` included. Scalars go as they are (prices in ticks, enums as their values, None
as nil); fields that hold records (Configure's instruments and risk settings) go in the
plain form of `nyquestro.codec.plain`, which sorts sets, so one value has one encoding.

Frames are read by other processes and by later versions of this code, so:
- a tag names one class for good: tags are never reused or renumbered (they are in
  `nyquestro.domain.rows`, which turns rows into commands and events into rows in
  compiled code);
- fields are only ever added at the end of a class, with a default. A frame with fewer
  fields than its class decodes with the defaults; one with more is from a newer writer
  and is refused.

`msgspec` does the MessagePack in C. Why frames, and what they cost against the JSON form
they replaced (`benchmarks.frames_bench`): ADR 0010. An events frame is the input of the
event-stream hash (`nyquestro.runtime.replay`).
"""

import dataclasses
import operator
import typing
from collections.abc import Callable, Sequence
from enum import Enum
from functools import partial
from typing import Any

import msgspec

from nyquestro import declared_hints
from nyquestro.codec.plain import from_plain, strip_optional, to_plain
from nyquestro.domain import commands, events
from nyquestro.domain.errors import NyquestroError
from nyquestro.domain.ids import Seq, Ts
from nyquestro.domain.rows import COMMAND_TAGS, command_from_row, event_from_row, events_rows


class FrameError(NyquestroError):
    """Bytes that are not a frame this code can read; the message says what is wrong."""


Convert = Callable[[Any], Any]
_REQUIRED = object()
"""A field without a default: a frame must hold it."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Layout:
    """How one class travels: its tag, its fields in order, and which are records."""

    cls: type
    tag: int
    names: tuple[str, ...]
    defaults: tuple[object, ...]
    """Per field its default, or `_REQUIRED`: what pads a frame from an older writer."""
    values: Callable[[object], tuple[Any, ...]]
    to_frame: tuple[tuple[int, Convert], ...]
    """(row index, conversion) of the fields that travel in their plain form."""
    from_frame: tuple[tuple[int, Convert], ...]
    """(row index, conversion) of the same fields, back from the plain form."""


def _layout(cls: type, tag: int, skip: frozenset[str]) -> _Layout:
    hints = declared_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.name not in skip]
    names = tuple(f.name for f in fields)
    defaults = tuple(_REQUIRED if f.default is dataclasses.MISSING else f.default for f in fields)
    to_frame: list[tuple[int, Convert]] = []
    from_frame: list[tuple[int, Convert]] = []
    for index, name in enumerate(names, start=1):  # row[0] is the tag
        hint = hints[name]
        base = strip_optional(hint)
        # msgspec writes an enum as its value; `nyquestro.domain.rows` maps it back.
        if not (isinstance(base, type) and issubclass(base, Enum)) and not _is_scalar(base):
            to_frame.append((index, to_plain))
            from_frame.append((index, partial(from_plain, hint, name=name)))
    getter = operator.attrgetter(*names) if len(names) > 1 else _single(names)
    return _Layout(cls, tag, names, defaults, getter, tuple(to_frame), tuple(from_frame))


def _single(names: tuple[str, ...]) -> Callable[[object], tuple[Any, ...]]:
    # attrgetter of one name returns the value itself, not a 1-tuple (and needs a name).
    return lambda obj: tuple(getattr(obj, name) for name in names)


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
_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder()


def _row(layout: _Layout, record: object) -> list[Any]:
    row = [layout.tag, *layout.values(record)]
    for index, convert in layout.to_frame:
        value = row[index]
        if value is not None:
            row[index] = convert(value)
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
    if len(row) - 1 != len(layout.names):
        _pad(row, layout, seq)
    try:
        for index, convert in layout.from_frame:
            value = row[index]
            if value is not None:
                row[index] = convert(value)
        return command_from_row(row, seq, ts)
    except (KeyError, TypeError, ValueError, NyquestroError) as exc:
        raise FrameError(f"command {seq}: not a valid {layout.cls.__name__} ({exc})") from None


def _pad(row: list[Any], layout: _Layout, seq: int) -> None:
    """Complete a row from an older writer with the defaults of the fields it lacks."""
    held, name = len(row) - 1, layout.cls.__name__
    if held > len(layout.names):
        raise FrameError(
            f"command {seq}: {held} fields for {name}, which has {len(layout.names)} "
            "(a frame from a newer version?)"
        )
    missing = layout.defaults[held:]
    if _REQUIRED in missing:
        absent = layout.names[held + missing.index(_REQUIRED)]
        raise FrameError(f"command {seq}: {name} frame without its required field {absent}")
    row.extend(missing)


def encode_events(produced: Sequence[events.EventBase]) -> bytes:
    """One command's events as one frame: what the event-stream hash folds in."""
    return _ENCODER.encode(events_rows(produced))


def decode_events(frame: bytes, seq: int) -> list[events.EventBase]:
    """The events an events frame of command `seq` holds; FrameError if it holds none.

    Events travel only between processes of one version (the journal keeps commands, not
    events), so a row must be complete: no padding from older writers."""
    try:
        rows = _DECODER.decode(frame)
        if not isinstance(rows, list):
            raise TypeError(f"an events frame is an array, got {type(rows).__name__}")
        return [event_from_row(row) for row in rows]
    except msgspec.DecodeError as exc:
        raise FrameError(f"events of command {seq}: not MessagePack ({exc})") from None
    except (KeyError, TypeError, ValueError, IndexError, NyquestroError) as exc:
        raise FrameError(f"events of command {seq}: not valid events ({exc!r})") from None
