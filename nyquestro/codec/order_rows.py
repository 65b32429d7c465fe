"""An order's row from the events that change it: the one fold of events into order rows.

The store's `orders` and `executions` tables (`nyquestro.store.projection`) and the
blotter of `nyquestro-tui` both keep it: each event that concerns an order says which
columns it sets and to what, computed from that event alone (absolute values, never
increments), so applying an event twice, or events a row already reflects, leaves the
same row.
"""

from dataclasses import dataclass
from typing import Final

from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    EventBase,
    Execution,
    ExecutionAmended,
    ExecutionBusted,
    Expired,
    Filled,
    Replaced,
    Restated,
)

ORDER_COLUMNS: Final = (
    "order_id", "session", "account", "cl_ord_id", "symbol", "side", "ord_type", "tif", "px",
    "qty", "cum_qty", "leaves_qty", "status", "accepted_seq", "updated_seq", "updated_ts",
    "stop_px",
)  # fmt: skip
OPEN_STATUSES: Final = ("new", "partially_filled")
DONE_STATUSES: Final = ("filled", "canceled", "expired")


@dataclass(frozen=True, slots=True)
class OrderChange:
    order_id: int
    values: dict[str, object]
    """The columns the event sets, `updated_seq` and `updated_ts` included; every column
    of ORDER_COLUMNS for a new order."""
    new: bool
    """The event is the order's acceptance: `values` is its whole first row."""
    fill: dict[str, object] | None
    """For an execution, its row in the executions table; else None."""
    fill_change: dict[str, object] | None = None
    """For a bust or correction, the columns of the fill's row it sets (`trade_id` and
    `order_id` name the row); else None."""


def order_change(e: EventBase) -> OrderChange | None:
    """What `e` changes in its order's row (None: it is not an order's event)."""
    if isinstance(e, Accepted):
        row: dict[str, object] = {
            "order_id": e.order_id, "session": e.session, "account": e.account,
            "cl_ord_id": e.cl_ord_id, "symbol": e.symbol, "side": e.side.name.lower(),
            "ord_type": e.ord_type.value, "tif": e.tif.value, "px": e.px, "qty": e.qty,
            "cum_qty": 0, "leaves_qty": e.qty, "status": "new", "accepted_seq": e.seq,
            "updated_seq": e.seq, "updated_ts": e.ts, "stop_px": e.stop_px,
        }  # fmt: skip
        return OrderChange(e.order_id, row, True, None)
    if isinstance(e, Execution):
        fill: dict[str, object] = {
            "trade_id": e.trade_id, "order_id": e.order_id, "seq": e.seq, "ts": e.ts,
            "session": e.session, "account": e.account, "cl_ord_id": e.cl_ord_id,
            "symbol": e.symbol, "side": e.side.name.lower(), "px": e.px, "qty": e.qty,
            "cum_qty": e.cum_qty, "leaves_qty": e.leaves_qty,
            "aggressor": e.side is e.aggressor_side, "contra_order_id": e.contra_order_id,
        }  # fmt: skip
        status = "filled" if isinstance(e, Filled) else "partially_filled"
        changes = _changes(e, cum_qty=e.cum_qty, leaves_qty=e.leaves_qty, status=status)
        return OrderChange(e.order_id, changes, False, fill)
    if isinstance(e, ExecutionAmended):
        changes = _changes(e, cum_qty=e.cum_qty, leaves_qty=e.leaves_qty, status=e.status)
        fill_change: dict[str, object] = {
            "trade_id": e.trade_id, "order_id": e.order_id, "px": e.px, "qty": e.qty,
            "amended": "busted" if isinstance(e, ExecutionBusted) else "corrected",
        }  # fmt: skip
        return OrderChange(e.order_id, changes, False, None, fill_change)
    if isinstance(e, Cancelled):
        changes = _changes(e, cum_qty=e.cum_qty, leaves_qty=0, status="canceled")
        return OrderChange(e.order_id, changes, False, None)
    if isinstance(e, Expired):
        changes = _changes(e, cum_qty=e.cum_qty, leaves_qty=0, status="expired")
        return OrderChange(e.order_id, changes, False, None)
    if isinstance(e, Replaced):
        changes = _amended(e, e.cl_ord_id, e.px, e.qty, e.cum_qty, e.leaves_qty)
        changes["stop_px"] = e.stop_px
        return OrderChange(e.order_id, changes, False, None)
    if isinstance(e, Restated):
        return OrderChange(e.order_id, _amended(e, e.cl_ord_id, e.px, e.qty, e.cum_qty,
                                                e.leaves_qty), False, None)  # fmt: skip
    return None


def _amended(
    e: EventBase, cl_ord_id: str, px: int | None, qty: int, cum_qty: int, leaves_qty: int
) -> dict[str, object]:
    status = "partially_filled" if cum_qty else "new"
    return _changes(e, cl_ord_id=cl_ord_id, px=px, qty=qty, cum_qty=cum_qty,
                    leaves_qty=leaves_qty, status=status)  # fmt: skip


def _changes(e: EventBase, **values: object) -> dict[str, object]:
    values["updated_seq"] = e.seq
    values["updated_ts"] = e.ts
    return values
