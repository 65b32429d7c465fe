"""Commands: everything that can change engine state.

Each command carries the sequence number and timestamp stamped by whoever feeds the
engine (the sequencer); the engine never reads a clock. Commands are what the journal
stores and what recovery replays through `Engine.process`.

Each class writes its `__init__` out, for the reason given in `nyquestro.domain.events`:
gateways build one command per inbound message and recovery one per journal row.
"""

from dataclasses import dataclass
from typing import Protocol

from nyquestro.domain.enums import (
    MassCancelOrigin,
    OrdType,
    PegType,
    SessionAction,
    Side,
    SmpPolicy,
    TimeInForce,
    TradingPhase,
)
from nyquestro.domain.ids import (
    Account,
    ClOrdId,
    OrderId,
    Px,
    Qty,
    Seq,
    SessionKey,
    SmpId,
    Symbol,
    TradeId,
    Ts,
)
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.risk import DEFAULT_VAR_WINDOW, AccountRisk, SessionRisk

_NO_OFFSET = Px(0)


class Stamped(Protocol):
    """What a reader that needs only when a command was sequenced sees of it: every
    command, and a gateway process's undecoded stamp (`runtime/follower.py`)."""

    @property
    def seq(self) -> int: ...
    @property
    def ts(self) -> int: ...


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class CommandBase:
    seq: Seq
    ts: Ts

    def __init__(self, *, seq: Seq, ts: Ts) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class NewOrder(CommandBase):
    session: SessionKey
    account: Account
    cl_ord_id: ClOrdId
    symbol: Symbol
    side: Side
    qty: Qty
    ord_type: OrdType = OrdType.LIMIT
    px: Px | None = None
    """Limit price in ticks; required for LIMIT, absent for MARKET and PEGGED."""
    tif: TimeInForce = TimeInForce.DAY
    display_qty: Qty | None = None
    """Iceberg: the visible part; None shows the whole order."""
    peg: PegType | None = None
    peg_offset: Px = _NO_OFFSET
    """Signed ticks added to the peg reference (FIX PegOffsetValue semantics)."""
    smp_id: SmpId | None = None
    smp_policy: SmpPolicy | None = None
    """None takes the instrument's default."""
    stop_px: Px | None = None
    """Stop and stop-limit orders: the last trade price (ticks) that triggers them."""
    expire_ts: Ts | None = None
    """GTD orders: when they expire (ns since the epoch, on the venue's clock)."""

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        session: SessionKey,
        account: Account,
        cl_ord_id: ClOrdId,
        symbol: Symbol,
        side: Side,
        qty: Qty,
        ord_type: OrdType = OrdType.LIMIT,
        px: Px | None = None,
        tif: TimeInForce = TimeInForce.DAY,
        display_qty: Qty | None = None,
        peg: PegType | None = None,
        peg_offset: Px = _NO_OFFSET,
        smp_id: SmpId | None = None,
        smp_policy: SmpPolicy | None = None,
        stop_px: Px | None = None,
        expire_ts: Ts | None = None,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "account", account)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "qty", qty)
        object.__setattr__(self, "ord_type", ord_type)
        object.__setattr__(self, "px", px)
        object.__setattr__(self, "tif", tif)
        object.__setattr__(self, "display_qty", display_qty)
        object.__setattr__(self, "peg", peg)
        object.__setattr__(self, "peg_offset", peg_offset)
        object.__setattr__(self, "smp_id", smp_id)
        object.__setattr__(self, "smp_policy", smp_policy)
        object.__setattr__(self, "stop_px", stop_px)
        object.__setattr__(self, "expire_ts", expire_ts)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Cancel(CommandBase):
    """Cancel one order, named by `orig_cl_ord_id` (this session's) or by `order_id`."""

    session: SessionKey
    cl_ord_id: ClOrdId
    orig_cl_ord_id: ClOrdId | None = None
    order_id: OrderId | None = None

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        session: SessionKey,
        cl_ord_id: ClOrdId,
        orig_cl_ord_id: ClOrdId | None = None,
        order_id: OrderId | None = None,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "orig_cl_ord_id", orig_cl_ord_id)
        object.__setattr__(self, "order_id", order_id)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class CancelReplace(CommandBase):
    """Change quantity (total, including what is already filled), price or display size."""

    session: SessionKey
    cl_ord_id: ClOrdId
    qty: Qty
    orig_cl_ord_id: ClOrdId | None = None
    order_id: OrderId | None = None
    px: Px | None = None
    """Required for limit orders (FIX G restates Price); absent for market and pegged."""
    side: Side | None = None
    """When given, must equal the order's side (FIX G repeats Side)."""
    display_qty: Qty | None = None
    """None keeps the order's current display setting."""
    stop_px: Px | None = None
    """A new stop price for a stop order not yet triggered; None keeps the current one."""

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        session: SessionKey,
        cl_ord_id: ClOrdId,
        qty: Qty,
        orig_cl_ord_id: ClOrdId | None = None,
        order_id: OrderId | None = None,
        px: Px | None = None,
        side: Side | None = None,
        display_qty: Qty | None = None,
        stop_px: Px | None = None,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "qty", qty)
        object.__setattr__(self, "orig_cl_ord_id", orig_cl_ord_id)
        object.__setattr__(self, "order_id", order_id)
        object.__setattr__(self, "px", px)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "display_qty", display_qty)
        object.__setattr__(self, "stop_px", stop_px)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class MassCancel(CommandBase):
    """Cancel every live order matching all the given filters (None matches anything)."""

    session: SessionKey
    """Who asked; answers go to this session."""
    cl_ord_id: ClOrdId
    scope_session: SessionKey | None = None
    account: Account | None = None
    symbol: Symbol | None = None
    origin: MassCancelOrigin = MassCancelOrigin.OPERATOR
    """The engine ignores it; the gateways' answers depend on it, and they must follow
    from the journaled command alone (a replay has no memory of the live request). The
    default is what a journal written before the field existed replays as."""
    order_id: OrderId | None = None
    """One order, whoever's it is: how an operator cancels a single order without a
    ClOrdID of the owner's (its session sees an unsolicited cancel)."""
    request_id: int = 0
    """The operator request it carries out (see KillSwitch), or 0."""

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        session: SessionKey,
        cl_ord_id: ClOrdId,
        scope_session: SessionKey | None = None,
        account: Account | None = None,
        symbol: Symbol | None = None,
        origin: MassCancelOrigin = MassCancelOrigin.OPERATOR,
        order_id: OrderId | None = None,
        request_id: int = 0,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "cl_ord_id", cl_ord_id)
        object.__setattr__(self, "scope_session", scope_session)
        object.__setattr__(self, "account", account)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "origin", origin)
        object.__setattr__(self, "order_id", order_id)
        object.__setattr__(self, "request_id", request_id)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Halt(CommandBase):
    symbol: Symbol
    reason: str = ""
    request_id: int = 0
    """The operator request it carries out (see KillSwitch), or 0."""

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        symbol: Symbol,
        reason: str = "",
        request_id: int = 0,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "request_id", request_id)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Resume(CommandBase):
    symbol: Symbol
    request_id: int = 0

    def __init__(self, *, seq: Seq, ts: Ts, symbol: Symbol, request_id: int = 0) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "request_id", request_id)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class EndOfDay(CommandBase):
    """Close the trading day: every DAY order expires; GTC orders stay."""


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class SetPhase(CommandBase):
    """Move one instrument (or, with no symbol, every one) to `phase`. Leaving a call
    phase for one that is not uncrosses the book first. The runtime sends it at each
    scheduled time; an operator may send it by hand."""

    phase: TradingPhase
    symbol: Symbol | None = None
    request_id: int = 0

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        phase: TradingPhase,
        symbol: Symbol | None = None,
        request_id: int = 0,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "phase", phase)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "request_id", request_id)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class ExpireDue(CommandBase):
    """The venue's clock reached this command's `ts`: the GTD orders due by then expire.

    Every command expires what is due at its `ts` before anything else; the runtime sends
    this one when the earliest expiry comes and nothing else has arrived, so an order
    expires on time on a quiet venue too (and a replay expires it at the same point)."""


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class Configure(CommandBase):
    """The risk and instrument settings in force from this command on, all of them.

    A command rather than engine construction: the venue journals one at every start
    and at every config reload whose settings differ, so a replay applies the same
    settings at the same point. The symbols and their tick sizes cannot change (prices
    are stored in ticks); a Configure that tries is refused as a whole.
    """

    instruments: tuple[Instrument, ...]
    accounts: tuple[AccountRisk, ...] = ()
    sessions: tuple[SessionRisk, ...] = ()
    var_window: int = DEFAULT_VAR_WINDOW
    """Samples the VaR monitor and the circuit breakers compute their variance over."""
    request_id: int = 0
    """The operator request it carries out (a limit or a check changed from the control
    plane; see KillSwitch), or 0 (a start or a config reload)."""

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        instruments: tuple[Instrument, ...],
        accounts: tuple[AccountRisk, ...] = (),
        sessions: tuple[SessionRisk, ...] = (),
        var_window: int = DEFAULT_VAR_WINDOW,
        request_id: int = 0,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "instruments", instruments)
        object.__setattr__(self, "accounts", accounts)
        object.__setattr__(self, "sessions", sessions)
        object.__setattr__(self, "var_window", var_window)
        object.__setattr__(self, "request_id", request_id)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class KillSwitch(CommandBase):
    """Engage (cancel every open order in scope, refuse new ones) or release a kill switch.

    The scope is one account, one session, or (neither given) the whole venue.
    `request_id` is the operator request it carries out, so a restarted venue knows which
    requests it has already applied.
    """

    engage: bool
    account: Account | None = None
    session: SessionKey | None = None
    reason: str = ""
    request_id: int = 0

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        engage: bool,
        account: Account | None = None,
        session: SessionKey | None = None,
        reason: str = "",
        request_id: int = 0,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "engage", engage)
        object.__setattr__(self, "account", account)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "request_id", request_id)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class ControlSession(CommandBase):
    """An operator's action on a FIX session (log it out, reset its sequence numbers).

    The engine only records it (SessionControlled): the FIX gateway acts on that event, so
    the action is journaled, ordered with everything else and carried out once, after
    the command is durable, like any message the gateway sends.
    """

    session: SessionKey
    action: SessionAction
    reason: str = ""
    request_id: int = 0
    """The operator request it carries out (see KillSwitch)."""

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        session: SessionKey,
        action: SessionAction,
        reason: str = "",
        request_id: int = 0,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "session", session)
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "request_id", request_id)


BUST_WINDOW = 100_000
"""How many of the day's latest trades can still be busted or corrected."""


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class BustTrade(CommandBase):
    """Cancel a trade after the fact (FIX ExecType H): both orders lose the fill, both
    accounts' positions go back, the feeds print a broken trade. The quantity is not put
    back in the book: the orders' owners decide whether to trade it again."""

    trade_id: TradeId
    reason: str = ""
    request_id: int = 0
    """The operator request it carries out (see KillSwitch), or 0 (a behaviour rule)."""

    def __init__(
        self, *, seq: Seq, ts: Ts, trade_id: TradeId, reason: str = "", request_id: int = 0
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "trade_id", trade_id)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "request_id", request_id)


@dataclass(frozen=True, slots=True, kw_only=True, init=False)
class CorrectTrade(CommandBase):
    """Change a trade's price, or lower its quantity, after the fact (FIX ExecType G).

    Only lower: a larger trade would need quantity the orders may no longer have."""

    trade_id: TradeId
    px: Px
    qty: Qty
    reason: str = ""
    request_id: int = 0

    def __init__(
        self,
        *,
        seq: Seq,
        ts: Ts,
        trade_id: TradeId,
        px: Px,
        qty: Qty,
        reason: str = "",
        request_id: int = 0,
    ) -> None:
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "trade_id", trade_id)
        object.__setattr__(self, "px", px)
        object.__setattr__(self, "qty", qty)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "request_id", request_id)


Command = (
    NewOrder
    | Cancel
    | CancelReplace
    | MassCancel
    | Halt
    | Resume
    | EndOfDay
    | Configure
    | KillSwitch
    | ControlSession
    | BustTrade
    | CorrectTrade
    | ExpireDue
    | SetPhase
)
