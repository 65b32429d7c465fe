"""Exception hierarchy.

Business outcomes (a bad order, an unknown cancel) are events, not exceptions. The two
exception families here say whose fault a failure is:

- `InputError`: the caller handed over a value that cannot be represented (a price off
  the tick grid, a non-numeric decimal). Gateways turn it into a protocol-level reject.
- `InvariantViolation`: the engine's own state broke a rule that must always hold. It is
  fatal: the process must stop rather than publish events from a corrupt book.
"""

from mypy_extensions import mypyc_attr


# Subclassed outside the compiled core (the config and the journal errors): a compiled
# class refuses interpreted subclasses unless it allows them.
@mypyc_attr(allow_interpreted_subclasses=True)
class NyquestroError(Exception):
    """Base of every exception Nyquestro raises on purpose."""


@mypyc_attr(allow_interpreted_subclasses=True)
class InputError(NyquestroError, ValueError):
    """A value from outside the engine cannot be represented; names the offending field."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        super().__init__(f"{field}: {value!r} is not valid; expected {expected}")
        self.field = field
        self.value = value
        self.expected = expected


class OffTickPrice(InputError):
    """A wire price that is not an exact multiple of the instrument's tick size."""


class InvariantViolation(NyquestroError):
    """A rule the engine guarantees was broken. Fatal."""


class SequenceRegression(InvariantViolation):
    """A command arrived with a sequence number not above the previous one."""


class CrossedBook(InvariantViolation):
    """Best bid at or above best ask after a command completed."""
