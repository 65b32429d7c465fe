"""Commands and events as positional rows: what the binary frames carry.

A frame (`nyquestro.codec.frames`) carries a command as a row: its tag, then every field
but `seq` and `ts` in declaration order, enums as their values; and a command's events as
one row each: tag, then every field. Both directions are written out per class here, in
compiled code. Building a command calls its written-out `__init__` natively (~40 ns); the
same call with keywords from interpreted code goes through generic argument parsing, ~2 µs
a command (measured), which made decoding the largest part of reading the journal back.
Reading an event's fields natively is what makes the event-stream hash cheap.

The codec hands rows in complete (it pads a shorter row from an older writer with the
defaults) and with records already built from their plain form (Configure's instruments
and risk settings). A value of the wrong type raises TypeError: compiled code checks
each one against the field's declared type.
"""

from collections.abc import Sequence
from typing import Any, Final

from nyquestro.domain.commands import (
    BustTrade,
    Cancel,
    CancelReplace,
    Command,
    CommandBase,
    Configure,
    ControlSession,
    CorrectTrade,
    EndOfDay,
    ExpireDue,
    Halt,
    KillSwitch,
    MassCancel,
    NewOrder,
    Resume,
    SetPhase,
)
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
from nyquestro.domain.events import (
    Accepted,
    AuctionIndicative,
    Cancelled,
    CancelRejected,
    Configured,
    EventBase,
    Execution,
    ExecutionAmended,
    ExecutionBusted,
    ExecutionCorrected,
    Expired,
    Filled,
    Halted,
    KillSwitchSet,
    LevelAdded,
    LevelChanged,
    LevelEvent,
    LevelRemoved,
    MassCancelled,
    OperatorRejected,
    PartiallyFilled,
    PhaseChanged,
    Rejected,
    Replaced,
    Restated,
    Resumed,
    SessionControlled,
    Trade,
    TradeAmended,
    TradeBusted,
    TradeCorrected,
    Triggered,
)
from nyquestro.domain.ids import Seq, Ts
from nyquestro.domain.reasons import (
    CancelReason,
    CancelRequestKind,
    ExpireReason,
    RejectReason,
    RestateReason,
)

NEW_ORDER: Final = 1
CANCEL: Final = 2
CANCEL_REPLACE: Final = 3
MASS_CANCEL: Final = 4
HALT: Final = 5
RESUME: Final = 6
END_OF_DAY: Final = 7
CONFIGURE: Final = 8
KILL_SWITCH: Final = 9
CONTROL_SESSION: Final = 10
BUST_TRADE: Final = 11
CORRECT_TRADE: Final = 12
EXPIRE_DUE: Final = 13
SET_PHASE: Final = 14

COMMAND_TAGS: Final[dict[type[CommandBase], int]] = {
    NewOrder: NEW_ORDER,
    Cancel: CANCEL,
    CancelReplace: CANCEL_REPLACE,
    MassCancel: MASS_CANCEL,
    Halt: HALT,
    Resume: RESUME,
    EndOfDay: END_OF_DAY,
    Configure: CONFIGURE,
    KillSwitch: KILL_SWITCH,
    ControlSession: CONTROL_SESSION,
    BustTrade: BUST_TRADE,
    CorrectTrade: CORRECT_TRADE,
    ExpireDue: EXPIRE_DUE,
    SetPhase: SET_PHASE,
}
"""A tag names one command class for good: never reused or renumbered."""

# Enum members by value: calling an enum class runs Python code.
_SIDES: Final = {member.value: member for member in Side}
_ORD_TYPES: Final = {member.value: member for member in OrdType}
_TIFS: Final = {member.value: member for member in TimeInForce}
_PEGS: Final = {member.value: member for member in PegType}
_SMP_POLICIES: Final = {member.value: member for member in SmpPolicy}
_ORIGINS: Final = {member.value: member for member in MassCancelOrigin}
_SESSION_ACTIONS: Final = {member.value: member for member in SessionAction}
_PHASES: Final = {member.value: member for member in TradingPhase}


def command_from_row(row: list[Any], seq: Seq, ts: Ts) -> Command:
    """The command `row` holds; KeyError for an unknown tag or enum value, TypeError for
    a value of the wrong type, IndexError for a row that is too short."""
    tag = row[0]
    if tag == NEW_ORDER:
        return NewOrder(
            seq=seq, ts=ts, session=row[1], account=row[2], cl_ord_id=row[3], symbol=row[4],
            side=_SIDES[row[5]], qty=row[6], ord_type=_ORD_TYPES[row[7]], px=row[8],
            tif=_TIFS[row[9]], display_qty=row[10],
            peg=None if row[11] is None else _PEGS[row[11]], peg_offset=row[12],
            smp_id=row[13],
            smp_policy=None if row[14] is None else _SMP_POLICIES[row[14]], stop_px=row[15],
            expire_ts=row[16],
        )  # fmt: skip
    if tag == CANCEL:
        return Cancel(
            seq=seq, ts=ts, session=row[1], cl_ord_id=row[2], orig_cl_ord_id=row[3],
            order_id=row[4],
        )  # fmt: skip
    if tag == CANCEL_REPLACE:
        return CancelReplace(
            seq=seq, ts=ts, session=row[1], cl_ord_id=row[2], qty=row[3],
            orig_cl_ord_id=row[4], order_id=row[5], px=row[6],
            side=None if row[7] is None else _SIDES[row[7]], display_qty=row[8],
            stop_px=row[9],
        )  # fmt: skip
    if tag == MASS_CANCEL:
        return MassCancel(
            seq=seq, ts=ts, session=row[1], cl_ord_id=row[2], scope_session=row[3],
            account=row[4], symbol=row[5], origin=_ORIGINS[row[6]], order_id=row[7],
            request_id=row[8],
        )  # fmt: skip
    if tag == HALT:
        return Halt(seq=seq, ts=ts, symbol=row[1], reason=row[2], request_id=row[3])
    if tag == RESUME:
        return Resume(seq=seq, ts=ts, symbol=row[1], request_id=row[2])
    if tag == END_OF_DAY:
        return EndOfDay(seq=seq, ts=ts)
    if tag == CONFIGURE:
        return Configure(
            seq=seq, ts=ts, instruments=row[1], accounts=row[2], sessions=row[3],
            var_window=row[4], request_id=row[5],
        )  # fmt: skip
    if tag == KILL_SWITCH:
        return KillSwitch(
            seq=seq, ts=ts, engage=row[1], account=row[2], session=row[3], reason=row[4],
            request_id=row[5],
        )  # fmt: skip
    if tag == CONTROL_SESSION:
        return ControlSession(
            seq=seq, ts=ts, session=row[1], action=_SESSION_ACTIONS[row[2]], reason=row[3],
            request_id=row[4],
        )  # fmt: skip
    if tag == BUST_TRADE:
        return BustTrade(seq=seq, ts=ts, trade_id=row[1], reason=row[2], request_id=row[3])
    if tag == CORRECT_TRADE:
        return CorrectTrade(
            seq=seq, ts=ts, trade_id=row[1], px=row[2], qty=row[3], reason=row[4],
            request_id=row[5],
        )  # fmt: skip
    if tag == EXPIRE_DUE:
        return ExpireDue(seq=seq, ts=ts)
    if tag == SET_PHASE:
        return SetPhase(
            seq=seq, ts=ts, phase=_PHASES[row[1]], symbol=row[2], request_id=row[3]
        )  # fmt: skip
    raise KeyError(f"unknown command tag {tag!r}")


EVENT_TAGS: Final[dict[type[EventBase], int]] = {
    Accepted: 1,
    Rejected: 2,
    CancelRejected: 3,
    PartiallyFilled: 4,
    Filled: 5,
    Cancelled: 6,
    Expired: 7,
    Replaced: 8,
    Restated: 9,
    MassCancelled: 10,
    Trade: 11,
    LevelAdded: 12,
    LevelChanged: 13,
    LevelRemoved: 14,
    Halted: 15,
    Resumed: 16,
    OperatorRejected: 17,
    Configured: 18,
    KillSwitchSet: 19,
    SessionControlled: 20,
    ExecutionBusted: 21,
    ExecutionCorrected: 22,
    TradeBusted: 23,
    TradeCorrected: 24,
    Triggered: 25,
    PhaseChanged: 26,
    AuctionIndicative: 27,
}
"""A tag names one event class for good: never reused or renumbered."""

_REJECT_REASONS: Final = {member.value: member for member in RejectReason}
_CANCEL_REASONS: Final = {member.value: member for member in CancelReason}
_EXPIRE_REASONS: Final = {member.value: member for member in ExpireReason}
_RESTATE_REASONS: Final = {member.value: member for member in RestateReason}
_REQUEST_KINDS: Final = {member.value: member for member in CancelRequestKind}


def events_rows(events: Sequence[EventBase]) -> list[list[object]]:
    """One row per event, in order: the events frame before MessagePack."""
    return [event_row(event) for event in events]


def event_row(e: EventBase) -> list[object]:
    """The event's tag, then every field in declaration order (enums as members: the
    encoder writes their values). The most frequent classes are tested first."""
    tag = EVENT_TAGS[type(e)]
    if isinstance(e, LevelEvent):
        return [tag, e.seq, e.ts, e.symbol, e.side, e.px, e.qty, e.orders, e.order_id,
                e.order_qty]  # fmt: skip
    if isinstance(e, Accepted):
        return [tag, e.seq, e.ts, e.order_id, e.session, e.account, e.cl_ord_id, e.symbol,
                e.side, e.qty, e.ord_type, e.px, e.tif, e.display_qty, e.peg,
                e.stop_px, e.expire_ts]  # fmt: skip
    if isinstance(e, Cancelled):
        return [tag, e.seq, e.ts, e.order_id, e.session, e.cl_ord_id, e.orig_cl_ord_id,
                e.symbol, e.side, e.reason, e.cancelled_qty, e.cum_qty]  # fmt: skip
    if isinstance(e, Execution):
        return [tag, e.seq, e.ts, e.order_id, e.session, e.account, e.cl_ord_id, e.symbol,
                e.side, e.trade_id, e.px, e.qty, e.cum_qty, e.leaves_qty, e.cum_notional,
                e.aggressor_side, e.contra_order_id]  # fmt: skip
    if isinstance(e, Trade):
        return [tag, e.seq, e.ts, e.symbol, e.trade_id, e.px, e.qty, e.aggressor_side,
                e.buy_order_id, e.sell_order_id]  # fmt: skip
    if isinstance(e, Replaced):
        return [tag, e.seq, e.ts, e.order_id, e.session, e.cl_ord_id, e.orig_cl_ord_id,
                e.symbol, e.side, e.px, e.qty, e.leaves_qty, e.cum_qty, e.display_qty,
                e.priority_kept, e.stop_px]  # fmt: skip
    if isinstance(e, Rejected):
        return [tag, e.seq, e.ts, e.session, e.cl_ord_id, e.symbol, e.reason, e.text]
    if isinstance(e, CancelRejected):
        return [tag, e.seq, e.ts, e.session, e.cl_ord_id, e.orig_cl_ord_id, e.order_id,
                e.response_to, e.reason, e.text]  # fmt: skip
    if isinstance(e, Restated):
        return [tag, e.seq, e.ts, e.order_id, e.session, e.cl_ord_id, e.symbol, e.side,
                e.reason, e.px, e.qty, e.leaves_qty, e.cum_qty, e.reduced_qty]  # fmt: skip
    if isinstance(e, Expired):
        return [tag, e.seq, e.ts, e.order_id, e.session, e.cl_ord_id, e.symbol, e.side,
                e.reason, e.expired_qty, e.cum_qty]  # fmt: skip
    if isinstance(e, MassCancelled):
        return [tag, e.seq, e.ts, e.session, e.cl_ord_id, e.cancelled_count]
    if isinstance(e, Halted):
        return [tag, e.seq, e.ts, e.symbol, e.reason]
    if isinstance(e, Resumed):
        return [tag, e.seq, e.ts, e.symbol]
    if isinstance(e, OperatorRejected):
        return [tag, e.seq, e.ts, e.command, e.reason, e.text]
    if isinstance(e, Configured):
        return [tag, e.seq, e.ts, list(e.changes)]
    if isinstance(e, KillSwitchSet):
        return [tag, e.seq, e.ts, e.engaged, e.account, e.session, e.reason, e.cancelled]
    if isinstance(e, SessionControlled):
        return [tag, e.seq, e.ts, e.session, e.action, e.reason]
    if isinstance(e, ExecutionAmended):
        return [tag, e.seq, e.ts, e.order_id, e.session, e.account, e.cl_ord_id, e.symbol,
                e.side, e.trade_id, e.orig_px, e.orig_qty, e.px, e.qty, e.cum_qty,
                e.leaves_qty, e.order_qty, e.cum_notional, e.reason]  # fmt: skip
    if isinstance(e, TradeAmended):
        return [tag, e.seq, e.ts, e.symbol, e.trade_id, e.orig_px, e.orig_qty, e.px, e.qty]
    if isinstance(e, AuctionIndicative):
        return [tag, e.seq, e.ts, e.symbol, e.px, e.qty, e.imbalance_qty, e.imbalance_side]
    if isinstance(e, PhaseChanged):
        return [tag, e.seq, e.ts, e.symbol, e.phase, e.previous]
    if isinstance(e, Triggered):
        return [tag, e.seq, e.ts, e.order_id, e.session, e.account, e.cl_ord_id, e.symbol,
                e.side, e.ord_type, e.px, e.stop_px, e.last_px, e.qty, e.leaves_qty,
                e.cum_qty]  # fmt: skip
    raise KeyError(f"no row for event class {type(e).__name__}")


def event_from_row(r: list[Any]) -> EventBase:
    """The event row `r` holds (the inverse of `event_row`, for processes that follow the
    committed stream); the same errors as `command_from_row`."""
    # Each class is called by name: a class called through a variable is a generic
    # Python call with keyword parsing, five times the cost (measured).
    tag = r[0]
    if tag == 13:
        return LevelChanged(
            seq=r[1], ts=r[2], symbol=r[3], side=_SIDES[r[4]], px=r[5], qty=r[6], orders=r[7],
            order_id=r[8], order_qty=r[9],
        )  # fmt: skip
    if tag == 12:
        return LevelAdded(
            seq=r[1], ts=r[2], symbol=r[3], side=_SIDES[r[4]], px=r[5], qty=r[6], orders=r[7],
            order_id=r[8], order_qty=r[9],
        )  # fmt: skip
    if tag == 14:
        return LevelRemoved(
            seq=r[1], ts=r[2], symbol=r[3], side=_SIDES[r[4]], px=r[5], qty=r[6], orders=r[7],
            order_id=r[8], order_qty=r[9],
        )  # fmt: skip
    if tag == 1:
        return Accepted(
            seq=r[1], ts=r[2], order_id=r[3], session=r[4], account=r[5], cl_ord_id=r[6],
            symbol=r[7], side=_SIDES[r[8]], qty=r[9], ord_type=_ORD_TYPES[r[10]], px=r[11],
            tif=_TIFS[r[12]], display_qty=r[13], peg=None if r[14] is None else _PEGS[r[14]],
            stop_px=r[15], expire_ts=r[16],
        )  # fmt: skip
    if tag == 6:
        return Cancelled(
            seq=r[1], ts=r[2], order_id=r[3], session=r[4], cl_ord_id=r[5],
            orig_cl_ord_id=r[6], symbol=r[7], side=_SIDES[r[8]], reason=_CANCEL_REASONS[r[9]],
            cancelled_qty=r[10], cum_qty=r[11],
        )  # fmt: skip
    if tag == 4:
        return PartiallyFilled(
            seq=r[1], ts=r[2], order_id=r[3], session=r[4], account=r[5], cl_ord_id=r[6],
            symbol=r[7], side=_SIDES[r[8]], trade_id=r[9], px=r[10], qty=r[11], cum_qty=r[12],
            leaves_qty=r[13], cum_notional=r[14], aggressor_side=_SIDES[r[15]],
            contra_order_id=r[16],
        )  # fmt: skip
    if tag == 5:
        return Filled(
            seq=r[1], ts=r[2], order_id=r[3], session=r[4], account=r[5], cl_ord_id=r[6],
            symbol=r[7], side=_SIDES[r[8]], trade_id=r[9], px=r[10], qty=r[11], cum_qty=r[12],
            leaves_qty=r[13], cum_notional=r[14], aggressor_side=_SIDES[r[15]],
            contra_order_id=r[16],
        )  # fmt: skip
    if tag == 11:
        return Trade(
            seq=r[1], ts=r[2], symbol=r[3], trade_id=r[4], px=r[5], qty=r[6],
            aggressor_side=_SIDES[r[7]], buy_order_id=r[8], sell_order_id=r[9],
        )  # fmt: skip
    if tag == 8:
        return Replaced(
            seq=r[1], ts=r[2], order_id=r[3], session=r[4], cl_ord_id=r[5],
            orig_cl_ord_id=r[6], symbol=r[7], side=_SIDES[r[8]], px=r[9], qty=r[10],
            leaves_qty=r[11], cum_qty=r[12], display_qty=r[13], priority_kept=r[14],
            stop_px=r[15],
        )  # fmt: skip
    if tag == 2:
        return Rejected(
            seq=r[1], ts=r[2], session=r[3], cl_ord_id=r[4], symbol=r[5],
            reason=_REJECT_REASONS[r[6]], text=r[7],
        )  # fmt: skip
    if tag == 3:
        return CancelRejected(
            seq=r[1], ts=r[2], session=r[3], cl_ord_id=r[4], orig_cl_ord_id=r[5],
            order_id=r[6], response_to=_REQUEST_KINDS[r[7]], reason=_REJECT_REASONS[r[8]],
            text=r[9],
        )  # fmt: skip
    if tag == 9:
        return Restated(
            seq=r[1], ts=r[2], order_id=r[3], session=r[4], cl_ord_id=r[5], symbol=r[6],
            side=_SIDES[r[7]], reason=_RESTATE_REASONS[r[8]], px=r[9], qty=r[10],
            leaves_qty=r[11], cum_qty=r[12], reduced_qty=r[13],
        )  # fmt: skip
    if tag == 7:
        return Expired(
            seq=r[1], ts=r[2], order_id=r[3], session=r[4], cl_ord_id=r[5], symbol=r[6],
            side=_SIDES[r[7]], reason=_EXPIRE_REASONS[r[8]], expired_qty=r[9], cum_qty=r[10],
        )  # fmt: skip
    if tag == 10:
        return MassCancelled(
            seq=r[1], ts=r[2], session=r[3], cl_ord_id=r[4], cancelled_count=r[5]
        )  # fmt: skip
    if tag == 15:
        return Halted(seq=r[1], ts=r[2], symbol=r[3], reason=r[4])
    if tag == 16:
        return Resumed(seq=r[1], ts=r[2], symbol=r[3])
    if tag == 17:
        return OperatorRejected(
            seq=r[1], ts=r[2], command=r[3], reason=_REJECT_REASONS[r[4]], text=r[5]
        )  # fmt: skip
    if tag == 18:
        return Configured(seq=r[1], ts=r[2], changes=tuple(r[3]))
    if tag == 19:
        return KillSwitchSet(
            seq=r[1], ts=r[2], engaged=r[3], account=r[4], session=r[5], reason=r[6],
            cancelled=r[7],
        )  # fmt: skip
    if tag == 20:
        return SessionControlled(
            seq=r[1], ts=r[2], session=r[3], action=_SESSION_ACTIONS[r[4]], reason=r[5]
        )  # fmt: skip
    if tag == 21:
        return ExecutionBusted(
            seq=r[1], ts=r[2], order_id=r[3], session=r[4], account=r[5], cl_ord_id=r[6],
            symbol=r[7], side=_SIDES[r[8]], trade_id=r[9], orig_px=r[10], orig_qty=r[11],
            px=r[12], qty=r[13], cum_qty=r[14], leaves_qty=r[15], order_qty=r[16],
            cum_notional=r[17], reason=r[18],
        )  # fmt: skip
    if tag == 22:
        return ExecutionCorrected(
            seq=r[1], ts=r[2], order_id=r[3], session=r[4], account=r[5], cl_ord_id=r[6],
            symbol=r[7], side=_SIDES[r[8]], trade_id=r[9], orig_px=r[10], orig_qty=r[11],
            px=r[12], qty=r[13], cum_qty=r[14], leaves_qty=r[15], order_qty=r[16],
            cum_notional=r[17], reason=r[18],
        )  # fmt: skip
    if tag == 23:
        return TradeBusted(
            seq=r[1], ts=r[2], symbol=r[3], trade_id=r[4], orig_px=r[5], orig_qty=r[6],
            px=r[7], qty=r[8],
        )  # fmt: skip
    if tag == 24:
        return TradeCorrected(
            seq=r[1], ts=r[2], symbol=r[3], trade_id=r[4], orig_px=r[5], orig_qty=r[6],
            px=r[7], qty=r[8],
        )  # fmt: skip
    if tag == 27:
        return AuctionIndicative(
            seq=r[1], ts=r[2], symbol=r[3], px=r[4], qty=r[5], imbalance_qty=r[6],
            imbalance_side=None if r[7] is None else _SIDES[r[7]],
        )  # fmt: skip
    if tag == 26:
        return PhaseChanged(
            seq=r[1], ts=r[2], symbol=r[3], phase=_PHASES[r[4]], previous=_PHASES[r[5]]
        )  # fmt: skip
    if tag == 25:
        return Triggered(
            seq=r[1], ts=r[2], order_id=r[3], session=r[4], account=r[5], cl_ord_id=r[6],
            symbol=r[7], side=_SIDES[r[8]], ord_type=_ORD_TYPES[r[9]], px=r[10],
            stop_px=r[11], last_px=r[12], qty=r[13], leaves_qty=r[14], cum_qty=r[15],
        )  # fmt: skip
    raise KeyError(f"unknown event tag {tag!r}")
