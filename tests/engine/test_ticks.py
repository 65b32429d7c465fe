"""Wire decimals <-> integer ticks: exact both ways, never rounding, never a float."""

from decimal import Context, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nyquestro.domain.errors import InputError, OffTickPrice
from nyquestro.domain.ids import Px
from nyquestro.domain.ticks import from_ticks, to_ticks

TICK_SIZES = ["0.01", "0.25", "0.0001", "0.05", "1", "5"]


@pytest.mark.parametrize(
    ("price", "tick", "ticks"),
    [
        ("100.25", "0.01", 10025),
        ("100", "0.01", 10000),
        ("100.00", "0.01", 10000),
        ("0.01", "0.01", 1),
        ("6000.25", "0.25", 24001),
        ("6000.75", "0.25", 24003),
        ("0.0001", "0.0001", 1),
        ("1.2345", "0.0001", 12345),
        ("0.35", "0.05", 7),
        ("15", "5", 3),
        ("123456789012345.67", "0.01", 12345678901234567),
        (100, "0.01", 10000),
        (Decimal("19.05"), "0.01", 1905),
    ],
)
def test_on_tick_prices_convert_exactly(price: str | int | Decimal, tick: str, ticks: int) -> None:
    result = to_ticks(price, Decimal(tick))
    assert result == ticks
    assert type(result) is int


@pytest.mark.parametrize(
    ("ticks", "tick", "text"),
    [
        (10025, "0.01", "100.25"),
        (10000, "0.01", "100.00"),
        (1, "0.01", "0.01"),
        (24001, "0.25", "6000.25"),
        (12345, "0.0001", "1.2345"),
        (3, "5", "15"),
    ],
)
def test_from_ticks_is_exact_at_the_tick_exponent(ticks: int, tick: str, text: str) -> None:
    value = from_ticks(Px(ticks), Decimal(tick))
    assert isinstance(value, Decimal)
    # The string form matters: it is what goes on the wire (100.00, not 100 or 1E+2).
    assert str(value) == text


@pytest.mark.parametrize(
    ("price", "tick"),
    [
        ("100.255", "0.01"),
        ("100.005", "0.01"),
        ("100.001", "0.01"),
        ("6000.10", "0.25"),
        ("6000.30", "0.25"),
        ("0.00001", "0.0001"),
        ("0.36", "0.05"),
        ("7", "5"),
        # Far below any rounding precision: a rounding implementation would accept it.
        ("1.0000000000000000000000000000000000001", "0.01"),
        ("99.999999999999999999999999999", "0.01"),
    ],
)
def test_off_tick_prices_raise_instead_of_rounding(price: str, tick: str) -> None:
    with pytest.raises(OffTickPrice) as info:
        to_ticks(price, Decimal(tick), field="px")
    assert info.value.field == "px"
    assert str(info.value).startswith("px:")
    assert tick in str(info.value)
    # An off-tick price is an input problem the gateways can turn into a reject.
    assert isinstance(info.value, InputError)


@pytest.mark.parametrize(
    "garbage",
    [
        100.25,
        1.0,
        float("nan"),
        float("inf"),
        True,
        "NaN",
        "nan",
        "sNaN",
        "Infinity",
        "-inf",
        "",
        "abc",
        "1.2.3",
        "0x10",
        "12,50",
        Decimal("NaN"),
        Decimal("Infinity"),
        None,
        [100],
    ],
)
def test_floats_nan_and_garbage_are_input_errors_naming_the_field(garbage: object) -> None:
    with pytest.raises(InputError) as info:
        to_ticks(garbage, Decimal("0.01"), field="stop_px")  # type: ignore[arg-type]
    assert info.value.field == "stop_px"
    assert "stop_px" in str(info.value)


@pytest.mark.parametrize(
    "garbage",
    ["1_000.00", "\u0661\u0660\u0660", "1E+2", "1e2", " 100.00", "100.00\n", "+100.00"],
    ids=["underscore", "arabic_indic", "exponent", "exponent_lower", "space", "newline", "plus"],
)
def test_python_only_number_spellings_are_garbage_on_the_wire(garbage: str) -> None:
    # Python's Decimal accepts all of these; the FIX float grammar (ASCII digits, '-', '.')
    # does not, and accepting them would certify a broken client.
    with pytest.raises(InputError) as info:
        to_ticks(garbage, Decimal("0.01"), field="px")
    assert info.value.field == "px"
    assert not isinstance(info.value, OffTickPrice)


def test_float_is_rejected_even_when_it_happens_to_be_on_tick() -> None:
    # 0.5 is exactly representable in binary; the type is refused, not the value.
    with pytest.raises(InputError) as info:
        to_ticks(0.5, Decimal("0.01"), field="px")  # type: ignore[arg-type]
    assert not isinstance(info.value, OffTickPrice)


@given(
    ticks=st.integers(min_value=0, max_value=10**15),
    tick=st.sampled_from(TICK_SIZES),
)
def test_round_trip_through_the_wire_string_is_lossless(ticks: int, tick: str) -> None:
    size = Decimal(tick)
    wire = str(from_ticks(Px(ticks), size))
    assert to_ticks(wire, size) == ticks


@given(
    ticks=st.integers(min_value=1, max_value=10**9),
    tick=st.sampled_from(["0.01", "0.25", "0.05"]),
    nudge=st.sampled_from(["0.001", "0.0000001", "0.00000000000000000001"]),
)
def test_any_price_between_ticks_is_off_tick(ticks: int, tick: str, nudge: str) -> None:
    # The test's own arithmetic must not round the nudge away either.
    between = Context(prec=80).add(from_ticks(Px(ticks), Decimal(tick)), Decimal(nudge))
    with pytest.raises(OffTickPrice):
        to_ticks(str(between), Decimal(tick))
