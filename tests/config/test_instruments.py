from decimal import Decimal

import pytest

from nyquestro.config.instruments import ConfigError, default_instruments, parse_instruments
from nyquestro.domain.enums import SmpPolicy


def test_default_set_has_equities_at_a_cent_and_a_coarse_future() -> None:
    by_symbol = {inst.symbol: inst for inst in default_instruments()}
    assert {"AAPL", "MSFT", "IBM", "ESZ6"} <= set(by_symbol)
    assert by_symbol["AAPL"].tick_size == Decimal("0.01")
    assert by_symbol["ESZ6"].tick_size == Decimal("0.25")
    assert by_symbol["ESZ6"].smp_policy is SmpPolicy.CANCEL_RESTING
    # 190.00 at a 0.01 tick is 19000 ticks: the reference is stored in ticks.
    assert by_symbol["AAPL"].band_reference == 19000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('tick_size = "0.01"\nlot_sise = 5', "instruments.X.lot_sise"),
        ("lot_size = 1", "instruments.X.tick_size"),
        ('tick_size = "-0.01"', "instruments.X.tick_size"),
        ('tick_size = "0.01"\nmin_qty = 10\nmax_qty = 5', "instruments.X.min_qty"),
        ('tick_size = "0.01"\nlot_size = 0', "instruments.X.lot_size"),
        ('tick_size = "0.01"\nsmp_policy = "shrug"', "instruments.X.smp_policy"),
        ('tick_size = "0.05"\nband_reference = "10.01"', "instruments.X.band_reference"),
        ('tick_size = "0.01"\nprice_band_pct = 5.0', "instruments.X.price_band_pct"),
        ('tick_size = "0.01"\nprice_band_pct = "0"', "instruments.X.price_band_pct"),
        ('tick_size = "0.01"\nprice_band_ticks = -3', "instruments.X.price_band_ticks"),
        ('tick_size = "0.01"\nprice_band_ticks = "3"', "instruments.X.price_band_ticks"),
        ('tick_size = "0.01"\nmax_notional = "-1"', "instruments.X.max_notional"),
        ('tick_size = "0.01"\nmax_notional = "lots"', "instruments.X.max_notional"),
    ],
)
def test_each_bad_field_is_named(body: str, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_instruments(f"[instruments.X]\n{body}\n", "test.toml")
    assert info.value.field == field
    assert field in str(info.value)


def test_empty_or_broken_files_are_rejected() -> None:
    with pytest.raises(ConfigError, match="instruments"):
        parse_instruments("", "empty.toml")
    with pytest.raises(ConfigError, match="valid TOML"):
        parse_instruments("[instruments.X", "broken.toml")


def test_risk_limits_are_read_exactly() -> None:
    text = (
        '[instruments.X]\ntick_size = "0.01"\nprice_band_pct = "2.5"\n'
        'price_band_ticks = 40\nmax_notional = "250000.00"\n'
    )
    [inst] = parse_instruments(text, "test.toml")
    assert (inst.price_band_pct, inst.price_band_ticks, inst.max_notional) == (
        Decimal("2.5"), 40, Decimal("250000.00"),
    )  # fmt: skip
    [plain] = parse_instruments('[instruments.X]\ntick_size = "0.01"\n', "test.toml")
    assert (plain.price_band_pct, plain.price_band_ticks, plain.max_notional) == (None,) * 3
