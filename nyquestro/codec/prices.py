"""How prices look outside the engine: exact decimals of each instrument's tick."""

from collections.abc import Mapping
from decimal import Decimal

from nyquestro.domain.errors import InputError
from nyquestro.domain.ids import Px, Symbol
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.ticks import from_ticks, to_ticks


class DecimalPrices:
    """Convert between wire decimals and ticks, per symbol, exactly (never rounding)."""

    def __init__(self, instruments: Mapping[Symbol, Instrument]) -> None:
        self._ticks = {sym: inst.tick_size for sym, inst in instruments.items()}

    def tick(self, symbol: str, field: str) -> Decimal:
        tick = self._ticks.get(Symbol(symbol))
        if tick is None:
            known = ", ".join(sorted(self._ticks))
            raise InputError(field, symbol, f"a known symbol ({known})")
        return tick

    def to_ticks(self, symbol: str, value: object, field: str) -> Px:
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise InputError(field, value, 'a decimal string such as "101.25"')
        return to_ticks(value, self.tick(symbol, "symbol"), field)

    def to_wire(self, symbol: str, ticks: int) -> str:
        tick = self._ticks.get(Symbol(symbol))
        if tick is None:
            return str(ticks)
        return str(from_ticks(Px(ticks), tick))
