"""Risk settings the engine enforces: per-account and per-session limits and switches.

They reach the engine only inside a `Configure` command, so every change is journaled
and a replay applies it at the same point in the stream as the live venue did.

Precedence of fat-finger limits (price band, max order quantity, max notional): a
session's override, else the account's, else the instrument's own. A check a session
switches off is not made for that session's orders at all.
"""

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from nyquestro.domain.ids import Account, Qty, SessionKey
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.pickling import FrozenRecord


class RiskCheck(StrEnum):
    """Checks a session can switch off (`[fix.sessions] risk_off` in the config)."""

    PRICE_BAND = "price_band"
    MAX_QTY = "max_qty"
    MAX_NOTIONAL = "max_notional"
    POSITION = "position"
    GROSS_NOTIONAL = "gross_notional"


UNLIMITED_QTY = Qty(2**62)
"""The max order quantity of a session whose max_qty check is off."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLimits(FrozenRecord):
    """Fat-finger limits replacing the instrument's (None: keep the instrument's)."""

    max_qty: Qty | None = None
    max_notional: Decimal | None = None
    price_band_pct: Decimal | None = None
    price_band_ticks: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_qty", "max_notional", "price_band_pct", "price_band_ticks"):
            limit = getattr(self, name)
            if limit is not None and limit <= 0:
                raise ValueError(f"{name} must be positive, got {limit}")

    def over(self, inst: Instrument) -> Instrument:
        """`inst` with these limits in place of its own."""
        changes = {
            name: value
            for name in ("max_qty", "max_notional", "price_band_pct", "price_band_ticks")
            if (value := getattr(self, name)) is not None
        }
        if "max_qty" in changes and changes["max_qty"] < inst.min_qty:
            changes["max_qty"] = inst.min_qty
        return replace(inst, **changes) if changes else inst


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountRisk(FrozenRecord):
    account: Account
    max_long: Qty | None = None
    """Largest long position per symbol, counting every open buy as if filled."""
    max_short: Qty | None = None
    max_gross_notional: Decimal | None = None
    """Largest sum over symbols of |position| x last trade plus open orders x their
    prices, in price units (each symbol's own price scale)."""
    max_pnl_variance: Decimal | None = None
    """VaR monitor: the kill switch trips when the variance of the account's
    marked-to-market PnL over the last `var_window` samples exceeds this."""
    limits: OrderLimits = field(default_factory=OrderLimits)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRisk(FrozenRecord):
    session: SessionKey
    limits: OrderLimits = field(default_factory=OrderLimits)
    off: frozenset[RiskCheck] = frozenset()
    """Checks not made for this session's orders."""


DEFAULT_VAR_WINDOW = 20


# --- one change at a time (the control plane's actions) -------------------------------------

ACCOUNT_LIMITS = ("max_long", "max_short", "max_gross_notional", "max_pnl_variance")
"""Limits of an account's positions and PnL (`AccountRisk`)."""
ORDER_LIMITS = ("max_qty", "max_notional", "price_band_pct", "price_band_ticks")
"""Fat-finger limits of an account's or a session's orders (`OrderLimits`)."""
_WHOLE = frozenset({"max_long", "max_short", "max_qty", "price_band_ticks"})


def limit_value(name: str, text: str) -> int | Decimal | None:
    """The value of limit `name` written as `text` ("" or "none": no limit); ValueError
    naming the limit and what it expects."""
    if name not in ACCOUNT_LIMITS and name not in ORDER_LIMITS:
        known = ", ".join((*ACCOUNT_LIMITS, *ORDER_LIMITS))
        raise ValueError(f"unknown limit {name!r}: one of {known}")
    if text in ("", "none"):
        return None
    whole = name in _WHOLE
    try:
        value: int | Decimal = int(text) if whole else Decimal(text)
    except (ArithmeticError, ValueError):
        value = 0
    # A NaN is tested first: comparing a Decimal NaN raises.
    if (isinstance(value, Decimal) and not value.is_finite()) or not value > 0:
        kind = "a whole number" if whole else "a decimal"
        raise ValueError(f"{name}: expected {kind} > 0 (or none), got {text!r}")
    return value


def with_account_limit(current: AccountRisk | None, account: Account, name: str,
                       text: str) -> AccountRisk:  # fmt: skip
    """`current` (None: none yet) with limit `name` set to `text` (see `limit_value`)."""
    change: dict[str, Any] = {name: limit_value(name, text)}
    risk = current if current is not None else AccountRisk(account=account)
    if name in ORDER_LIMITS:
        return replace(risk, limits=replace(risk.limits, **change))
    return replace(risk, **change)


def with_session_limit(current: SessionRisk | None, session: SessionKey, name: str,
                       text: str) -> SessionRisk:  # fmt: skip
    if name not in ORDER_LIMITS:
        raise ValueError(f"{name!r} is not a session limit: one of {', '.join(ORDER_LIMITS)}")
    change: dict[str, Any] = {name: limit_value(name, text)}
    risk = current if current is not None else SessionRisk(session=session)
    return replace(risk, limits=replace(risk.limits, **change))


def with_check(current: SessionRisk | None, session: SessionKey, check: str,
               enabled: bool) -> SessionRisk:  # fmt: skip
    """`current` with `check` made (enabled) or not made for the session's orders."""
    try:
        known = RiskCheck(check)
    except ValueError:
        names = ", ".join(c.value for c in RiskCheck)
        raise ValueError(f"unknown risk check {check!r}: one of {names}") from None
    risk = current if current is not None else SessionRisk(session=session)
    off = risk.off - {known} if enabled else risk.off | {known}
    return replace(risk, off=frozenset(off))
