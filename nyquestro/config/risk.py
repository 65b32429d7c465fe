"""The `[risk]` part of the venue config: account limits, session overrides, monitors.

    [risk]
    var_window         samples the VaR monitor and the circuit breakers compute their
                       variance over (default 20, at least 2)

    [risk.accounts.ACCOUNT]
    max_long           largest long position per symbol, counting every open buy as if
                       filled (a whole number >= 0; default: no limit)
    max_short          the same for short positions and open sells
    max_gross_notional largest sum over symbols of |position| x last trade plus open
                       orders x their prices, e.g. "1000000" (default: no limit)
    max_pnl_variance   VaR monitor: the account's kill switch trips when the variance of
                       its marked-to-market PnL over the last var_window samples (one per
                       command that trades a symbol it holds) exceeds this, e.g. "2500"
    max_qty, max_notional, price_band_pct, price_band_ticks
                       fat-finger limits for this account's orders in place of each
                       instrument's own (see nyquestro/config/instruments.py)

    [risk.sessions.CLIENT_COMP_ID]
    max_qty, max_notional, price_band_pct, price_band_ticks
                       the same overrides for one client's sessions; they win over the
                       account's
    off                checks not made for this client's orders: a list of
                       "price_band", "max_qty", "max_notional", "position",
                       "gross_notional" (default [])

All of it can change while the venue runs (SIGHUP): a change is journaled as a Configure
command, so a replay applies it at the same point.
"""

from dataclasses import dataclass
from typing import Any

from nyquestro.config.instruments import (
    ConfigError,
    only_fields,
    positive_decimal,
    positive_int,
)
from nyquestro.domain.errors import InputError
from nyquestro.domain.ids import Account, Qty
from nyquestro.domain.risk import DEFAULT_VAR_WINDOW, AccountRisk, OrderLimits, RiskCheck


@dataclass(frozen=True, slots=True)
class RiskConfig:
    accounts: tuple[AccountRisk, ...] = ()
    sessions: tuple[tuple[str, OrderLimits, frozenset[RiskCheck]], ...] = ()
    """Per client CompID: its overrides and the checks it has off."""
    var_window: int = DEFAULT_VAR_WINDOW


_ORDER_LIMITS = ("max_qty", "max_notional", "price_band_pct", "price_band_ticks")
_ACCOUNT_FIELDS = {"max_long", "max_short", "max_gross_notional", "max_pnl_variance",
                   *_ORDER_LIMITS}  # fmt: skip


def risk_from(risk: Any) -> RiskConfig:
    try:
        return _risk(risk)
    except ConfigError:
        raise
    except InputError as exc:  # a decimal check from the domain, same field path
        raise ConfigError(exc.field, exc.value, exc.expected) from None


def _risk(risk: Any) -> RiskConfig:
    if not isinstance(risk, dict):
        raise ConfigError("risk", risk, "a table")
    only_fields(risk, "risk", {"accounts", "sessions", "var_window"})
    window = risk.get("var_window", DEFAULT_VAR_WINDOW)
    if isinstance(window, bool) or not isinstance(window, int) or window < 2:
        raise ConfigError("risk.var_window", window, "a whole number of samples >= 2")
    accounts = [
        _account(name, spec, f"risk.accounts.{name}")
        for name, spec in _tables(risk, "accounts").items()
    ]
    sessions = []
    for name, spec in _tables(risk, "sessions").items():
        where = f"risk.sessions.{name}"
        only_fields(spec, where, {"off", *_ORDER_LIMITS})
        sessions.append((name, _limits(spec, where), _off(spec, where)))
    return RiskConfig(tuple(accounts), tuple(sessions), window)


def _account(name: str, spec: dict[str, Any], where: str) -> AccountRisk:
    only_fields(spec, where, _ACCOUNT_FIELDS)
    bounds = []
    for field in ("max_long", "max_short"):
        value = spec.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 0):  # fmt: skip
            raise ConfigError(f"{where}.{field}", value, "a whole number >= 0")
        bounds.append(None if value is None else Qty(value))
    return AccountRisk(
        account=Account(name),
        max_long=bounds[0],
        max_short=bounds[1],
        max_gross_notional=positive_decimal(spec, "max_gross_notional", where),
        max_pnl_variance=positive_decimal(spec, "max_pnl_variance", where),
        limits=_limits(spec, where),
    )


def _limits(spec: dict[str, Any], where: str) -> OrderLimits:
    max_qty = positive_int(spec, "max_qty", None, where)
    return OrderLimits(
        max_qty=None if max_qty is None else Qty(max_qty),
        max_notional=positive_decimal(spec, "max_notional", where),
        price_band_pct=positive_decimal(spec, "price_band_pct", where),
        price_band_ticks=positive_int(spec, "price_band_ticks", None, where),
    )


def _off(spec: dict[str, Any], where: str) -> frozenset[RiskCheck]:
    names = spec.get("off", [])
    choices = ", ".join(check.value for check in RiskCheck)
    if not isinstance(names, list):
        raise ConfigError(f"{where}.off", names, f"a list of check names ({choices})")
    try:
        return frozenset(RiskCheck(name) for name in names)
    except ValueError:
        bad = next(name for name in names if name not in set(RiskCheck))
        raise ConfigError(f"{where}.off", bad, f"one of {choices}") from None


def _tables(risk: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    tables = risk.get(name, {})
    if not isinstance(tables, dict):
        raise ConfigError(f"risk.{name}", tables, "a table of tables")
    for key, spec in tables.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"risk.{name}.{key}", spec, "a table")
    return tables
