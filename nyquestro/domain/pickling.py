"""Pickling that works for the engine's frozen records in both builds of the core.

Snapshots pickle the engine's state. Interpreted, a frozen slotted dataclass pickles
through the `__getstate__`/`__setstate__` that `dataclass` adds. Compiled by mypyc, a
class is pickled only if marked `serializable`, and the default restore assigns each
attribute, which a frozen class refuses: these write the fields with `object.__setattr__`.
"""

from dataclasses import fields, is_dataclass

from mypy_extensions import mypyc_attr


@mypyc_attr(serializable=True)
class FrozenRecord:
    """Base of the frozen dataclasses a snapshot holds."""

    __slots__ = ()

    def __getstate__(self) -> tuple[object, ...]:
        assert is_dataclass(self), "FrozenRecord is a base of dataclasses only"
        return tuple(getattr(self, field.name) for field in fields(self))

    def __setstate__(self, state: tuple[object, ...]) -> None:
        assert is_dataclass(self), "FrozenRecord is a base of dataclasses only"
        for field, value in zip(fields(self), state, strict=True):
            object.__setattr__(self, field.name, value)
