"""Trading phases and halts as a FIX client hears of them (pure: no quickfix, no sockets).

Folded from the event stream (`PhaseChanged`, `Halted`, `Resumed`), like the gateway's
order views and depth, so a replay of the journal renders the same messages: the
unsolicited ones carry the event's timestamp, never the clock.

- SecurityStatus (35=f), per symbol: unsolicited on each phase change, halt and resume;
  and the answer to a SecurityStatusRequest (35=e), echoing SecurityStatusReqID (324).
- TradingSessionStatus (35=h), for the venue: unsolicited when the status derived from
  every symbol's phase changes; and the answer to a TradingSessionStatusRequest (35=g),
  echoing TradSesReqID (335) and TradingSessionID (336).

docs/phases.md ("FIX: SecurityStatus and TradingSessionStatus") has the values a client sees.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from nyquestro.domain.enums import TradingPhase
from nyquestro.domain.events import EventBase, Halted, PhaseChanged, Resumed
from nyquestro.gateways.fix.dialect import FIX42, FIX44, tag
from nyquestro.gateways.fix.message import OutMessage
from nyquestro.gateways.fix.outbound import fix_time
from nyquestro.gateways.fix.spec import ENUMS

SECURITY_STATUS_REQ_ID = tag("SecurityStatusReqID")
SECURITY_TRADING_STATUS = tag("SecurityTradingStatus")
UNSOLICITED_INDICATOR = tag("UnsolicitedIndicator")
TRAD_SES_REQ_ID = tag("TradSesReqID")
TRADING_SESSION_ID = tag("TradingSessionID")
TRAD_SES_STATUS = tag("TradSesStatus")
SUBSCRIPTION_REQUEST_TYPE = tag("SubscriptionRequestType")
SYMBOL = tag("Symbol")
TRANSACT_TIME = tag("TransactTime")
TEXT = tag("Text")

STATUS_EVENTS = (PhaseChanged, Halted, Resumed)
VENUE_SESSION_ID = "DAY"
"""TradingSessionID (336) of the venue's one trading session, when a request names none
and on unsolicited TradingSessionStatus messages."""
SNAPSHOT, SUBSCRIBE = "0", "1"
"""SubscriptionRequestType (263) values answered; 2 (end a subscription) is refused, as
status messages go to every logged-on session unasked and there is nothing to end."""

# SecurityTradingStatus (326) by phase, per version, as names of the generated enum tables
# (a name one version lacks fails at import, not at a client). Every code below exists in
# both stock dictionaries unless noted:
# - pre_open: 4.4's 21 Pre-Open. 4.2 has no generic pre-open (21 came with 4.3); its only
#   pre-opening value is 14 (ITS Pre-Opening), which a 4.2 client reads as "not open yet,
#   orders accepted" and keeps pre_open apart from post_close/closed (18).
# - opening_auction, closing_auction: 5 Price Indication. A call publishes the price it
#   would uncross at (AuctionIndicative), which is what 5 announces; the TradSesStatus
#   (4 Pre-Open vs 5 Pre-Close) and the Text tell the two calls apart.
# - continuous: 17 Ready to trade.
# - post_close, closed: 18 Not available for trading (only cancels are taken).
# - a halt overrides the phase: 2 Trading Halt; the resume itself is announced with
#   3 Resume, and from then on the symbol's status is its phase's again (what a
#   SecurityStatusRequest answers).
_PHASE_STATUS: dict[str, dict[TradingPhase, str]] = {
    FIX42: {
        TradingPhase.PRE_OPEN: "ITS_PRE_OPENING",
        TradingPhase.OPENING_AUCTION: "PRICE_INDICATION",
        TradingPhase.CONTINUOUS: "READY_TO_TRADE",
        TradingPhase.CLOSING_AUCTION: "PRICE_INDICATION",
        TradingPhase.POST_CLOSE: "NOT_AVAILABLE_FOR_TRADING",
        TradingPhase.CLOSED: "NOT_AVAILABLE_FOR_TRADING",
    },
    FIX44: {
        TradingPhase.PRE_OPEN: "PRE_OPEN",
        TradingPhase.OPENING_AUCTION: "PRICE_INDICATION",
        TradingPhase.CONTINUOUS: "READY_TO_TRADE",
        TradingPhase.CLOSING_AUCTION: "PRICE_INDICATION",
        TradingPhase.POST_CLOSE: "NOT_AVAILABLE_FOR_TRADING",
        TradingPhase.CLOSED: "NOT_AVAILABLE_FOR_TRADING",
    },
}
PHASE_CODES: dict[str, dict[TradingPhase, str]] = {
    version: {phase: ENUMS[version]["SecurityTradingStatus"][name] for phase, name in names.items()}
    for version, names in _PHASE_STATUS.items()
}
HALT_CODES = {v: ENUMS[v]["SecurityTradingStatus"]["TRADING_HALT"] for v in (FIX42, FIX44)}
RESUME_CODES = {v: ENUMS[v]["SecurityTradingStatus"]["RESUME"] for v in (FIX42, FIX44)}
HAS_SECURITY_STATUS_TEXT = {FIX42: False, FIX44: True}
"""4.2's SecurityStatus has no Text (58): a 4.2 client would reject the message for it."""

_SES = ENUMS[FIX42]["TradSesStatus"]  # 1-5 mean the same in 4.4, which adds 0 and 6
PRE_OPEN, OPEN, PRE_CLOSE, CLOSED = (_SES[n] for n in ("PRE_OPEN", "OPEN", "PRE_CLOSE", "CLOSED"))
SESSION_STATUS_NAME = {PRE_OPEN: "pre-open", OPEN: "open", PRE_CLOSE: "pre-close", CLOSED: "closed"}
_OPENING = frozenset({TradingPhase.PRE_OPEN, TradingPhase.OPENING_AUCTION})
_ENDED = frozenset({TradingPhase.POST_CLOSE, TradingPhase.CLOSED})


def session_status(phases: Iterable[TradingPhase]) -> str:
    """TradSesStatus (340) of the venue from its symbols' phases: all opening (pre_open or
    opening_auction) 4 Pre-Open; any continuous 2 Open; all in the closing auction
    5 Pre-Close; all ended (post_close or closed) 3 Closed; any other mix 2 Open (some
    symbol is on its way through the day)."""
    present = set(phases)
    if TradingPhase.CONTINUOUS in present or not present:
        return OPEN
    if present <= _OPENING:
        return PRE_OPEN
    if present == {TradingPhase.CLOSING_AUCTION}:
        return PRE_CLOSE
    if present <= _ENDED:
        return CLOSED
    return OPEN


@dataclass(frozen=True, slots=True)
class SymbolStatus:
    phase: TradingPhase
    halted: str | None
    """Why the symbol is halted (the engine's words), or None."""
    since: int | None
    """When the symbol entered this status (the event's ts, ns); None: at the start."""


TradingStatusState = tuple[dict[str, SymbolStatus], str]
"""Per symbol its status, and the venue's TradSesStatus last announced (snapshots)."""


class TradingStatus:
    """Every symbol's phase and halt, folded from events; builds the f and h messages."""

    def __init__(self, symbols: Iterable[str]) -> None:
        # The engine starts every book in continuous trading, not halted.
        self._symbols = {s: SymbolStatus(TradingPhase.CONTINUOUS, None, None) for s in symbols}
        self._announced = session_status(s.phase for s in self._symbols.values())

    def export_state(self) -> TradingStatusState:
        return dict(self._symbols), self._announced

    def restore_state(self, state: TradingStatusState) -> None:
        symbols, self._announced = state
        self._symbols.update(symbols)

    def status(self, symbol: str) -> SymbolStatus:
        return self._symbols.get(symbol) or SymbolStatus(TradingPhase.CONTINUOUS, None, None)

    # --- folding ----------------------------------------------------------------------------

    def apply(self, event: EventBase) -> str | None:
        """Fold one of `STATUS_EVENTS`; returns the symbol it concerns."""
        if isinstance(event, PhaseChanged):
            old = self.status(event.symbol)
            self._symbols[event.symbol] = SymbolStatus(event.phase, old.halted, event.ts)
            return event.symbol
        if isinstance(event, Halted):
            old = self.status(event.symbol)
            self._symbols[event.symbol] = SymbolStatus(old.phase, event.reason, event.ts)
            return event.symbol
        if isinstance(event, Resumed):
            old = self.status(event.symbol)
            self._symbols[event.symbol] = SymbolStatus(old.phase, None, event.ts)
            return event.symbol
        return None

    def session_changed(self) -> str | None:
        """The venue's TradSesStatus if it differs from the one last announced (which it
        then becomes), else None. Called once a command's phase changes are folded."""
        now = session_status(s.phase for s in self._symbols.values())
        if now == self._announced:
            return None
        self._announced = now
        return now

    # --- messages ---------------------------------------------------------------------------

    def security_status(
        self,
        begin_string: str,
        symbol: str,
        *,
        event: EventBase | None = None,
        req_id: str | None = None,
        now: int = 0,
    ) -> OutMessage:
        """SecurityStatus for `symbol` as it stands: unsolicited for the `event` just
        folded, or the answer to request `req_id` (TransactTime: when the status began,
        `now` if it has been so since the start)."""
        status = self.status(symbol)
        if status.halted is not None:
            code = HALT_CODES[begin_string]
            text = f"halted ({status.halted}); phase {status.phase}"
        elif isinstance(event, Resumed):
            code = RESUME_CODES[begin_string]
            text = f"resumed; phase {status.phase}"
        else:
            code = PHASE_CODES[begin_string][status.phase]
            text = f"phase {status.phase}"
        fields: list[tuple[int, str]] = []
        if req_id is not None:
            fields.append((SECURITY_STATUS_REQ_ID, req_id))
        fields += [
            (SYMBOL, symbol),
            (UNSOLICITED_INDICATOR, "Y" if req_id is None else "N"),
            (SECURITY_TRADING_STATUS, code),
            (TRANSACT_TIME, fix_time(status.since if status.since is not None else now)),
        ]
        if HAS_SECURITY_STATUS_TEXT[begin_string]:
            fields.append((TEXT, text))
        return OutMessage("f", fields)

    def trading_session_status(
        self, req_id: str | None = None, session_id: str | None = None
    ) -> OutMessage:
        """TradingSessionStatus of the venue: unsolicited, or the answer to `req_id`
        (echoing the TradingSessionID it named, if any). The same in 4.2 and 4.4."""
        phases = [s.phase for s in self._symbols.values()]
        status = session_status(phases)
        counts = ", ".join(
            f"{sum(1 for p in phases if p is phase)} {phase}"
            for phase in TradingPhase
            if phase in phases
        )
        fields: list[tuple[int, str]] = []
        if req_id is not None:
            fields.append((TRAD_SES_REQ_ID, req_id))
        fields += [
            (TRADING_SESSION_ID, session_id or VENUE_SESSION_ID),
            (UNSOLICITED_INDICATOR, "Y" if req_id is None else "N"),
            (TRAD_SES_STATUS, status),
            (TEXT, f"{SESSION_STATUS_NAME[status]}: symbols in {counts or 'no phase'}"),
        ]
        return OutMessage("h", fields)
