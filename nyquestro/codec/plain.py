"""Settings records (instruments, account and session risk) to and from plain JSON data.

Driven by type hints, for the few commands whose fields are records rather than
scalars (Configure): decimals travel as strings (JSON numbers are binary floats), sets
as sorted lists, enums as their values, records as objects of their non-default fields.
"""

import dataclasses
import types
import typing
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import Any

from nyquestro import declared_hints
from nyquestro.domain.errors import InputError


def to_plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [to_plain(item) for item in value]
    if isinstance(value, frozenset):
        return sorted(to_plain(item) for item in value)
    if dataclasses.is_dataclass(value):
        return {
            f.name: to_plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not _is_default(f, getattr(value, f.name))
        }
    raise TypeError(f"no plain form for {type(value).__name__}")


def strip_optional(hint: Any) -> Any:
    """`X` for a hint `X | None`; any other hint as it is."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def from_plain(hint: Any, raw: Any, name: str) -> Any:
    """The value of type `hint` that `to_plain` made `raw`; InputError naming the field."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if raw is None:
            return None
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return from_plain(hint, raw, name)
    if origin in (tuple, frozenset):
        if not isinstance(raw, list):
            raise InputError(name, raw, "a list")
        item = typing.get_args(hint)[0]
        items = [from_plain(item, value, f"{name}[{i}]") for i, value in enumerate(raw)]
        return tuple(items) if origin is tuple else frozenset(items)
    if dataclasses.is_dataclass(hint):
        return _record(hint, raw, name)
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(raw)
        except ValueError:
            choices = ", ".join(str(member.value) for member in hint)
            raise InputError(name, raw, f"one of {choices}") from None
    if hint is Decimal:
        try:
            number = Decimal(raw) if isinstance(raw, str) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise InputError(name, raw, "a decimal string")
        return number
    base = getattr(hint, "__supertype__", hint)
    if base is int and (isinstance(raw, bool) or not isinstance(raw, int)):
        raise InputError(name, raw, "an integer")
    if base is str and not isinstance(raw, str):
        raise InputError(name, raw, "a string")
    return raw


def _record(cls: Any, raw: Any, name: str) -> Any:
    if not isinstance(raw, dict):
        raise InputError(name, raw, f"an object ({cls.__name__})")
    hints = _hints(cls)
    unknown = sorted(set(raw) - set(hints))
    if unknown:
        raise InputError(f"{name}.{unknown[0]}", raw[unknown[0]], f"a field of {cls.__name__}")
    values = {key: from_plain(hints[key], value, f"{name}.{key}") for key, value in raw.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise InputError(name, raw, f"a valid {cls.__name__} ({exc})") from None


@cache
def _hints(cls: type) -> dict[str, Any]:
    return declared_hints(cls)


def _is_default(f: dataclasses.Field[Any], value: Any) -> bool:
    if f.default is not dataclasses.MISSING:
        return bool(value == f.default)
    if f.default_factory is not dataclasses.MISSING:
        return bool(value == f.default_factory())
    return False
