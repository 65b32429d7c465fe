"""ITCH order messages into FIX requests of one session, sans-IO.

Each ITCH order (Add Order A/F, by its order reference number) becomes a limit order at the
venue. What the file then does to it is done to the venue's order:
- executed (E, C) or partly cancelled (X): its quantity goes down by that much (a
  cancel/replace, or a cancel once nothing is left);
- deleted (D): cancelled;
- replaced (U): a cancel/replace to the new price and shares; the new reference number
  names it from then on.

Other sessions' orders trade with the replayed ones, as on any book. Shares they took are
not there for the file to take again: when the file executes or cancels an order, what is
left at the venue is what the file says is left less what users took, and an order users
took in full is simply gone. Cross and non-cross trades (P, Q) and system messages change
no displayed order, so they send nothing.
"""

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from nyquestro.cert.session import Outgoing
from nyquestro.codec.fix_wire import Message
from nyquestro.gateways.itch.messages import (
    AddOrder,
    OrderCancel,
    OrderDelete,
    OrderExecuted,
    OrderExecutedWithPrice,
    OrderReplace,
    Unknown,
)  # fmt: skip
from nyquestro.gateways.itch.messages import (
    Message as ItchMessage,
)

PRICE_SCALE = Decimal(10000)
"""ITCH Price(4): an integer of ten-thousandths."""
SIDES = {"B": "1", "S": "2"}
CL_ORD_ID, ORIG_CL_ORD_ID = 11, 41


@dataclass
class Replayed:
    """One ITCH order as the venue holds it."""

    cl_ord_id: str
    """Its newest ClOrdID at the venue."""
    symbol: str
    side: str
    price: str
    file_open: int
    """Shares the file says are still open."""
    total: int
    """OrderQty (38) the venue was last told."""
    user_filled: int = 0
    """Shares other sessions' orders took at the venue."""
    live: bool = True
    replaces: int = 0


class Translator:
    def __init__(self, run: str, symbols: frozenset[str] | None = None) -> None:
        """`run`: part of every ClOrdID, unique to the replay. `symbols`: replay only these
        (None: every symbol in the file)."""
        self._run = run
        self._symbols = symbols
        self.orders: dict[int, Replayed] = {}
        """By ITCH order reference number."""
        self._by_cl_ord_id: dict[str, Replayed] = {}
        self.counts: Counter[str] = Counter()

    def message(self, msg: ItchMessage | Unknown, transact_time: str) -> list[Outgoing]:
        """The FIX requests one ITCH message needs (none for most)."""
        match msg:
            case AddOrder():
                return self._add(msg, transact_time)
            case OrderExecuted() | OrderExecutedWithPrice() | OrderCancel():
                return self._reduce(msg.ref, msg.shares, transact_time)
            case OrderDelete():
                return self._reduce(msg.ref, None, transact_time)
            case OrderReplace():
                return self._replace(msg, transact_time)
        self.counts["other messages"] += 1
        return []

    def report(self, msg: Message) -> None:
        """An ExecutionReport or OrderCancelReject on the replay session."""
        order = self._by_cl_ord_id.get(msg.get(CL_ORD_ID) or "")
        if order is None:
            return
        exec_type, status = msg.get(150), msg.get(39)
        if msg.type == "9":
            self.counts["requests refused (35=9)"] += 1
        elif exec_type == "8":
            self.counts["orders rejected (150=8)"] += 1
            order.live = False
        elif exec_type in ("F", "1", "2"):
            self.counts["fills by other sessions"] += 1
            order.user_filled += int(msg.get(32) or "0")
        if status in ("2", "4", "8", "C"):
            order.live = False

    def _add(self, msg: AddOrder, transact_time: str) -> list[Outgoing]:
        if self._symbols is not None and msg.stock not in self._symbols:
            self.counts["orders of other symbols"] += 1
            return []
        cl_ord_id = f"I{self._run}-{msg.ref}"
        price = str(Decimal(msg.price) / PRICE_SCALE)
        order = Replayed(cl_ord_id, msg.stock, SIDES[msg.side], price, msg.shares, msg.shares)
        self.orders[msg.ref] = order
        self._by_cl_ord_id[cl_ord_id] = order
        self.counts["orders added"] += 1
        return [Outgoing("D", [
            (CL_ORD_ID, cl_ord_id), (21, "1"), (55, msg.stock), (54, order.side),
            (38, str(msg.shares)), (40, "2"), (44, price), (59, "0"), (60, transact_time),
        ])]  # fmt: skip

    def _reduce(self, ref: int, shares: int | None, transact_time: str) -> list[Outgoing]:
        """`shares` fewer open in the file (None: all of them)."""
        order = self.orders.get(ref)
        if order is None:
            self.counts["messages about orders not replayed"] += 1
            return []
        order.file_open = 0 if shares is None else max(0, order.file_open - shares)
        if order.file_open == 0:
            del self.orders[ref]
        if not order.live:
            return []
        left = order.file_open - order.user_filled
        if left <= 0:
            self.counts["orders cancelled"] += 1
            return [self._cancel(order, transact_time)]
        self.counts["orders reduced"] += 1
        return [self._amend(order, order.price, order.user_filled + left, transact_time)]

    def _replace(self, msg: OrderReplace, transact_time: str) -> list[Outgoing]:
        order = self.orders.pop(msg.old_ref, None)
        if order is None:
            self.counts["messages about orders not replayed"] += 1
            return []
        order.file_open = msg.shares
        order.price = str(Decimal(msg.price) / PRICE_SCALE)
        self.orders[msg.new_ref] = order
        if not order.live:
            return []
        self.counts["orders replaced"] += 1
        # The new order's shares are its whole open size, whatever users took of the old.
        return [self._amend(order, order.price, order.user_filled + msg.shares, transact_time)]

    def _cancel(self, order: Replayed, transact_time: str) -> Outgoing:
        original = order.cl_ord_id
        order.cl_ord_id = self._next_id(order)
        return Outgoing("F", [
            (CL_ORD_ID, order.cl_ord_id), (ORIG_CL_ORD_ID, original), (55, order.symbol),
            (54, order.side), (38, str(order.total)),
            (60, transact_time),
        ])  # fmt: skip

    def _amend(self, order: Replayed, price: str, total: int, transact_time: str) -> Outgoing:
        original = order.cl_ord_id
        order.cl_ord_id = self._next_id(order)
        order.total = total
        return Outgoing("G", [
            (CL_ORD_ID, order.cl_ord_id), (ORIG_CL_ORD_ID, original), (21, "1"),
            (55, order.symbol), (54, order.side), (38, str(total)), (40, "2"), (44, price),
            (59, "0"), (60, transact_time),
        ])  # fmt: skip

    def _next_id(self, order: Replayed) -> str:
        order.replaces += 1
        base = order.cl_ord_id.split("/")[0]
        cl_ord_id = f"{base}/{order.replaces}"
        self._by_cl_ord_id[cl_ord_id] = order
        return cl_ord_id
