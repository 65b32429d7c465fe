"""Load instrument definitions from TOML into `Instrument` values.

Fields of `[instruments.SYMBOL]` (decimals are written as strings, so no binary float
ever touches a price):

    tick_size         required: the price increment, e.g. "0.01"
    lot_size          quantities are multiples of this (default 1)
    min_qty, max_qty  per-order quantity bounds (defaults: lot_size, 1000000)
    band_reference    reference price for the fat-finger band until the first trade
    smp_policy        self-match policy for orders that name none (default
                      "cancel_incoming"; see nyquestro.domain.enums.SmpPolicy)
    price_band_pct    fat-finger band: a limit price may be at most this percentage away
                      from the last trade (else band_reference), e.g. "5"
    price_band_ticks  the same band in ticks; with both, the narrower applies
    max_notional      largest price x quantity of one order, e.g. "250000.00"
    max_price_variance
                      circuit breaker: the symbol halts when the variance of its last
                      [risk] var_window trade prices (price units squared) exceeds this,
                      e.g. "0.25"; trading resumes only by `nyquestro resume SYMBOL`

Without a band or a reference there is no price band; without max_notional no notional
limit. Errors name the field path (`instruments.AAPL.tick_size`), the value and what was
expected, so a typo in a config file is found without reading code.
"""

import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, overload

from nyquestro.domain.enums import SmpPolicy
from nyquestro.domain.errors import InputError
from nyquestro.domain.ids import Qty, Symbol
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.ticks import parse_decimal, to_ticks

_KNOWN_FIELDS = {
    "tick_size", "lot_size", "min_qty", "max_qty", "band_reference", "smp_policy",
    "price_band_pct", "price_band_ticks", "max_notional", "max_price_variance",
}  # fmt: skip


class ConfigError(InputError):
    """A configuration value is missing or invalid."""


def default_instruments() -> list[Instrument]:
    """The demo instruments of the shipped venue config."""
    text = resources.files("nyquestro.config").joinpath("default_venue.toml").read_text()
    return parse_instruments(text, "default_venue.toml")


def load_instruments(path: Path) -> list[Instrument]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), path, f"a readable TOML file ({exc.strerror})") from None
    return parse_instruments(text, str(path))


def parse_instruments(text: str, source: str) -> list[Instrument]:
    return instruments_from(parse_toml(text, source).get("instruments"))


def parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "<file>", f"valid TOML ({exc})") from None


def instruments_from(table: Any) -> list[Instrument]:
    """Instruments from the `[instruments.SYMBOL]` tables of a parsed config."""
    if not isinstance(table, dict) or not table:
        raise ConfigError("instruments", table, "a table with at least one [instruments.SYMBOL]")
    try:
        return [_instrument(symbol, spec) for symbol, spec in table.items()]
    except ConfigError:
        raise
    except InputError as exc:  # a decimal or price check from the domain, same field path
        raise ConfigError(exc.field, exc.value, exc.expected) from None


def _instrument(symbol: str, spec: Any) -> Instrument:
    where = f"instruments.{symbol}"
    if not isinstance(spec, dict):
        raise ConfigError(where, spec, "a table")
    only_fields(spec, where, _KNOWN_FIELDS)
    if "tick_size" not in spec:
        raise ConfigError(f"{where}.tick_size", None, 'a decimal string such as "0.01"')
    tick = parse_decimal(
        _decimal_text(spec["tick_size"], f"{where}.tick_size"), f"{where}.tick_size"
    )
    if tick <= 0:
        raise ConfigError(f"{where}.tick_size", spec["tick_size"], "a positive decimal")
    lot = positive_int(spec, "lot_size", 1, where)
    min_qty = positive_int(spec, "min_qty", lot, where)
    max_qty = positive_int(spec, "max_qty", 1_000_000, where)
    if min_qty > max_qty:
        raise ConfigError(f"{where}.min_qty", min_qty, f"at most max_qty ({max_qty})")
    band = spec.get("band_reference")
    band_px = None
    if band is not None:
        field = f"{where}.band_reference"
        band_px = to_ticks(_decimal_text(band, field), tick, field)
    policy_text = spec.get("smp_policy", SmpPolicy.CANCEL_INCOMING.value)
    try:
        policy = SmpPolicy(policy_text)
    except ValueError:
        choices = ", ".join(p.value for p in SmpPolicy)
        raise ConfigError(f"{where}.smp_policy", policy_text, f"one of {choices}") from None
    return Instrument(
        symbol=Symbol(symbol),
        tick_size=tick,
        lot_size=Qty(lot),
        min_qty=Qty(min_qty),
        max_qty=Qty(max_qty),
        band_reference=band_px,
        smp_policy=policy,
        price_band_pct=positive_decimal(spec, "price_band_pct", where),
        price_band_ticks=positive_int(spec, "price_band_ticks", None, where),
        max_notional=positive_decimal(spec, "max_notional", where),
        max_price_variance=positive_decimal(spec, "max_price_variance", where),
    )


def listen_address(table: dict[str, Any], where: str) -> tuple[int, str]:
    """A TCP server's `port` (required) and `host` (default 127.0.0.1: this machine only)
    in table `where`."""
    port = table.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"{where}.port", port, "an integer port number between 1 and 65535")
    host = table.get("host", "127.0.0.1")
    if not isinstance(host, str) or not host:
        raise ConfigError(f"{where}.host", host, "a non-empty host name or address")
    return port, host


def only_fields(table: dict[str, Any], where: str, known: set[str]) -> None:
    """Refuse the first unknown field of `table` (a typo must not pass as a default)."""
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", table[unknown[0]], "a known field")


def positive_decimal(spec: dict[str, Any], name: str, where: str) -> Decimal | None:
    if name not in spec:
        return None
    field = f"{where}.{name}"
    value = parse_decimal(_decimal_text(spec[name], field), field)
    if value <= 0:
        raise ConfigError(field, spec[name], "a positive decimal")
    return value


def _decimal_text(value: Any, field: str) -> str | int | Decimal:
    # TOML floats are binary: "0.1" written as 0.1 would already be inexact.
    if isinstance(value, str | int) and not isinstance(value, bool):
        return value
    raise ConfigError(field, value, 'a decimal written as a string, e.g. "0.01"')


@overload
def positive_int(spec: dict[str, Any], name: str, default: int, where: str) -> int: ...
@overload
def positive_int(spec: dict[str, Any], name: str, default: None, where: str) -> int | None: ...
def positive_int(spec: dict[str, Any], name: str, default: int | None, where: str) -> int | None:
    value = spec.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where}.{name}", value, "a positive integer")
    return value
