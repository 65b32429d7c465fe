"""The fast power-of-ten path must agree with the exact Decimal path, both ways."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nyquestro.codec.prices import DecimalPrices, decimal_places
from nyquestro.domain.errors import OffTickPrice
from nyquestro.domain.ids import Px, Symbol
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.ticks import from_ticks, to_ticks

TICKS = ["1", "0.1", "0.01", "0.0001", "10", "0.25", "0.015625", "0.05"]


def prices_for(tick: str) -> DecimalPrices:
    return DecimalPrices({Symbol("X"): Instrument(symbol=Symbol("X"), tick_size=Decimal(tick))})


@pytest.mark.parametrize(
    ("tick", "places"), [("1", 0), ("0.01", 2), ("0.0001", 4), ("10", None), ("0.25", None)]
)
def test_decimal_places_only_for_powers_of_ten_at_or_below_one(
    tick: str, places: int | None
) -> None:
    assert decimal_places(Decimal(tick)) == places


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(TICKS))
def test_to_wire_matches_the_decimal_rendering(ticks: int, tick: str) -> None:
    wire = prices_for(tick).to_wire("X", ticks)
    assert Decimal(wire) == from_ticks(Px(ticks), Decimal(tick))
    assert prices_for(tick).to_ticks("X", wire, "px") == ticks


@given(
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=99999),
    st.integers(min_value=0, max_value=5),
    st.booleans(),
    st.sampled_from(TICKS),
)
def test_to_ticks_agrees_with_the_exact_path(
    whole: int, fraction: int, width: int, negative: bool, tick: str
) -> None:
    text = f"{'-' if negative else ''}{whole}" + (f".{fraction:0{width}d}" if width else "")
    try:
        expected: int | None = to_ticks(text, Decimal(tick), "px")
    except OffTickPrice:
        expected = None
    try:
        got: int | None = prices_for(tick).to_ticks("X", text, "px")
    except OffTickPrice:
        got = None
    assert got == expected


def test_off_tick_still_raises_on_the_fast_path() -> None:
    with pytest.raises(OffTickPrice):
        prices_for("0.01").to_ticks("X", "190.005", "px")
