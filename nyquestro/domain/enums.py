"""Small closed vocabularies. Integer values follow FIX where FIX has a code."""

from enum import IntEnum, StrEnum


class Side(IntEnum):
    BUY = 1
    SELL = 2

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY


class OrdType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"
    PEGGED = "pegged"
    STOP = "stop"
    """A market order held until the last trade price reaches its stop price."""
    STOP_LIMIT = "stop_limit"
    """A limit order held until the last trade price reaches its stop price."""

    @property
    def is_stop(self) -> bool:
        return self is OrdType.STOP or self is OrdType.STOP_LIMIT

    @property
    def has_limit(self) -> bool:
        """Whether the order carries a limit price of its own (limit and stop-limit)."""
        return self is OrdType.LIMIT or self is OrdType.STOP_LIMIT


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    GTD = "gtd"
    """Good till a date and time (the order's `expire_ts`)."""
    OPG = "opg"
    """At the opening: only for the opening auction; what it leaves unfilled expires."""
    ATC = "atc"
    """At the close: only for the closing auction; what it leaves unfilled expires."""

    @property
    def rests(self) -> bool:
        return self is not TimeInForce.IOC and self is not TimeInForce.FOK


class TradingPhase(StrEnum):
    """Where an instrument's trading day is (docs/phases.md has what each accepts)."""

    PRE_OPEN = "pre_open"
    """Orders collect for the opening auction; nothing matches; no indicative price."""
    OPENING_AUCTION = "opening_auction"
    """The opening call: orders collect, the indicative price and imbalance are
    published; leaving it for continuous trading uncrosses the book."""
    CONTINUOUS = "continuous"
    CLOSING_AUCTION = "closing_auction"
    """The closing call; leaving it uncrosses the book."""
    POST_CLOSE = "post_close"
    """Cancels only."""
    CLOSED = "closed"
    """Cancels only."""

    @property
    def is_call(self) -> bool:
        """Orders rest without matching, to be uncrossed when the phase ends."""
        return (
            self is TradingPhase.PRE_OPEN
            or self is TradingPhase.OPENING_AUCTION
            or self is TradingPhase.CLOSING_AUCTION
        )

    @property
    def takes_orders(self) -> bool:
        return self is not TradingPhase.POST_CLOSE and self is not TradingPhase.CLOSED


class PegType(StrEnum):
    MIDPOINT = "midpoint"
    PRIMARY = "primary"
    """Same-side best price."""
    MARKET = "market"
    """Opposite-side best price."""
    LAST_SALE = "last_sale"


class SmpPolicy(StrEnum):
    CANCEL_RESTING = "cancel_resting"
    """Cancel the oldest order (the one resting in the book)."""
    CANCEL_INCOMING = "cancel_incoming"
    """Cancel the newest order (the aggressor)."""
    CANCEL_BOTH = "cancel_both"
    DECREMENT_AND_CANCEL = "decrement_and_cancel"
    """Reduce both by the smaller quantity; whichever reaches zero is cancelled."""


class MassCancelOrigin(StrEnum):
    """Who asked for a mass cancel, which decides whether the requester gets an answer."""

    REQUEST = "request"
    """A client's own request (FIX OrderMassCancelRequest, UDP MassCancel): answered."""
    DISCONNECT = "disconnect"
    """Cancel-on-disconnect: the session has gone, nobody is answered."""
    OPERATOR = "operator"
    """A script or operator command: no session asked, nobody is answered."""


class SessionAction(StrEnum):
    """What an operator has done to a FIX session (ControlSession)."""

    LOGOUT = "logout"
    """Send it a Logout (with the reason as Text) and end the connection."""
    RESET = "reset"
    """Log it out and start both its sequence numbers again at 1."""
