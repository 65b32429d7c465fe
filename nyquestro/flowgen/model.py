"""What the synthetic flow sends next, sans-IO and seeded.

The mix, per request: about half passive limit orders a few ticks behind a mid that
wanders one tick at a time (most near the touch, some deeper), a quarter cancels of the
session's live orders (the youngest most often, as most real orders die young), a tenth
cancel/replaces (quantity up or down, or one tick further away) and the rest marketable:
IOC limits a few ticks through the mid, and now and then a market order. Quantities are
round lots, mostly small. Each order names one of the accounts, at random.

Everything random comes from one `random.Random(seed)`. The driver waits for each answer
before asking for the next request, so a seed and a venue in the same state name exactly
one sequence of requests.
"""

import random
from dataclasses import dataclass, field
from decimal import Decimal

from nyquestro.cert.session import Outgoing
from nyquestro.codec.fix_wire import Message

CL_ORD_ID, ORIG_CL_ORD_ID = 11, 41
KINDS = ("add", "cancel", "replace", "marketable")
WEIGHTS = (50, 25, 10, 15)
LOT = 100


@dataclass(frozen=True)
class Instrument:
    symbol: str
    reference: Decimal
    """Where the mid starts; it stays within `band` of it."""
    tick: Decimal = Decimal("0.01")
    band: Decimal = Decimal("0.04")
    """The mid's largest move away from the reference, as a share of it."""


@dataclass
class LiveOrder:
    cl_ord_id: str
    symbol: str
    side: str
    price: Decimal
    qty: int
    account: str


@dataclass
class SessionBook:
    """One session's live orders, as the venue's answers say."""

    live: dict[str, LiveOrder] = field(default_factory=dict)


class FlowModel:
    def __init__(
        self,
        seed: int,
        instruments: list[Instrument],
        sessions: list[str],
        accounts: int,
        id_prefix: str,
    ) -> None:
        self._random = random.Random(seed)
        self._instruments = instruments
        self._mids = {i.symbol: i.reference for i in instruments}
        self._sessions = sessions
        self._accounts = [f"ACC{n:03d}" for n in range(1, accounts + 1)]
        self._prefix = id_prefix
        self._count = 0
        self.books = {name: SessionBook() for name in sessions}
        self._by_id: dict[str, tuple[str, LiveOrder]] = {}

    def next_request(self, transact_time: str) -> tuple[str, Outgoing, str]:
        """(session, request, its kind)."""
        rng = self._random
        session = rng.choice(self._sessions)
        instrument = rng.choice(self._instruments)
        self._wander(instrument)
        kind = rng.choices(KINDS, WEIGHTS)[0]
        live = list(self.books[session].live.values())
        if kind in ("cancel", "replace") and not live:
            kind = "add"
        if kind == "cancel":
            return session, self._cancel(self._pick(live), transact_time), kind
        if kind == "replace":
            return session, self._replace(session, self._pick(live), transact_time), kind
        return session, self._new(session, instrument, kind == "marketable", transact_time), kind

    def observe(self, session: str, msg: Message) -> None:
        """An ExecutionReport or OrderCancelReject for `session`."""
        cl_ord_id = msg.get(CL_ORD_ID) or ""
        found = self._by_id.get(cl_ord_id)
        if found is None or msg.type != "8":
            return
        owner, order = found
        book = self.books[owner]
        status, exec_type = msg.get(39), msg.get(150)
        if exec_type == "8":
            book.live.pop(order.cl_ord_id, None)  # a new order refused; a replace is a 35=9
            return
        # A cancel's report names the cancel's ClOrdID, a replace's the new one: the order
        # they are about goes by its earlier ClOrdID in the book.
        for earlier in (order.cl_ord_id, msg.get(ORIG_CL_ORD_ID)):
            if earlier is not None and earlier != cl_ord_id:
                book.live.pop(earlier, None)
        if status in ("0", "1") and exec_type != "4":
            order.qty = int(msg.get(151) or order.qty)
            book.live[cl_ord_id] = order
        else:
            book.live.pop(cl_ord_id, None)

    def _wander(self, instrument: Instrument) -> None:
        step = self._random.choice((-1, 0, 0, 0, 0, 0, 1)) * instrument.tick
        limit = instrument.reference * instrument.band
        mid = self._mids[instrument.symbol] + step
        if abs(mid - instrument.reference) <= limit:
            self._mids[instrument.symbol] = mid

    def _pick(self, live: list[LiveOrder]) -> LiveOrder:
        # The newest orders are the likeliest to go: weights grow with age rank.
        return self._random.choices(live, weights=range(1, len(live) + 1))[0]

    def _next_id(self) -> str:
        self._count += 1
        return f"{self._prefix}-{self._count}"

    def _qty(self) -> int:
        return LOT * min(self._random.choice((1, 1, 1, 2, 2, 3, 5, 10)), 10)

    def _new(
        self, session: str, instrument: Instrument, marketable: bool, transact_time: str
    ) -> Outgoing:
        rng = self._random
        side = rng.choice(("1", "2"))
        mid, tick = self._mids[instrument.symbol], instrument.tick
        away = -rng.randint(1, 5) if marketable else min(int(rng.expovariate(0.3)) + 1, 40)
        price = mid - away * tick if side == "1" else mid + away * tick
        cl_ord_id = self._next_id()
        account = rng.choice(self._accounts)
        market = marketable and rng.random() < 0.2
        order = LiveOrder(cl_ord_id, instrument.symbol, side, price, self._qty(), account)
        self._by_id[cl_ord_id] = (session, order)
        fields = [(CL_ORD_ID, cl_ord_id), (1, account), (21, "1"), (55, instrument.symbol),
                  (54, side), (38, str(order.qty)), (40, "1" if market else "2")]  # fmt: skip
        if not market:
            fields.append((44, str(price)))
        fields += [(59, "3" if marketable else "0"), (60, transact_time)]
        return Outgoing("D", fields)

    def _cancel(self, order: LiveOrder, transact_time: str) -> Outgoing:
        cl_ord_id = self._next_id()
        owner, _ = self._by_id[order.cl_ord_id]
        self._by_id[cl_ord_id] = (owner, order)
        return Outgoing("F", [
            (CL_ORD_ID, cl_ord_id), (ORIG_CL_ORD_ID, order.cl_ord_id), (55, order.symbol),
            (54, order.side), (38, str(order.qty)), (60, transact_time),
        ])  # fmt: skip

    def _replace(self, session: str, order: LiveOrder, transact_time: str) -> Outgoing:
        rng = self._random
        cl_ord_id = self._next_id()
        tick = next(i.tick for i in self._instruments if i.symbol == order.symbol)
        move = rng.choice(("up", "down", "away"))
        qty = order.qty + LOT if move == "up" else max(LOT, order.qty - LOT)
        price = order.price
        if move == "away":  # one tick further from the touch: still passive
            price = order.price - tick if order.side == "1" else order.price + tick
        replaced = LiveOrder(cl_ord_id, order.symbol, order.side, price, qty, order.account)
        self._by_id[cl_ord_id] = (session, replaced)
        return Outgoing("G", [
            (CL_ORD_ID, cl_ord_id), (ORIG_CL_ORD_ID, order.cl_ord_id), (1, order.account),
            (21, "1"), (55, order.symbol), (54, order.side), (38, str(qty)), (40, "2"),
            (44, str(price)), (59, "0"), (60, transact_time),
        ])  # fmt: skip

    def cancels_of_everything(self, transact_time: str) -> list[tuple[str, Outgoing]]:
        """A cancel of every order still live, by session (the end of a run)."""
        return [
            (session, self._cancel(order, transact_time))
            for session, book in self.books.items()
            for order in list(book.live.values())
        ]
