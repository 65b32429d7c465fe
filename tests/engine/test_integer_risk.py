"""The risk arithmetic in integers decides exactly as the decimal and fractional formulas
it replaced: variance thresholds, band widths, notional limits, and the VaR monitor and
gross-notional limit over symbols of different tick sizes (PnL in units of the finest
fraction of a price unit)."""

import random
import statistics
from dataclasses import replace
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from nyquestro.domain.events import Accepted, Configured, EventBase, KillSwitchSet, Rejected
from nyquestro.domain.ids import Account, Px, SessionKey, Symbol
from nyquestro.domain.reasons import RejectReason
from nyquestro.domain.risk import AccountRisk
from nyquestro.domain.ticks import from_ticks
from nyquestro.engine.arith import exceeds, product
from nyquestro.engine.monitor import RollingVariance, Threshold
from nyquestro.engine.risk import Rules, band_width, check_notional
from tests.engine.conftest import A1, A2, A3, S1, S2, Harness, make_instrument, of, one

S3 = SessionKey("FIX.4.4:CLIENT3->NYQ")
FINE, COARSE = Symbol("FINE"), Symbol("COARSE")
TICKS = {FINE: Fraction(1, 100), COARSE: Fraction(1, 4)}

positive_fractions = st.fractions(min_value=Fraction(1, 10**6), max_value=10**12)


@given(
    size=st.integers(min_value=2, max_value=25),
    samples=st.lists(st.integers(min_value=-(10**12), max_value=10**12), max_size=80),
    limit=positive_fractions,
    clear_at=st.integers(min_value=0, max_value=80),
)
def test_the_rolling_window_compares_its_variance_exactly(
    size: int, samples: list[int], limit: Fraction, clear_at: int
) -> None:
    window = RollingVariance(size)
    threshold = Threshold(limit)
    for i, sample in enumerate(samples):
        if i == clear_at:
            window.clear()
        window.add(sample)
        kept = samples[max(clear_at if i >= clear_at else 0, i - size + 1) : i + 1]
        expected = statistics.pvariance([Fraction(x) for x in kept]) if len(kept) > 1 else 0
        assert window.variance() == expected
        assert window.above(threshold) == (expected > limit)
        assert window.full == (len(kept) >= size)


# Around 2**53, where doubles stop being exact, and far beyond it.
wide = st.one_of(
    st.integers(0, 2**30),
    st.integers(2**53 - 2**20, 2**53 + 2**20),
    st.integers(0, 2**70),
)


@given(squares=wide, total=wide, negative=st.booleans(), n=st.integers(2, 5000), num=wide,
       den=wide.filter(bool))  # fmt: skip
def test_the_variance_comparison_is_exact_in_doubles_and_beyond(
    squares: int, total: int, negative: bool, n: int, num: int, den: int
) -> None:
    total = -total if negative else total
    expected = (squares * n - total * total) * den > num * n * n
    assert exceeds(squares, total, n, num, den) == expected


@given(a=st.integers(-(2**70), 2**70), b=st.integers(-(2**70), 2**70))
def test_a_product_is_the_product(a: int, b: int) -> None:
    assert product(a, b) == a * b


@given(value=st.integers(min_value=-(10**20), max_value=10**20), limit=positive_fractions)
def test_a_threshold_admits_exactly_what_is_at_most_it(value: int, limit: Fraction) -> None:
    assert Threshold(limit).admits(value) == (value <= limit)


decimal_limits = st.decimals(
    min_value=Decimal("0.001"), max_value=Decimal(10**6), places=3, allow_nan=False
)
tick_sizes = st.sampled_from(["0.01", "0.25", "0.05", "1", "0.0001"])


@given(pct=decimal_limits, ticks=st.none() | st.integers(1, 10**6), ref=st.integers(1, 10**9))
def test_the_band_width_is_the_decimal_percentage_rounded_down(
    pct: Decimal, ticks: int | None, ref: int
) -> None:
    inst = replace(make_instrument(), price_band_pct=pct, price_band_ticks=ticks)
    share = int((Decimal(ref) * pct / 100).to_integral_value(ROUND_FLOOR))
    expected = share if ticks is None else min(ticks, share)
    assert band_width(Rules(inst, frozenset(), units=1), ref) == expected


@given(limit=decimal_limits, tick=tick_sizes, px=st.integers(1, 10**9), qty=st.integers(1, 10**7))
def test_the_notional_limit_is_checked_as_the_decimal_product(
    limit: Decimal, tick: str, px: int, qty: int
) -> None:
    inst = replace(make_instrument(tick_size=tick), max_notional=limit)
    problem = check_notional(Rules(inst, frozenset(), units=1), px, qty)
    over = from_ticks(Px(px), Decimal(tick)) * qty > limit
    assert (problem is not None) == over
    if problem is not None:
        assert problem[0] is RejectReason.NOTIONAL_ABOVE_MAX


def two_ticks() -> Harness:
    return Harness(
        [make_instrument(FINE, tick_size="0.01"), make_instrument(COARSE, tick_size="0.25")]
    )


def trade(
    h: Harness, symbol: Symbol, px: int, qty: int, buyer: Account, seller: Account
) -> list[EventBase]:
    h.sell(qty, px, session=S3, account=seller, symbol=symbol)
    return h.buy(qty, px, session=S2, account=buyer, symbol=symbol)


def test_the_var_monitor_sums_pnl_over_symbols_of_different_tick_sizes() -> None:
    limit, size = Decimal("2500"), 5
    h = two_ticks()
    one(h.configure([AccountRisk(account=A1, max_pnl_variance=limit)], var_window=size),
        Configured)  # fmt: skip
    rng = random.Random(11)
    marks = {FINE: 10_000, COARSE: 400}  # 100.00 and 100.00
    trade(h, FINE, marks[FINE], 30, buyer=A1, seller=A3)  # long 30 FINE
    trade(h, COARSE, marks[COARSE], 20, buyer=A3, seller=A1)  # short 20 COARSE
    cost = {FINE: 30 * marks[FINE] * TICKS[FINE], COARSE: -20 * marks[COARSE] * TICKS[COARSE]}
    position = {FINE: 30, COARSE: -20}
    samples: list[Fraction] = []
    tripped = None
    for step in range(400):
        symbol = FINE if step % 3 else COARSE
        marks[symbol] += rng.randint(-3, 3) * (1 + step // 20)
        events = trade(h, symbol, marks[symbol], 1, buyer=A2, seller=A3)
        samples.append(sum(position[s] * marks[s] * TICKS[s] - cost[s] for s in TICKS))
        recent = samples[-size:]
        variance = statistics.pvariance(recent) if len(recent) == size else Fraction(0)
        assert bool(of(events, KillSwitchSet)) == (variance > Fraction(limit)), (step, recent)
        if variance > Fraction(limit):
            tripped = one(events, KillSwitchSet)
            break
    assert tripped is not None, "the generated marks never got wild enough"
    exact = Decimal(variance.numerator) / Decimal(variance.denominator)
    assert tripped.reason.startswith(f"VaR monitor: variance {exact} of account {A1}'s")


def test_the_gross_notional_limit_counts_each_symbol_at_its_own_tick_size() -> None:
    h = two_ticks()
    # Open orders: 10 FINE at 100.00 (1,000.00) and 4 COARSE at 100.25 (401.00).
    h.configure([AccountRisk(account=A1, max_gross_notional=Decimal("1601.00"))])
    one(h.buy(10, 10_000, session=S1, account=A1, symbol=FINE), Accepted)
    one(h.buy(4, 401, session=S1, account=A1, symbol=COARSE), Accepted)
    # 2 COARSE at 100.00 add 200.00: exactly at the limit, then one tick more is refused.
    one(h.buy(2, 400, session=S1, account=A1, symbol=COARSE), Accepted)
    refused = one(h.buy(1, 1, session=S1, account=A1, symbol=FINE), Rejected)
    assert refused.reason is RejectReason.GROSS_NOTIONAL_LIMIT
    assert "could reach 1601.01" in refused.text
    one(h.buy(1, 1, session=S1, account=A2, symbol=FINE), Accepted)  # not A1's limit
