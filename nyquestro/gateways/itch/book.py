"""An order-level book as ITCH describes it: displayed orders by reference number.

The feed keeps one to answer snapshot and depth requests; the client library keeps one
built from the messages it receives. Both apply the same operations, so what a client
rebuilds is, by construction, what the feed would send in a snapshot.

Orders sit in one dict in arrival order: an order that lost its place (Order Replace)
comes back under a new reference, i.e. at the end, so walking the dict visits each
price level's orders in time priority. Entries are immutable tuples, so a shallow copy
of the dict taken under a lock is a consistent snapshot to encode outside it.
"""

from typing import NamedTuple

from nyquestro.gateways.itch.errors import ItchError


class Resting(NamedTuple):
    locate: int
    side: str
    """"B" or "S"."""
    price: int
    """Price(4)."""
    shares: int
    attribution: str | None


LevelKey = tuple[int, str]
"""(stock locate, side)"""


class OrderBook:
    def __init__(self) -> None:
        self.orders: dict[int, Resting] = {}
        self._levels: dict[LevelKey, dict[int, list[int]]] = {}
        """Per (locate, side): price -> [visible shares, orders]."""

    def add(self, ref: int, order: Resting) -> None:
        if ref in self.orders:
            raise ItchError(f"order reference {ref} is already on the book")
        if order.shares <= 0:
            raise ItchError(f"order reference {ref} added with {order.shares} shares")
        self.orders[ref] = order
        level = self._levels.setdefault((order.locate, order.side), {}).get(order.price)
        if level is None:
            self._levels[(order.locate, order.side)][order.price] = [order.shares, 1]
        else:
            level[0] += order.shares
            level[1] += 1

    def reduce(self, ref: int, shares: int) -> Resting | None:
        """Take `shares` off an order (execution, partial cancel); None once it is empty,
        which removes it, as a fully executed ITCH order leaves the book without a
        Delete."""
        order = self._get(ref)
        if not 0 < shares <= order.shares:
            raise ItchError(f"order reference {ref} has {order.shares} shares, not {shares}")
        left = order.shares - shares
        levels = self._levels[(order.locate, order.side)]
        level = levels[order.price]
        level[0] -= shares
        if left:
            reduced = order._replace(shares=left)
            self.orders[ref] = reduced
            return reduced
        del self.orders[ref]
        level[1] -= 1
        if not level[1]:
            del levels[order.price]
        return None

    def delete(self, ref: int) -> Resting:
        order = self._get(ref)
        self.reduce(ref, order.shares)
        return order

    def replace(self, old_ref: int, new_ref: int, shares: int, price: int) -> Resting:
        """Order Replace: the old reference leaves, the new one joins at the back."""
        if new_ref in self.orders:
            raise ItchError(f"order reference {new_ref} is already on the book")
        order = self.delete(old_ref)
        replacement = order._replace(shares=shares, price=price)
        self.add(new_ref, replacement)
        return replacement

    def levels(self, locate: int, side: str, depth: int = 0) -> list[tuple[int, int, int]]:
        """(price, visible shares, orders) best first; the best `depth` (0: all)."""
        levels = self._levels.get((locate, side), {})
        ordered = sorted(levels.items(), reverse=side == "B")
        chosen = ordered if depth == 0 else ordered[:depth]
        return [(price, shares, count) for price, (shares, count) in chosen]

    def clear(self) -> None:
        self.orders.clear()
        self._levels.clear()

    def _get(self, ref: int) -> Resting:
        order = self.orders.get(ref)
        if order is None:
            raise ItchError(f"order reference {ref} is not on the book")
        return order
