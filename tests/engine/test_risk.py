"""Fat-finger checks: price bands (percent and ticks) around the last trade or the
configured reference, and the notional limit; each accepted just inside its limit and
rejected just outside, with a text naming the limit."""

from dataclasses import replace
from decimal import Decimal

import pytest

from nyquestro.domain.enums import PegType, Side
from nyquestro.domain.events import Accepted, CancelRejected, Rejected, Replaced
from nyquestro.domain.ids import Px
from nyquestro.domain.reasons import RejectReason
from nyquestro.engine.risk import Rules, band_width
from tests.engine.conftest import A2, A3, S2, Harness, make_instrument, one

REF = 10_000  # 100.00 at 0.01


def harness(**limits: object) -> Harness:
    inst = replace(make_instrument(), band_reference=Px(REF), **limits)  # type: ignore[arg-type]
    return Harness([inst])


@pytest.mark.parametrize(
    ("limits", "width"),
    [
        ({"price_band_pct": Decimal("5")}, 500),
        ({"price_band_pct": Decimal("0.333")}, 33),  # 33.3 ticks: the band rounds inwards
        ({"price_band_ticks": 120}, 120),
        ({"price_band_pct": Decimal("5"), "price_band_ticks": 120}, 120),  # the narrower
        ({"price_band_pct": Decimal("1"), "price_band_ticks": 120}, 100),
    ],
)
def test_a_limit_price_is_accepted_at_the_band_edge_and_rejected_one_tick_beyond(
    limits: dict[str, object], width: int
) -> None:
    h = harness(**limits)
    inst = h.engine.instruments[next(iter(h.engine.instruments))]
    assert band_width(Rules(inst, frozenset(), units=1), REF) == width
    for side, inside, outside in (
        (Side.BUY, REF + width, REF + width + 1),
        (Side.SELL, REF - width, REF - width - 1),
        (Side.BUY, REF - width, REF - width - 1),  # a band bounds both ways
    ):
        one(h.new(side, 1, inside), Accepted)
        rejected = one(h.new(side, 1, outside), Rejected)
        assert rejected.reason is RejectReason.PRICE_OUTSIDE_BAND
        assert "outside the price band of XYZ" in rejected.text
        assert "around the band_reference 100.00" in rejected.text


def test_the_band_moves_with_the_last_trade() -> None:
    h = harness(price_band_ticks=100)
    h.buy(1, REF + 100)
    h.sell(1, REF + 100, session=S2, account=A2)  # trades at 101.00
    one(h.buy(1, REF + 200), Accepted)
    rejected = one(h.buy(1, REF + 201), Rejected)
    assert "100.00 to 102.00" in rejected.text
    assert "around the last trade 101.00" in rejected.text


def test_without_a_reference_there_is_no_band() -> None:
    h = Harness([replace(make_instrument(), price_band_ticks=1)])
    one(h.buy(1, 1), Accepted)
    one(h.buy(1, 999_999), Accepted)


def test_notional_is_accepted_at_the_limit_and_rejected_beyond() -> None:
    h = harness(max_notional=Decimal("1000.00"))
    one(h.buy(10, REF), Accepted)  # 10 x 100.00 = 1000.00
    rejected = one(h.buy(11, REF), Rejected)
    assert rejected.reason is RejectReason.NOTIONAL_ABOVE_MAX
    assert (
        rejected.text == "notional 11 x 100.00 = 1100.00 is above the max_notional 1000.00 of XYZ"
    )
    one(h.buy(1, REF * 10), Accepted)  # 1 x 1000.00
    one(h.buy(1, REF * 10 + 1), Rejected)


def test_orders_without_a_price_are_valued_at_their_peg_or_the_reference() -> None:
    h = harness(max_notional=Decimal("1000.00"))
    h.sell(10, REF, session=S2, account=A2)
    assert one(h.market(Side.BUY, 11), Rejected).reason is RejectReason.NOTIONAL_ABOVE_MAX
    one(h.market(Side.BUY, 10), Accepted)
    h.buy(1, REF - 100)
    # A buy pegged to the bid (99.00): 10 x 99.00 fits where 10 x 100.00 does too, 11 does not.
    one(h.buy(10, None, peg=PegType.PRIMARY), Accepted)
    assert one(h.buy(11, None, peg=PegType.PRIMARY), Rejected).reason is (
        RejectReason.NOTIONAL_ABOVE_MAX
    )


def test_a_replace_is_checked_for_what_it_changes() -> None:
    h = harness(price_band_ticks=100, max_notional=Decimal("1000.00"))
    h.buy(5, REF, cl="a")
    # A new price outside the band, or more notional than allowed: rejected.
    assert one(h.replace("a", 5, REF + 101, cl="b"), CancelRejected).reason is (
        RejectReason.PRICE_OUTSIDE_BAND
    )
    assert one(h.replace("a", 11, REF, cl="c"), CancelRejected).reason is (
        RejectReason.NOTIONAL_ABOVE_MAX
    )
    assert one(h.replace("a", 10, REF + 100, cl="d"), CancelRejected).reason is (
        RejectReason.NOTIONAL_ABOVE_MAX  # 10 x 101.00 = 1010.00
    )
    one(h.replace("a", 9, REF + 100, cl="e"), Replaced)  # 909.00, at the band's edge


def test_a_replace_that_only_reduces_an_order_left_outside_the_band_passes() -> None:
    h = harness(price_band_ticks=100)
    h.buy(5, REF + 100, cl="a")
    for px in (REF + 100, REF + 200, REF + 300):  # the market walks up a tick a trade
        h.sell(1, px, session=S2, account=A2)
        h.buy(1, px, session=S2, account=A3)
    assert h.engine.last_trade_px(next(iter(h.engine.instruments))) == REF + 300
    # "a" at 101.00 is now outside the band (102.00 to 104.00), and may still shrink.
    one(h.replace("a", 3, REF + 100, cl="b"), Replaced)
