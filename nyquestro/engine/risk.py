"""Pre-trade risk: fat-finger checks of one order against its instrument's limits.

Pure functions of the order, the instrument and the reference price; the engine calls
them after the static checks, with the book's last trade as the reference (else the
instrument's `band_reference`). Each returns a (reason, text) pair whose text names the
limit that was hit and the figures it was checked with, or None.
"""

from decimal import ROUND_FLOOR, Decimal

from nyquestro.domain.ids import Px
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.reasons import RejectReason
from nyquestro.domain.ticks import from_ticks
from nyquestro.engine.validation import Problem


def band_width(inst: Instrument, reference: int) -> int | None:
    """How many ticks a price may be from `reference` (None: no band configured)."""
    widths = []
    if inst.price_band_ticks is not None:
        widths.append(inst.price_band_ticks)
    if inst.price_band_pct is not None:
        share = Decimal(reference) * inst.price_band_pct / 100
        widths.append(int(share.to_integral_value(ROUND_FLOOR)))
    return min(widths) if widths else None


def check_band(
    inst: Instrument, px: int, reference: int | None, reference_name: str
) -> Problem | None:
    if reference is None:
        return None
    width = band_width(inst, reference)
    if width is None or abs(px - reference) <= width:
        return None
    lo, hi = (_price(inst, p) for p in (reference - width, reference + width))
    limits = []
    if inst.price_band_pct is not None:
        limits.append(f"price_band_pct {inst.price_band_pct}")
    if inst.price_band_ticks is not None:
        limits.append(f"price_band_ticks {inst.price_band_ticks}")
    text = (
        f"px {_price(inst, px)} is outside the price band of {inst.symbol}: {lo} to {hi} "
        f"({', '.join(limits)} around the {reference_name} {_price(inst, reference)})"
    )
    return RejectReason.PRICE_OUTSIDE_BAND, text


def check_notional(inst: Instrument, px: int | None, qty: int) -> Problem | None:
    """`px` is the order's price, or the reference for orders without one (None: skip)."""
    if inst.max_notional is None or px is None:
        return None
    price = from_ticks(Px(px), inst.tick_size)
    notional = price * qty
    if notional <= inst.max_notional:
        return None
    text = (
        f"notional {qty} x {price} = {notional} is above the max_notional "
        f"{inst.max_notional} of {inst.symbol}"
    )
    return RejectReason.NOTIONAL_ABOVE_MAX, text


def _price(inst: Instrument, px: int) -> Decimal:
    return from_ticks(Px(px), inst.tick_size)
