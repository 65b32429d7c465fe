"""Folding ITCH messages into order-level books, one per stock."""

from nyquestro.gateways.itch.book import OrderBook, Resting
from nyquestro.gateways.itch.messages import (
    AddOrder,
    Message,
    OrderCancel,
    OrderDelete,
    OrderExecuted,
    OrderExecutedWithPrice,
    OrderReplace,
    StockDirectory,
    StockTradingAction,
    Unknown,
)


class BookBuilder:
    """Every displayed order and the visible totals per price, as the messages say.

    A message that does not fit the book (an unknown reference, more shares executed than
    shown) raises `ItchError`: the book has lost sync and must be rebuilt from a snapshot.
    """

    def __init__(self) -> None:
        self.book = OrderBook()
        self.symbols: dict[int, str] = {}
        """Stock locate -> symbol, from Stock Directory and Add Order messages."""
        self.halted: set[str] = set()

    def apply(self, message: Message | Unknown) -> None:
        if isinstance(message, AddOrder):
            self.symbols[message.locate] = message.stock
            self.book.add(
                message.ref,
                Resting(message.locate, message.side, message.price, message.shares,
                        message.attribution),
            )  # fmt: skip
        elif isinstance(message, OrderExecuted | OrderExecutedWithPrice | OrderCancel):
            self.book.reduce(message.ref, message.shares)
        elif isinstance(message, OrderDelete):
            self.book.delete(message.ref)
        elif isinstance(message, OrderReplace):
            self.book.replace(message.old_ref, message.new_ref, message.shares, message.price)
        elif isinstance(message, StockDirectory):
            self.symbols[message.locate] = message.stock
        elif isinstance(message, StockTradingAction):
            self.symbols[message.locate] = message.stock
            if message.state == "H":
                self.halted.add(message.stock)
            else:
                self.halted.discard(message.stock)
        # System events and non-displayed trades change no displayed order.

    def reset(self) -> None:
        self.book.clear()
        self.halted.clear()

    def locate_of(self, symbol: str) -> int | None:
        for locate, name in self.symbols.items():
            if name == symbol:
                return locate
        return None

    def orders(self, symbol: str, side: str) -> list[tuple[int, int, int]]:
        """(reference, Price(4), shares) of one side, best price first, then time priority."""
        locate = self.locate_of(symbol)
        found = [
            (ref, o.price, o.shares)
            for ref, o in self.book.orders.items()
            if o.locate == locate and o.side == side
        ]
        # A stable sort: within a price, arrival order (time priority) stays.
        found.sort(key=lambda order: -order[1] if side == "B" else order[1])
        return found

    def levels(self, symbol: str, side: str, depth: int = 0) -> list[tuple[int, int, int]]:
        """(Price(4), visible shares, orders) best first."""
        locate = self.locate_of(symbol)
        return [] if locate is None else self.book.levels(locate, side, depth)
