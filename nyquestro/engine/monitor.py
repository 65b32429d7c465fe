"""Rolling variance, for the VaR monitor (accounts) and the circuit breakers (symbols).

A window keeps the last n samples and running sums of them and of their squares, so a
new sample costs O(1). Samples are exact (ints or fractions of price units), so the
variance is exact too and a replay trips at exactly the same command.
"""

from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction

from mypy_extensions import mypyc_attr

Sample = int | Fraction


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class RollingVariance:
    size: int
    samples: deque[Sample] = field(default_factory=deque)
    total: Sample = 0
    squares: Sample = 0

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)
        self.total += sample
        self.squares += sample * sample
        if len(self.samples) > self.size:
            old = self.samples.popleft()
            self.total -= old
            self.squares -= old * old

    @property
    def full(self) -> bool:
        return len(self.samples) >= self.size

    def variance(self) -> Fraction:
        """Population variance of the samples held (0 with fewer than two)."""
        n = len(self.samples)
        if n < 2:
            return Fraction(0)
        return Fraction(self.squares * n - self.total * self.total, n * n)

    def clear(self) -> None:
        self.samples.clear()
        self.total = self.squares = 0
