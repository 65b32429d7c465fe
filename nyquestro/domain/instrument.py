"""Static description of a tradable instrument.

Loaded from TOML by the caller (`nyquestro.config.instruments`); the engine receives
ready-made `Instrument` values and never reads a file.
"""

from dataclasses import dataclass
from decimal import Decimal

from nyquestro.domain.enums import SmpPolicy
from nyquestro.domain.ids import Px, Qty, Symbol
from nyquestro.domain.pickling import FrozenRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument(FrozenRecord):
    symbol: Symbol
    tick_size: Decimal
    """Price increment; every price of this instrument is an integer number of ticks."""
    lot_size: Qty = Qty(1)
    """Order quantities must be multiples of this."""
    min_qty: Qty = Qty(1)
    max_qty: Qty = Qty(1_000_000)
    band_reference: Px | None = None
    """Reference price (ticks) for price bands before the first trade."""
    smp_policy: SmpPolicy = SmpPolicy.CANCEL_INCOMING
    """Self-match policy for orders that do not name one."""
    price_band_pct: Decimal | None = None
    """Fat-finger band: a limit price may be at most this percentage away from the
    reference (the last trade, else `band_reference`). None: no percentage band."""
    price_band_ticks: int | None = None
    """The same band as a number of ticks; with both, the narrower one applies."""
    max_notional: Decimal | None = None
    """Largest price x quantity of one order, in price units (market and pegged orders
    are valued at the reference price). None: no limit."""
    max_price_variance: Decimal | None = None
    """Circuit breaker: the book halts when the variance of its last `var_window` trade
    prices (in price units squared) exceeds this. None: no circuit breaker."""

    def __post_init__(self) -> None:
        if self.tick_size <= 0:
            raise ValueError(f"{self.symbol}: tick_size must be positive, got {self.tick_size}")
        if self.lot_size <= 0:
            raise ValueError(f"{self.symbol}: lot_size must be positive, got {self.lot_size}")
        for name in ("price_band_pct", "price_band_ticks", "max_notional", "max_price_variance"):
            limit = getattr(self, name)
            if limit is not None and limit <= 0:
                raise ValueError(f"{self.symbol}: {name} must be positive, got {limit}")
        if not 0 < self.min_qty <= self.max_qty:
            raise ValueError(
                f"{self.symbol}: need 0 < min_qty <= max_qty, got {self.min_qty}, {self.max_qty}"
            )
