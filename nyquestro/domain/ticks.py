"""Exact conversion between wire decimals and integer ticks.

An off-tick price is an error, never rounded: a venue that silently rounds would
certify a client that sends bad prices. See docs/adr/0002-ticks-and-value-types.md.
"""

import re
from decimal import Context, Decimal, Inexact, InvalidOperation

from nyquestro.domain.errors import InputError, OffTickPrice
from nyquestro.domain.ids import Px

# The FIX "float" grammar: ASCII digits, optional sign and point, no exponent. Python's
# Decimal also takes underscores, non-ASCII digits and exponents, which no FIX peer sends.
_WIRE_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")

# Precision far beyond any price a venue quotes, and Inexact trapped, so a division
# that cannot be represented exactly raises instead of rounding.
_EXACT = Context(prec=60, traps=[Inexact, InvalidOperation])


def parse_decimal(text: object, field: str) -> Decimal:
    """Parse a wire decimal; rejects floats, NaN, infinities and garbage.

    It takes any object, not just the types it accepts: this is the door through which
    bad input comes out as `InputError`, and a compiled core would otherwise refuse a
    float or a None at the call with a bare `TypeError`.
    """
    if isinstance(text, (bool, float)):
        raise InputError(field, text, "a decimal string or an integer, never a float")
    if not isinstance(text, (str, int, Decimal)):
        raise InputError(field, text, "a decimal string or an integer")
    if isinstance(text, str) and not _WIRE_DECIMAL.fullmatch(text):
        raise InputError(field, text, "a decimal number such as 101.25 (digits, '-', '.')")
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError, TypeError):
        raise InputError(field, text, "a decimal number") from None
    if not value.is_finite():
        raise InputError(field, text, "a finite decimal number")
    return value


def to_ticks(price: object, tick_size: Decimal, field: str = "price") -> Px:
    """Convert a wire price to ticks; raises `OffTickPrice` unless it is exactly on the grid."""
    value = parse_decimal(price, field)
    try:
        ticks = _EXACT.divide(value, tick_size)
    except Inexact:
        raise OffTickPrice(field, price, f"a multiple of the tick size {tick_size}") from None
    if ticks != ticks.to_integral_value():
        raise OffTickPrice(field, price, f"a multiple of the tick size {tick_size}")
    return Px(int(ticks))


def from_ticks(px: Px, tick_size: Decimal) -> Decimal:
    """The exact decimal price of `px` ticks, normalised to the tick size's exponent."""
    return _EXACT.multiply(Decimal(px), tick_size)
