"""How prices look outside the engine: exact decimals of each instrument's tick.

Most tick sizes are powers of ten (0.01, 1): for those, conversion is integer arithmetic on
the digits, a few times faster than `Decimal` division; other tick sizes (0.25, 1/64) go
through the exact `Decimal` path in `nyquestro.domain.ticks`. Both give the same answer.
"""

import re
from collections.abc import Mapping
from decimal import Decimal

from nyquestro.domain.errors import InputError
from nyquestro.domain.ids import Px, Symbol
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.ticks import from_ticks, to_ticks

_PLAIN = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")


def decimal_places(tick: Decimal) -> int | None:
    """k when the tick is 10^-k (k >= 0), else None."""
    sign, digits, exponent = tick.normalize().as_tuple()
    if sign or digits != (1,) or not isinstance(exponent, int) or exponent > 0:
        return None
    return -exponent


class DecimalPrices:
    """Convert between wire decimals and ticks, per symbol, exactly (never rounding)."""

    def __init__(self, instruments: Mapping[Symbol, Instrument]) -> None:
        self._ticks = {sym: inst.tick_size for sym, inst in instruments.items()}
        self._places = {sym: decimal_places(tick) for sym, tick in self._ticks.items()}

    def tick(self, symbol: str, field: str) -> Decimal:
        tick = self._ticks.get(Symbol(symbol))
        if tick is None:
            known = ", ".join(sorted(self._ticks))
            raise InputError(field, symbol, f"a known symbol ({known})")
        return tick

    def to_ticks(self, symbol: str, value: object, field: str) -> Px:
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise InputError(field, value, 'a decimal string such as "101.25"')
        tick = self.tick(symbol, "symbol")
        places = self._places[Symbol(symbol)]
        if places is not None and isinstance(value, str):
            plain = _PLAIN.fullmatch(value)
            if plain is not None and len(plain.group(3) or "") <= places:
                sign, whole, fraction = plain.groups()
                ticks = int(whole) * 10**places + int((fraction or "").ljust(places, "0") or 0)
                return Px(-ticks if sign else ticks)
        return to_ticks(value, tick, field)

    def to_wire(self, symbol: str, ticks: int) -> str:
        places = self._places.get(Symbol(symbol))
        if places is not None:
            if places == 0:
                return str(ticks)
            whole, fraction = divmod(abs(ticks), 10**places)
            return f"{'-' if ticks < 0 else ''}{whole}.{fraction:0{places}d}"
        tick = self._ticks.get(Symbol(symbol))
        if tick is None:
            return str(ticks)
        return str(from_ticks(Px(ticks), tick))
