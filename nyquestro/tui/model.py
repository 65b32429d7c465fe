"""What `nyquestro-tui` shows, folded from the control plane's answers and event stream.

No Textual here: the app (`app.py`) only lays this out. Orders fold through
`nyquestro.codec.order_rows`, the same fold as the store's orders and executions tables,
so the blotter and those tables agree row for row.
"""

import json
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nyquestro.codec.jsonl import decode_event
from nyquestro.codec.order_rows import DONE_STATUSES, OPEN_STATUSES, order_change
from nyquestro.codec.prices import DecimalPrices
from nyquestro.control import control_pb2 as pb
from nyquestro.domain.events import Execution

Row = dict[str, Any]
BLOTTER_COLUMNS = (
    "order_id",
    "session",
    "account",
    "cl_ord_id",
    "symbol",
    "side",
    "ord_type",
    "tif",
    "px",
    "qty",
    "cum_qty",
    "leaves_qty",
    "status",
    "updated_ts",
)
FILL_COLUMNS = (
    "ts", "symbol", "side", "qty", "px", "order_id", "session", "account", "aggressor", "amended",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Filter:
    """Which orders the blotter shows: each field given must match ("" matches all)."""

    session: str = ""
    symbol: str = ""
    status: str = ""
    """An order status, or "open" or "done"."""
    text: str = ""
    """Found, ignoring case, in any column as shown."""

    def matches(self, row: Row, shown: Mapping[str, str]) -> bool:
        if self.session and row["session"] != self.session:
            return False
        if self.symbol and row["symbol"] != self.symbol:
            return False
        if self.status:
            wanted = {"open": OPEN_STATUSES, "done": DONE_STATUSES}.get(self.status, (self.status,))
            if row["status"] not in wanted:
                return False
        needle = self.text.lower()
        return not needle or any(needle in value.lower() for value in shown.values())


class Blotter:
    """Orders by id and the newest fills, as of `last_seq`."""

    def __init__(self, prices: DecimalPrices, fills_kept: int = 1000) -> None:
        self.prices = prices
        self.orders: dict[int, Row] = {}
        self.fills: deque[Row] = deque(maxlen=fills_kept)
        """Newest first."""
        self.last_seq = 0

    def load(self, orders: Iterable[pb.Order], as_of_seq: int) -> None:
        """Start from the projection's rows; the stream then resumes after `as_of_seq`
        (events the rows already show fold to the same rows again)."""
        for order in orders:
            row = {name: getattr(order, name) for name in BLOTTER_COLUMNS}
            row["px"] = order.px if order.HasField("px") else None
            self.orders[order.order_id] = row
        self.last_seq = as_of_seq

    def apply(self, committed: pb.CommittedEvents) -> set[int]:
        """Fold one committed command's events; the orders it changed."""
        changed: set[int] = set()
        for message in committed.events:
            fields = json.loads(message.fields_json)
            if "order_id" not in fields or fields["type"].startswith("level_"):
                continue
            event = decode_event(fields, self.prices)
            change = order_change(event)
            if change is None:
                continue
            if change.new:
                self.orders[change.order_id] = {
                    name: change.values.get(name) for name in BLOTTER_COLUMNS
                }
            elif change.order_id in self.orders:
                self.orders[change.order_id].update(
                    (k, v) for k, v in change.values.items() if k in BLOTTER_COLUMNS
                )
            else:
                continue  # an order from before what was loaded: nothing to change
            changed.add(change.order_id)
            if change.fill is not None and isinstance(event, Execution):
                self.fills.appendleft(change.fill)
            elif change.fill_change is not None:
                self._amend_fill(change.fill_change)
        self.last_seq = max(self.last_seq, committed.seq)
        return changed

    def _amend_fill(self, amended: dict[str, object]) -> None:
        """A busted or corrected fill among those shown takes its new price and quantity."""
        for fill in self.fills:
            if (fill["trade_id"], fill["order_id"]) == (amended["trade_id"], amended["order_id"]):
                fill.update(amended)
                return

    def shown(self, row: Row) -> dict[str, str]:
        """A row as the blotter shows it: prices as decimals, times as UTC clock times."""
        return {name: self.text(row, name) for name in BLOTTER_COLUMNS}

    def text(self, row: Row, name: str) -> str:
        value = row.get(name)
        if value is None:
            return ""
        if name == "px":
            return self.prices.to_wire(str(row["symbol"]), int(value))
        if name in ("updated_ts", "ts"):
            return clock(int(value))
        if name == "aggressor":
            return "taker" if value else "maker"
        return str(value)

    def rows(self, where: Filter, sort: str = "order_id", descending: bool = True) -> list[Row]:
        """The orders `where` matches, sorted by column `sort`."""
        found = [row for row in self.orders.values() if where.matches(row, self.shown(row))]
        found.sort(key=lambda row: _sort_key(row.get(sort)), reverse=descending)
        return found


def clock(ts: int) -> str:
    """A venue timestamp (ns since the epoch) as HH:MM:SS.mmm UTC."""
    return datetime.fromtimestamp(ts / 1e9, tz=UTC).strftime("%H:%M:%S.%f")[:-3]


def _sort_key(value: object) -> tuple[int, Any]:
    # None first, then numbers, then text: columns mix them (px of a market order).
    if value is None:
        return (0, 0)
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value))


class Series:
    """The last `size` samples of a figure, for a sparkline."""

    def __init__(self, size: int = 60) -> None:
        self.samples: deque[float] = deque(maxlen=size)

    def add(self, value: float) -> None:
        self.samples.append(value)

    def values(self) -> list[float]:
        return list(self.samples)
