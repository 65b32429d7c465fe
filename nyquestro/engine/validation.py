"""Static checks of a new order or a replace against its instrument.

Each check returns a (reason, text) pair naming the offending field and value, or None.
Checks that need book or session state (duplicate ClOrdID, halts, liquidity, peg
references) live with the command handlers in `engine.py`.
"""

from nyquestro.domain.commands import NewOrder
from nyquestro.domain.enums import OrdType, TimeInForce
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.reasons import RejectReason
from nyquestro.domain.times import utc_text

Problem = tuple[RejectReason, str]


def check_qty(inst: Instrument, qty: int, field: str = "qty") -> Problem | None:
    if qty <= 0:
        return RejectReason.INVALID_QTY, f"{field} {qty} must be positive"
    if qty % inst.lot_size:
        return (
            RejectReason.QTY_NOT_LOT_MULTIPLE,
            f"{field} {qty} is not a multiple of the lot size {inst.lot_size} of {inst.symbol}",
        )
    if qty < inst.min_qty:
        return (
            RejectReason.QTY_BELOW_MIN,
            f"{field} {qty} is below the minimum {inst.min_qty} of {inst.symbol}",
        )
    if qty > inst.max_qty:
        return (
            RejectReason.QTY_ABOVE_MAX,
            f"{field} {qty} is above the maximum {inst.max_qty} of {inst.symbol}",
        )
    return None


def check_limit_px(px: int | None, ord_type: OrdType = OrdType.LIMIT) -> Problem | None:
    if px is None:
        return RejectReason.PRICE_REQUIRED, f"px is required for a {_named(ord_type)} order"
    if px <= 0:
        return RejectReason.INVALID_PRICE, f"px {px} must be positive"
    return None


def check_px_for(ord_type: OrdType, px: int | None) -> Problem | None:
    """A limit or stop-limit order needs a positive price; market, stop and pegged
    orders take none."""
    # Identity, not `has_limit`: an enum's property is a Python call even compiled.
    if ord_type is OrdType.LIMIT or ord_type is OrdType.STOP_LIMIT:
        return check_limit_px(px, ord_type)
    if px is not None:
        text = f"px must be absent for a {_named(ord_type)} order, got {px}"
        return RejectReason.PRICE_NOT_ALLOWED, text
    return None


def check_stop_px(ord_type: OrdType, stop_px: int | None) -> Problem | None:
    """A stop or stop-limit order needs a positive stop price; no other order takes one."""
    if ord_type is not OrdType.STOP and ord_type is not OrdType.STOP_LIMIT:
        if stop_px is None:
            return None
        return (
            RejectReason.STOP_PX_NOT_ALLOWED,
            f"stop_px is only allowed on stop and stop-limit orders, not on a {ord_type} order",
        )
    if stop_px is None:
        text = f"stop_px is required for a {_named(ord_type)} order"
        return RejectReason.STOP_PX_REQUIRED, text
    if stop_px <= 0:
        return RejectReason.INVALID_PRICE, f"stop_px {stop_px} must be positive"
    return None


def check_expire_ts(tif: TimeInForce, expire_ts: int | None, now: int) -> Problem | None:
    """A GTD order needs an expire time after `now`; no other order takes one."""
    if tif is not TimeInForce.GTD:
        if expire_ts is None:
            return None
        return (
            RejectReason.EXPIRE_TIME_NOT_ALLOWED,
            f"expire_ts is only allowed on GTD orders, not on a {tif} order",
        )
    if expire_ts is None:
        return RejectReason.EXPIRE_TIME_REQUIRED, "expire_ts is required for a GTD order"
    if expire_ts <= now:
        return (
            RejectReason.EXPIRE_TIME_PASSED,
            f"expire_ts {utc_text(expire_ts)} is not after the venue's time {utc_text(now)}",
        )
    return None


def _named(ord_type: OrdType) -> str:
    """How a text names the order type ("stop-limit", not the value "stop_limit")."""
    return ord_type.value.replace("_", "-")


def check_display(inst: Instrument, display: int | None, qty: int) -> Problem | None:
    if display is None:
        return None
    if display <= 0 or display > qty:
        return (
            RejectReason.INVALID_DISPLAY_QTY,
            f"display_qty {display} must be positive and at most qty {qty}",
        )
    if display % inst.lot_size:
        return (
            RejectReason.INVALID_DISPLAY_QTY,
            f"display_qty {display} is not a multiple of the lot size {inst.lot_size}",
        )
    return None


def check_new_order(inst: Instrument, cmd: NewOrder) -> Problem | None:
    problem = (
        check_qty(inst, cmd.qty)
        or check_px_for(cmd.ord_type, cmd.px)
        or check_stop_px(cmd.ord_type, cmd.stop_px)
        or check_expire_ts(cmd.tif, cmd.expire_ts, cmd.ts)
    )
    if problem is not None:
        return problem
    if cmd.ord_type is OrdType.PEGGED and cmd.peg is None:
        return RejectReason.PEG_REQUIRED, "a pegged order needs peg (the peg type)"
    if cmd.ord_type is not OrdType.PEGGED and cmd.peg is not None:
        text = f"peg is only allowed on pegged orders, not on a {cmd.ord_type} order"
        return RejectReason.PEG_NOT_ALLOWED, text
    if cmd.stop_px is not None and (cmd.tif is TimeInForce.OPG or cmd.tif is TimeInForce.ATC):
        return (
            RejectReason.INVALID_TIF_FOR_ORD_TYPE,
            f"a stop order cannot be {cmd.tif.value.upper()}: it trades when triggered, "
            "not in an auction",
        )
    no_price = cmd.ord_type is OrdType.MARKET or cmd.ord_type is OrdType.STOP
    if cmd.display_qty is not None and (no_price or not cmd.tif.rests):
        return (
            RejectReason.INVALID_DISPLAY_QTY,
            "display_qty (iceberg) needs an order that can rest: limit, stop-limit or "
            "pegged, DAY, GTC or GTD",
        )
    return check_display(inst, cmd.display_qty, cmd.qty)
