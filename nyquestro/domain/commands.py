"""Commands: everything that can change engine state.

Each command carries the sequence number and timestamp stamped by whoever feeds the
engine (the sequencer); the engine never reads a clock. Commands are what the journal
stores and what recovery replays through `Engine.process`.
"""

from dataclasses import dataclass

from nyquestro.domain.enums import MassCancelOrigin, OrdType, PegType, Side, SmpPolicy, TimeInForce
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
    Ts,
)
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.risk import DEFAULT_VAR_WINDOW, AccountRisk, SessionRisk


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandBase:
    seq: Seq
    ts: Ts


@dataclass(frozen=True, slots=True, kw_only=True)
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
    peg_offset: Px = Px(0)
    """Signed ticks added to the peg reference (FIX PegOffsetValue semantics)."""
    smp_id: SmpId | None = None
    smp_policy: SmpPolicy | None = None
    """None takes the instrument's default."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancel(CommandBase):
    """Cancel one order, named by `orig_cl_ord_id` (this session's) or by `order_id`."""

    session: SessionKey
    cl_ord_id: ClOrdId
    orig_cl_ord_id: ClOrdId | None = None
    order_id: OrderId | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Halt(CommandBase):
    symbol: Symbol
    reason: str = ""
    request_id: int = 0
    """The operator request it carries out (see KillSwitch), or 0."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Resume(CommandBase):
    symbol: Symbol
    request_id: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class EndOfDay(CommandBase):
    """Close the trading day: every DAY order expires; GTC orders stay."""


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
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
)
