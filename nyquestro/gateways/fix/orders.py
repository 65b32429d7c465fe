"""The gateway's view of every order it has reported, folded from engine events.

ExecutionReports restate the whole order (quantity, price, average price, status), and
OrderStatusRequests ask about orders that may be long done; the engine keeps neither, so
the gateway folds them from the events it is given.
"""

from collections import deque
from dataclasses import dataclass, fields
from enum import StrEnum
from operator import attrgetter

from nyquestro.domain.commands import BUST_WINDOW
from nyquestro.domain.enums import OrdType, PegType, Side, TimeInForce
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    EventBase,
    Execution,
    ExecutionAmended,
    Expired,
    Replaced,
    Restated,
)
from nyquestro.domain.ids import Account, ClOrdId, OrderId, SessionKey, Symbol, TradeId


class Status(StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"


@dataclass(slots=True)
class OrderState:
    order_id: OrderId
    session: SessionKey
    account: Account
    cl_ord_id: ClOrdId
    symbol: Symbol
    side: Side
    ord_type: OrdType
    tif: TimeInForce
    px: int | None
    qty: int
    cum_qty: int = 0
    leaves_qty: int = 0
    cum_notional: int = 0
    display_qty: int | None = None
    peg: PegType | None = None
    status: Status = Status.NEW
    stop_px: int | None = None
    """Stop and stop-limit orders: the trigger price, on every report of the order
    (after its trigger too)."""
    expire_ts: int | None = None
    """GTD orders: when they expire (ExpireTime on every report)."""

    @property
    def working_status(self) -> Status:
        return Status.PARTIALLY_FILLED if self.cum_qty else Status.NEW

    def __reduce__(self) -> tuple[type["OrderState"], tuple[object, ...]]:
        # A snapshot holds every order of the day. Pickled as the constructor's arguments
        # rather than as the slots' state (set field by field in Python at loading): a
        # third of the time to load them, 0.6 of the time to pickle, 0.55 of the bytes
        # (500,000 orders measured).
        values: tuple[object, ...] = _FIELD_VALUES(self)
        return (OrderState, values)


_FIELD_VALUES = attrgetter(*(f.name for f in fields(OrderState)))
"""An order's field values in the constructor's order."""


@dataclass(frozen=True, slots=True)
class FillRef:
    trade_id: TradeId
    px: int
    qty: int


class OrderViews:
    def __init__(self) -> None:
        self._orders: dict[OrderId, OrderState] = {}
        self._by_cl_ord_id: dict[tuple[SessionKey, ClOrdId], OrderId] = {}
        self._fill_exec_ids: dict[tuple[TradeId, OrderId], str] = {}
        """The ExecID each side of the latest trades was reported with: a bust or a
        correction names it (ExecRefID). As many as the engine can still bust."""
        self._fill_of_exec_id: dict[str, FillRef] = {}
        """The other way round: a behaviour rule that busts a fill knows its report."""
        self._fills: deque[tuple[TradeId, OrderId]] = deque()

    def remember_fill(
        self, trade_id: TradeId, order_id: OrderId, exec_id: str, px: int, qty: int
    ) -> None:
        key = (trade_id, order_id)
        self._fill_exec_ids[key] = exec_id
        self._fill_of_exec_id[exec_id] = FillRef(trade_id, px, qty)
        fills = self._fills
        fills.append(key)
        if len(fills) > 2 * BUST_WINDOW:
            self._fill_of_exec_id.pop(self._fill_exec_ids.pop(fills.popleft(), ""), None)

    def fill_exec_id(self, trade_id: TradeId, order_id: OrderId) -> str | None:
        return self._fill_exec_ids.get((trade_id, order_id))

    def fill_of(self, exec_id: str) -> FillRef | None:
        """The trade, price and quantity of the fill reported with `exec_id`."""
        return self._fill_of_exec_id.get(exec_id)

    def get(self, order_id: OrderId) -> OrderState | None:
        return self._orders.get(order_id)

    def find(self, session: SessionKey, cl_ord_id: ClOrdId) -> OrderState | None:
        order_id = self._by_cl_ord_id.get((session, cl_ord_id))
        return None if order_id is None else self._orders[order_id]

    def apply(self, event: EventBase) -> OrderState | None:
        """Fold one event; returns the order it concerns (None for non-order events)."""
        if isinstance(event, Accepted):
            state = OrderState(
                order_id=event.order_id,
                session=event.session,
                account=event.account,
                cl_ord_id=event.cl_ord_id,
                symbol=event.symbol,
                side=event.side,
                ord_type=event.ord_type,
                tif=event.tif,
                px=event.px,
                qty=event.qty,
                leaves_qty=event.qty,
                display_qty=event.display_qty,
                peg=event.peg,
                stop_px=event.stop_px,
                expire_ts=event.expire_ts,
            )
            self._orders[event.order_id] = state
            self._by_cl_ord_id[(event.session, event.cl_ord_id)] = event.order_id
            return state
        order_id = getattr(event, "order_id", None)
        found = None if order_id is None else self._orders.get(order_id)
        if found is None:
            return None
        state = found
        if isinstance(event, Execution):
            state.cum_qty = event.cum_qty
            state.leaves_qty = event.leaves_qty
            state.cum_notional = event.cum_notional
            state.status = Status.FILLED if event.leaves_qty == 0 else Status.PARTIALLY_FILLED
        elif isinstance(event, ExecutionAmended):
            state.cum_qty = event.cum_qty
            state.leaves_qty = event.leaves_qty
            state.cum_notional = event.cum_notional
            state.status = Status(event.status)
        elif isinstance(event, Cancelled):
            self._rename(state, event.cl_ord_id)
            state.leaves_qty = 0
            state.status = Status.CANCELED
        elif isinstance(event, Expired):
            state.leaves_qty = 0
            state.status = Status.EXPIRED
        elif isinstance(event, Replaced):
            self._rename(state, event.cl_ord_id)
            state.px = event.px
            state.qty = event.qty
            state.leaves_qty = event.leaves_qty
            state.display_qty = event.display_qty
            state.stop_px = event.stop_px
        elif isinstance(event, Restated):
            state.px = event.px
            state.qty = event.qty
            state.leaves_qty = event.leaves_qty
        return state

    def _rename(self, state: OrderState, cl_ord_id: ClOrdId) -> None:
        state.cl_ord_id = cl_ord_id
        self._by_cl_ord_id[(state.session, cl_ord_id)] = state.order_id
