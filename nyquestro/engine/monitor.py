"""Rolling variance, for the VaR monitor (accounts) and the circuit breakers (symbols).

A window keeps the last n samples and running sums of them and of their squares, so a
new sample costs O(1). Samples are integers (trade prices in ticks; PnL in units of the
venue's finest price fraction, see `Engine`), so the sums are exact, a threshold is
compared by cross-multiplying integers, and a replay trips at exactly the same command.
Python's `Fraction` gave the same answers but made a trade with 64 monitored accounts
cost a millisecond; it now appears only in the text of a trip.
"""

from dataclasses import dataclass, field
from fractions import Fraction

from mypy_extensions import mypyc_attr

from nyquestro.engine.arith import exceeds, product
from nyquestro.engine.holdings import AccountHoldings


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class RollingVariance:
    size: int
    samples: list[int] = field(default_factory=list)
    """A ring of the last `size` samples; once full, `oldest` is where the next goes."""
    oldest: int = 0
    total: int = 0
    squares: int = 0

    def add(self, sample: int) -> None:
        # A list used as a ring, not a deque: mypyc indexes a list natively but calls a
        # deque's methods the slow generic way, and this runs per monitored account per trade.
        samples = self.samples
        if len(samples) < self.size:
            samples.append(sample)
        else:
            old = samples[self.oldest]
            samples[self.oldest] = sample
            self.oldest = (self.oldest + 1) % self.size
            self.total -= old
            self.squares -= product(old, old)
        self.total += sample
        self.squares += product(sample, sample)

    @property
    def full(self) -> bool:
        return len(self.samples) >= self.size

    def above(self, limit: "Threshold") -> bool:
        """Is the population variance of the samples above `limit` (sample units²)?"""
        n = len(self.samples)
        if n < 2:  # a variance of 0, and thresholds are positive
            return False
        return exceeds(self.squares, self.total, n, limit.num, limit.den)

    def variance(self) -> Fraction:
        """Population variance of the samples held (0 with fewer than two)."""
        n = len(self.samples)
        if n < 2:
            return Fraction(0)
        return Fraction(self.squares * n - self.total * self.total, n * n)

    def clear(self) -> None:
        self.samples.clear()
        self.oldest = self.total = self.squares = 0


class Threshold:
    """A positive rational threshold as numerator and denominator, for `above`."""

    __slots__ = ("den", "num")

    def __init__(self, value: Fraction) -> None:
        self.num = value.numerator
        self.den = value.denominator

    def admits(self, value: int) -> bool:
        """Is `value` at most the threshold?"""
        # Most thresholds are whole numbers: no multiplication, which leaves mypyc's fast
        # path once a product passes 2**30.
        return value <= self.num if self.den == 1 else value * self.den <= self.num


class AccountMonitor:
    """The VaR monitor of one account: its PnL window, its threshold in PnL units², and
    the positions it marks."""

    __slots__ = ("holdings", "threshold", "window")

    def __init__(
        self, holdings: AccountHoldings, window: RollingVariance, threshold: Threshold
    ) -> None:
        self.holdings = holdings
        self.window = window
        self.threshold = threshold
