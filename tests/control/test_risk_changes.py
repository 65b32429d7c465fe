"""One risk change at a time (nyquestro.domain.risk): what the control plane's SetLimit and
SetRiskCheck check before they ask, and what the core applies."""

from decimal import Decimal

import pytest

from nyquestro.domain.ids import Account, Qty, SessionKey
from nyquestro.domain.risk import (
    AccountRisk,
    OrderLimits,
    RiskCheck,
    SessionRisk,
    limit_value,
    with_account_limit,
    with_check,
    with_session_limit,
)

A, S = Account("ACC"), SessionKey("FIX.4.4:NYQUESTRO->C1")


def test_values_are_whole_or_decimal_by_limit_and_empty_removes() -> None:
    assert limit_value("max_long", "10") == 10
    assert limit_value("max_notional", "2500.50") == Decimal("2500.50")
    assert limit_value("price_band_pct", "none") is None
    assert limit_value("max_qty", "") is None


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("max_lng", "1", "unknown limit 'max_lng': one of max_long, max_short"),
        ("max_qty", "1.5", "max_qty: expected a whole number > 0 (or none), got '1.5'"),
        ("max_qty", "0", "max_qty: expected a whole number > 0 (or none), got '0'"),
        ("max_notional", "-3", "max_notional: expected a decimal > 0 (or none), got '-3'"),
        ("max_notional", "NaN", "max_notional: expected a decimal > 0 (or none), got 'NaN'"),
        ("max_notional", "Infinity", "expected a decimal > 0 (or none), got 'Infinity'"),
    ],
)
def test_a_bad_value_is_named(name: str, text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        limit_value(name, text)
    assert message in str(raised.value)


def test_an_account_limit_changes_alone() -> None:
    current = AccountRisk(account=A, max_short=Qty(7), limits=OrderLimits(max_qty=Qty(5)))
    assert with_account_limit(current, A, "max_long", "100") == AccountRisk(
        account=A, max_long=Qty(100), max_short=Qty(7), limits=OrderLimits(max_qty=Qty(5))
    )
    assert with_account_limit(current, A, "max_qty", "") == AccountRisk(account=A, max_short=Qty(7))
    assert with_account_limit(None, A, "max_notional", "10") == AccountRisk(
        account=A, limits=OrderLimits(max_notional=Decimal(10))
    )


def test_a_session_has_order_limits_and_checks_only() -> None:
    assert with_session_limit(None, S, "price_band_ticks", "3") == SessionRisk(
        session=S, limits=OrderLimits(price_band_ticks=3)
    )
    with pytest.raises(ValueError, match="'max_long' is not a session limit"):
        with_session_limit(None, S, "max_long", "3")
    off = with_check(None, S, "position", enabled=False)
    assert off.off == frozenset({RiskCheck.POSITION})
    assert with_check(off, S, "position", enabled=True).off == frozenset()
    with pytest.raises(ValueError, match="unknown risk check 'speed': one of price_band"):
        with_check(None, S, "speed", enabled=False)
