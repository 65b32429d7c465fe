"""Business outcome codes, grouped by the stage that decides them.

A reject is an event carrying one of these codes, never an exception. The gateways map
them to FIX OrdRejReason (103) / CxlRejReason (102); the integers here are ours and are
stable (they are journaled and published), not FIX's.
"""

from enum import IntEnum, StrEnum


class RejectReason(IntEnum):
    # validation: the command itself is malformed for this instrument
    UNKNOWN_SYMBOL = 100
    INVALID_QTY = 101
    QTY_BELOW_MIN = 102
    QTY_ABOVE_MAX = 103
    QTY_NOT_LOT_MULTIPLE = 104
    INVALID_PRICE = 105
    PRICE_NOT_ALLOWED = 106
    PRICE_REQUIRED = 107
    INVALID_DISPLAY_QTY = 108
    INVALID_TIF_FOR_ORD_TYPE = 109
    PEG_REQUIRED = 110
    PEG_NOT_ALLOWED = 111
    STOP_PX_REQUIRED = 112
    """A stop or stop-limit order without a stop price."""
    STOP_PX_NOT_ALLOWED = 113
    """A stop price on an order that is not a stop, or a new one for a stop already
    triggered."""
    EXPIRE_TIME_REQUIRED = 114
    """A GTD order without an expire time."""
    EXPIRE_TIME_NOT_ALLOWED = 115
    """An expire time on an order that is not GTD."""
    EXPIRE_TIME_PASSED = 116
    """A GTD order whose expire time is not after the venue's time now."""
    # session / identity
    DUPLICATE_CL_ORD_ID = 200
    UNKNOWN_ORDER = 201
    TOO_LATE = 202
    NOT_ORDER_OWNER = 203
    REPLACE_CHANGES_SIDE = 204
    # market state
    SYMBOL_HALTED = 300
    NO_LIQUIDITY = 301
    NO_PEG_REFERENCE = 302
    MARKET_CLOSED = 303
    """The instrument's phase takes no new orders or replaces (post-close, closed)."""
    NOT_IN_THIS_PHASE = 304
    """The order cannot take part in the phase: IOC, FOK or pegged during a call, OPG
    outside the opening call, ATC outside the closing call."""
    # pre-trade risk: the order is well-formed but breaches a configured limit
    PRICE_OUTSIDE_BAND = 400
    NOTIONAL_ABOVE_MAX = 401
    POSITION_LIMIT = 402
    THROTTLED = 403
    KILL_SWITCH = 404
    GROSS_NOTIONAL_LIMIT = 405
    # operator commands
    NOT_LIVE_SETTING = 500
    """A Configure would change what cannot change while running (symbols, tick sizes)."""
    UNKNOWN_TRADE = 501
    """A bust or correction names a trade the engine does not have (never made, already
    busted, or older than the trades it keeps)."""


class CancelReason(StrEnum):
    """Why an order left the book without being filled."""

    REQUESTED = "requested"
    MASS_CANCEL = "mass_cancel"
    SELF_MATCH = "self_match"
    REPLACED_AT_OR_BELOW_FILLED = "replaced_at_or_below_filled"
    KILL_SWITCH = "kill_switch"


class ExpireReason(StrEnum):
    """Why the unfilled remainder of an order expired."""

    IOC_REMAINDER = "ioc_remainder"
    FOK_NOT_FILLABLE = "fok_not_fillable"
    MARKET_REMAINDER = "market_remainder"
    END_OF_DAY = "end_of_day"
    EXPIRE_TIME = "expire_time"
    """A GTD order's expire time came."""
    AUCTION_REMAINDER = "auction_remainder"
    """What a market, OPG or ATC order left unfilled when its auction uncrossed."""


class CancelRequestKind(StrEnum):
    """Which request a CancelRejected answers (FIX CxlRejResponseTo)."""

    CANCEL = "cancel"
    REPLACE = "replace"


class RestateReason(StrEnum):
    """Why the engine changed a live order without a request (FIX ExecRestatementReason)."""

    PEG_REPRICE = "peg_reprice"
    SELF_MATCH_DECREMENT = "self_match_decrement"
