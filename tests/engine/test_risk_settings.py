"""Risk settings by Configure: per-account and per-session overrides of the fat-finger
limits, checks a session switches off, the gross notional limit, and what a Configure
may not change while running."""

from dataclasses import replace
from decimal import Decimal

from nyquestro.domain.events import (
    Accepted,
    CancelRejected,
    Configured,
    OperatorRejected,
    Rejected,
    Replaced,
)
from nyquestro.domain.ids import Px, Qty
from nyquestro.domain.reasons import RejectReason
from nyquestro.domain.risk import AccountRisk, OrderLimits, RiskCheck, SessionRisk
from tests.engine.conftest import A1, A2, OTHER_SYM, S1, S2, SYM, Harness, make_instrument, one

REF = 10_000  # 100.00 at 0.01


def harness() -> Harness:
    base = replace(make_instrument(), band_reference=Px(REF), max_qty=Qty(1000))
    return Harness([replace(base, price_band_pct=Decimal("5")), make_instrument(OTHER_SYM)])


def test_an_account_override_replaces_the_instruments_limit_and_a_session_one_wins() -> None:
    h = harness()
    one(h.configure([AccountRisk(account=A1, limits=OrderLimits(max_qty=Qty(10)))]), Configured)
    one(h.buy(10, REF), Accepted)
    rejected = one(h.buy(11, REF), Rejected)
    assert rejected.reason is RejectReason.QTY_ABOVE_MAX
    assert "10" in rejected.text
    one(h.buy(11, REF, session=S2, account=A2), Accepted)  # other account: instrument's 1000
    h.configure(
        [AccountRisk(account=A1, limits=OrderLimits(max_qty=Qty(10)))],
        [SessionRisk(session=S1, limits=OrderLimits(max_qty=Qty(20)))],
    )
    one(h.buy(20, REF), Accepted)
    one(h.buy(21, REF), Rejected)


def test_band_and_notional_overrides_are_checked_just_inside_and_just_outside() -> None:
    h = harness()
    limits = OrderLimits(price_band_ticks=100, max_notional=Decimal("1010"))
    h.configure([AccountRisk(account=A1, limits=limits)])
    one(h.buy(1, REF + 100), Accepted)
    band = one(h.buy(1, REF + 101), Rejected)
    assert band.reason is RejectReason.PRICE_OUTSIDE_BAND
    assert "price_band_ticks 100" in band.text
    one(h.buy(10, REF + 100), Accepted)  # 10 x 101.00 = 1010
    notional = one(h.buy(10, REF + 99, cl="n"), Accepted)
    assert notional.qty == 10
    too_big = one(h.buy(11, REF), Rejected)  # 11 x 100.00 = 1100
    assert too_big.reason is RejectReason.NOTIONAL_ABOVE_MAX
    assert "max_notional 1010" in too_big.text


def test_a_session_can_switch_checks_off() -> None:
    h = harness()
    h.configure(
        [AccountRisk(account=A1, max_long=Qty(5))],
        [SessionRisk(session=S1, off=frozenset({RiskCheck.PRICE_BAND, RiskCheck.POSITION,
                                                 RiskCheck.MAX_QTY}))],
    )  # fmt: skip
    one(h.buy(2000, REF * 2), Accepted)  # far outside the band, above max_qty and max_long
    # The same account on another session meets every check.
    assert one(h.buy(1, REF * 2, session=S2), Rejected).reason is RejectReason.PRICE_OUTSIDE_BAND
    assert one(h.buy(1001, REF, session=S2), Rejected).reason is RejectReason.QTY_ABOVE_MAX
    assert one(h.buy(1, REF, session=S2), Rejected).reason is RejectReason.POSITION_LIMIT


def test_gross_notional_counts_positions_at_last_trade_and_open_orders_at_their_prices() -> None:
    h = harness()
    h.configure([AccountRisk(account=A1, max_gross_notional=Decimal("3000"))])
    one(h.buy(10, REF), Accepted)  # open 10 x 100.00 = 1000
    h.sell(10, REF, session=S2, account=A2)  # fills: position 10, marked at 100.00
    one(h.sell(5, REF + 50, cl="s"), Accepted)  # open sell 5 x 100.50 = 502.50
    one(h.buy(10, 125, symbol=OTHER_SYM), Accepted)  # 10 x 1.25 in the other symbol
    # 1000 + 502.50 + 12.50 = 1515.00; 15 x 99.00 = 1485.00 reaches exactly 3000.
    one(h.buy(15, REF - 100), Accepted)
    rejected = one(h.buy(1, REF - 100), Rejected)
    assert rejected.reason is RejectReason.GROSS_NOTIONAL_LIMIT
    assert rejected.text == (
        "order adds 99.00 of notional in XYZ: account ACC1's gross notional could reach "
        "3099.00 (positions at last trade, open orders at their prices), above its "
        "max_gross_notional 3000"
    )
    # A replace that adds notional is checked for what it adds; one that cuts it is not.
    assert one(h.replace("s", 6, REF + 50, cl="s2"), CancelRejected).reason is (
        RejectReason.GROSS_NOTIONAL_LIMIT
    )
    one(h.replace("s", 4, REF + 50, cl="s3"), Replaced)
    one(h.buy(1, REF - 100), Accepted)  # the 100.50 the replace released makes room


def test_configure_reports_each_change_and_refuses_what_cannot_change_live() -> None:
    h = harness()
    first = one(h.configure([AccountRisk(account=A1, max_long=Qty(5))]), Configured)
    assert first.changes == ("account ACC1: max_long None -> 5",)
    instruments = list(h.engine.instruments.values())
    wider = [replace(instruments[0], max_qty=Qty(2000)), *instruments[1:]]
    second = one(h.configure(instruments=wider), Configured)
    assert second.changes == (
        "instrument XYZ: max_qty 1000 -> 2000",
        "account ACC1: max_long 5 -> None",
    )
    finer = [replace(wider[0], tick_size=Decimal("0.001")), *wider[1:]]
    refused = one(h.configure(instruments=finer), OperatorRejected)
    assert refused.reason is RejectReason.NOT_LIVE_SETTING
    assert "tick size of XYZ" in refused.text
    one(h.configure(instruments=wider[:1]), OperatorRejected)
    assert h.engine.instruments[SYM].max_qty == 2000  # the refused ones changed nothing
    one(h.buy(2000, REF), Accepted)
