"""UDP requests → engine commands, engine events → reply frames, and idempotent retries.

Sans-IO: `UdpOrders` takes validated request frames and engine events and returns command
factories and reply frames; the sockets live in `gateway.py` and `worker.py`. Everything
here runs under the sequencer's lock (requests through `read`, events as a subscriber).

Identity. A client session id N trades as engine session `UDP:N` for the account
configured for it, and every command carries the client's sequence number as its
ClOrdID. So each event addressed to a UDP session says, by itself, which client session
and which request it concerns: the journal replayed at start-up rebuilds everything kept
here after the snapshot it started from.

Idempotency. UDP loses, duplicates and reorders datagrams, so a client retries a request
whose reply it has not seen, with the same seq. Per client session, the replies each
request's command produced for it (Accepted plus any immediate fills, or Rejected, ...)
are kept for the last `window` sequence numbers: a request whose seq is there is not
processed again; its original replies are sent again, byte for byte. Requests may arrive
in any order: any seq not yet seen is new, whether above or below the highest so far. A
seq at or below the highest minus `window` is refused (STALE_SEQUENCE): it can no longer
be told from a retry. The windows are part of the venue's snapshots (the replica that
takes them folds the same events), so a retry is recognised across restarts too.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from nyquestro.domain.commands import Cancel, CancelReplace, Command, MassCancel, NewOrder
from nyquestro.domain.enums import MassCancelOrigin, OrdType
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    CancelRejected,
    EventBase,
    Execution,
    Expired,
    MassCancelled,
    Rejected,
    Replaced,
    Restated,
)
from nyquestro.domain.ids import Account, ClOrdId, OrderId, Px, Qty, Seq, SessionKey, Symbol, Ts
from nyquestro.domain.reasons import CancelRequestKind
from nyquestro.gateways.udp import frames
from nyquestro.gateways.udp.frames import (
    CancelFrame,
    FrameError,
    FrameErrorCode,
    MassCancelFrame,
    MsgType,
    NewOrderFrame,
    ReplaceFrame,
    Request,
)

SESSION_PREFIX = "UDP:"
DEFAULT_WINDOW = 65_536
"""Sequence numbers per client session whose replies are kept for retries."""

CommandFactory = Callable[[Seq, Ts], Command]


def session_key(session: int) -> SessionKey:
    return SessionKey(f"{SESSION_PREFIX}{session}")


@dataclass(frozen=True, slots=True)
class Retry:
    """A request already handled: send these replies again."""

    replies: tuple[bytes, ...]


class RetryWindow:
    __slots__ = ("high", "replies")

    def __init__(self) -> None:
        self.high = 0
        self.replies: dict[int, tuple[bytes, ...]] = {}


class UdpOrders:
    def __init__(self, accounts: Mapping[int, str], window: int = DEFAULT_WINDOW) -> None:
        self._accounts = {session: Account(account) for session, account in accounts.items()}
        self._window = window
        self._windows: dict[int, RetryWindow] = {}

    def export_state(self) -> dict[int, RetryWindow]:
        """The retry windows, for a snapshot (shared objects: serialise at once)."""
        return self._windows

    def restore_state(self, windows: dict[int, RetryWindow]) -> None:
        self._windows = windows

    def handle(self, request: Request) -> CommandFactory | Retry | FrameError:
        """What to do with a validated request: submit its command, answer it again, or
        refuse it as too old."""
        window = self._windows.get(request.session)
        if window is not None:
            replies = window.replies.get(request.seq)
            if replies is not None:
                return Retry(replies)
            if request.seq <= window.high - self._window:
                return FrameError(
                    code=FrameErrorCode.STALE_SEQUENCE,
                    text=f"seq {request.seq} is older than the last {self._window} of this session",
                    msg_type=frames.REQUEST_TYPE_OF[type(request)], session=request.session,
                    seq=request.seq,
                )  # fmt: skip
        return partial(_BUILDERS[type(request)], request, self._accounts[request.session])

    def on_events(self, command: Command, events: Sequence[EventBase]) -> list[tuple[int, bytes]]:
        """The reply frames `events` cause, as (client session, frame), in event order;
        a UDP request's own replies are also kept for its retries."""
        out = []
        own: list[bytes] = []
        requester = _udp_session(command.session) if isinstance(command, _REQUESTS) else None
        for event in events:
            # A kill switch's event names a session only when scoped to one (else None).
            session = _udp_session(getattr(event, "session", None) or "")
            if session is None:
                continue
            frame = _reply(session, event)
            if frame is None:
                continue
            out.append((session, frame))
            if session == requester:
                own.append(frame)
        if requester is not None:
            assert isinstance(command, _REQUESTS)
            self._remember(requester, int(command.cl_ord_id), tuple(own))
        return out

    def _remember(self, session: int, seq: int, replies: tuple[bytes, ...]) -> None:
        window = self._windows.get(session)
        if window is None:
            window = self._windows[session] = RetryWindow()
        window.replies[seq] = replies
        if seq > window.high:
            window.high = seq
            # Insertion order is nearly seq order, so the oldest entries are at the front;
            # one inserted late and out of order may outlive its turn, which is harmless.
            cutoff = seq - self._window
            kept = window.replies
            while kept:
                oldest = next(iter(kept))
                if oldest > cutoff:
                    break
                del kept[oldest]


_REQUESTS = (NewOrder, Cancel, CancelReplace, MassCancel)


def _udp_session(key: str) -> int | None:
    if not key.startswith(SESSION_PREFIX):
        return None
    return int(key[len(SESSION_PREFIX) :])


def _reply(session: int, event: EventBase) -> bytes | None:
    if isinstance(event, Accepted):
        return frames.accepted(session, int(event.cl_ord_id), event.order_id, event.ts)
    if isinstance(event, Execution):
        return frames.filled(
            session, int(event.cl_ord_id), event.order_id, event.trade_id, event.px, event.qty,
            event.leaves_qty, event.ts,
        )  # fmt: skip
    if isinstance(event, Cancelled):
        return frames.cancelled(
            session, int(event.cl_ord_id), event.order_id, event.cancelled_qty,
            frames.CANCEL_REASONS[event.reason], event.ts,
        )  # fmt: skip
    if isinstance(event, Expired):
        return frames.cancelled(
            session, int(event.cl_ord_id), event.order_id, event.expired_qty,
            frames.CANCEL_REASONS[event.reason], event.ts,
        )  # fmt: skip
    if isinstance(event, Replaced | Restated):
        return frames.replaced(
            session, int(event.cl_ord_id), event.order_id, event.qty, event.leaves_qty,
            event.px or 0, event.ts,
        )  # fmt: skip
    if isinstance(event, Rejected):
        return frames.rejected(
            session, int(event.cl_ord_id), MsgType.NEW_ORDER, event.reason, event.text
        )
    if isinstance(event, CancelRejected):
        kind = MsgType.CANCEL if event.response_to is CancelRequestKind.CANCEL else MsgType.REPLACE
        return frames.rejected(session, int(event.cl_ord_id), kind, event.reason, event.text)
    if isinstance(event, MassCancelled):
        return frames.mass_cancelled(session, int(event.cl_ord_id), event.cancelled_count, event.ts)
    return None


def _new_order(request: NewOrderFrame, account: Account, seq: Seq, ts: Ts) -> Command:
    return NewOrder(
        seq=seq, ts=ts, session=session_key(request.session), account=account,
        cl_ord_id=ClOrdId(str(request.seq)), symbol=Symbol(request.symbol), side=request.side,
        qty=Qty(request.qty), ord_type=request.ord_type,
        px=None if request.ord_type is OrdType.MARKET else Px(request.px), tif=request.tif,
        display_qty=Qty(request.display_qty) if request.display_qty else None,
    )  # fmt: skip


def _cancel(request: CancelFrame, _account: Account, seq: Seq, ts: Ts) -> Command:
    return Cancel(
        seq=seq, ts=ts, session=session_key(request.session),
        cl_ord_id=ClOrdId(str(request.seq)), order_id=OrderId(request.order_id),
    )  # fmt: skip


def _replace(request: ReplaceFrame, _account: Account, seq: Seq, ts: Ts) -> Command:
    return CancelReplace(
        seq=seq, ts=ts, session=session_key(request.session),
        cl_ord_id=ClOrdId(str(request.seq)), order_id=OrderId(request.order_id),
        qty=Qty(request.qty), px=Px(request.px) if request.px else None,
        display_qty=Qty(request.display_qty) if request.display_qty else None,
    )  # fmt: skip


def _mass_cancel(request: MassCancelFrame, _account: Account, seq: Seq, ts: Ts) -> Command:
    key = session_key(request.session)
    return MassCancel(
        seq=seq, ts=ts, session=key, cl_ord_id=ClOrdId(str(request.seq)), scope_session=key,
        symbol=None if request.symbol is None else Symbol(request.symbol),
        origin=MassCancelOrigin.REQUEST,
    )  # fmt: skip


_BUILDERS: dict[type, Callable[..., Command]] = {
    NewOrderFrame: _new_order,
    CancelFrame: _cancel,
    ReplaceFrame: _replace,
    MassCancelFrame: _mass_cancel,
}
