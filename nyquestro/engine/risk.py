"""Pre-trade risk: fat-finger checks of one order against its instrument's limits.

Pure functions of the order, the limits and the reference price; the engine calls them
after the static checks, with the book's last trade as the reference (else the
instrument's `band_reference`). Each returns a (reason, text) pair whose text names the
limit that was hit and the figures it was checked with, or None.

The limits are decimals in the config; `Rules` turns each into a ratio of integers once,
so a check is a few integer multiplications. Decimals appear only in the text of a
reject (decimal arithmetic made every order several times dearer).
"""

from decimal import Decimal
from fractions import Fraction

from nyquestro.domain.ids import Px
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.reasons import RejectReason
from nyquestro.domain.risk import AccountRisk, RiskCheck
from nyquestro.domain.ticks import from_ticks
from nyquestro.engine.holdings import AccountHoldings
from nyquestro.engine.monitor import Threshold
from nyquestro.engine.positions import Exposure
from nyquestro.engine.validation import Problem


class Rules:
    """What one account's orders on one session meet in one symbol: the instrument's
    limits with the overrides applied (`inst`), which checks are on, the account's own
    limits, and each limit as the integers its check compares."""

    __slots__ = (
        "account",
        "band_den",
        "band_num",
        "band_on",
        "exposure",
        "gross",
        "gross_on",
        "holdings",
        "inst",
        "notional_den",
        "notional_num",
        "notional_on",
        "position_on",
        "units",
    )

    def __init__(
        self,
        inst: Instrument,
        off: frozenset[RiskCheck],
        units: int,
        account: AccountRisk | None = None,
        holdings: AccountHoldings | None = None,
        pnl_unit: int = 1,
    ) -> None:
        self.inst = inst
        # Asked once here: a StrEnum hashes through interpreted code, too dear per order.
        self.band_on = RiskCheck.PRICE_BAND not in off
        self.notional_on = RiskCheck.MAX_NOTIONAL not in off
        self.position_on = RiskCheck.POSITION not in off
        self.gross_on = RiskCheck.GROSS_NOTIONAL not in off
        self.units = units
        """PnL units in one tick of this symbol (see `Engine`)."""
        self.account = account
        """The account's limits; None: it has none (no position or gross check)."""
        self.holdings = holdings
        """The account's positions over all symbols, for the gross notional check."""
        self.exposure: Exposure | None = None
        """The account's exposure in this symbol, once the position check has made it
        (exposures are never dropped)."""
        self.gross: Threshold | None = None
        """max_gross_notional in PnL units."""
        if account is not None and account.max_gross_notional is not None:
            self.gross = Threshold(Fraction(account.max_gross_notional) * pnl_unit)
        band: Fraction | None = None
        if inst.price_band_pct is not None:
            band = Fraction(inst.price_band_pct) / 100
        self.band_num: int | None = None if band is None else band.numerator
        self.band_den = 1 if band is None else band.denominator
        """The percentage band as a share of the reference: num / den."""
        notional: Fraction | None = None
        if inst.max_notional is not None:
            notional = Fraction(inst.max_notional) / Fraction(inst.tick_size)
        self.notional_num: int | None = None if notional is None else notional.numerator
        self.notional_den = 1 if notional is None else notional.denominator
        """max_notional in ticks x quantity: num / den."""


def band_width(rules: Rules, reference: int) -> int | None:
    """How many ticks a price may be from `reference` (None: no band configured)."""
    width = rules.inst.price_band_ticks
    band_num = rules.band_num
    if band_num is not None:
        # Rounded down: the band never admits a price beyond the percentage.
        share = reference * band_num // rules.band_den
        width = share if width is None else min(width, share)
    return width


def check_band(rules: Rules, px: int, reference: int | None, reference_name: str) -> Problem | None:
    if reference is None:
        return None
    width = band_width(rules, reference)
    if width is None or abs(px - reference) <= width:
        return None
    inst = rules.inst
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


def check_notional(rules: Rules, px: int | None, qty: int) -> Problem | None:
    """`px` is the order's price, or the reference for orders without one (None: skip)."""
    limit = rules.notional_num
    if limit is None or px is None or px * qty * rules.notional_den <= limit:
        return None
    inst = rules.inst
    price = from_ticks(Px(px), inst.tick_size)
    notional = price * qty
    text = (
        f"notional {qty} x {price} = {notional} is above the max_notional "
        f"{inst.max_notional} of {inst.symbol}"
    )
    return RejectReason.NOTIONAL_ABOVE_MAX, text


def _price(inst: Instrument, px: int) -> Decimal:
    return from_ticks(Px(px), inst.tick_size)
