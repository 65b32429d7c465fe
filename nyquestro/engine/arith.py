"""Integer arithmetic that stays on mypyc's fast paths.

A compiled `a * b` multiplies natively only when both operands are in [0, 2**30);
otherwise it goes through Python's generic number protocol and allocates the result.
The risk monitors multiply signed figures (PnL, positions) on every trade, so:

- `product` takes the signs out first, so small negative operands stay native;
- `exceeds` compares a ratio of products in doubles when every intermediate is an
  integer below 2**53, where doubles are exact, and in integers otherwise. Both give
  the same answer, bit for bit, on every platform with IEEE doubles.
"""

from typing import Final

# Final literals: mypyc compiles them into the code instead of looking them up.
_EXACT: Final = 9_007_199_254_740_992
"""2**53: every integer below this is a double, and so is any sum or product below it."""
_EXACT_F: Final = 9_007_199_254_740_992.0


def product(a: int, b: int) -> int:
    if a < 0:
        return -product(-a, b)
    if b < 0:
        return -(a * -b)
    return a * b


def exceeds(squares: int, total: int, n: int, num: int, den: int) -> bool:
    """Is (squares * n - total**2) / n**2, a population variance, above num / den?

    All arguments but `total` are non-negative."""
    if squares < _EXACT and -_EXACT < total < _EXACT and num < _EXACT and den < _EXACT:
        # Each product below 2**53 of integers below 2**53 is exact in doubles, and a
        # rounded product is below 2**53 only if the true one is: so if every result
        # checked here is below it, every one was computed exactly.
        spread = float(squares) * n
        square = float(total) * float(total)
        limit = float(num) * n * n
        if spread < _EXACT_F and square < _EXACT_F and limit < _EXACT_F:
            scaled = (spread - square) * den
            if scaled < _EXACT_F:
                return scaled > limit
    return (squares * n - total * total) * den > num * n * n
