"""New-order validation: every malformed order is one Rejected event with its own reason."""

from dataclasses import dataclass

import pytest

from nyquestro.domain.enums import OrdType, PegType, Side, TimeInForce
from nyquestro.domain.events import Accepted, CancelRejected, EventBase, Rejected
from nyquestro.domain.reasons import RejectReason
from tests.engine.conftest import (
    OTHER_SYM,
    S1,
    S2,
    SYM,
    Harness,
    OrderOpts,
    kinds,
    make_instrument,
    one,
    ts_of,
)

LOT = "LOT"


@pytest.fixture
def hv() -> Harness:
    """XYZ is permissive; LOT trades in lots of 10, between 20 and 1000."""
    return Harness(
        [
            make_instrument(SYM),
            make_instrument(OTHER_SYM),
            make_instrument(LOT, lot_size=10, min_qty=20, max_qty=1000),
        ]
    )


@dataclass(frozen=True)
class Case:
    side: Side
    qty: int
    px: int | None
    opts: OrderOpts
    reason: RejectReason
    mentions: tuple[str, ...]
    """Substrings the reject text must contain: the field and the offending value."""


MARKET = OrdType.MARKET
PEGGED = OrdType.PEGGED

CASES: dict[str, Case] = {
    "unknown_symbol": Case(
        Side.BUY, 10, 100, {"symbol": "NOPE"}, RejectReason.UNKNOWN_SYMBOL, ("NOPE",)
    ),
    "zero_qty": Case(Side.BUY, 0, 100, {}, RejectReason.INVALID_QTY, ("qty", "0")),
    "negative_qty": Case(Side.SELL, -5, 100, {}, RejectReason.INVALID_QTY, ("qty", "-5")),
    "not_lot_multiple": Case(
        Side.BUY, 25, 100, {"symbol": LOT}, RejectReason.QTY_NOT_LOT_MULTIPLE, ("qty", "25", "10")
    ),
    "below_min": Case(
        Side.BUY, 10, 100, {"symbol": LOT}, RejectReason.QTY_BELOW_MIN, ("qty", "10", "20")
    ),
    "above_max": Case(
        Side.SELL, 1010, 100, {"symbol": LOT}, RejectReason.QTY_ABOVE_MAX, ("qty", "1010", "1000")
    ),
    "limit_without_px": Case(Side.BUY, 10, None, {}, RejectReason.PRICE_REQUIRED, ("px",)),
    "zero_px": Case(Side.BUY, 10, 0, {}, RejectReason.INVALID_PRICE, ("px", "0")),
    "negative_px": Case(Side.SELL, 10, -3, {}, RejectReason.INVALID_PRICE, ("px", "-3")),
    "px_on_market": Case(
        Side.BUY, 10, 100, {"ord_type": MARKET}, RejectReason.PRICE_NOT_ALLOWED, ("px", "100")
    ),
    "px_on_peg": Case(
        Side.BUY,
        10,
        100,
        {"ord_type": PEGGED, "peg": PegType.PRIMARY},
        RejectReason.PRICE_NOT_ALLOWED,
        ("px", "100"),
    ),
    "pegged_without_peg": Case(
        Side.BUY, 10, None, {"ord_type": PEGGED}, RejectReason.PEG_REQUIRED, ("peg",)
    ),
    "peg_on_limit": Case(
        Side.BUY,
        10,
        100,
        {"ord_type": OrdType.LIMIT, "peg": PegType.MIDPOINT},
        RejectReason.PEG_NOT_ALLOWED,
        ("peg", "limit"),
    ),
    "peg_on_market": Case(
        Side.SELL,
        10,
        None,
        {"ord_type": MARKET, "peg": PegType.MARKET},
        RejectReason.PEG_NOT_ALLOWED,
        ("peg", "market"),
    ),
    "display_zero": Case(
        Side.BUY, 10, 100, {"display_qty": 0}, RejectReason.INVALID_DISPLAY_QTY, ("display_qty",)
    ),
    "display_negative": Case(
        Side.BUY, 10, 100, {"display_qty": -1}, RejectReason.INVALID_DISPLAY_QTY, ("display_qty",)
    ),
    "display_above_qty": Case(
        Side.BUY,
        10,
        100,
        {"display_qty": 11},
        RejectReason.INVALID_DISPLAY_QTY,
        ("display_qty", "11"),
    ),
    "display_not_lot_multiple": Case(
        Side.BUY,
        100,
        100,
        {"symbol": LOT, "display_qty": 15},
        RejectReason.INVALID_DISPLAY_QTY,
        ("display_qty", "15"),
    ),
    "display_on_ioc": Case(
        Side.BUY,
        10,
        100,
        {"display_qty": 5, "tif": TimeInForce.IOC},
        RejectReason.INVALID_DISPLAY_QTY,
        ("display_qty",),
    ),
    "display_on_fok": Case(
        Side.SELL,
        10,
        100,
        {"display_qty": 5, "tif": TimeInForce.FOK},
        RejectReason.INVALID_DISPLAY_QTY,
        ("display_qty",),
    ),
    "display_on_market": Case(
        Side.BUY,
        10,
        None,
        {"display_qty": 5, "ord_type": MARKET},
        RejectReason.INVALID_DISPLAY_QTY,
        ("display_qty",),
    ),
}


def seed_liquidity(h: Harness) -> None:
    """Both sides populated, so a reject can never be blamed on an empty book."""
    h.buy(10, 90, cl="seed-bid", session=S2)
    h.sell(10, 110, cl="seed-ask", session=S2)


@pytest.mark.parametrize("name", list(CASES))
def test_each_invalid_order_gets_one_rejected_with_its_reason(hv: Harness, name: str) -> None:
    case = CASES[name]
    seed_liquidity(hv)
    live_before = hv.engine.live_orders()
    book_before = (hv.bids(), hv.asks(), hv.bids(LOT), hv.asks(LOT))
    opts = case.opts.copy()
    opts["cl"] = "bad"
    events = hv.new(case.side, case.qty, case.px, **opts)

    assert kinds(events) == ["Rejected"]
    rej = one(events, Rejected)
    assert rej.reason is case.reason
    for word in case.mentions:
        assert word in rej.text, f"{rej.text!r} should mention {word!r}"
    assert rej.session == S1
    assert rej.cl_ord_id == "bad"
    assert rej.symbol == case.opts.get("symbol", SYM)
    assert (rej.seq, rej.ts) == (hv.seq, ts_of(hv.seq))
    assert hv.engine.live_orders() == live_before
    assert (hv.bids(), hv.asks(), hv.bids(LOT), hv.asks(LOT)) == book_before


def test_reject_leaves_book_and_ids_untouched_so_the_clordid_can_be_reused(hv: Harness) -> None:
    seed_liquidity(hv)
    bids, asks = hv.bids(), hv.asks()
    hv.buy(0, 100, cl="retry")
    assert (hv.bids(), hv.asks()) == (bids, asks)
    # ClOrdIDs are registered only on acceptance, so the corrected order may reuse it.
    events = hv.buy(5, 100, cl="retry")
    assert kinds(events) == ["Accepted", "LevelAdded"]


@pytest.mark.parametrize(
    ("qty", "display"),
    [(20, None), (1000, None), (100, 10), (100, 100), (30, 20)],
)
def test_boundary_quantities_are_accepted(hv: Harness, qty: int, display: int | None) -> None:
    events = hv.buy(qty, 100, symbol=LOT, display_qty=display)
    acc = one(events, Accepted)
    assert (acc.qty, acc.display_qty) == (qty, display)


def test_iceberg_on_a_resting_peg_is_accepted(hv: Harness) -> None:
    seed_liquidity(hv)
    events = hv.buy(10, None, peg=PegType.PRIMARY, display_qty=5, tif=TimeInForce.GTC)
    assert one(events, Accepted).display_qty == 5


def test_duplicate_clordid_in_the_same_session_is_rejected(hv: Harness) -> None:
    hv.buy(10, 100, cl="dup")
    events = hv.sell(5, 120, cl="dup")
    rej = one(events, Rejected)
    assert kinds(events) == ["Rejected"]
    assert rej.reason is RejectReason.DUPLICATE_CL_ORD_ID
    assert "dup" in rej.text
    # The original order is unaffected by the rejected duplicate.
    assert hv.is_live("dup")
    assert hv.asks() == []


def test_same_clordid_is_fine_in_another_session(hv: Harness) -> None:
    hv.buy(10, 100, cl="same", session=S1)
    events = hv.sell(5, 120, cl="same", session=S2)
    assert one(events, Accepted).session == S2
    assert hv.oid("same", S1) != hv.oid("same", S2)


def test_clordid_stays_taken_after_its_order_is_done(hv: Harness) -> None:
    hv.sell(5, 100, cl="maker", session=S2)
    hv.buy(5, 100, cl="done")
    assert not hv.is_live("done")
    assert one(hv.buy(5, 100, cl="done"), Rejected).reason is RejectReason.DUPLICATE_CL_ORD_ID


def test_clordid_of_an_accepted_cancel_is_taken_too(hv: Harness) -> None:
    hv.buy(10, 100, cl="o1")
    hv.cancel("o1", cl="c1")
    assert one(hv.buy(10, 100, cl="c1"), Rejected).reason is RejectReason.DUPLICATE_CL_ORD_ID


def test_clordid_of_a_rejected_cancel_is_not_registered(hv: Harness) -> None:
    events = hv.cancel("nothing-here", cl="c1")
    assert one(events, CancelRejected).reason is RejectReason.UNKNOWN_ORDER
    assert kinds(hv.buy(10, 100, cl="c1")) == ["Accepted", "LevelAdded"]


def test_halted_symbol_rejects_new_orders_and_other_symbols_trade_on(hv: Harness) -> None:
    hv.halt(SYM, reason="news pending")
    events = hv.buy(10, 100, cl="h1")
    rej = one(events, Rejected)
    assert kinds(events) == ["Rejected"]
    assert rej.reason is RejectReason.SYMBOL_HALTED
    assert SYM in rej.text
    assert one(hv.buy(10, 100, symbol=OTHER_SYM, cl="h2"), Accepted).symbol == OTHER_SYM
    hv.resume(SYM)
    # The rejected ClOrdID was never registered, so the same request now goes through.
    assert kinds(hv.buy(10, 100, cl="h1")) == ["Accepted", "LevelAdded"]


def test_halt_check_applies_to_every_order_type(hv: Harness) -> None:
    seed_liquidity(hv)
    hv.halt(SYM)
    outcomes: list[EventBase] = []
    outcomes += hv.market(Side.BUY, 5)
    outcomes += hv.buy(5, 110, tif=TimeInForce.IOC)
    outcomes += hv.buy(5, 110, tif=TimeInForce.FOK)
    outcomes += hv.buy(5, None, peg=PegType.MIDPOINT)
    assert kinds(outcomes) == ["Rejected"] * 4
    assert {ev.reason for ev in outcomes if isinstance(ev, Rejected)} == {
        RejectReason.SYMBOL_HALTED
    }
