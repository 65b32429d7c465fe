"""PnL per account and symbol, the circuit breakers (variance of a symbol's trade
prices) and the VaR monitor (variance of an account's marked-to-market PnL), each
checked against an independent computation over a generated price path."""

import random
import statistics
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    Configured,
    EventBase,
    Halted,
    KillSwitchSet,
    Rejected,
    Resumed,
)
from nyquestro.domain.ids import Account, SessionKey
from nyquestro.domain.reasons import CancelReason, RejectReason
from nyquestro.domain.risk import AccountRisk
from tests.engine.conftest import A1, A2, A3, S1, S2, SYM, Harness, make_instrument, of, one

S3 = SessionKey("FIX.4.4:CLIENT3->NYQ")
TICK = Fraction(1, 100)


def trade(h: Harness, px: int, qty: int = 1, buyer: Account = A2, seller: Account = A3) -> (
    list[EventBase]
):  # fmt: skip
    """One trade at `px` between two accounts; returns the aggressing command's events."""
    h.sell(qty, px, session=S3, account=seller)
    return h.buy(qty, px, session=S2, account=buyer)


def price_path(seed: int, length: int) -> list[int]:
    """A random walk in ticks around 100.00 whose steps grow: calm, then wild."""
    rng = random.Random(seed)
    px, path = 10_000, []
    for i in range(length):
        px += rng.randint(-1, 1) * (1 + i // 10) * 5
        path.append(px)
    return path


def test_pnl_is_realised_fifo_and_marked_to_the_last_trade() -> None:
    h = Harness()
    trade(h, 10_000, 10, buyer=A1)  # long 10 at 100.00
    trade(h, 10_200, 10, buyer=A1)  # and 10 at 102.00
    assert h.engine.pnl(A1, SYM) == (Decimal(0), Decimal(20))  # 10 x 2.00 on the first lot
    trade(h, 10_300, 5, seller=A1)  # sells 5 at 103.00 out of the oldest lot: 5 x 3.00
    assert h.engine.exposure(A1, SYM)[0] == 15
    assert h.engine.pnl(A1, SYM) == (Decimal(15), Decimal(25))  # 5 x 3.00 + 10 x 1.00
    trade(h, 9_900, 25, seller=A1)  # at 99.00: closes 5 (-5.00), 10 (-30.00), short 10
    assert h.engine.exposure(A1, SYM)[0] == -10
    assert h.engine.pnl(A1, SYM) == (Decimal(-20), Decimal(0))
    trade(h, 10_000, 1)  # the mark moves to 100.00: the short loses 10
    assert h.engine.pnl(A1, SYM) == (Decimal(-20), Decimal(-10))
    trade(h, 9_800, 10, buyer=A1)  # buys the short back at 98.00: 10 x 1.00
    assert h.engine.pnl(A1, SYM) == (Decimal(-10), Decimal(0))
    assert h.engine.pnl(A2, SYM)[0] == Decimal(0)


def test_the_circuit_breaker_halts_when_the_price_variance_crosses_its_limit() -> None:
    limit, window = Decimal("0.02"), 8
    inst = replace(make_instrument(), max_price_variance=limit)
    h = Harness([inst])
    one(h.configure(var_window=window), Configured)
    path = price_path(3, 200)
    halted = None
    for i, px in enumerate(path):
        events = trade(h, px)
        recent = [Fraction(p) * TICK for p in path[max(0, i - window + 1) : i + 1]]
        expected = len(recent) == window and statistics.pvariance(recent) > Fraction(limit)
        assert bool(of(events, Halted)) == expected, (i, recent)
        if expected:
            halted = one(events, Halted)
            break
    assert halted is not None, "the generated path never got wild enough"
    assert halted.reason.startswith("circuit breaker: variance ")
    assert f"max_price_variance {limit} of XYZ" in halted.reason
    assert one(h.buy(1, 10_000, session=S2, account=A2), Rejected).reason is (
        RejectReason.SYMBOL_HALTED
    )
    one(h.resume(), Resumed)
    # Released by the operator, the breaker starts a fresh window.
    for px in path[:window]:
        assert not of(trade(h, px), Halted)


def test_the_var_monitor_trips_the_accounts_kill_switch() -> None:
    limit, window = Decimal("40"), 6
    h = Harness()
    one(h.configure([AccountRisk(account=A1, max_pnl_variance=limit)], var_window=window),
        Configured)  # fmt: skip
    trade(h, 10_000, 20, buyer=A1)  # long 20 at 100.00: PnL 20 x (mark - 100)
    h.buy(1, 9_000, cl="resting")  # an open order the kill switch will cancel
    samples = [Fraction(0)]
    tripped = None
    for px in price_path(7, 300):
        events = trade(h, px)
        samples.append(20 * (Fraction(px) * TICK - 100))
        recent = samples[-window:]
        expected = len(recent) == window and statistics.pvariance(recent) > Fraction(limit)
        assert bool(of(events, KillSwitchSet)) == expected, recent
        if expected:
            tripped = events
            break
    assert tripped is not None, "the generated path never got wild enough"
    switch = one(tripped, KillSwitchSet)
    assert switch.engaged and switch.account == A1 and switch.cancelled == 1
    assert switch.reason.startswith("VaR monitor: variance ")
    assert f"above its max_pnl_variance {limit}" in switch.reason
    assert one(tripped, Cancelled).reason is CancelReason.KILL_SWITCH
    refused = one(h.buy(1, 9_000, session=S1), Rejected)
    assert refused.reason is RejectReason.KILL_SWITCH
    assert "VaR monitor" in refused.text
    one(h.buy(1, 9_000, session=S2, account=A2), Accepted)  # other accounts trade on
