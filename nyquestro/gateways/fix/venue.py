"""The FIX gateway core: sessions, requests, and the reports that events cause.

Sans-IO: it receives decoded messages (`FieldSource`) and engine events, and hands
`OutMessage`s to a `send` function; quickfix lives in `acceptor.py`.

Threading: quickfix's callbacks never call in here directly (they may not wait for the
sequencer's lock, ADR 0008): the acceptor checks `handles` (configuration only), copies
the message and posts `receive` / `on_logout` to the single writer, which runs them under
the sequencer's lock, in arrival order. `on_events` is a sequencer subscriber and so also
runs under that lock, in sequence order. All state here (order views, depth,
subscriptions, phases and halts, ExecID counter, throttle buckets) is touched only inside
the lock.
Queue-mode throttles add a second caller, `release_queued`, on a timer thread; it handles
held messages inside `read` too, so "queue empty, take it now" on the writer and "take the
oldest held one" on the timer cannot interleave and reorder a session's messages.
"""

import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar

from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.rules import Amend, Fill, Rule
from nyquestro.domain.commands import (
    BUST_WINDOW,
    BustTrade,
    Cancel,
    CancelReplace,
    Command,
    CorrectTrade,
    MassCancel,
    NewOrder,
)
from nyquestro.domain.enums import MassCancelOrigin
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    CancelRejected,
    EventBase,
    Execution,
    ExecutionAmended,
    Expired,
    MassCancelled,
    PhaseChanged,
    Rejected,
    Replaced,
    Restated,
    SessionControlled,
    Triggered,
)
from nyquestro.domain.ids import ClOrdId, OrderId, Px, Qty, SessionKey, Symbol, TradeId
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.reasons import CancelRequestKind, RejectReason
from nyquestro.gateways.fix.after_ack import fill_orders
from nyquestro.gateways.fix.dialect import DIALECTS, tag
from nyquestro.gateways.fix.inbound import (
    BadCancel,
    BadOrder,
    CommandFactory,
    FieldSource,
    Inbound,
    Submit,
)
from nyquestro.gateways.fix.marketdata import (
    ENTRY_TYPES,
    MarketData,
    MarketDataState,
    Subscription,
)
from nyquestro.gateways.fix.message import Group, OutMessage, SessionOrder, ToSession
from nyquestro.gateways.fix.orders import OrderState, OrderViews
from nyquestro.gateways.fix.outbound import Outbound
from nyquestro.gateways.fix.spec import ENUMS
from nyquestro.gateways.fix.stages import StageClock
from nyquestro.gateways.fix.throttle import Held, TokenBucket
from nyquestro.gateways.fix.trading_status import (
    SECURITY_STATUS_REQ_ID,
    SNAPSHOT,
    STATUS_EVENTS,
    SUBSCRIBE,
    SUBSCRIPTION_REQUEST_TYPE,
    TRAD_SES_REQ_ID,
    TRADING_SESSION_ID,
    TradingStatus,
    TradingStatusState,
)

log = logging.getLogger(__name__)

Send = Callable[[SessionKey, ToSession], None]
SubmitFn = Callable[[CommandFactory], Sequence[EventBase]]
_T = TypeVar("_T")


class ReadFn(Protocol):
    def __call__(self, query: Callable[[], _T]) -> _T:
        """Run `query` under the sequencer's lock and return what it returned."""
        ...


class UnsupportedMessage(Exception):
    """The message type is valid FIX but this venue does not handle it."""


class Refused(Exception):
    """The message is refused (its text says why) and has no reply of its own type: the
    acceptor answers with a BusinessMessageReject."""


@dataclass(slots=True)
class SessionState:
    key: SessionKey
    begin_string: str
    inbound: Inbound
    outbound: Outbound
    cancel_on_disconnect: bool
    orders: TokenBucket | None = None
    """NewOrderSingle, cancel and replace requests per second (None: unlimited)."""
    messages: TokenBucket | None = None
    """Application messages of any type per second (None: unlimited)."""
    queue: deque[Held] | None = None
    """Queue mode: messages waiting for tokens, oldest first (None: reject mode)."""
    queue_limit: int = 0
    """Queue mode: most messages held at once; one beyond it is refused."""
    refused: int = 0
    """Messages its throttles refused since this gateway started."""

    def throttled(self, msg_type: str, now_ns: int) -> str | None:
        """Why this message cannot be taken now, or None: then its tokens are taken.

        Both buckets are checked before either is taken from, so a message that has to
        wait in the queue holds on to no token meanwhile."""
        if self.messages is not None and not self.messages.ready(now_ns):
            return f"throttled: more than {self.messages.rate} messages a second on this session"
        orders = self.orders if msg_type in ORDER_MESSAGES else None
        if orders is not None and not orders.ready(now_ns):
            return f"throttled: more than {orders.rate} orders a second on this session"
        for bucket in (self.messages, orders):
            if bucket is not None:
                bucket.take(now_ns)
        return None

    @property
    def client(self) -> str:
        """The client's CompID: the key is quickfix's "BEGIN:OURS->THEIRS"."""
        return self.key.rsplit("->", 1)[-1]


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueState:
    orders: OrderViews
    market_data: MarketDataState
    exec_ids: tuple[int, int, int]
    """ExecID base, next report and next reply of the latest command."""
    cod_next: int
    trading: TradingStatusState | None = None
    """Phases and halts (None in a snapshot taken before the gateway kept them)."""


# Header and drop-copy tags the generated tables (spec.py: what the gateway reads) lack.
MSG_SEQ_NUM = 34
ON_BEHALF_OF_COMP_ID = 115
COPY_MSG_INDICATOR = 797
"""FIX 4.4 CopyMsgIndicator; 4.2 has no such tag."""

EXEC_SLOT = 1_000_000
"""An ExecID is the causing command's seq x EXEC_SLOT + n (replies: the upper half)."""
REPLY_OFFSET = EXEC_SLOT // 2

ORDER_EVENTS = (
    Accepted,
    Execution,
    Cancelled,
    Expired,
    Replaced,
    Restated,
    Triggered,
    ExecutionAmended,
)
"""Events that change one order's state and so produce one ExecutionReport."""
ORDER_MESSAGES = frozenset({"D", "F", "G"})
"""Message types the orders-per-second throttle counts."""
ALWAYS_HANDLED = frozenset({"D", "F", "G", "H", "V", "e", "g"})
"""Message types every order-entry session handles (q and x depend on the version)."""
GROUP_COUNT_TAGS = frozenset({tag("NoMDEntryTypes"), tag("NoRelatedSym")})
"""The repeating groups the gateway reads (MarketDataRequest's): the only ones worth
copying out of a received message."""
MD_SUBSCRIPTION_TYPES = {"0", "1", "2"}
MD_ENTRY_TYPES_TEXT = {
    "FIX.4.2": "0 bid, 1 offer, 2 trade, 4 opening and 5 closing price (indicative in the"
    " auctions)",
    "FIX.4.4": "0 bid, 1 offer, 2 trade, 4 opening and 5 closing price (indicative in the"
    " auctions), A imbalance",
}
BUSINESS_REJECT_REASONS = ENUMS["FIX.4.2"]["BusinessRejectReason"]
"""0-5 mean the same in 4.2 and 4.4 (4.4 adds 6 and 7)."""


class FixVenue:
    def __init__(
        self,
        instruments: Sequence[Instrument],
        submit: SubmitFn,
        read: ReadFn,
        send: Send,
        clock: Callable[[], int],
    ) -> None:
        self._instruments = {inst.symbol: inst for inst in instruments}
        self._prices = DecimalPrices(self._instruments)
        self._submit = submit
        self._read = read
        self._send = send
        self._clock = clock
        self.rules: tuple[Rule, ...] = ()
        """Behaviour rules ([[fix.rules]]); here only `reject` acts (delays are sent late
        by the gateway's process: delays.py; cancels and fills after the ack are its
        posts of `cancel_by_rule` and `fill_by_rule`: after_ack.py)."""
        self._sessions: dict[SessionKey, SessionState] = {}
        self._drop_copies: list[SessionState] = []
        self._copied: dict[SessionKey, SessionState] = {}
        """Other gateways' sessions whose reports only the drop copies get."""
        self._orders = OrderViews()
        self._trading = TradingStatus(self._instruments)
        self._md = MarketData(self._prices, lambda symbol: self._trading.status(symbol).phase)
        # ExecIDs are derived from the engine sequence number of the command that caused
        # the report (seq x 10^6 + n), so a replayed journal reproduces them exactly and a
        # report re-sent after a crash carries its original ExecID. Replies that no
        # command caused (status, gateway-level rejects) use the upper half of the slot of
        # the latest command.
        self._exec_base = 0
        self._exec_next = 0
        self._reply_next = REPLY_OFFSET
        self._cod_next = 1
        self._amended: set[TradeId] = set()
        """Trades a behaviour rule has busted or corrected (not kept in snapshots: after a
        restart a rule may ask again, and the engine refuses what is already done)."""
        self._amended_order: deque[TradeId] = deque()
        self.on_refused: Callable[[SessionKey], None] | None = None
        """Told the session of each message a throttle refused (the venue's metrics)."""
        self.stages: StageClock | None = None
        """Marks when each request's command came back (the order path's latency)."""
        self.on_rejected: Callable[[SessionKey, str], None] | None = None
        """Told the session and reason of each request refused here, before the engine
        (malformed, throttled): the engine's own rejects are on the committed stream."""

    # --- snapshots ------------------------------------------------------------------------

    def export_state(self) -> VenueState:
        """What the gateway folded from events so far; shares objects, serialise at once."""
        return VenueState(
            orders=self._orders,
            market_data=self._md.export_state(),
            exec_ids=(self._exec_base, self._exec_next, self._reply_next),
            cod_next=self._cod_next,
            trading=self._trading.export_state(),
        )

    def restore_state(self, state: VenueState) -> None:
        self._orders = state.orders
        self._md.restore_state(state.market_data)
        self._exec_base, self._exec_next, self._reply_next = state.exec_ids
        self._cod_next = state.cod_next
        # An older snapshot's pickle has no such slot: the phases start over then.
        trading = getattr(state, "trading", None)
        if trading is not None:
            self._trading.restore_state(trading)

    # --- sessions -------------------------------------------------------------------------

    def add_session(
        self,
        key: SessionKey,
        begin_string: str,
        account: str,
        cancel_on_disconnect: bool,
        *,
        orders_per_second: int | None = None,
        messages_per_second: int | None = None,
        queue_limit: int | None = None,
    ) -> None:
        """`queue_limit` None: a message beyond a throttle is refused; a number: it waits,
        in arrival order behind any already waiting, up to that many held at once."""
        dialect = DIALECTS[begin_string]
        self._sessions[key] = SessionState(
            key=key,
            begin_string=begin_string,
            inbound=Inbound(key, account, dialect, self._prices),
            outbound=Outbound(dialect, self._prices),
            cancel_on_disconnect=cancel_on_disconnect,
            orders=None if orders_per_second is None else TokenBucket(orders_per_second),
            messages=None if messages_per_second is None else TokenBucket(messages_per_second),
            queue=None if queue_limit is None else deque(),
            queue_limit=queue_limit or 0,
        )

    def set_throttles(
        self,
        key: SessionKey,
        orders_per_second: int | None,
        messages_per_second: int | None,
        queue_limit: int | None,
    ) -> None:
        """New rates for a session while it runs (a config reload). A bucket that stays
        keeps the tokens it holds, capped at its new size on the next take; the queue
        limit changes only for a session already in queue mode."""
        session = self._sessions[key]
        session.orders = _rebucket(session.orders, orders_per_second)
        session.messages = _rebucket(session.messages, messages_per_second)
        if session.queue is not None and queue_limit is not None:
            session.queue_limit = queue_limit

    def add_drop_copy(self, key: SessionKey, begin_string: str) -> None:
        """A session that gets a copy of every ExecutionReport the venue's order handling
        sends to an order-entry session (acknowledgements, fills, cancels, rejects; not
        replies to status requests), rendered in its own FIX version, with the same
        ExecID, CopyMsgIndicator (797) = Y where the version has it, and the originating
        client in OnBehalfOfCompID (115). It sends no orders."""
        dialect = DIALECTS[begin_string]
        self._drop_copies.append(
            SessionState(
                key=key,
                begin_string=begin_string,
                inbound=Inbound(key, "", dialect, self._prices),
                outbound=Outbound(dialect, self._prices),
                cancel_on_disconnect=False,
            )
        )

    def add_copied_session(self, key: SessionKey) -> None:
        """A session of another gateway (UDP): the drop copies get an ExecutionReport for
        each of its orders' events, as for a FIX session's, with the key as
        OnBehalfOfCompID; the session itself gets nothing from here."""
        self._copied[key] = SessionState(
            key=key,
            begin_string="FIX.4.4",
            inbound=Inbound(key, "", DIALECTS["FIX.4.4"], self._prices),
            outbound=Outbound(DIALECTS["FIX.4.4"], self._prices),
            cancel_on_disconnect=False,
        )

    def _reported(self, key: SessionKey) -> SessionState | None:
        """The session whose order events become ExecutionReports (FIX or copied)."""
        return self._sessions.get(key) or self._copied.get(key)

    def _report(
        self, session: SessionState, build: Callable[[Outbound], OutMessage | None]
    ) -> None:
        """Send the ExecutionReport `build` makes to `session`, and its copies."""
        if session.key not in self._copied:
            report = build(session.outbound)
            if report is None:
                return
            self._send(session.key, report)
        for drop in self._drop_copies:
            copy = build(drop.outbound)
            if copy is not None:
                tags = [(ON_BEHALF_OF_COMP_ID, session.client)]
                if drop.outbound.dialect.has_copy_indicator:
                    tags.append((COPY_MSG_INDICATOR, "Y"))
                self._send(drop.key, OutMessage(copy.msg_type, copy.fields + tags, copy.groups))

    def on_logout(self, key: SessionKey) -> None:
        session = self._sessions.get(key)
        if session is None:
            return
        self._read(lambda: self._md.drop_session(key))
        if session.queue is not None:
            # Answered, not dropped: the client gets each reply when it is back (resend).
            # Before cancel-on-disconnect, which must not be followed by orders it held.
            self._read(lambda: self._refuse_held(session))
        if session.cancel_on_disconnect:
            cl_ord_id = ClOrdId(f"COD-{self._cod_next}")
            self._cod_next += 1
            self._submit(partial(
                _mass_cancel, session=key, cl_ord_id=cl_ord_id, scope=key,
                origin=MassCancelOrigin.DISCONNECT,
            ))  # fmt: skip

    # --- inbound --------------------------------------------------------------------------

    def handles(self, key: SessionKey, msg_type: str) -> bool:
        """Whether `key` may send `msg_type` at all (its configuration alone decides, so
        any thread may ask): the acceptor refuses the others as unsupported itself."""
        session = self._sessions.get(key)
        return session is not None and self._handles(session, msg_type)

    def receive(self, key: SessionKey, msg_type: str, msg: FieldSource) -> None:
        """`on_message`, answering what it refuses (under the sequencer's lock)."""
        try:
            self.on_message(key, msg_type, msg)
        except UnsupportedMessage:
            self._send(key, _business_reject(msg, msg_type, "3", "unsupported message type"))
        except Refused as refused:
            self._send(key, _business_reject(msg, msg_type, "0", str(refused)))
        except Exception:
            # A bug must not take down the venue or another session: log it, tell the
            # client its message was not processed, and carry on.
            log.exception("failed to process %s on %s", msg_type, key)
            text = "internal error while processing this message; see the venue log"
            self._send(key, _business_reject(msg, msg_type, "4", text))

    def on_message(self, key: SessionKey, msg_type: str, msg: FieldSource) -> None:
        session = self._sessions.get(key)
        if session is None:  # a drop-copy session: it listens, it does not trade
            raise UnsupportedMessage(msg_type)
        if session.queue is not None:
            if not self._handles(session, msg_type):  # holding it would only delay the answer
                raise UnsupportedMessage(msg_type)
            self._read(lambda: self._take_or_hold(session, msg_type, msg))
            return
        refusal = session.throttled(msg_type, self._clock())
        if refusal is not None:
            self._refuse(session, msg_type, msg, refusal)
            return
        self._dispatch(session, msg_type, msg)

    def _handles(self, session: SessionState, msg_type: str) -> bool:
        if msg_type == "q":
            return session.outbound.dialect.has_mass_cancel
        if msg_type == "x":
            return session.begin_string != "FIX.4.2"
        return msg_type in ALWAYS_HANDLED

    def _dispatch(self, session: SessionState, msg_type: str, msg: FieldSource) -> None:
        if not self._handles(session, msg_type):
            raise UnsupportedMessage(msg_type)
        if msg_type == "D":
            self._new_order(session, msg)
        elif msg_type == "F":
            self._request(session, session.inbound.cancel(msg))
        elif msg_type == "G":
            self._request(session, session.inbound.replace(msg))
        elif msg_type == "H":
            self._read(lambda: self._status(session, msg))
        elif msg_type == "q":
            self._mass_cancel(session, msg)
        elif msg_type == "V":
            self._read(lambda: self._market_data_request(session, msg))
        elif msg_type == "x":
            self._send(session.key, self._security_list(msg))
        elif msg_type == "e":
            self._read(lambda: self._security_status_request(session, msg))
        elif msg_type == "g":
            self._read(lambda: self._trading_session_status_request(session, msg))

    # --- queue-mode throttles (callers hold the sequencer's lock, see the module doc) ------

    def _take_or_hold(self, session: SessionState, msg_type: str, msg: FieldSource) -> None:
        queue = session.queue
        assert queue is not None
        if not queue and session.throttled(msg_type, self._clock()) is None:
            self._dispatch(session, msg_type, msg)
        elif len(queue) < session.queue_limit:
            queue.append(Held(msg_type, msg.detach()))
        else:
            text = f"throttled: more than {session.queue_limit} messages queued on this session"
            self._refuse(session, msg_type, msg, text)

    def throttle_usage(self, key: SessionKey) -> tuple[int | None, int | None]:
        """A session's throttle refusals so far and messages queued now (None: no such
        session; queued None: not in queue mode). Read without the lock, from any
        thread: two counters, each as it was at some instant."""
        session = self._sessions.get(key)
        if session is None:
            return None, None
        return session.refused, None if session.queue is None else len(session.queue)

    @property
    def queues_messages(self) -> bool:
        """Whether any session is in queue mode (and so needs `release_queued` called)."""
        return any(session.queue is not None for session in self._sessions.values())

    def release_queued(self) -> int:
        """Handle every held message whose tokens have come; returns how many.

        Round-robin, one message per session per round, each session's oldest first: a
        session with a long queue gets no more turns than one with a short one. Call it
        a few hundred times a second; how soon after its token a message goes is the
        period.
        """
        released = 0
        waiting = [s for s in self._sessions.values() if s.queue]
        while waiting:
            waiting = [s for s in waiting if self._read(partial(self._release_oldest, s))]
            released += len(waiting)
        return released

    def _release_oldest(self, session: SessionState) -> bool:
        """Handle `session`'s oldest held message if its tokens are there; True if so."""
        queue = session.queue
        if not queue or session.throttled(queue[0].msg_type, self._clock()) is not None:
            return False
        held = queue.popleft()
        try:
            self._dispatch(session, held.msg_type, held.fields)
        except Exception:
            # As the acceptor does for a message it handles at once: a bug must not stop
            # the other sessions' queues, and the client learns it was not processed.
            log.exception("failed to process held %s on %s", held.msg_type, session.key)
            text = "internal error while processing this message; see the venue log"
            self._send(session.key, _business_reject(held.fields, held.msg_type, "4", text))
        return True

    def _refuse_held(self, session: SessionState) -> None:
        """Answer every held message of a session that logged out as refused."""
        queue = session.queue
        while queue:
            held = queue.popleft()
            text = "throttled: the session logged out while this message was queued"
            try:
                self._refuse(session, held.msg_type, held.fields, text)
            except Refused:
                self._send(session.key, _business_reject(held.fields, held.msg_type, "0", text))

    def _refuse(self, session: SessionState, msg_type: str, msg: FieldSource, text: str) -> None:
        """Answer a throttled message as its type is answered when refused."""
        session.refused += 1
        if self.on_refused is not None:
            self.on_refused(session.key)
        cl_ord_id = msg.get(tag("ClOrdID")) or ""
        if msg_type == "D":
            self._request(session, BadOrder(
                cl_ord_id, msg.get(tag("Symbol")) or "", msg.get(tag("Side")) or "",
                msg.get(tag("OrderQty")) or "0", RejectReason.THROTTLED, text,
            ))  # fmt: skip
        elif msg_type in ("F", "G"):
            kind = CancelRequestKind.CANCEL if msg_type == "F" else CancelRequestKind.REPLACE
            self._request(session, BadCancel(
                cl_ord_id, msg.get(tag("OrigClOrdID")), msg.get(tag("OrderID")), kind,
                RejectReason.THROTTLED, text,
            ))  # fmt: skip
        else:
            raise Refused(text)

    def cancel_by_rule(self, key: SessionKey, order_id: int) -> None:
        """A behaviour rule's unsolicited cancel: one order, as an operator cancels it
        (its session sees a cancel with its own ClOrdID); a journaled command."""
        self._submit(partial(
            _mass_cancel, session=key, cl_ord_id=ClOrdId(f"RULE-{order_id}"), scope=key,
            origin=MassCancelOrigin.OPERATOR, order_id=OrderId(order_id),
        ))  # fmt: skip

    def fill_by_rule(self, order_id: int, fill: Fill) -> None:
        """A behaviour rule's fill: the house session's IOC orders against one resting
        order, a journaled command per slice (after_ack.py). All slices go at once: a
        gateway process learns a slice's outcome only later, on the stream."""
        state = self._orders.get(OrderId(order_id))
        if state is None:
            return
        house = self._sessions[SessionKey(fill.house)]
        for build in fill_orders(state, fill, house.key, house.inbound.account):
            self._submit(build)

    def amend_by_rule(self, exec_id: str, rule: str, amend: Amend) -> None:
        """A behaviour rule's bust or correction of the fill reported with `exec_id`, as an
        operator's (after_fill.py): a journaled command. Once per trade: both sides' fills
        may match the rule, and the engine would refuse the second as unknown."""
        found = self._orders.fill_of(exec_id)
        if found is None or found.trade_id in self._amended:
            return
        self._amended.add(found.trade_id)
        self._amended_order.append(found.trade_id)
        if len(self._amended_order) > BUST_WINDOW:
            self._amended.discard(self._amended_order.popleft())
        reason = f"the venue's rule {rule!r}"
        if amend.bust:
            self._submit(partial(_bust, trade_id=found.trade_id, reason=reason))
        else:
            px, qty = amend.corrected(found.px, found.qty)
            if px > 0:
                self._submit(partial(
                    _correct, trade_id=found.trade_id, px=Px(px), qty=Qty(qty), reason=reason
                ))  # fmt: skip

    def _new_order(self, session: SessionState, msg: FieldSource) -> None:
        cl_ord_id = msg.get(tag("ClOrdID")) or ""
        rule = next((r for r in self.rules if r.reject and r.matches(session.key, cl_ord_id)),
                    None)  # fmt: skip
        if rule is not None and rule.reject is not None:
            self._request(session, BadOrder(
                cl_ord_id, msg.get(tag("Symbol")) or "", msg.get(tag("Side")) or "",
                msg.get(tag("OrderQty")) or "0", rule.reject,
                f"refused by the venue's rule {rule.name!r} ({rule.reject.name.lower()})",
            ))  # fmt: skip
            return
        # A resent order we already have must not become a second order: answer with its
        # current status instead.
        if msg.get(tag("PossResend")) == "Y" and self._read(
            lambda: self._status_of(session, ClOrdId(cl_ord_id))
        ):
            return
        self._request(session, session.inbound.new_order(msg))

    def _request(self, session: SessionState, translation: Submit | BadOrder | BadCancel) -> None:
        if isinstance(translation, Submit):
            self._submit(translation.build)
            return
        if self.on_rejected is not None:
            self.on_rejected(session.key, translation.reason.name.lower())
        if isinstance(translation, BadOrder):
            bad = translation
            reply_id, now = self._reply_id(), self._clock()
            self._report(
                session,
                lambda out: out.order_rejected(
                    bad.cl_ord_id, bad.symbol, bad.side, bad.qty, bad.reason, bad.text,
                    reply_id, now,
                ),
            )  # fmt: skip
        else:
            t = translation
            state = self._orders.find(session.key, ClOrdId(t.orig_cl_ord_id or ""))
            self._send(
                session.key,
                session.outbound.cancel_rejected(
                    t.cl_ord_id, t.orig_cl_ord_id, t.order_id, t.response_to, t.reason, t.text,
                    state,
                ),
            )  # fmt: skip

    def _mass_cancel(self, session: SessionState, msg: FieldSource) -> None:
        cl_ord_id = msg.get(tag("ClOrdID")) or ""
        request_type = msg.get(tag("MassCancelRequestType")) or ""
        symbol = msg.get(tag("Symbol"))
        if request_type not in ("1", "7") or (request_type == "1" and not symbol):
            text = (
                "MassCancelRequestType (530) must be 1 (by Symbol, with Symbol) or 7 (all); "
                f"got {request_type!r}"
            )
            self._send(session.key, self._mass_cancel_rejected(cl_ord_id, request_type, text))
            return
        self._submit(
            partial(
                _mass_cancel,
                session=session.key,
                cl_ord_id=ClOrdId(cl_ord_id),
                scope=session.key,
                origin=MassCancelOrigin.REQUEST,
                symbol=Symbol(symbol) if request_type == "1" and symbol else None,
            )
        )

    def _mass_cancel_rejected(self, cl_ord_id: str, request_type: str, text: str) -> OutMessage:
        return OutMessage(
            "r",
            [
                (tag("ClOrdID"), cl_ord_id),
                (tag("OrderID"), "NONE"),
                (tag("MassCancelRequestType"), request_type or "7"),
                (tag("MassCancelResponse"), "0"),
                (tag("MassCancelRejectReason"), "99"),
                (tag("Text"), text),
            ],
        )

    # --- queries (run under the sequencer lock via `read`) -----------------------------------

    def _status_of(self, session: SessionState, cl_ord_id: ClOrdId) -> OutMessage | None:
        state = self._orders.find(session.key, cl_ord_id)
        if state is None:
            return None
        report = session.outbound.status_report(state, self._reply_id(), self._clock())
        self._send(session.key, report)
        return report

    def _status(self, session: SessionState, msg: FieldSource) -> OutMessage | None:
        cl_ord_id = ClOrdId(msg.get(tag("ClOrdID")) or "")
        order_id = msg.get(tag("OrderID"))
        state = None
        if order_id is not None and order_id.isdigit():
            found = self._orders.get(int(order_id))  # type: ignore[arg-type]
            state = found if found is not None and found.session == session.key else None
        if state is None:
            state = self._orders.find(session.key, cl_ord_id)
        if state is None:
            report = session.outbound.order_rejected(
                cl_ord_id, msg.get(tag("Symbol")) or "", msg.get(tag("Side")) or "", "0",
                RejectReason.UNKNOWN_ORDER,
                f"OrderStatusRequest: no order with ClOrdID {cl_ord_id!r} in this session",
                self._reply_id(), self._clock(), status=True,
            )  # fmt: skip
        else:
            report = session.outbound.status_report(state, self._reply_id(), self._clock())
        self._send(session.key, report)
        return report

    def _market_data_request(self, session: SessionState, msg: FieldSource) -> OutMessage | None:
        md_req_id = msg.get(tag("MDReqID")) or ""
        kind = msg.get(tag("SubscriptionRequestType")) or ""
        if kind == "2":
            self._md.unsubscribe(session.key, md_req_id)
            return None
        depth_text = msg.get(tag("MarketDepth")) or "0"
        types = [g.get(tag("MDEntryType"), "") for g in msg.groups(
            tag("NoMDEntryTypes"), tag("MDEntryType"), [tag("MDEntryType")])]  # fmt: skip
        symbols = [g.get(tag("Symbol"), "") for g in msg.groups(
            tag("NoRelatedSym"), tag("Symbol"), [tag("Symbol")])]  # fmt: skip
        problem = None
        if kind not in MD_SUBSCRIPTION_TYPES:
            problem = ("4", f"SubscriptionRequestType (263) {kind!r} is not supported")
        elif not depth_text.isdigit():
            problem = ("5", f"MarketDepth (264) {depth_text!r} is not supported")
        elif kind == "1" and msg.get(tag("MDUpdateType")) not in (None, "1"):
            problem = ("6", "only incremental refresh (MDUpdateType 265=1) is supported")
        elif not types or any(t not in ENTRY_TYPES[session.begin_string] for t in types):
            supported = MD_ENTRY_TYPES_TEXT[session.begin_string]
            problem = ("8", f"MDEntryType (269) {types!r}: supported are {supported}")
        elif not symbols or any(s not in self._instruments for s in symbols):
            unknown = [s for s in symbols if s not in self._instruments]
            problem = ("0", f"unknown Symbol (55) {unknown!r}")
        elif kind == "1" and self._md.has(session.key, md_req_id):
            problem = ("1", f"MDReqID (262) {md_req_id!r} is already subscribed")
        if problem is not None:
            reject = OutMessage(
                "Y",
                [(tag("MDReqID"), md_req_id), (tag("MDReqRejReason"), problem[0]),
                 (tag("Text"), problem[1])],
            )  # fmt: skip
            self._send(session.key, reject)
            return reject
        sub = Subscription(
            session=session.key,
            md_req_id=md_req_id,
            symbols=tuple(symbols),
            depth=int(depth_text),
            entry_types=frozenset(types),
            begin_string=session.begin_string,
        )
        for symbol in symbols:
            self._send(session.key, self._md.snapshot(sub, symbol))
        if kind == "1":
            self._md.subscribe(sub)
        return None

    def _security_list(self, msg: FieldSource) -> OutMessage:
        req_id = msg.get(tag("SecurityReqID")) or ""
        entries = [
            [
                (tag("Symbol"), inst.symbol),
                (tag("RoundLot"), str(inst.lot_size)),
                (tag("MinTradeVol"), str(inst.min_qty)),
            ]
            for inst in sorted(self._instruments.values(), key=lambda i: i.symbol)
        ]
        return OutMessage(
            "y",
            [
                (tag("SecurityReqID"), req_id),
                (tag("SecurityResponseID"), f"SL-{req_id}"),
                (tag("SecurityRequestResult"), "0"),
                (tag("TotNoRelatedSym"), str(len(entries))),
            ],
            [Group(tag("NoRelatedSym"), tag("Symbol"), entries)],
        )

    def _security_status_request(self, session: SessionState, msg: FieldSource) -> None:
        """Answered once, with the symbol's status now, also for SubscriptionRequestType 1:
        changes then come unsolicited to every logged-on session anyway."""
        req_id = msg.get(SECURITY_STATUS_REQ_ID) or ""
        symbol = msg.get(tag("Symbol")) or ""
        kind = msg.get(SUBSCRIPTION_REQUEST_TYPE) or ""
        if kind not in (SNAPSHOT, SUBSCRIBE):
            reply = _business_reject(msg, "e", BUSINESS_REJECT_REASONS["OTHER"],
                                     _NO_UNSUBSCRIBE.format(kind=kind), ref_id=req_id)  # fmt: skip
        elif symbol not in self._instruments:
            text = f"SecurityStatusRequest: unknown Symbol (55) {symbol!r}"
            reply = _business_reject(msg, "e", BUSINESS_REJECT_REASONS["UNKNOWN_SECURITY"], text,
                                     ref_id=req_id)  # fmt: skip
        else:
            reply = self._trading.security_status(
                session.begin_string, symbol, req_id=req_id, now=self._clock()
            )
        self._send(session.key, reply)

    def _trading_session_status_request(self, session: SessionState, msg: FieldSource) -> None:
        """Answered once, as SecurityStatusRequest is (changes come unsolicited)."""
        req_id = msg.get(TRAD_SES_REQ_ID) or ""
        kind = msg.get(SUBSCRIPTION_REQUEST_TYPE) or ""
        if kind not in (SNAPSHOT, SUBSCRIBE):
            reply = _business_reject(msg, "g", BUSINESS_REJECT_REASONS["OTHER"],
                                     _NO_UNSUBSCRIBE.format(kind=kind), ref_id=req_id)  # fmt: skip
        else:
            reply = self._trading.trading_session_status(req_id, msg.get(TRADING_SESSION_ID))
        self._send(session.key, reply)

    # --- outbound: the sequencer subscriber -------------------------------------------------

    def on_events(self, command: Command, events: Sequence[EventBase]) -> None:
        if self.stages is not None and isinstance(command, NewOrder | Cancel | CancelReplace):
            self.stages.committed(command.session, command.cl_ord_id, command.ts)
        self._exec_base = command.seq * EXEC_SLOT
        self._exec_next = 0
        self._reply_next = REPLY_OFFSET
        phases_moved = False
        for event in events:
            if isinstance(event, Rejected):
                self._on_rejected(command, event)
            elif isinstance(event, CancelRejected):
                session = self._sessions.get(event.session)
                if session is not None:
                    # The engine may refuse before resolving the order (duplicate ClOrdID);
                    # the reject still names it when the gateway knows it.
                    state = (
                        self._orders.find(event.session, event.orig_cl_ord_id or ClOrdId(""))
                        if event.order_id is None
                        else self._orders.get(event.order_id)
                    )
                    self._send(event.session, session.outbound.cancel_rejected_event(event, state))
            elif isinstance(event, MassCancelled):
                self._on_mass_cancelled(command, event)
            elif isinstance(event, SessionControlled):
                if event.session in self._sessions:
                    self._send(event.session, SessionOrder(event.action, event.reason))
            elif isinstance(event, ORDER_EVENTS):
                state = self._orders.apply(event)
                if state is None:
                    continue
                session = self._reported(state.session)
                if session is None:
                    continue
                exec_id = self._exec_id()
                if isinstance(event, Execution):
                    self._orders.remember_fill(
                        event.trade_id, event.order_id, exec_id, event.px, event.qty
                    )
                elif isinstance(event, ExecutionAmended):
                    self._report_amendment(session, event, state, exec_id)
                    continue
                self._report(session, partial(_execution_report, event, state, exec_id))
            elif isinstance(event, STATUS_EVENTS):
                self._on_status(event)
                phases_moved = phases_moved or isinstance(event, PhaseChanged)
        if phases_moved:
            self._on_phases_moved()
        for key, message in self._md.on_events(events):
            self._send(key, message)

    # Reports are built from the command and its events only, never from what the live
    # request looked like: a replay of the journal (recovery, `nyquestro replay`) must
    # render the very same messages, ExecID for ExecID and field for field.

    def _report_amendment(
        self, session: SessionState, event: ExecutionAmended, state: OrderState, exec_id: str
    ) -> None:
        ref = self._orders.fill_exec_id(event.trade_id, event.order_id)
        if ref is None:
            # Not expected: the gateway keeps the ExecIDs of at least as many fills as
            # the engine keeps trades. Should it happen, the client still hears of the
            # change, with the trade named in place of the fill's ExecID.
            ref = f"T{event.trade_id}"
        self._report(session, lambda out: out.amendment_report(event, state, exec_id, ref))

    def _on_rejected(self, command: Command, event: Rejected) -> None:
        session = self._reported(event.session)
        if session is None:
            return
        assert isinstance(command, NewOrder), "only a NewOrder is rejected with Rejected"
        exec_id = self._exec_id()
        self._report(session, lambda out: out.rejected(event, command, exec_id))

    def _on_mass_cancelled(self, command: Command, event: MassCancelled) -> None:
        session = self._sessions.get(event.session)
        assert isinstance(command, MassCancel), "only a MassCancel reports MassCancelled"
        if session is None or command.origin is not MassCancelOrigin.REQUEST:
            return  # cancel-on-disconnect and operator mass cancels need no report
        self._send(event.session, session.outbound.mass_cancel_report(event, command))

    def _on_status(self, event: EventBase) -> None:
        """SecurityStatus to every order-entry session (not the drop copies, which get
        copies of ExecutionReports only); the acceptor passes it on to those logged on."""
        symbol = self._trading.apply(event)
        if symbol is None:
            return
        built: dict[str, OutMessage] = {}
        for session in self._sessions.values():
            message = built.get(session.begin_string)
            if message is None:
                message = self._trading.security_status(session.begin_string, symbol, event=event)
                built[session.begin_string] = message
            self._send(session.key, message)

    def _on_phases_moved(self) -> None:
        """TradingSessionStatus to every order-entry session, once per command, if the
        venue's status derived from all phases changed (one SetPhase may move them all)."""
        if self._trading.session_changed() is None:
            return
        message = self._trading.trading_session_status()
        for key in self._sessions:
            self._send(key, message)

    def _exec_id(self) -> str:
        """ExecID of a report caused by the command being published."""
        self._exec_next += 1
        return str(self._exec_base + self._exec_next)

    def _reply_id(self) -> str:
        """ExecID of a reply between commands (status, gateway-level reject)."""
        self._reply_next += 1
        return str(self._exec_base + self._reply_next)


def _rebucket(bucket: TokenBucket | None, rate: int | None) -> TokenBucket | None:
    if rate is None:
        return None
    if bucket is None:
        return TokenBucket(rate)
    bucket.rate = rate
    return bucket


def _mass_cancel(
    seq: int,
    ts: int,
    *,
    session: SessionKey,
    cl_ord_id: ClOrdId,
    scope: SessionKey,
    origin: MassCancelOrigin,
    symbol: Symbol | None = None,
    order_id: OrderId | None = None,
) -> Command:
    return MassCancel(
        seq=seq,  # type: ignore[arg-type]
        ts=ts,  # type: ignore[arg-type]
        session=session,
        cl_ord_id=cl_ord_id,
        scope_session=scope,
        symbol=symbol,
        origin=origin,
        order_id=order_id,
    )


def _bust(seq: int, ts: int, *, trade_id: TradeId, reason: str) -> Command:
    return BustTrade(seq=seq, ts=ts, trade_id=trade_id, reason=reason)  # type: ignore[arg-type]


def _correct(seq: int, ts: int, *, trade_id: TradeId, px: Px, qty: Qty, reason: str) -> Command:
    return CorrectTrade(
        seq=seq,  # type: ignore[arg-type]
        ts=ts,  # type: ignore[arg-type]
        trade_id=trade_id,
        px=px,
        qty=qty,
        reason=reason,
    )


_NO_UNSUBSCRIBE = (
    "SubscriptionRequestType (263) {kind!r} is not supported: use 0 (snapshot) or 1 (the "
    "status now; changes come unsolicited to every logged-on session, with no subscription "
    "to end)"
)


def _business_reject(
    msg: FieldSource, msg_type: str, reason: str, text: str, ref_id: str | None = None
) -> OutMessage:
    """The BusinessMessageReject for a message the venue cannot handle; `ref_id`: the
    refused request's own ID (BusinessRejectRefID 379)."""
    fields = [
        (tag("RefSeqNum"), msg.get(MSG_SEQ_NUM) or "0"),
        (tag("RefMsgType"), msg_type),
    ]
    if ref_id is not None:
        fields.append((tag("BusinessRejectRefID"), ref_id))
    fields += [(tag("BusinessRejectReason"), reason), (tag("Text"), text)]
    return OutMessage("j", fields)


def _execution_report(
    event: EventBase, state: OrderState, exec_id: str, out: Outbound
) -> OutMessage | None:
    return out.execution_report(event, state, exec_id)
