"""JSON-lines codec: one command per input object, one event per output object.

Decoding is strict: unknown fields, wrong types and off-tick prices raise `InputError`
naming the field, so a typo in a test script is reported instead of silently ignored.
In the CLI's form prices are decimal strings, converted with `DecimalPrices`; in the
journal's form (`encode_command` / `decode_journal_command`) they stay integer ticks. The
journal now stores binary frames (`nyquestro.codec.frames`); this form remains for its
records written before them, for the audit trail and for `nyquestro journal export`.
"""

import dataclasses
import operator
import re
import typing
from collections.abc import Callable, Mapping
from enum import Enum, IntEnum
from functools import partial
from typing import Any

from nyquestro import declared_hints
from nyquestro.codec.plain import from_plain, strip_optional, to_plain
from nyquestro.codec.prices import DecimalPrices
from nyquestro.domain import commands, events
from nyquestro.domain.enums import Side
from nyquestro.domain.errors import InputError
from nyquestro.domain.ids import Px, Seq, Ts

COMMAND_TYPES: Mapping[str, type[commands.CommandBase]] = {
    "new_order": commands.NewOrder,
    "cancel": commands.Cancel,
    "replace": commands.CancelReplace,
    "mass_cancel": commands.MassCancel,
    "halt": commands.Halt,
    "resume": commands.Resume,
    "end_of_day": commands.EndOfDay,
    "configure": commands.Configure,
    "kill_switch": commands.KillSwitch,
    "control_session": commands.ControlSession,
    "bust_trade": commands.BustTrade,
    "correct_trade": commands.CorrectTrade,
    "expire_due": commands.ExpireDue,
    "set_phase": commands.SetPhase,
}

# A replace (a correction) carries no symbol in the engine, but its price is only meaningful in the
# symbol's ticks, so the JSON form names it for the conversion.
_CONVERSION_ONLY = {"replace": {"symbol"}, "correct_trade": {"symbol"}}
_SEQUENCER_FIELDS = {"seq"}
_HINTS = {cls: declared_hints(cls) for cls in COMMAND_TYPES.values()}
_COMMAND_NAMES = {cls: name for name, cls in COMMAND_TYPES.items()}


def decode_command(obj: object, seq: Seq, ts: Ts, prices: DecimalPrices) -> commands.Command:
    """Build a command from a decoded JSON object; `seq` is assigned by the caller."""
    if not isinstance(obj, dict):
        raise InputError("<line>", obj, "a JSON object")
    kind = obj.get("type")
    cls = COMMAND_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InputError("type", kind, f"one of {', '.join(COMMAND_TYPES)}")
    assert isinstance(kind, str)
    hints = _HINTS[cls]
    extra = _CONVERSION_ONLY.get(kind, set())
    for name in obj:
        if (
            name != "type"
            and (name not in hints or name in _SEQUENCER_FIELDS)
            and name not in extra
        ):
            raise InputError(name, obj[name], f"a field of {kind} (unknown field)")
    symbol = obj.get("symbol")
    values: dict[str, Any] = {"seq": seq, "ts": ts}
    if "ts" in obj:
        values["ts"] = _decode_int(obj["ts"], "ts")
    for field in dataclasses.fields(cls):
        name = field.name
        if name in values:
            continue
        required = field.default is dataclasses.MISSING
        if name not in obj or obj[name] is None:
            if required:
                raise InputError(name, None, f"a value (required for {kind})")
            continue
        values[name] = _decode_value(hints[name], obj[name], name, symbol, prices)
    built: commands.Command = cls(**values)  # type: ignore[assignment]
    return built


def encode_event(event: events.EventBase, prices: DecimalPrices) -> dict[str, Any]:
    """A JSON-ready dict: type name first, then the event's fields in declaration order."""
    cls = type(event)
    out: dict[str, Any] = {"type": _EVENT_TYPE_NAMES[cls]}
    symbol = getattr(event, "symbol", None)
    names, kinds, values = _EVENT_ENCODERS[cls]
    for name, kind, value in zip(names, kinds, values(event), strict=True):
        if value is None or kind is None:
            out[name] = value
        elif kind is _PRICE:
            out[name] = value if symbol is None else prices.to_wire(symbol, value)
        else:
            out[name] = kind[value]
    return out


def decode_event(fields: Mapping[str, Any], prices: DecimalPrices) -> events.EventBase:
    """The event `encode_event` made `fields` (its JSON object decoded): how a client of
    the control plane's stream gets the venue's events back. InputError naming a field
    it cannot read."""
    kind = fields.get("type")
    cls = _EVENT_CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InputError("type", kind, "an event type encode_event writes")
    names, kinds, _ = _EVENT_ENCODERS[cls]
    symbol = fields.get("symbol")
    values: dict[str, Any] = {}
    for name, conversion in zip(names, kinds, strict=True):
        if name not in fields:
            raise InputError(name, None, f"a value (every field of {kind} is written)")
        raw = fields[name]
        if raw is None or conversion is None:
            values[name] = tuple(raw) if isinstance(raw, list) else raw
        elif conversion is _PRICE:
            values[name] = raw if symbol is None else prices.to_ticks(symbol, raw, name)
        else:
            member = _MEMBERS[id(conversion)].get(raw)
            if member is None:
                raise InputError(name, raw, f"one of {', '.join(map(str, conversion.values()))}")
            values[name] = member
    try:
        decoded: events.EventBase = cls(**values)
    except TypeError as exc:
        raise InputError(str(kind), dict(fields), f"the fields of {kind} ({exc})") from None
    return decoded


_PRICE: dict[Any, Any] = {}
"""Marks a field converted to a decimal string in the symbol's ticks (see `_event_encoder`)."""


def _event_encoder(cls: type) -> tuple[list[str], list[dict[Any, Any] | None], Any]:
    """Per event type, worked out once: field names, and for each the conversion —
    `_PRICE`, an enum's member → JSON value table, or None (as is)."""
    hints = declared_hints(cls)
    names = [field.name for field in dataclasses.fields(cls)]
    kinds: list[dict[Any, Any] | None] = []
    for name in names:
        base = strip_optional(hints[name])
        if name in ("px", "orig_px", "cum_notional"):
            kinds.append(_PRICE)
        elif isinstance(base, type) and issubclass(base, Enum):
            kinds.append({member: _plain(member) for member in base})
        else:
            kinds.append(None)
    return names, kinds, _values_getter(names)


def encode_command(command: commands.CommandBase) -> dict[str, Any]:
    """The journal's JSON form: type name, then every field but seq/ts, prices in ticks."""
    cls = type(command)
    out: dict[str, Any] = {"type": _COMMAND_NAMES[cls]}
    encoders, values = _JOURNAL_ENCODERS[cls]
    for (name, encode), value in zip(encoders, values(command), strict=True):
        if value is not None:
            out[name] = encode(value)
    return out


def decode_journal_command(obj: dict[str, Any], seq: Seq, ts: Ts) -> commands.Command:
    """Decode a record `encode_command` wrote (its CRC already checked): no validation.

    Converters are worked out once per command type; recovery decodes every journaled
    command, so the general decoder's per-field introspection would dominate it.
    """
    cls = COMMAND_TYPES[obj["type"]]
    values: dict[str, Any] = {"seq": seq, "ts": ts}
    for name, decode in _JOURNAL_DECODERS[cls]:
        raw = obj.get(name)
        if raw is not None:
            values[name] = decode(raw)
    built: commands.Command = cls(**values)  # type: ignore[assignment]
    return built


def _identity(value: Any) -> Any:
    return value


def _journal_codecs(
    cls: type,
) -> tuple[list[tuple[str, Callable[[Any], Any]]], list[tuple[str, Callable[[Any], Any]]]]:
    encoders: list[tuple[str, Callable[[Any], Any]]] = []
    decoders: list[tuple[str, Callable[[Any], Any]]] = []
    for field in dataclasses.fields(cls):
        if field.name in ("seq", "ts"):
            continue
        hint = _HINTS[cls][field.name]
        base = strip_optional(hint)
        if typing.get_origin(base) is tuple:
            encoders.append((field.name, to_plain))
            decoders.append((field.name, partial(from_plain, hint, name=field.name)))
        elif isinstance(base, type) and issubclass(base, Enum):
            # Dict lookups both ways: an enum's .name/.value is a Python-level property.
            if base is Side or issubclass(base, IntEnum):
                names = {member: member.name.lower() for member in base}
                encoders.append((field.name, names.__getitem__))
                decoders.append((field.name, {n: m for m, n in names.items()}.__getitem__))
            else:
                encoders.append((field.name, {m: m.value for m in base}.__getitem__))
                decoders.append((field.name, base))
        else:
            encoders.append((field.name, _identity))
            decoders.append((field.name, _identity))
    return encoders, decoders


def _plain(value: object) -> object:
    if isinstance(value, Side):
        return value.name.lower()
    if isinstance(value, IntEnum):
        return value.name.lower()
    if isinstance(value, Enum):
        return value.value
    return value


def _decode_value(hint: Any, raw: object, name: str, symbol: object, prices: DecimalPrices) -> Any:
    base = strip_optional(hint)
    if typing.get_origin(base) is tuple:
        return from_plain(hint, raw, name)
    if base is Px:
        if not isinstance(symbol, str):
            raise InputError("symbol", symbol, f"a symbol, to convert {name} to ticks")
        return prices.to_ticks(symbol, raw, name)
    if isinstance(base, type) and issubclass(base, Enum):
        return _decode_enum(base, raw, name)
    supertype = getattr(base, "__supertype__", base)
    if supertype is int:
        return _decode_int(raw, name)
    if supertype is str:
        if not isinstance(raw, str) or not raw:
            raise InputError(name, raw, "a non-empty string")
        return raw
    raise AssertionError(f"no JSON decoding for field {name} of type {hint}")


def _decode_enum(enum: type[Enum], raw: object, name: str) -> Enum:
    if enum is Side or issubclass(enum, IntEnum):
        by_name = {member.name.lower(): member for member in enum}
        if isinstance(raw, str) and raw.lower() in by_name:
            return by_name[raw.lower()]
        choices = ", ".join(by_name)
    else:
        by_value = {member.value: member for member in enum}
        if raw in by_value:
            return by_value[raw]
        choices = ", ".join(str(v) for v in by_value)
    raise InputError(name, raw, f"one of {choices}")


def _decode_int(raw: object, name: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise InputError(name, raw, "an integer")
    return raw


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_EVENT_TYPE_NAMES = {cls: _snake(cls.__name__) for cls in typing.get_args(events.Event)}


_JOURNAL_CODECS = {cls: _journal_codecs(cls) for cls in COMMAND_TYPES.values()}


def _values_getter(names: list[str]) -> Callable[[object], tuple[Any, ...]]:
    """The named attributes as a tuple, in one C call (attrgetter unwraps a single name)."""
    if len(names) > 1:
        return operator.attrgetter(*names)
    return lambda obj: tuple(getattr(obj, name) for name in names)


_JOURNAL_ENCODERS = {
    cls: (codecs[0], _values_getter([name for name, _ in codecs[0]]))
    for cls, codecs in _JOURNAL_CODECS.items()
}
_JOURNAL_DECODERS = {cls: codecs[1] for cls, codecs in _JOURNAL_CODECS.items()}
_EVENT_ENCODERS = {cls: _event_encoder(cls) for cls in _EVENT_TYPE_NAMES}
_EVENT_CLASSES = {name: cls for cls, name in _EVENT_TYPE_NAMES.items()}
_MEMBERS = {
    id(conversion): {plain: member for member, plain in conversion.items()}
    for _, conversions, _ in _EVENT_ENCODERS.values()
    for conversion in conversions
    if conversion is not None and conversion is not _PRICE
}
"""Per enum conversion of `_event_encoder` (by identity), its inverse."""
